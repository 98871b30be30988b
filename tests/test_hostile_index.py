"""A missing, half-written or foreign index: the next question is answered from a rebuilt index, and the
command line says what happened without a traceback.

tests/test_index.py already covers a truncated ``.faiss`` and a missing segment ``.json``, and a reindex
after a change of model or chunking; this module covers the other damage, and what a user sees.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, SEED, make_settings
from indexing_helpers import check_consistent

from bot import CorridorBot, Settings
from bot.index import CorpusIndex, ReindexReport

pytestmark = pytest.mark.e2e

QUESTION = "Qui préside le Kansai Bio Promotion Council ?"


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("seed-index"))
    shutil.copy2(SEED, settings.corpus_dir / SEED.name)
    report: ReindexReport = CorpusIndex(settings).reindex()
    assert report.added == [SEED.name]
    return settings


@pytest.fixture
def indexed(tmp_path: Path, seed_index: Settings) -> Settings:
    settings = make_settings(tmp_path)
    shutil.copy2(SEED, settings.corpus_dir / SEED.name)
    shutil.copytree(seed_index.index_dir, settings.index_dir)
    return settings


def _manifest(settings: Settings) -> Path:
    generation = (settings.index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    return settings.index_dir / generation / "manifest.json"


def _edit_fingerprint(settings: Settings, **changes: object) -> None:
    path = _manifest(settings)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["fingerprint"].update(changes)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def damage(settings: Settings, how: str) -> None:
    """Leave the index as a crash, a disk error, an old release or another model would."""
    index = settings.index_dir
    if how == "no index folder":
        shutil.rmtree(index)
    elif how == "CURRENT names a missing generation":
        (index / "CURRENT").write_text("gen-404\n", encoding="utf-8")
    elif how == "CURRENT is binary garbage":
        (index / "CURRENT").write_bytes(b"\xff\xfe\x00garbage\x00")
    elif how == "half-written manifest":
        path = _manifest(settings)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "empty segment .json":
        next(_manifest(settings).parent.glob("seg-*.json")).write_bytes(b"")
    elif how == "other embedding model":
        _edit_fingerprint(settings, embedding_model="sentence-transformers/all-MiniLM-L6-v2")
    elif how == "other index format":
        _edit_fingerprint(settings, format=-1)
    else:
        raise ValueError(how)


DAMAGES = [
    "no index folder",
    "CURRENT names a missing generation",
    "CURRENT is binary garbage",
    "half-written manifest",
    "empty segment .json",
    "other embedding model",
    "other index format",
]


@pytest.mark.parametrize("how", DAMAGES)
def test_damaged_or_foreign_index_is_rebuilt_on_the_next_question(indexed: Settings, how: str) -> None:
    damage(indexed, how)
    bot = CorridorBot(settings=indexed)
    answer = bot.ask(QUESTION)
    assert answer.answered and "Nadamoto" in answer.text and answer.sources[0].document == SEED.name
    live = check_consistent(bot.index.load())
    assert live.manifest["files"][SEED.name]["chunk_ids"]
    assert CorridorBot(settings=indexed).index.load() is not None  # rebuilt on disk, not just in memory


@pytest.mark.parametrize("how", ["half-written manifest", "other embedding model", "no index folder"])
def test_command_line_answers_without_a_traceback(indexed: Settings, how: str) -> None:
    damage(indexed, how)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORRIDOR_")}
    if "CORRIDOR_EMBEDDING_MODEL" in os.environ:
        env["CORRIDOR_EMBEDDING_MODEL"] = os.environ["CORRIDOR_EMBEDDING_MODEL"]
    env.update({"CORRIDOR_LLM": "none", "PYTHONIOENCODING": "utf-8"})
    command = [sys.executable, "-m", "bot.cli", "ask", QUESTION,
               "--corpus", str(indexed.corpus_dir), "--index", str(indexed.index_dir)]  # fmt: skip
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, encoding="utf-8",
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "Nadamoto" in done.stdout
    if how == "half-written manifest":  # the user is told why the first answer takes longer
        assert "cannot be read" in done.stderr and "it will be rebuilt" in done.stderr


def test_missing_corpus_folder_is_a_clear_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.corpus_dir.rmdir()
    answer_error = None
    try:
        CorridorBot(settings=settings).ask(QUESTION)
    except Exception as e:  # the message is what is checked
        answer_error = e
    assert answer_error is not None and "does not exist" in str(answer_error)
    assert type(answer_error).__name__ == "IndexUnavailable"
