"""The ``corridor-bot`` command line, run as a real subprocess over a private copy of the seed corpus.

All calls share one index folder, so the embedding model is loaded by the first ``index`` and by
each ``ask`` that needs it, not once per assertion.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import SEED

from bot.answer import Answer
from bot.cli import _print_answer, main
from bot.language import message

pytestmark = pytest.mark.e2e

TIMEOUT = 900


@dataclass
class Workspace:
    root: Path
    corpus: Path
    index: Path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("cli")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    return Workspace(root=root, corpus=corpus, index=root / "index")


def corridor_bot(workspace: Workspace, *args: str, corpus: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot.cli`` (what the ``corridor-bot`` script runs) without a language model."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORRIDOR_")}
    if "CORRIDOR_EMBEDDING_MODEL" in os.environ:  # a CI may point at its own copy of the model
        env["CORRIDOR_EMBEDDING_MODEL"] = os.environ["CORRIDOR_EMBEDDING_MODEL"]
    env.update({"CORRIDOR_LLM": "none", "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"})
    command = [sys.executable, "-m", "bot.cli", *args[:1], "--corpus", str(corpus or workspace.corpus),
               "--index", str(workspace.index), *args[1:]]  # fmt: skip
    return subprocess.run(
        command, cwd=workspace.root, env=env, capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT
    )


def report_counts(stdout: str) -> dict[str, int]:
    counts = {}
    for line in stdout.splitlines():
        label, _, rest = line.strip().partition(":")
        if label in ("added", "updated", "removed", "unchanged"):
            counts[label] = int(rest.split()[0])
    return counts


@pytest.fixture(scope="module")
def first_index(workspace: Workspace) -> subprocess.CompletedProcess[str]:
    return corridor_bot(workspace, "index")


@pytest.fixture(scope="module")
def indexed(workspace: Workspace, first_index: subprocess.CompletedProcess[str]) -> Workspace:
    assert first_index.returncode == 0, first_index.stderr
    return workspace


@pytest.mark.parametrize(
    ("streamed", "final", "note"),
    [
        ("The website is [2].", "« www.lyonbiopole.org » [1]", "draft_withdrawn"),
        ("It is headed by Alain Griot. [3]", "It is headed by Alain Griot. [1]", "citation_corrected"),
        ("署名式は大阪で行われました。", "署名式は大阪で行われました。 [1]", "citation_corrected"),  # added
        ("Il est dirigé par Nicolas Carboni [1].", "Il est dirigé par Nicolas Carboni [1].", None),
        ("", "The documents do not contain the answer to this question.", None),
    ],
)
def test_a_streamed_draft_the_checks_changed_is_marked(
    capsys: pytest.CaptureFixture[str], streamed: str, final: str, note: str | None
) -> None:
    print(streamed, end="")
    _print_answer(Answer(text=final, language="en", answered=True), streamed)
    shown = capsys.readouterr().out
    assert shown.count(final) == 1
    for key in ("draft_withdrawn", "citation_corrected"):
        assert (message(key, "en") in shown) is (key == note)
    if note:
        assert shown.index(streamed) < shown.index(message(note, "en")) < shown.index(final)


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "corridor-bot"
    assert script.is_file(), "pip install -e . should install the corridor-bot script"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for command in ("index", "ask", "serve", "eval"):
        assert command in result.stdout


def test_index_reports_the_added_file(workspace: Workspace, first_index: subprocess.CompletedProcess[str]) -> None:
    assert first_index.returncode == 0, first_index.stderr
    assert "Traceback" not in first_index.stderr
    assert report_counts(first_index.stdout) == {"added": 1, "updated": 0, "removed": 0, "unchanged": 0}
    assert SEED.name in first_index.stdout
    assert " chunks in gen-" in first_index.stdout
    assert (workspace.index / "CURRENT").is_file()
    assert list(workspace.corpus.iterdir()) == [workspace.corpus / SEED.name], "the corpus is never written"


def test_second_index_reports_unchanged(indexed: Workspace, first_index: subprocess.CompletedProcess[str]) -> None:
    generation = (indexed.index / "CURRENT").read_text(encoding="utf-8").strip()
    again = corridor_bot(indexed, "index")
    assert again.returncode == 0, again.stderr
    assert report_counts(again.stdout) == {"added": 0, "updated": 0, "removed": 0, "unchanged": 1}
    assert SEED.name not in again.stdout, "unchanged files are counted, not listed"
    assert "Index is up to date." in again.stderr
    assert (indexed.index / "CURRENT").read_text(encoding="utf-8").strip() == generation
    first_chunks = next(line for line in first_index.stdout.splitlines() if " chunks in " in line).split()[0]
    assert next(line for line in again.stdout.splitlines() if " chunks in " in line).split()[0] == first_chunks


def ask_json(workspace: Workspace, question: str) -> dict[str, Any]:
    result = corridor_bot(workspace, "ask", question, "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("question", "language", "evidence"),
    [
        ("Qui dirige le pôle Alsace BioValley ?", "fr", "Nicolas Carboni"),
        ("When will the partnership with the United States be signed?", "en", "Juin 2008"),
        ("関西バイオ推進会議の会長は誰ですか？", "ja", "Masahiro Nadamoto"),
    ],
    ids=["fr", "en", "ja"],
)
def test_ask_json(indexed: Workspace, question: str, language: str, evidence: str) -> None:
    answer = ask_json(indexed, question)
    assert isinstance(answer["text"], str) and answer["text"].strip()
    assert answer["language"] == language
    assert isinstance(answer["answered"], bool)
    assert answer["question"] == question
    sources = answer["sources"]
    assert sources, "an answer from the documents lists its sources"
    for source in sources:
        assert source["document"] == SEED.name
        assert source["title"].startswith("LIFESCIENCE CORRIDOR FRANCE")
        assert isinstance(source["text"], str) and source["text"].strip()
        assert isinstance(source["score"], float | int)
    documents = [s["document"] for s in sources]  # grouped by document, as the answer writer reads them
    assert documents == sorted(documents, key=documents.index)
    assert any(evidence in " ".join(source["text"].split()) for source in sources), (
        f"{evidence!r} in none of the sources: {[s['text'][:80] for s in sources]}"
    )
    if answer["answered"]:
        assert answer["text"] != message("not_found", language)


@pytest.mark.parametrize("question", ["", "   "])
def test_ask_empty_question(indexed: Workspace, question: str) -> None:
    result = corridor_bot(indexed, "ask", question)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert message("empty_question", "en") in result.stdout  # "Please ask a question."


def test_ask_empty_question_json(indexed: Workspace) -> None:
    answer = ask_json(indexed, "")
    assert answer["answered"] is False
    assert answer["sources"] == []
    assert answer["text"] == message("empty_question", answer["language"])


def test_missing_corpus_folder(workspace: Workspace) -> None:
    missing = workspace.root / "no-such-corpus"
    result = corridor_bot(workspace, "index", corpus=missing)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("corridor-bot: ")
    assert str(missing) in result.stderr and "does not exist" in result.stderr
    assert not missing.exists()


def test_unknown_command_is_a_usage_error(workspace: Workspace) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "frobnicate"], cwd=workspace.root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "usage: corridor-bot" in result.stderr
    assert "Traceback" not in result.stderr


def tree(folder: Path) -> dict[str, tuple[bool, int, int, bytes]]:
    """Every entry under ``folder`` (hidden ones included) and the folder itself: kind, size, mtime, content."""
    entries = [folder, *folder.rglob("*")]
    return {
        str(p.relative_to(folder)): (
            p.is_dir(),
            p.stat().st_size,
            p.stat().st_mtime_ns,
            b"" if p.is_dir() else p.read_bytes(),
        )
        for p in entries
    }


def test_eval_of_another_corpus_uses_a_scratch_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``eval --corpus`` without ``--index`` writes neither that corpus nor the configured index, and cleans up."""
    corpus = tmp_path / "other-corpus"
    (corpus / "notes").mkdir(parents=True)
    (corpus / "notes" / "pole.txt").write_text(
        "Le pôle Alsace BioValley\n\nNicolas Carboni est le directeur général du pôle Alsace BioValley.\n",
        encoding="utf-8",
    )
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        json.dumps({"id": "o-fr", "lang": "fr", "q": "Qui dirige le pôle Alsace BioValley ?", "answerable": True,
                    "must": [["carboni"]], "evidence": "Nicolas Carboni"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    configured = tmp_path / "configured-index"
    monkeypatch.setenv("CORRIDOR_INDEX_DIR", str(configured))
    monkeypatch.setenv("CORRIDOR_LLM", "none")
    monkeypatch.delenv("CORRIDOR_LLM_URL", raising=False)
    before = tree(corpus)

    assert main(["eval", "--corpus", str(corpus), "--qa", str(qa), "--json", "--baselines", "bm25,dense,shipped"]) == 0
    out, err = capsys.readouterr()
    results = json.loads(out)
    assert results["settings"]["corpus_dir"] == str(corpus.resolve())
    assert results["settings"]["chunks"] >= 1
    assert results["summaries"]["dense"]["all"]["hit@3"] == 1.0, "the other corpus was indexed and searched"
    assert results["items"][0]["answered"] is True and "Carboni" in results["items"][0]["answer"]

    assert tree(corpus) == before, "the evaluated corpus is never written"
    assert not configured.exists(), "the configured index is never touched"
    scratch = Path(err.split("scratch index: ", 1)[1].split("\n", 1)[0])
    assert scratch.name.startswith("corridor-eval-index-") and not scratch.exists(), "the scratch index is removed"
