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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import stat
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from filelock import FileLock, Timeout
from haystack import Document, Pipeline
from haystack.document_stores.types import DuplicatePolicy
from haystack_integrations.document_stores.faiss import FAISSDocumentStore

from bot.chunking import SentenceChunker
from bot.config import Settings
from bot.documents import SUPPORTED_EXTENSIONS, NotADocument, PressDocumentConverter, read_source
from bot.embedders import document_embedder

logger = logging.getLogger(__name__)

INDEX_FORMAT = 3
CHUNKER_VERSION = 4
CURRENT = "CURRENT"
STAGING = ".staging"
#: Files are embedded in groups of about this many bytes: the unit of progress and of resumable work.
EMBED_GROUP_BYTES = 24_000
EMBED_GROUP_FILES = 16
#: A file whose mtime is this close to the last scan is hashed again even if its size and mtime match
#: (it may have been rewritten within the same clock tick just after that scan, as git's "racy clean").
RACY_NS = 2_000_000_000

Progress = Callable[[str, float], None]
#: What reading a damaged or half-deleted generation can raise (faiss raises RuntimeError).
_READ_ERRORS = (OSError, ValueError, KeyError, TypeError, EOFError, RuntimeError)
#: The files ``FAISSDocumentStore.save`` writes for one store (its base path takes these suffixes).
SEGMENT_SUFFIXES = (".faiss", ".json")


class IndexUnavailable(RuntimeError):
    """The index cannot be used or built; the message says why and what to do."""


class ReindexBusy(IndexUnavailable):
    """Another process is reindexing the same ``index/`` folder."""


class VectorStore(FAISSDocumentStore):
    """A FAISSDocumentStore that keeps vectors only in FAISS, not again in each document.

    The stock store also keeps every embedding in its documents (and in its JSON file), which
    triples the memory and the disk an index takes.
    """

    def write_documents(self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.FAIL) -> int:
        """Write ``documents``, then drop their embeddings from the document copies (FAISS keeps them)."""
        written = super().write_documents(documents, policy)
        for doc in documents:
            if doc.id in self.documents:
                self.documents[doc.id] = replace(self.documents[doc.id], embedding=None)
        return written

    def add_embedded(self, documents: list[Document], vectors: np.ndarray) -> None:
        """Add new documents (ids not in the store yet) with their vectors in one FAISS call.

        Loading a generation adds tens of thousands of chunks; ``write_documents`` would first turn
        every vector into a Python list and back.
        """
        if not documents:
            return
        int_ids = np.arange(self._next_id, self._next_id + len(documents), dtype="int64")
        for int_id, doc in zip(int_ids.tolist(), documents, strict=True):
            self.documents[doc.id] = doc
            self.id_map[int_id] = doc.id
            self.inverse_id_map[doc.id] = int_id
        self._next_id += len(documents)
        self._get_index_or_raise().add_with_ids(np.ascontiguousarray(vectors, dtype="float32"), int_ids)


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


@dataclass
class _Embedded:
    """The chunks of one or more files, without embeddings, and their vectors in the same order."""

    documents: list[Document]
    vectors: np.ndarray


def _fingerprint(settings: Settings) -> dict[str, Any]:
    """What the chunks and vectors depend on: any change forces a full rebuild."""
    return {
        "format": INDEX_FORMAT,
        "embedding_model": settings.embedding_model,
        "chunker": CHUNKER_VERSION,
        "chunk_chars": settings.chunk_chars,
        "chunk_chars_ja": settings.chunk_chars_ja,
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _segment_files(folder: Path, name: str) -> list[Path]:
    """The files of the store saved as ``name`` in ``folder`` (``name`` must hold no dot: ``save`` and
    ``load`` put the suffixes on with ``Path.with_suffix``)."""
    return [folder / f"{name}{suffix}" for suffix in SEGMENT_SUFFIXES]


def _write_segment(folder: Path, name: str, chunks: _Embedded, durable: bool = True) -> None:
    """Save chunks and vectors as a ``FAISSDocumentStore`` named ``name``, complete or not at all: both
    files are written under temporary names, then renamed (a reader missing either file ignores it)."""
    store = VectorStore(embedding_dim=chunks.vectors.shape[1])
    store.add_embedded(chunks.documents, chunks.vectors)
    tmp = f".{name}-tmp"
    store.save(folder / tmp)
    for written, final in zip(_segment_files(folder, tmp), _segment_files(folder, name), strict=True):
        if durable:
            with written.open("rb") as f:
                os.fsync(f.fileno())
        os.replace(written, final)


def _read_segment(folder: Path, name: str) -> _Embedded:
    """The chunks of a store written by ``_write_segment``, with their vectors in the same order."""
    store = VectorStore()
    store.load(folder / name)  # unlike the constructor, raises when the .faiss file is missing
    index = store._get_index_or_raise()
    vectors = faiss.downcast_index(index.index).reconstruct_n(0, index.ntotal)
    # Row i of the inner flat index holds the vector added with the i-th id of the IndexIDMap.
    documents = [store.documents[store.id_map[int_id]] for int_id in faiss.vector_to_array(index.id_map).tolist()]
    if len(documents) != store.count_documents():
        raise ValueError(f"{name} holds {store.count_documents()} chunks but {len(documents)} vectors")
    return _Embedded(documents, vectors)


def _concat(parts: list[_Embedded], dim: int) -> _Embedded:
    documents = [doc for part in parts for doc in part.documents]
    vectors = np.concatenate([p.vectors for p in parts]) if parts else np.zeros((0, dim), "float32")
    return _Embedded(documents, vectors.astype("float32", copy=False))


def _merge_plan(
    segments: list[dict[str, Any]], live: Counter[str], new_chunks: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split the live generation's segments into those kept as they are and those merged into the new one.

    Segments without live chunks go; one that is more than half dead is rewritten; then the newest
    segments join the merge while the merged size is at least half theirs (a binary counter).
    """
    alive = [s for s in segments if live[s["name"]]]
    rewrite = [s for s in alive if live[s["name"]] * 2 < s["chunks"]]
    keep = [s for s in alive if s not in rewrite]
    size = new_chunks + sum(live[s["name"]] for s in rewrite)
    while keep and size and size * 2 >= live[keep[-1]["name"]]:
        segment = keep.pop()
        rewrite.append(segment)
        size += live[segment["name"]]
    return keep, rewrite


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
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):  # none yet, or garbage: rebuild
            return None
        return name if name and (self.root / name / "manifest.json").is_file() else None

    def load(self) -> LoadedIndex | None:
        """Read the live generation; None if there is none or it was built with other settings."""
        for _attempt in range(3):
            generation = self.current_generation()
            if generation is None:
                return None
            try:
                return self._load(generation)
            except _READ_ERRORS as e:
                if self.current_generation() != generation:
                    continue  # a reindex switched generations while we read: read the new one
                logger.warning("Index %s cannot be read (%s); it will be rebuilt.", generation, e)
                self._unreadable[generation] = f"{type(e).__name__}: {e}"
                return None
        return None

    def _load(self, generation: str) -> LoadedIndex | None:
        folder = self.root / generation
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("fingerprint") != _fingerprint(self.settings):
            logger.info("Index %s was built with other settings; it will be rebuilt.", generation)
            return None
        wanted: dict[str, set[str]] = {}
        for entry in manifest["files"].values():
            if entry.get("segment"):
                wanted.setdefault(entry["segment"], set()).update(entry["chunk_ids"])
        store = VectorStore(embedding_dim=manifest["embedding_dim"])
        for segment in manifest["segments"]:
            chunks = _read_segment(folder, segment["name"])
            ids = wanted.get(segment["name"], set())
            rows = [i for i, doc in enumerate(chunks.documents) if doc.id in ids]
            store.add_embedded([chunks.documents[i] for i in rows], chunks.vectors[rows])
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
        states = self._scan(live, report)

        duplicates = _duplicates(states)
        to_embed: list[str] = []
        copies: list[str] = []
        for name, state in states.items():
            old_reason = str(old_files.get(name, {}).get("skipped") or "")
            was_copy = old_reason if old_reason.startswith(DUPLICATE_OF) else None
            if name not in old_files:
                report.added.append(name)
            elif live is None or old_files[name]["sha256"] != state["sha256"] or was_copy != duplicates.get(name):
                report.updated.append(name)  # changed, or it became (or stopped being) a copy of another file
            else:
                report.unchanged.append(name)
                if reason := old_files[name].get("skipped"):
                    report.skipped[name] = reason
                continue
            if name in duplicates:
                report.skipped[name] = duplicates[name]
                copies.append(name)
            else:
                to_embed.append(name)
        report.removed = sorted(set(old_files) - set(states) - set(report.unchanged))
        report.timings["scan"] = time.perf_counter() - started

        if live is not None and not report.changed:
            self._tidy(generation, live.get("previous"))
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
                entry["skipped"] = report.skipped.setdefault(name, _skip_reason(self._path(name)))
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
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            files, fingerprint = manifest["files"], manifest["fingerprint"]
        except _READ_ERRORS as e:
            return None, {}, f"the index could not be read ({e})"
        wanted = _fingerprint(self.settings)
        changes = [f"{k} {fingerprint.get(k)!r} → {v!r}" for k, v in wanted.items() if fingerprint.get(k) != v]
        if changes:
            return None, files, "settings changed: " + ", ".join(changes)
        if error := self._unreadable.get(generation):
            return None, files, f"the index could not be read ({error})"
        missing = [
            s["name"] for s in manifest["segments"] if not all(p.is_file() for p in _segment_files(folder, s["name"]))
        ]
        if missing:
            return None, files, f"segment files missing ({', '.join(missing)})"
        return manifest, files, ""

    def _scan(self, live: dict[str, Any] | None, report: ReindexReport) -> dict[str, dict[str, Any]]:
        """Content hash, size and mtime of each corpus file; one whose size and mtime match the manifest
        is not read again."""
        old_files = live["files"] if live else {}
        trusted_before = live["scanned_ns"] - RACY_NS if live else 0
        states = {}
        for name, info in corpus_stats(self.settings.corpus_dir).items():
            old = old_files.get(name, {})
            same = (old.get("size"), old.get("mtime_ns")) == (info.st_size, info.st_mtime_ns)
            try:
                digest = old["sha256"] if same and info.st_mtime_ns < trusted_before else _sha256(self._path(name))
            except FileNotFoundError:
                continue  # deleted while we scanned: it is gone
            except OSError as e:  # unreadable for now: keep what was indexed, retry next time
                report.skipped[name] = f"cannot be read ({e.strerror or e})"
                if name in old_files:
                    report.unchanged.append(name)
                continue
            states[name] = {"sha256": digest, "size": info.st_size, "mtime_ns": info.st_mtime_ns}
        return states

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
        self, files: dict[str, Path], states: dict[str, dict[str, Any]], progress: Progress, report: ReindexReport
    ) -> dict[str, _Embedded]:
        """Embed ``files`` group by group, reporting progress; with several groups, each group's chunks
        are staged on disk so that a reindex killed half-way does not have to embed them again."""
        staging = self.root / STAGING
        keys = {name: self._staging_key(name, states[name]["sha256"]) for name in files}
        embedded: dict[str, _Embedded] = {}
        for name in files:
            with contextlib.suppress(*_READ_ERRORS):
                embedded[name] = _read_segment(staging, keys[name])
                report.resumed.append(name)
        pending = {name: path for name, path in files.items() if name not in embedded}
        groups: list[dict[str, Path]] = []
        for name, path in pending.items():
            if not groups or len(groups[-1]) >= EMBED_GROUP_FILES or _size(groups[-1], states) >= EMBED_GROUP_BYTES:
                groups.append({})
            groups[-1][name] = path
        total = _size(pending, states) or 1
        if report.resumed:
            progress(f"Reusing {len(report.resumed)} file(s) embedded by an interrupted reindex.", 0.0)
        if pending:
            progress(f"Embedding {len(pending)} new or changed file(s)…", 0.0)
        started, done, files_done, chunks = time.perf_counter(), 0, 0, 0
        for group in groups:
            for name, part in self._embed_group(group, report).items():
                embedded[name] = part
                chunks += len(part.documents)
                if len(groups) > 1 and part.documents:
                    staging.mkdir(exist_ok=True)
                    _write_segment(staging, keys[name], part, durable=False)
            done, files_done = done + _size(group, states), files_done + len(group)
            elapsed = time.perf_counter() - started
            left = f", about {_duration(elapsed * (total - done) / done)} left" if done < total else ""
            progress(f"Embedded {files_done}/{len(pending)} files ({chunks} chunks{left})", 0.95 * done / total)
        return embedded

    def _embed_group(self, files: dict[str, Path], report: ReindexReport) -> dict[str, _Embedded]:
        """Convert, chunk and embed a few files; a file that makes the pipeline fail is skipped, not fatal."""
        sources = []
        for name, path in files.items():
            try:
                sources.append(read_source(path, name, self.settings.max_document_mb * 1_000_000))
            except NotADocument as e:
                report.skipped[name] = str(e)
            except OSError as e:
                report.skipped[name] = f"cannot be read ({e.strerror or e})"
        if not sources:
            return {}
        try:
            result = self.indexing_pipeline().run({"converter": {"sources": sources}})
        except Exception as e:
            if len(sources) > 1:  # find the culprit: one file at a time
                results: dict[str, _Embedded] = {}
                for name, path in files.items():
                    results |= self._embed_group({name: path}, report)
                return results
            name = next(iter(files))
            logger.warning("Cannot index %s: %s", name, e)
            report.skipped[name] = f"could not be converted ({type(e).__name__}: {e})"
            return {}
        by_file: dict[str, list[Document]] = {name: [] for name in files}
        for doc in result["embedder"]["documents"]:
            if doc.embedding is not None and doc.meta.get("document") in by_file:
                by_file[doc.meta["document"]].append(doc)
        return {
            name: _Embedded(
                [replace(doc, embedding=None) for doc in docs],
                np.array([doc.embedding for doc in docs], dtype="float32"),
            )
            for name, docs in by_file.items()
            if docs
        }

    def _staging_key(self, name: str, sha256: str) -> str:
        fingerprint = json.dumps(_fingerprint(self.settings), sort_keys=True)
        return hashlib.sha256(f"{fingerprint}\0{name}\0{sha256}".encode()).hexdigest()[:40]

    def _probe_dimension(self) -> int:
        embedder = self.indexing_pipeline().get_component("embedder")
        embedder.warm_up()
        return len(embedder.run(documents=[Document(content="probe")])["documents"][0].embedding)

    def _commit(
        self,
        base: str | None,
        old_segments: list[dict[str, Any]],
        files: dict[str, Any],
        new_parts: list[_Embedded],
        dim: int | None,
        scanned_ns: int,
    ) -> str:
        """Write a new generation beside the live one, switch ``CURRENT`` to it, then tidy up.

        ``base`` is the live generation this one builds on (None for a full rebuild): its
        ``old_segments`` are kept by hard links, except those ``_merge_plan`` folds into the new segment.
        """
        dim = dim or self._probe_dimension()
        previous = self.current_generation()
        base_folder = self.root / base if base else None
        live: Counter[str] = Counter()
        for entry in files.values():
            if entry.get("segment"):
                live[entry["segment"]] += len(entry["chunk_ids"])
        new = _concat(new_parts, dim)
        keep, rewrite = _merge_plan(old_segments, live, len(new.documents))
        merged = [new]
        for segment in rewrite:
            assert base_folder is not None
            ids = {cid for e in files.values() if e.get("segment") == segment["name"] for cid in e["chunk_ids"]}
            old = _read_segment(base_folder, segment["name"])
            rows = [i for i, doc in enumerate(old.documents) if doc.id in ids]
            merged.append(_Embedded([old.documents[i] for i in rows], old.vectors[rows]))
        new = _concat(merged, dim)

        generation = f"gen-{time.time_ns()}"
        tmp = self.root / f".{generation}.tmp"
        tmp.mkdir()
        segments = []
        for segment in keep:
            assert base_folder is not None
            for source, target in zip(
                _segment_files(base_folder, segment["name"]), _segment_files(tmp, segment["name"]), strict=True
            ):
                _link(source, target)
            segments.append(segment)
        if new.documents:
            name = f"seg-{time.time_ns()}"
            _write_segment(tmp, name, new)
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
        # No indent: json's C encoder only runs without one (ten times faster on a 30,000-chunk manifest).
        _write_atomically(tmp / "manifest.json", json.dumps(manifest, ensure_ascii=False, separators=(",", ":")))
        os.replace(tmp, self.root / generation)
        _fsync_dir(self.root)
        _write_atomically(self.root / CURRENT, generation)
        self._tidy(generation, previous)
        return generation

    def _tidy(self, generation: str | None, previous: str | None) -> None:
        """Remove what earlier or killed reindexes left: old generations, temporary files, staged chunks.

        The previous generation stays, for a reader in another process that is loading it right now.
        """
        for path in self.root.iterdir():
            name = path.name
            if name in (generation, previous):
                continue
            if name.startswith("gen-") or name == STAGING or (name.startswith(".") and name.endswith(".tmp")):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)


def _link(source: Path, target: Path) -> None:
    """Share an immutable segment between generations; copy where the filesystem has no hard links."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _size(files: dict[str, Any], states: dict[str, dict[str, Any]]) -> int:
    return sum(states[name]["size"] for name in files)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


DUPLICATE_OF = "duplicate of "


def _duplicates(states: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Files whose content is byte for byte that of an earlier file (by name), with the skip reason.

    Indexing a copy twice would only make every answer cite the same passage twice. Empty files are
    left out: they are skipped as empty, not as copies of each other.
    """
    first: dict[str, str] = {}
    duplicates = {}
    for name, state in states.items():
        if state["size"] == 0:
            continue
        if (original := first.setdefault(state["sha256"], name)) != name:
            duplicates[name] = DUPLICATE_OF + original
    return duplicates


def _skip_reason(path: Path) -> str:
    try:
        if path.stat().st_size == 0:
            return "empty file"
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    return f"no readable text in this {path.suffix.lower()} file (damaged, scanned or not really that format)"
