"""``watch``: a file dropped into or removed from the corpus is indexed without anyone asking."""

from __future__ import annotations

import queue
import shutil
import threading
from pathlib import Path

import pytest
from conftest import SEED

from bot import CorridorBot, ReindexReport, Settings
from bot.watch import snapshot, watch

pytestmark = pytest.mark.e2e

FACT = "La société Kyoto Cellomics a ouvert un laboratoire à Lyon en mars 2009."
QUESTION = "Où la société Kyoto Cellomics a-t-elle ouvert un laboratoire ?"


def test_snapshot_lists_supported_files_only(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "b.bin").write_bytes(b"b")
    (tmp_path / ".hidden.txt").write_text("h", encoding="utf-8")
    state = snapshot(tmp_path)
    assert list(state) == ["a.txt"] and state["a.txt"][0] == 1


def test_watch_indexes_added_and_removed_files(seeded_settings: Settings) -> None:
    bot = CorridorBot(settings=seeded_settings)
    reports: queue.Queue[ReindexReport] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(bot, 0.2), kwargs={"stop": stop, "on_report": reports.put})
    thread.start()
    try:
        first = reports.get(timeout=300)  # the watcher brings the index up to date when it starts
        assert first.added == [SEED.name]
        bot.warm_up()

        new = seeded_settings.corpus_dir / "kyoto.txt"
        new.write_text(f"Kyoto Cellomics à Lyon\n\n{FACT}\n", encoding="utf-8")
        added = reports.get(timeout=300)
        assert added.added == ["kyoto.txt"] and added.unchanged == [SEED.name]
        _, found = bot.retrieve(QUESTION)  # the running bot sees the new generation
        assert found[0].meta["document"] == "kyoto.txt"

        new.unlink()
        removed = reports.get(timeout=300)
        assert removed.removed == ["kyoto.txt"]
        _, found = bot.retrieve(QUESTION)
        assert all("Kyoto Cellomics" not in (doc.content or "") for doc in found)
        assert reports.empty()  # nothing changed since: no more reindexing
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert sorted(p.name for p in seeded_settings.corpus_dir.iterdir()) == [SEED.name]


def test_watch_survives_a_missing_corpus_folder(tmp_path: Path, seeded_settings: Settings) -> None:
    """An unmounted corpus is waited for, not indexed as empty and not fatal."""
    corpus = seeded_settings.corpus_dir
    shutil.move(corpus, tmp_path / "away")
    bot = CorridorBot(settings=seeded_settings)
    reports: list[ReindexReport] = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(bot, 0.05), kwargs={"stop": stop, "on_report": reports.append})
    thread.start()
    stop.wait(0.5)
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive() and reports == []
    assert not (seeded_settings.index_dir / "CURRENT").exists()
