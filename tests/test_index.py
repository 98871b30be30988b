"""Incremental reindexing with the real embedding model: only what changed is embedded, answers follow.

The seed document is indexed once per module; each test starts from a copy of that index.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest
from conftest import SEED, make_settings
from indexing_helpers import EmbedderCalls, check_consistent, corpus_state

from bot import CorridorBot, Settings
from bot.embedding_model import resolve_embedding_model
from bot.index import CorpusIndex, LoadedIndex, ReindexReport

pytestmark = pytest.mark.e2e

KYOTO = "kyoto-cellomics.txt"
KYOTO_LYON = (
    "Kyoto Cellomics s'installe en France\n\n"
    "La société Kyoto Cellomics a ouvert un laboratoire à Lyon en mars 2009. "
    "Le laboratoire travaille sur les cellules souches avec des chercheurs français.\n"
)
KYOTO_GRENOBLE = (
    "Kyoto Cellomics s'installe en France\n\n"
    "La société Kyoto Cellomics a ouvert un laboratoire à Grenoble en mai 2010. "
    "Le laboratoire travaille sur les cellules souches avec des chercheurs français.\n"
)
QUESTION = "Où la société Kyoto Cellomics a-t-elle ouvert un laboratoire ?"


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, ReindexReport]:
    settings = make_settings(tmp_path_factory.mktemp("seed-index"))
    shutil.copy2(SEED, settings.corpus_dir / SEED.name)
    return settings, CorpusIndex(settings).reindex()


@pytest.fixture
def indexed(tmp_path: Path, seed_index: tuple[Settings, ReindexReport]) -> Settings:
    """Settings on a private copy of the seed corpus and of its index."""
    source, _ = seed_index
    settings = make_settings(tmp_path)
    shutil.copy2(SEED, settings.corpus_dir / SEED.name)
    shutil.copytree(source.index_dir, settings.index_dir)
    return settings


@pytest.fixture
def bot(indexed: Settings) -> Iterator[CorridorBot]:
    bot = CorridorBot(settings=indexed)
    bot.warm_up()
    yield bot


def vector(live: LoadedIndex, chunk_id: str) -> np.ndarray:
    store = live.store
    positions = faiss.vector_to_array(store.index.id_map)
    row = int(np.flatnonzero(positions == store.inverse_id_map[chunk_id])[0])
    return store.index.index.reconstruct(row)


def reindex(bot: CorridorBot) -> ReindexReport:
    """``bot.reindex()``, checking that the corpus is left exactly as it was."""
    before = corpus_state(bot.settings.corpus_dir)
    report = bot.reindex()
    assert corpus_state(bot.settings.corpus_dir) == before
    return report


def passages(bot: CorridorBot, question: str = QUESTION) -> list[str]:
    _, docs = bot.retrieve(question, top_k=20)
    return [doc.content or "" for doc in docs]


def test_first_index_is_a_full_build(seed_index: tuple[Settings, ReindexReport]) -> None:
    settings, report = seed_index
    assert report.added == [SEED.name]
    assert report.full_rebuild == "no index yet"
    assert report.chunks > 5
    live = check_consistent(CorpusIndex(settings).load())
    assert live.generation == report.generation
    assert live.manifest["files"][SEED.name]["sha256"] == hashlib.sha256(SEED.read_bytes()).hexdigest()


def test_add_change_delete_embed_only_that_file_and_answers_follow(bot: CorridorBot) -> None:
    calls = EmbedderCalls(bot.index)
    seed = check_consistent(bot.index.load())
    seed_ids = seed.manifest["files"][SEED.name]["chunk_ids"]
    seed_vectors = {cid: vector(seed, cid) for cid in seed_ids}
    assert not any("Kyoto Cellomics" in text for text in passages(bot))

    # Add: only the new file is embedded, the seed's chunks stay as they were.
    (bot.settings.corpus_dir / KYOTO).write_text(KYOTO_LYON, encoding="utf-8")
    report = reindex(bot)
    assert (report.added, report.updated, report.removed, report.unchanged) == ([KYOTO], [], [], [SEED.name])
    assert report.full_rebuild == "" and report.skipped == {}
    assert calls.take() == {KYOTO}
    live = check_consistent(bot.index.load())
    assert live.generation == report.generation != seed.generation
    assert live.manifest["files"][SEED.name]["chunk_ids"] == seed_ids
    assert all(np.array_equal(vector(live, cid), seed_vectors[cid]) for cid in seed_ids)
    _, found = bot.retrieve(QUESTION)
    assert found[0].meta["document"] == KYOTO and "Lyon en mars 2009" in (found[0].content or "")
    answer = bot.ask(QUESTION)
    assert answer.answered and "Lyon" in answer.text
    assert answer.sources[0].document == KYOTO

    # Change: the new text is found, the old one is gone.
    (bot.settings.corpus_dir / KYOTO).write_text(KYOTO_GRENOBLE, encoding="utf-8")
    report = reindex(bot)
    assert (report.added, report.updated, report.removed, report.unchanged) == ([], [KYOTO], [], [SEED.name])
    assert calls.take() == {KYOTO}
    check_consistent(bot.index.load())
    texts = passages(bot)
    assert any("Grenoble en mai 2010" in text for text in texts)
    assert not any("Lyon en mars 2009" in text for text in texts)
    assert "Grenoble" in bot.ask(QUESTION).text

    # Touch without changing the content: hashed again, nothing embedded, no new generation.
    generation = bot.index.current_generation()
    os.utime(bot.settings.corpus_dir / KYOTO, ns=(1, 1_000_000_000))
    report = reindex(bot)
    assert not report.changed and sorted(report.unchanged) == sorted([KYOTO, SEED.name])
    assert report.generation == generation == bot.index.current_generation()
    assert calls.take() == set()

    # Delete: nothing is embedded, the document's chunks are no longer found.
    (bot.settings.corpus_dir / KYOTO).unlink()
    report = reindex(bot)
    assert (report.added, report.updated, report.removed, report.unchanged) == ([], [], [KYOTO], [SEED.name])
    assert calls.take() == set()
    live = check_consistent(bot.index.load())
    assert set(live.store.documents) == set(seed_ids)
    assert not any("Kyoto Cellomics" in text for text in passages(bot))


def test_unchanged_corpus_writes_nothing(indexed: Settings) -> None:
    index = CorpusIndex(indexed)
    calls = EmbedderCalls(index)
    before = corpus_state(indexed.index_dir)
    report = index.reindex()
    assert not report.changed and report.unchanged == [SEED.name]
    assert calls.take() == set()
    assert corpus_state(indexed.index_dir) == before


@pytest.mark.parametrize("change", ["chunk_chars", "embedding_model"])
def test_other_chunking_or_model_rebuilds_everything(indexed: Settings, change: str) -> None:
    if change == "chunk_chars":
        settings = replace(indexed, chunk_chars=250)
    else:  # the same model under another name (a local path), so that it loads offline
        settings = replace(indexed, embedding_model=resolve_embedding_model(indexed.embedding_model, indexed.cache_dir))
    old = check_consistent(CorpusIndex(indexed).load())
    assert CorpusIndex(settings).load() is None  # an index built with other settings is never used

    index = CorpusIndex(settings)
    calls = EmbedderCalls(index)
    report = index.reindex()
    assert change in report.full_rebuild
    assert (report.added, report.updated, report.removed, report.unchanged) == ([], [SEED.name], [], [])
    assert calls.take() == {SEED.name}
    live = check_consistent(index.load())
    assert live.manifest["fingerprint"][change] == getattr(settings, change)
    if change == "chunk_chars":
        assert report.chunks > len(old.manifest["files"][SEED.name]["chunk_ids"])
    assert live.manifest["previous"] == old.generation

    again = index.reindex()
    assert again.full_rebuild == "" and again.unchanged == [SEED.name] and calls.take() == set()


def test_broken_files_are_skipped_with_a_reason(bot: CorridorBot) -> None:
    corpus = bot.settings.corpus_dir
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a PDF " * 20)
    (corpus / "notes.xyz").write_text("not a supported extension", encoding="utf-8")
    (corpus / "sub").mkdir()
    (corpus / "sub" / KYOTO).write_text(KYOTO_LYON, encoding="utf-8")

    report = reindex(bot)
    assert sorted(report.added) == ["broken.pdf", "empty.txt", f"sub/{KYOTO}"]
    assert report.skipped.keys() == {"broken.pdf", "empty.txt"}
    assert report.skipped["empty.txt"] == "empty file"
    assert "no readable text" in report.skipped["broken.pdf"]
    live = check_consistent(bot.index.load())
    assert live.manifest["files"]["broken.pdf"]["chunk_ids"] == []
    assert live.manifest["files"][f"sub/{KYOTO}"]["chunk_ids"]
    assert any("Lyon en mars 2009" in text for text in passages(bot))

    again = reindex(bot)  # still reported, not retried while they are unchanged
    assert not again.changed and again.skipped == report.skipped

    (corpus / "empty.txt").write_text(KYOTO_GRENOBLE, encoding="utf-8")  # fixed: indexed now
    fixed = reindex(bot)
    assert fixed.updated == ["empty.txt"] and fixed.skipped.keys() == {"broken.pdf"}
    assert any("Grenoble en mai 2010" in text for text in passages(bot))


def test_many_small_changes_keep_the_segments_few(indexed: Settings) -> None:
    """Every reindex adds a segment; small recent ones are merged so loading stays fast."""
    index = CorpusIndex(indexed)
    for number in range(6):
        (indexed.corpus_dir / f"note-{number}.txt").write_text(
            f"Note {number}\n\nLa réunion numéro {number} du comité a eu lieu à Strasbourg.\n", encoding="utf-8"
        )
        index.reindex()
        live = check_consistent(index.load())
        assert len(live.manifest["segments"]) <= 3
    (indexed.corpus_dir / SEED.name).unlink()
    report = index.reindex()
    assert report.removed == [SEED.name]
    live = check_consistent(index.load())
    assert all(seg["chunks"] <= 2 * live.store.count_documents() for seg in live.manifest["segments"])
    folder = indexed.index_dir / live.generation
    segment_files = [f"{seg['name']}{suffix}" for seg in live.manifest["segments"] for suffix in (".faiss", ".json")]
    assert sorted(p.name for p in folder.iterdir()) == sorted(["manifest.json", *segment_files])


@pytest.mark.parametrize("damage", ["truncated .faiss", "missing .json"])
def test_damaged_index_is_rebuilt_on_the_next_question(indexed: Settings, damage: str) -> None:
    damaged = check_consistent(CorpusIndex(indexed).load())
    segment = next((indexed.index_dir / damaged.generation).glob("seg-*.faiss"))
    if damage == "truncated .faiss":
        segment.write_bytes(segment.read_bytes()[:200])  # as a disk error would leave it
    else:
        segment.with_suffix(".json").unlink()

    bot = CorridorBot(settings=indexed)
    answer = bot.ask("Quand l'accord a-t-il été signé ?")
    assert answer.answered and answer.sources[0].document == SEED.name
    live = check_consistent(bot.index.load())
    assert live.generation != damaged.generation
    assert live.manifest["files"][SEED.name]["chunk_ids"] == damaged.manifest["files"][SEED.name]["chunk_ids"]
