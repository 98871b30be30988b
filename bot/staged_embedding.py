"""A reindex killed half-way loses no embedding work: finished files' chunks are staged and the next one reuses them.

Files are converted, chunked and embedded by the indexing pipeline a group at a time (a few files, some
tens of kB: the unit of progress). When there are several groups, each file's chunks are saved as a
segment under ``index/.staging/`` as soon as its group is done, named by a hash of the settings'
fingerprint, the file name and its content hash, so they are only ever reused for the same content and
settings. Staged segments are not fsynced (one lost to a power cut is simply embedded again); the
commit that uses them removes them. A file that makes the pipeline fail is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from haystack import Document, Pipeline

from bot.corpus_scan import FileState
from bot.documents import NotADocument, read_source
from bot.segments import READ_ERRORS, EmbeddedChunks, read_segment, write_segment

# The index's logger, as before these parts left bot/index.py: the CLI prints logger names.
logger = logging.getLogger("bot.index")


@dataclass
class StagedEmbedding:
    """One reindex's embedding: where the pipeline comes from, where to stage, what to record.

    ``skipped`` and ``resumed`` are the reindex report's fields, filled in place.
    """

    #: Builds (once) or returns the indexing pipeline; only called when a file is to be embedded.
    pipeline: Callable[[], Pipeline]
    staging: Path
    #: What the chunks and vectors depend on (the manifest's ``fingerprint``).
    fingerprint: dict[str, Any]
    max_document_bytes: int
    skipped: dict[str, str]
    resumed: list[str]

    def embed(
        self,
        files: dict[str, Path],
        states: dict[str, FileState],
        progress: Callable[[str, float], None],
        group_bytes: int,
        group_files: int,
    ) -> dict[str, EmbeddedChunks]:
        """Embed ``files`` group by group (about ``group_bytes`` or ``group_files`` each), reporting progress;
        with several groups, each group's chunks are staged on disk as soon as it is done."""
        keys = {name: self.key(name, states[name]["sha256"]) for name in files}
        embedded: dict[str, EmbeddedChunks] = {}
        for name in files:
            with contextlib.suppress(*READ_ERRORS):
                embedded[name] = read_segment(self.staging, keys[name])
                self.resumed.append(name)
        pending = {name: path for name, path in files.items() if name not in embedded}
        groups: list[dict[str, Path]] = []
        for name, path in pending.items():
            if not groups or len(groups[-1]) >= group_files or _size(groups[-1], states) >= group_bytes:
                groups.append({})
            groups[-1][name] = path
        total = _size(pending, states) or 1
        if self.resumed:
            progress(f"Reusing {len(self.resumed)} file(s) embedded by an interrupted reindex.", 0.0)
        if pending:
            progress(f"Embedding {len(pending)} new or changed file(s)…", 0.0)
        started, done, files_done, chunks = time.perf_counter(), 0, 0, 0
        for group in groups:
            for name, part in self.embed_group(group).items():
                embedded[name] = part
                chunks += len(part.documents)
                if len(groups) > 1 and part.documents:
                    self.staging.mkdir(exist_ok=True)
                    write_segment(self.staging, keys[name], part, durable=False)
            done, files_done = done + _size(group, states), files_done + len(group)
            elapsed = time.perf_counter() - started
            left = f", about {_duration(elapsed * (total - done) / done)} left" if done < total else ""
            progress(f"Embedded {files_done}/{len(pending)} files ({chunks} chunks{left})", 0.95 * done / total)
        return embedded

    def embed_group(self, files: dict[str, Path]) -> dict[str, EmbeddedChunks]:
        """Convert, chunk and embed a few files; a file that makes the pipeline fail is skipped, not fatal."""
        sources = []
        for name, path in files.items():
            try:
                sources.append(read_source(path, name, self.max_document_bytes))
            except NotADocument as e:
                self.skipped[name] = str(e)
            except OSError as e:
                self.skipped[name] = f"cannot be read ({e.strerror or e})"
        if not sources:
            return {}
        try:
            result = self.pipeline().run({"converter": {"sources": sources}})
        except Exception as e:
            if len(sources) > 1:  # find the culprit: one file at a time
                results: dict[str, EmbeddedChunks] = {}
                for name, path in files.items():
                    results |= self.embed_group({name: path})
                return results
            name = next(iter(files))
            logger.warning("Cannot index %s: %s", name, e)
            self.skipped[name] = f"could not be converted ({type(e).__name__}: {e})"
            return {}
        by_file: dict[str, list[Document]] = {name: [] for name in files}
        for doc in result["embedder"]["documents"]:
            if doc.embedding is not None and doc.meta.get("document") in by_file:
                by_file[doc.meta["document"]].append(doc)
        return {
            name: EmbeddedChunks(
                [replace(doc, embedding=None) for doc in docs],
                np.array([doc.embedding for doc in docs], dtype="float32"),
            )
            for name, docs in by_file.items()
            if docs
        }

    def key(self, name: str, sha256: str) -> str:
        """The staged segment's name: staged chunks are reused only for the same file, content and settings."""
        fingerprint = json.dumps(self.fingerprint, sort_keys=True)
        return hashlib.sha256(f"{fingerprint}\0{name}\0{sha256}".encode()).hexdigest()[:40]


def _size(files: dict[str, Any], states: dict[str, FileState]) -> int:
    return sum(states[name]["size"] for name in files)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
