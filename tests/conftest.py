"""Shared fixtures: a private copy of the seed corpus, a private index, the real models from the shared cache."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import CorridorBot, Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED = REPO_ROOT / "corpus" / "2008-02-04-lifescience-corridor-france-kansai.txt"
QA_DEV = REPO_ROOT.parent / "shared" / "eval" / "qa-dev.jsonl"


def make_settings(tmp: Path, **overrides: object) -> Settings:
    """Settings on a temporary corpus and index, with the models from the user's (or CI's) cache."""
    corpus = tmp / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    values: dict[str, object] = {"corpus_dir": corpus, "index_dir": tmp / "index", "llm": "none", **overrides}
    return Settings.from_env(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """An empty corpus and index of the test's own; no language model unless a test asks for one."""
    return make_settings(tmp_path)


@pytest.fixture
def seeded_settings(settings: Settings) -> Settings:
    shutil.copy(SEED, settings.corpus_dir / SEED.name)
    return settings


@pytest.fixture(scope="session")
def seed_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CorridorBot]:
    """One extractive bot over the seed document, indexed once for the whole session."""
    settings = make_settings(tmp_path_factory.mktemp("seed"))
    shutil.copy(SEED, settings.corpus_dir / SEED.name)
    bot = CorridorBot(settings=settings)
    bot.warm_up()
    yield bot


@pytest.fixture(scope="session")
def llm_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CorridorBot]:
    """The shipped configuration: the real local language model over the seed document."""
    if os.environ.get("CORRIDOR_SKIP_LLM_TESTS") == "1":
        pytest.skip("CORRIDOR_SKIP_LLM_TESTS=1")
    settings = make_settings(tmp_path_factory.mktemp("llm"), llm=os.environ.get("CORRIDOR_LLM", "qwen2.5-1.5b"))
    shutil.copy(SEED, settings.corpus_dir / SEED.name)
    bot = CorridorBot(settings=settings)
    bot.warm_up()
    assert bot.uses_llm, f"the language model did not start: {bot.llm_error}"
    yield bot
