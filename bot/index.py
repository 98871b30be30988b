"""Chunks + embeddings → a FAISS index on disk, kept in step with ``corpus/`` incrementally and crash-safely.

Layout of ``index/``::

    CURRENT                name of the live generation (replaced atomically)
    gen-<n>/manifest.json  per corpus file: content hash, size, mtime, chunk ids and the segment holding
                           them; the model and chunking settings; the segments of the generation
    gen-<n>/seg-<m>.faiss  a segment: a faiss-haystack ``FAISSDocumentStore`` saved with ``save()``, its
    gen-<n>/seg-<m>.json   FAISS index (the chunks' vectors) and its documents (the chunks); never modified
                           once written, a later generation hard-links the segments it keeps (both files)
    .staging/<key>.faiss   chunks embedded by an interrupted reindex, stored the same way (plus ``.json``),
                           reused by the next one
    .reindex.lock          held while a reindex runs

A reindex reads only the live manifest, embeds new and changed files into one new segment, writes a
new generation beside the old one (links to the untouched segments, the new segment, a manifest) and
then switches ``CURRENT``. Adding a document therefore costs the same whatever the size of the index:
nothing proportional to the existing chunks is read or written. Chunks of deleted or changed files
stay in their old segment but are no longer listed in the manifest, so loading skips them; segments
that become mostly dead, and runs of small recent segments, are merged (each chunk is rewritten
O(log N) times over the life of the index, and a small change never rewrites the big old segments).

A file whose size and mtime match the manifest is not read again (its content hash is trusted, as
git trusts its index), so scanning a large unchanged corpus costs one ``stat`` per file.

A crash at any moment leaves ``CURRENT`` naming a complete generation; the next reindex removes the
leftovers and finishes the job. Nothing under ``corpus/`` is ever written.

``CorpusIndex`` orchestrates the parts, each in its own module:

- ``bot.corpus_scan``: which corpus files exist, their content hash, copies and skip reasons;
- ``bot.staged_embedding``: files → embedded chunks, a group at a time, reusing a killed reindex's work;
- ``bot.segments``: segment files (write, read, share, merge) and the ``VectorStore`` they hold;
- ``bot.generations``: the manifest, ``CURRENT`` and the crash-safe switch from one generation to the next.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from haystack import Document, Pipeline
from haystack_integrations.document_stores.faiss import FAISSDocumentStore

from bot.chunking import SentenceChunker
from bot.config import Settings
from bot.corpus_scan import (
    DUPLICATE_OF,
    RACY_NS,
    FileState,
    corpus_files,
    corpus_stats,
    duplicates,
    scan_corpus,
    skip_reason,
)
from bot.documents import PressDocumentConverter
from bot.embedders import EMBEDDED_META_FIELDS, document_embedder
from bot.generations import (
    CURRENT,
    STAGING,
    publish_generation,
    read_current,
    read_manifest,
    start_generation,
    tidy,
)
from bot.index_errors import IndexUnavailable, ReindexBusy
from bot.segments import (
    READ_ERRORS,
    SEGMENT_SUFFIXES,
    EmbeddedChunks,
    VectorStore,
    concat,
    link_segment,
    merge_plan,
    read_segment,
    segment_files,
    write_segment,
)
from bot.staged_embedding import StagedEmbedding

__all__ = [
    "CHUNKER_VERSION",
    "CURRENT",
    "DUPLICATE_OF",
    "EMBED_GROUP_BYTES",
    "EMBED_GROUP_FILES",
    "INDEX_FORMAT",
    "RACY_NS",
    "SEGMENT_SUFFIXES",
    "STAGING",
    "CorpusIndex",
    "IndexUnavailable",
    "LoadedIndex",
    "Progress",
    "ReindexBusy",
    "ReindexReport",
    "VectorStore",
    "corpus_files",
    "corpus_stats",
]

logger = logging.getLogger(__name__)

INDEX_FORMAT = 3
CHUNKER_VERSION = 4
#: Files are embedded in groups of about this many bytes: the unit of progress and of resumable work.
EMBED_GROUP_BYTES = 24_000
EMBED_GROUP_FILES = 16

Progress = Callable[[str, float], None]
#: The former private name of ``EmbeddedChunks`` (benchmarks/reindex_scaling.py builds one).
_Embedded = EmbeddedChunks


@dataclass
class ReindexReport:
    """What a reindex did, by corpus file name.

    On a full rebuild, files that were indexed before are listed as ``updated`` (their chunks were
    re-embedded); ``unchanged`` only lists files whose chunks were left as they were.
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Files that could not be indexed, with the reason.
    skipped: dict[str, str] = field(default_factory=dict)
    #: Files whose chunks an interrupted reindex had already embedded, reused instead of embedded again.
    resumed: list[str] = field(default_factory=list)
    chunks: int = 0
    generation: str = ""
    #: Why everything was re-embedded (new index, other model or chunking), empty when incremental.
    full_rebuild: str = ""
    seconds: float = 0.0
    #: Seconds spent scanning the corpus, embedding and saving.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LoadedIndex:
    """A generation read from disk: the store to search and the manifest that describes it."""

    generation: str
    store: FAISSDocumentStore
    manifest: dict[str, Any]


def _fingerprint(settings: Settings) -> dict[str, Any]:
    """What the chunks and vectors depend on: any change forces a full rebuild."""
    return {
        "format": INDEX_FORMAT,
        "embedding_model": settings.embedding_model,
        "chunker": CHUNKER_VERSION,
        "chunk_chars": settings.chunk_chars,
        "chunk_chars_ja": settings.chunk_chars_ja,
        "embedded_meta": list(EMBEDDED_META_FIELDS),
    }


def _live_ids(files: dict[str, Any]) -> dict[str, set[str]]:
    """The chunk ids the manifest entries ``files`` still list, by segment."""
    wanted: dict[str, set[str]] = {}
    for entry in files.values():
        if entry.get("segment"):
            wanted.setdefault(entry["segment"], set()).update(entry["chunk_ids"])
    return wanted


class CorpusIndex:
    """The FAISS index of one corpus folder: load the live generation, or bring it up to date.

    Usage example:
    ```python
    index = CorpusIndex(Settings.from_env())
    report = index.reindex()          # embeds only what changed
    live = index.load()               # LoadedIndex(generation, store, manifest) or None
    ```
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.index_dir
        self._pipeline: Pipeline | None = None
        #: Generations that ``load`` found damaged, with the error: the next reindex rebuilds them in full
        #: rather than building on segments that cannot be read.
        self._unreadable: dict[str, str] = {}

    # Reading ---------------------------------------------------------------------------------

    def current_generation(self) -> str | None:
        """The live generation's name, or None when there is no usable index."""
        return read_current(self.root)

    def load(self) -> LoadedIndex | None:
        """Read the live generation; None if there is none or it was built with other settings."""
        for _attempt in range(3):
            generation = self.current_generation()
            if generation is None:
                return None
            try:
                return self._load(generation)
            except READ_ERRORS as e:
                if self.current_generation() != generation:
                    continue  # a reindex switched generations while we read: read the new one
                logger.warning("Index %s cannot be read (%s); it will be rebuilt.", generation, e)
                self._unreadable[generation] = f"{type(e).__name__}: {e}"
                return None
        return None

    def _load(self, generation: str) -> LoadedIndex | None:
        folder = self.root / generation
        manifest = read_manifest(folder)
        if manifest.get("fingerprint") != _fingerprint(self.settings):
            logger.info("Index %s was built with other settings; it will be rebuilt.", generation)
            return None
        wanted = _live_ids(manifest["files"])
        store = VectorStore(embedding_dim=manifest["embedding_dim"])
        for segment in manifest["segments"]:
            live = read_segment(folder, segment["name"]).only(wanted.get(segment["name"], set()))
            store.add_embedded(live.documents, live.vectors)
        expected = sum(len(ids) for ids in wanted.values())
        if store.count_documents() != expected:
            raise ValueError(f"the manifest lists {expected} chunks but the segments hold {store.count_documents()}")
        return LoadedIndex(generation=generation, store=store, manifest=manifest)

    # Writing ---------------------------------------------------------------------------------

    def reindex(self, *, wait: bool = True, progress: Progress | None = None) -> ReindexReport:
        """Bring the index in step with the corpus; only one reindex runs at a time per folder.

        With ``wait=False`` a reindex already running (in any process) raises ``ReindexBusy``;
        otherwise this one waits for it, then indexes whatever that one left to do.
        """
        progress = progress or (lambda _message, _fraction: None)
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / ".reindex.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout as e:
            if not wait:
                raise ReindexBusy(f"Another reindex of {self.root} is running; try again when it ends.") from e
            progress("Waiting for another reindex to finish…", 0.0)
            lock.acquire(timeout=-1)
        try:
            return self._reindex(progress)
        finally:
            lock.release()

    def _reindex(self, progress: Progress) -> ReindexReport:
        started = time.perf_counter()
        scanned_ns = time.time_ns()
        report = ReindexReport()
        generation = self.current_generation()
        live, old_files, report.full_rebuild = self._base(generation)
        states, unreadable = scan_corpus(self.settings.corpus_dir, live)
        for name, reason in unreadable.items():  # keep what was indexed, retry next time
            report.skipped[name] = reason
            if live is not None and name in live["files"]:
                report.unchanged.append(name)

        copies_of = duplicates(states)
        to_embed: list[str] = []
        copies: list[str] = []
        for name, state in states.items():
            old_reason = str(old_files.get(name, {}).get("skipped") or "")
            was_copy = old_reason if old_reason.startswith(DUPLICATE_OF) else None
            if name not in old_files:
                report.added.append(name)
            elif live is None or old_files[name]["sha256"] != state["sha256"] or was_copy != copies_of.get(name):
                report.updated.append(name)  # changed, or it became (or stopped being) a copy of another file
            else:
                report.unchanged.append(name)
                if reason := old_files[name].get("skipped"):
                    report.skipped[name] = reason
                continue
            if name in copies_of:
                report.skipped[name] = copies_of[name]
                copies.append(name)
            else:
                to_embed.append(name)
        report.removed = sorted(set(old_files) - set(states) - set(report.unchanged))
        report.timings["scan"] = time.perf_counter() - started

        if live is not None and not report.changed:
            tidy(self.root, generation, live.get("previous"))
            report.generation = generation or ""
            report.chunks = sum(len(entry["chunk_ids"]) for entry in live["files"].values())
            report.seconds = time.perf_counter() - started
            progress("Index is up to date.", 1.0)
            return report

        embedded = self._embed({name: self._path(name) for name in to_embed}, states, progress, report)
        report.timings["embed"] = time.perf_counter() - started - report.timings["scan"]

        progress("Saving the index…", 0.95)
        saving = time.perf_counter()
        unchanged = set(report.unchanged)
        files = {name: entry for name, entry in old_files.items() if name in unchanged}
        new_parts = []
        for name in [*to_embed, *copies]:
            chunks = embedded.get(name)
            entry: dict[str, Any] = {**states[name], "segment": None, "chunk_ids": []}
            if chunks is not None and chunks.documents:
                entry["chunk_ids"] = [doc.id for doc in chunks.documents]
                entry.update({k: chunks.documents[0].meta.get(k) for k in ("title", "date", "language")})
                new_parts.append(chunks)
            else:
                entry["skipped"] = report.skipped.setdefault(name, skip_reason(self._path(name)))
            files[name] = entry
        dim = next((len(p.vectors[0]) for p in new_parts), None) or (live or {}).get("embedding_dim")
        base, segments = (generation, live["segments"]) if live else (None, [])
        report.generation = self._commit(base, segments, files, new_parts, dim, scanned_ns)
        report.chunks = sum(len(entry["chunk_ids"]) for entry in files.values())
        report.timings["save"] = time.perf_counter() - saving
        report.seconds = time.perf_counter() - started
        progress("Index updated.", 1.0)
        return report

    def _base(self, generation: str | None) -> tuple[dict[str, Any] | None, dict[str, Any], str]:
        """The live manifest if a reindex can build on it, the files it lists, and else why not."""
        if generation is None:
            return None, {}, "no index yet"
        folder = self.root / generation
        try:
            manifest = read_manifest(folder)
            files, fingerprint = manifest["files"], manifest["fingerprint"]
        except READ_ERRORS as e:
            return None, {}, f"the index could not be read ({e})"
        wanted = _fingerprint(self.settings)
        changes = [f"{k} {fingerprint.get(k)!r} → {v!r}" for k, v in wanted.items() if fingerprint.get(k) != v]
        if changes:
            return None, files, "settings changed: " + ", ".join(changes)
        if error := self._unreadable.get(generation):
            return None, files, f"the index could not be read ({error})"
        missing = [
            s["name"] for s in manifest["segments"] if not all(p.is_file() for p in segment_files(folder, s["name"]))
        ]
        if missing:
            return None, files, f"segment files missing ({', '.join(missing)})"
        return manifest, files, ""

    def _path(self, name: str) -> Path:
        return self.settings.corpus_dir / name

    def indexing_pipeline(self) -> Pipeline:
        """Files → Documents → chunks → embedded chunks, built once (the store is written in ``_commit``)."""
        if self._pipeline is None:
            pipeline = Pipeline()
            pipeline.add_component("converter", PressDocumentConverter())
            pipeline.add_component("chunker", SentenceChunker(self.settings.chunk_chars, self.settings.chunk_chars_ja))
            pipeline.add_component("embedder", document_embedder(self.settings, progress_bar=False))
            pipeline.connect("converter.documents", "chunker.documents")
            pipeline.connect("chunker.documents", "embedder.documents")
            self._pipeline = pipeline
        return self._pipeline

    def _embed(
        self, files: dict[str, Path], states: dict[str, FileState], progress: Progress, report: ReindexReport
    ) -> dict[str, EmbeddedChunks]:
        """Embed ``files`` group by group, staging each group's chunks for a reindex that would follow a kill."""
        embedding = StagedEmbedding(
            pipeline=self.indexing_pipeline,
            staging=self.root / STAGING,
            fingerprint=_fingerprint(self.settings),
            max_document_bytes=self.settings.max_document_mb * 1_000_000,
            skipped=report.skipped,
            resumed=report.resumed,
        )
        # The group sizes are read here, at each reindex: tests/test_reindex_crash.py sets EMBED_GROUP_BYTES.
        return embedding.embed(files, states, progress, EMBED_GROUP_BYTES, EMBED_GROUP_FILES)

    def _probe_dimension(self) -> int:
        embedder = self.indexing_pipeline().get_component("embedder")
        embedder.warm_up()
        return len(embedder.run(documents=[Document(content="probe")])["documents"][0].embedding)

    def _commit(
        self,
        base: str | None,
        old_segments: list[dict[str, Any]],
        files: dict[str, Any],
        new_parts: list[EmbeddedChunks],
        dim: int | None,
        scanned_ns: int,
    ) -> str:
        """Write a new generation beside the live one, switch ``CURRENT`` to it, then tidy up.

        ``base`` is the live generation this one builds on (None for a full rebuild): its
        ``old_segments`` are kept by hard links, except those ``merge_plan`` folds into the new segment.
        """
        dim = dim or self._probe_dimension()
        previous = self.current_generation()
        base_folder = self.root / base if base else None
        live: Counter[str] = Counter()
        for entry in files.values():
            if entry.get("segment"):
                live[entry["segment"]] += len(entry["chunk_ids"])
        new = concat(new_parts, dim)
        keep, rewrite = merge_plan(old_segments, live, len(new.documents))
        merged = [new]
        wanted = _live_ids(files)
        for segment in rewrite:
            assert base_folder is not None
            merged.append(read_segment(base_folder, segment["name"]).only(wanted.get(segment["name"], set())))
        new = concat(merged, dim)

        generation, folder = start_generation(self.root)
        segments = []
        for segment in keep:
            assert base_folder is not None
            link_segment(base_folder, folder, segment["name"])
            segments.append(segment)
        if new.documents:
            name = f"seg-{time.time_ns()}"
            write_segment(folder, name, new)
            segments.append({"name": name, "chunks": len(new.documents)})
            rewritten = {s["name"] for s in rewrite}
            for entry in files.values():
                if entry["chunk_ids"] and (entry.get("segment") is None or entry["segment"] in rewritten):
                    entry["segment"] = name
        manifest = {
            "fingerprint": _fingerprint(self.settings),
            "embedding_dim": dim,
            "scanned_ns": scanned_ns,
            "previous": previous,
            "segments": segments,
            "files": files,
        }
        publish_generation(self.root, generation, folder, manifest)
        tidy(self.root, generation, previous)
        return generation
