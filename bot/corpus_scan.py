"""Each corpus file's content hash, reading again only the files whose size or mtime changed; corpus/ is never written.

A reindex starts here: ``scan_corpus`` compares the supported files under ``corpus/`` with the live
manifest's entries (content hash, size, mtime). A file whose size and mtime match, and whose mtime is
older than the previous scan by more than ``RACY_NS``, keeps its recorded hash (as git trusts its
index), so scanning a large unchanged corpus costs one ``stat`` per file. The same pass finds the files
that are byte for byte copies of another one, and says why a file yielded no chunks.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
from pathlib import Path
from typing import Any

from bot.documents import SUPPORTED_EXTENSIONS
from bot.index_errors import IndexUnavailable

# The index's logger, as before these parts left bot/index.py: the CLI prints logger names.
logger = logging.getLogger("bot.index")

#: A file whose mtime is this close to the last scan is hashed again even if its size and mtime match
#: (it may have been rewritten within the same clock tick just after that scan, as git's "racy clean").
RACY_NS = 2_000_000_000
#: The start of the skip reason of a file that is a copy of another.
DUPLICATE_OF = "duplicate of "

#: One corpus file as the manifest records it: ``{"sha256": str, "size": int, "mtime_ns": int}``.
FileState = dict[str, Any]


def corpus_stats(corpus_dir: Path) -> dict[str, os.stat_result]:
    """``stat`` of each supported file under ``corpus_dir`` by its path relative to it, sorted (hidden ones
    ignored).

    Every reindex starts with this and ``watch`` polls it, so it is one ``os.scandir`` pass and one
    ``stat`` per file, with no ``Path`` objects (building thousands of them costs more than the stats).
    """
    if not corpus_dir.is_dir():
        raise IndexUnavailable(f"The corpus folder {corpus_dir} does not exist.")
    stats: dict[str, os.stat_result] = {}
    folders = [(str(corpus_dir), "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as e:
            if not prefix:
                raise IndexUnavailable(f"The corpus folder {corpus_dir} cannot be read: {e}") from e
            logger.warning("Skipping unreadable folder %s: %s", folder, e)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.append((entry.path, f"{prefix}{entry.name}/"))
            elif entry.name.lower().endswith(SUPPORTED_EXTENSIONS):
                with contextlib.suppress(OSError):  # deleted since listed, or a dangling link
                    if stat.S_ISREG((info := entry.stat()).st_mode):
                        stats[prefix + entry.name] = info
    return dict(sorted(stats.items()))


def corpus_files(corpus_dir: Path) -> dict[str, Path]:
    """Supported files under ``corpus_dir`` by their path relative to it, sorted (hidden ones ignored)."""
    return {name: corpus_dir / name for name in corpus_stats(corpus_dir)}


def scan_corpus(corpus_dir: Path, manifest: dict[str, Any] | None) -> tuple[dict[str, FileState], dict[str, str]]:
    """The state of each corpus file, and the files that cannot be read right now with the reason.

    ``manifest`` is the live generation's (None when there is none to build on): a file whose size and
    mtime match its entry is not read again. A file deleted while we scan is simply absent.
    """
    old_files = manifest["files"] if manifest else {}
    trusted_before = manifest["scanned_ns"] - RACY_NS if manifest else 0
    states: dict[str, FileState] = {}
    unreadable: dict[str, str] = {}
    for name, info in corpus_stats(corpus_dir).items():
        old = old_files.get(name, {})
        same = (old.get("size"), old.get("mtime_ns")) == (info.st_size, info.st_mtime_ns)
        try:
            digest = old["sha256"] if same and info.st_mtime_ns < trusted_before else sha256(corpus_dir / name)
        except FileNotFoundError:
            continue  # deleted while we scanned: it is gone
        except OSError as e:  # unreadable for now: the caller keeps what was indexed and retries next time
            unreadable[name] = f"cannot be read ({e.strerror or e})"
            continue
        states[name] = {"sha256": digest, "size": info.st_size, "mtime_ns": info.st_mtime_ns}
    return states, unreadable


def sha256(path: Path) -> str:
    """The content hash of a file, read in 1 MiB blocks (press PDFs can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def duplicates(states: dict[str, FileState]) -> dict[str, str]:
    """Files whose content is byte for byte that of an earlier file (by name), with the skip reason.

    Indexing a copy twice would only make every answer cite the same passage twice. Empty files are
    left out: they are skipped as empty, not as copies of each other.
    """
    first: dict[str, str] = {}
    copies = {}
    for name, state in states.items():
        if state["size"] == 0:
            continue
        if (original := first.setdefault(state["sha256"], name)) != name:
            copies[name] = DUPLICATE_OF + original
    return copies


def skip_reason(path: Path) -> str:
    """Why a file that the pipeline accepted yielded no chunks, as the report and the manifest tell it."""
    try:
        if path.stat().st_size == 0:
            return "empty file"
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    return f"no readable text in this {path.suffix.lower()} file (damaged, scanned or not really that format)"
