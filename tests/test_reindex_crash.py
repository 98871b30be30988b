"""Crash safety and concurrency of reindexing, with real processes, real ``kill -9`` and real embeddings.

A reindex runs in a child process that prints its progress; the test kills it (SIGKILL) at
various moments: while starting, as embedding starts, after a group of files was embedded, and
at random instants after it announced the save. Whatever the moment, the index must load as the
old generation or the new one (never a mix), a running bot must keep answering, and the next
reindex must finish the job and clean up.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, SEED, make_settings
from indexing_helpers import EmbedderCalls, check_consistent, corpus_state

from bot import CorridorBot, Settings
from bot.index import CURRENT, CorpusIndex, ReindexBusy

pytestmark = pytest.mark.e2e

CHILD = """
import json, sys, time
import bot.index
from bot import Settings
from bot.index import CorpusIndex

bot.index.EMBED_GROUP_BYTES = 1  # one file per group: progress and staging after every file
settings = Settings.from_env(corpus_dir=sys.argv[1], index_dir=sys.argv[2], llm="none")
print("START", flush=True)
report = CorpusIndex(settings).reindex(progress=lambda text, _: print("PROGRESS", text, flush=True))
print("DONE", json.dumps(report.to_dict()), flush=True)
"""
CLUSTERS = [
    ("Alsace BioValley", "Strasbourg"),
    ("Lyonbiopôle", "Lyon"),
    ("Medicen Paris Region", "Paris"),
    ("Eurobiomed", "Marseille"),
    ("Atlanpole Biotherapies", "Nantes"),
    ("Cancer-Bio-Santé", "Toulouse"),
]
QUESTIONS = [
    "Quand l'accord a-t-il été signé ?",
    "Who chairs the Kansai Bio Promotion Council?",
    "関西バイオ推進会議の会長は誰ですか？",
    "Quelles rencontres le pôle Eurobiomed a-t-il organisées ?",
]


def cluster_text(number: int, version: int) -> str:
    """A short press note (three or four chunks) whose every sentence names its version."""
    name, city = CLUSTERS[number]
    lines = [f"{name} : note {number}, version {version}", ""]
    lines += [
        f"Le pôle {name} a organisé à {city} sa rencontre {step} (version {version}) sur les biotechnologies, "
        f"les dispositifs médicaux et les essais cliniques menés avec des partenaires du Kansai."
        for step in range(6)
    ]
    return "\n".join(lines) + "\n"


def corpus_hashes(settings: Settings) -> dict[str, str]:
    return {name: sha256 for name, (sha256, _size, _mtime) in corpus_state(settings.corpus_dir).items()}


def indexed_hashes(settings: Settings) -> tuple[str, dict[str, str]]:
    """The live generation, checked for consistency, and the file hashes its manifest lists."""
    live = check_consistent(CorpusIndex(settings).load())
    return live.generation, {name: entry["sha256"] for name, entry in live.manifest["files"].items()}


def save_reached(settings: Settings, existing: set[str], old_generation: str, state: str) -> bool:
    """Whether a reindex is at ``state`` of its save, seen from outside: writing, written or switched."""
    with contextlib.suppress(FileNotFoundError):
        if (settings.index_dir / CURRENT).read_text(encoding="utf-8") != old_generation:
            return state == "switched"
    new = set(os.listdir(settings.index_dir)) - existing
    if any(name.startswith("gen-") for name in new):
        return state == "written"
    return state == "writing" and any(name.startswith(".gen-") for name in new)


def leftovers(settings: Settings) -> list[str]:
    """What is in ``index/`` besides CURRENT, the lock, the live generation and the one before it."""
    live = CorpusIndex(settings).load()
    assert live is not None
    expected = {CURRENT, ".reindex.lock", live.generation, live.manifest.get("previous")}
    return sorted(p.name for p in settings.index_dir.iterdir() if p.name not in expected)


class Child:
    """``CorpusIndex.reindex()`` in another process, whose progress lines can be waited for."""

    def __init__(self, settings: Settings, script: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CORRIDOR_")}
        env.update({k: v for k, v in os.environ.items() if k in ("CORRIDOR_EMBEDDING_MODEL", "CORRIDOR_CACHE_DIR")})
        env["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(
            [sys.executable, str(script), str(settings.corpus_dir), str(settings.index_dir)],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
        )  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float = 600) -> bool:
        """Block until a line containing ``text``; False if the process ended first."""
        deadline = time.monotonic() + timeout
        while (line := self.lines.get(timeout=max(0.1, deadline - time.monotonic()))) is not None:
            self.seen.append(line)
            if text in line:
                return True
        return False

    def kill(self, after: float = 0.0, when: Callable[[], bool] | None = None) -> bool:
        """SIGKILL after ``after`` seconds, or as soon as ``when()`` holds (polled without sleeping).

        Returns whether ``when`` was seen to hold before the kill (always True without it).
        """
        time.sleep(after)
        seen = when is None
        while not seen and self.process.poll() is None:
            seen = when()
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)
        return seen

    def finish(self) -> dict[str, Any]:
        assert self.process.wait(timeout=900) == 0, self.seen
        while self.wait_for("DONE"):
            pass
        done = next(line for line in self.seen if line.startswith("DONE "))
        return json.loads(done.removeprefix("DONE "))


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "reindex_child.py"
    path.write_text(CHILD, encoding="utf-8")
    return path


@pytest.fixture
def indexed(tmp_path: Path) -> Settings:
    """The seed document and three cluster notes, indexed."""
    settings = make_settings(tmp_path / "work")
    shutil.copy2(SEED, settings.corpus_dir / SEED.name)
    for number in range(3):
        (settings.corpus_dir / f"cluster-{number}.txt").write_text(cluster_text(number, 0), encoding="utf-8")
    CorpusIndex(settings).reindex()
    return settings


def mutate(settings: Settings, step: int) -> None:
    """Change three notes, drop one and bring one back, so that each reindex embeds and deletes."""
    for offset in range(3):
        number = (step + offset) % len(CLUSTERS)
        (settings.corpus_dir / f"cluster-{number}.txt").write_text(cluster_text(number, step), encoding="utf-8")
    (settings.corpus_dir / f"cluster-{(step + 3) % len(CLUSTERS)}.txt").unlink(missing_ok=True)


def test_kill_9_at_any_moment_leaves_old_or_new_index(indexed: Settings, script: Path) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    # (the progress line to wait for, then seconds to wait, or a state of the save to wait for)
    kills: list[tuple[str, float | str]] = [
        ("START", 0.0),  # still importing: the lock is not even taken
        ("Embedding", 0.0),  # as embedding starts
        ("Embedded", 0.0),  # one file embedded and staged
        ("Embedded", rng.uniform(0.0, 1.5)),  # somewhere in the middle of embedding
        ("Saving", "writing"),  # the new generation's temporary folder exists
        ("Saving", "written"),  # the new generation is in place, CURRENT not switched yet
        ("Saving", "switched"),  # CURRENT switched, old generations being removed
        *(("Saving", rng.uniform(0.0, 0.02)) for _ in range(2)),  # anywhere in the save
        ("Saving", 3.0),  # after the switch, most likely once it has exited
    ]
    bot = CorridorBot(settings=indexed)
    bot.warm_up()
    outcomes = []
    for step, (moment, after) in enumerate(kills, start=1):
        old_generation, old_files = indexed_hashes(indexed)
        existing = set(os.listdir(indexed.index_dir))
        mutate(indexed, step)
        new_files = corpus_hashes(indexed)
        child = Child(indexed, script)
        reached = child.wait_for(moment)
        if isinstance(after, str):
            hit = child.kill(when=functools.partial(save_reached, indexed, existing, old_generation, after))
        else:
            hit = child.kill(after=after)
        where = f"kill {step} ({moment}, {after}, reached: {reached}, random seed {seed}); seen: {child.seen}"

        generation, files = indexed_hashes(indexed)  # loads, and manifest == store
        if generation == old_generation:
            assert files == old_files, where
            outcomes.append(("old", hit, leftovers(indexed)))
        else:
            assert files == new_files, where
            outcomes.append(("new", hit, leftovers(indexed)))
        answer = bot.ask(rng.choice(QUESTIONS))  # the running bot picks up whichever generation is live
        assert {source.document for source in answer.sources} <= set(files), where
        assert bot.index.current_generation() == generation

    print("outcomes of the kills (index used, state seen, leftovers):", outcomes, "random seed", seed)
    assert outcomes[0][0] == "old" and outcomes[-1][0] == "new", outcomes
    killed_mid_save = [o for o in outcomes[4:7] if any(n.startswith((".gen-", "gen-")) for n in o[2])]
    assert killed_mid_save, f"no kill landed inside the save this time: {outcomes}"
    report = CorpusIndex(indexed).reindex()  # finishes the job and tidies what the kills left
    generation, files = indexed_hashes(indexed)
    assert files == corpus_hashes(indexed) and report.generation == generation
    assert leftovers(indexed) == []
    assert not list(indexed.corpus_dir.glob(".*"))


def test_next_reindex_reuses_what_a_killed_one_embedded(indexed: Settings, script: Path) -> None:
    for number in range(3, 6):
        (indexed.corpus_dir / f"cluster-{number}.txt").write_text(cluster_text(number, 1), encoding="utf-8")
    child = Child(indexed, script)
    assert child.wait_for("Embedded 1/3"), child.seen
    child.kill(after=0.0)
    assert (indexed.index_dir / ".staging").is_dir()

    index = CorpusIndex(indexed)
    calls = EmbedderCalls(index)
    report = index.reindex()
    assert sorted(report.added) == ["cluster-3.txt", "cluster-4.txt", "cluster-5.txt"]
    assert report.resumed and not set(report.resumed) & calls.take()
    _, files = indexed_hashes(indexed)
    assert files == corpus_hashes(indexed)
    assert leftovers(indexed) == []


def test_two_reindexes_at_once_one_waits_or_is_refused(indexed: Settings) -> None:
    (indexed.corpus_dir / "cluster-3.txt").write_text(cluster_text(3, 1), encoding="utf-8")
    embedding, release = threading.Event(), threading.Event()

    def hold(text: str, _fraction: float) -> None:
        if text.startswith("Embedding"):
            embedding.set()
            release.wait(timeout=300)

    first: list[Any] = []
    holder = threading.Thread(target=lambda: first.append(CorpusIndex(indexed).reindex(progress=hold)))
    holder.start()
    assert embedding.wait(timeout=300)

    with pytest.raises(ReindexBusy, match="Another reindex"):
        CorpusIndex(indexed).reindex(wait=False)
    messages: list[str] = []
    second: list[Any] = []
    waiter = threading.Thread(
        target=lambda: second.append(CorpusIndex(indexed).reindex(progress=lambda t, _: messages.append(t)))
    )
    waiter.start()
    time.sleep(1.0)
    assert waiter.is_alive() and messages == ["Waiting for another reindex to finish…"]
    release.set()
    holder.join(timeout=300)
    waiter.join(timeout=300)

    assert first[0].added == ["cluster-3.txt"]
    assert not second[0].changed and "cluster-3.txt" in second[0].unchanged  # nothing left to do
    _, files = indexed_hashes(indexed)
    assert files == corpus_hashes(indexed)


def test_two_reindex_processes_at_once(indexed: Settings, script: Path) -> None:
    (indexed.corpus_dir / "cluster-4.txt").write_text(cluster_text(4, 1), encoding="utf-8")
    (indexed.corpus_dir / "cluster-0.txt").unlink()
    children = [Child(indexed, script), Child(indexed, script)]
    reports = [child.finish() for child in children]
    did = sorted((r["added"], r["removed"]) for r in reports)
    assert did == [([], []), (["cluster-4.txt"], ["cluster-0.txt"])], reports
    _, files = indexed_hashes(indexed)
    assert files == corpus_hashes(indexed)
    assert leftovers(indexed) == []


def test_questions_during_a_reindex_all_succeed(indexed: Settings) -> None:
    bot = CorridorBot(settings=indexed)
    bot.warm_up()
    old_generation = bot.index.current_generation()
    notes = [f"note-{number:02d}.txt" for number in range(24)]  # enough to take a few seconds
    for number, name in enumerate(notes):
        (indexed.corpus_dir / name).write_text(cluster_text(number % len(CLUSTERS), number + 1), encoding="utf-8")

    done = threading.Event()
    answered: list[tuple[float, set[str]]] = []
    errors: list[BaseException] = []

    def ask_in_a_loop() -> None:
        for number in range(10_000):
            if done.is_set():
                return
            try:
                answer = bot.ask(QUESTIONS[number % len(QUESTIONS)])
                answered.append((time.monotonic(), {source.document for source in answer.sources}))
            except BaseException as e:
                errors.append(e)

    asker = threading.Thread(target=ask_in_a_loop)
    asker.start()
    started = time.monotonic()
    report = bot.reindex()
    ended = time.monotonic()
    done.set()
    asker.join(timeout=300)

    assert errors == []
    assert sum(started < at < ended for at, _ in answered) >= 2, (len(answered), ended - started)
    assert report.added == notes and report.generation != old_generation
    known = {SEED.name, "cluster-0.txt", "cluster-1.txt", "cluster-2.txt", *notes}
    assert all(documents <= known for _, documents in answered)
    _, found = bot.retrieve("Quelles rencontres le pôle Eurobiomed a-t-il organisées à Marseille (version 4) ?")
    assert found[0].meta["document"] == "note-03.txt"  # the bot switched to the new generation
