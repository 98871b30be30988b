"""``corridor-bot index --watch``: reindex whenever files appear, change or disappear in ``corpus/``.

It polls sizes and mtimes instead of subscribing to filesystem events: that works the same on every
filesystem (network shares and container bind mounts often deliver no inotify events), needs no
extra dependency, and a ``stat`` of a few thousand files every couple of seconds costs next to
nothing. Contents are hashed only by the reindex, and only for files whose size or mtime moved.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from bot.bot import CorridorBot
from bot.index import IndexUnavailable, Progress, ReindexReport, corpus_stats

logger = logging.getLogger(__name__)

Snapshot = dict[str, tuple[int, int]]
MAX_BACKOFF_SECONDS = 60.0


def snapshot(corpus_dir: Path) -> Snapshot:
    """Size and mtime of each supported file: cheap to take, and any write changes it."""
    return {name: (info.st_size, info.st_mtime_ns) for name, info in corpus_stats(corpus_dir).items()}


def watch(
    bot: CorridorBot,
    interval: float = 2.0,
    *,
    stop: threading.Event | None = None,
    on_report: Callable[[ReindexReport], None] | None = None,
    progress: Progress | None = None,
) -> None:
    """Reindex now, then after every change to the corpus, until ``stop`` is set (or Ctrl-C).

    A change is acted on once the corpus has looked the same for one more ``interval`` (debounce), so
    a file still being copied, or a batch of files dropped in one after another, gives one reindex
    of complete files. ``on_report`` gets the report of every reindex run (``report.changed`` is
    False when a file was only touched). A failed reindex is logged and retried, less and less often.
    """
    stop = stop or threading.Event()
    indexed: Snapshot | None = None  # what the corpus looked like when the index last caught up
    previous = _snapshot_or_none(bot.settings.corpus_dir, warn=True)
    failures = 0
    while not stop.is_set():
        current = _snapshot_or_none(bot.settings.corpus_dir, warn=previous is not None)
        if current is not None and current == previous and current != indexed:
            try:
                report = bot.reindex(progress=progress)
            except Exception:  # a watcher must outlive a file that vanished mid-read or a full disk
                failures += 1
                logger.exception("Reindex failed; trying again (attempt %d)", failures + 1)
            else:
                failures, indexed = 0, current
                if on_report is not None:
                    on_report(report)
        previous = current
        stop.wait(min(interval * 2 ** min(failures, 16), max(interval, MAX_BACKOFF_SECONDS)))


def _snapshot_or_none(corpus_dir: Path, warn: bool) -> Snapshot | None:
    """None while the corpus folder is missing (unmounted?): wait for it to come back, saying so once."""
    try:
        return snapshot(corpus_dir)
    except IndexUnavailable as e:
        if warn:
            logger.warning("%s Waiting for it to come back.", e)
        return None
