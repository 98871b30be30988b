"""A segment on disk is complete or absent, and never changes once written, so generations can share it.

A segment is a faiss-haystack ``FAISSDocumentStore`` saved with ``save()`` as two files: ``<name>.faiss``
(the chunks' vectors) and ``<name>.json`` (the chunks, without their vectors). Both are written under
temporary names and then renamed, so a reader finds both files complete or misses one (and then treats
the segment as unreadable). Nothing ever writes into an existing segment: a later generation hard-links
the segments it keeps, and chunks of deleted or changed files stay in their segment until
``merge_plan`` folds it into a new one.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from haystack import Document
from haystack.document_stores.types import DuplicatePolicy
from haystack_integrations.document_stores.faiss import FAISSDocumentStore

#: What reading a damaged or half-deleted generation can raise (faiss raises RuntimeError).
READ_ERRORS = (OSError, ValueError, KeyError, TypeError, EOFError, RuntimeError)
#: The files ``FAISSDocumentStore.save`` writes for one store (its base path takes these suffixes).
SEGMENT_SUFFIXES = (".faiss", ".json")


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
class EmbeddedChunks:
    """The chunks of one or more files, without embeddings, and their vectors in the same order."""

    documents: list[Document]
    vectors: np.ndarray

    def only(self, ids: set[str]) -> EmbeddedChunks:
        """The chunks whose id is in ``ids`` (those the manifest still lists), in their order, with their vectors."""
        rows = [i for i, doc in enumerate(self.documents) if doc.id in ids]
        return EmbeddedChunks([self.documents[i] for i in rows], self.vectors[rows])


def concat(parts: list[EmbeddedChunks], dim: int) -> EmbeddedChunks:
    """All ``parts`` as one, in order (no part: no chunks, vectors of width ``dim``)."""
    documents = [doc for part in parts for doc in part.documents]
    vectors = np.concatenate([p.vectors for p in parts]) if parts else np.zeros((0, dim), "float32")
    return EmbeddedChunks(documents, vectors.astype("float32", copy=False))


def segment_files(folder: Path, name: str) -> list[Path]:
    """The files of the store saved as ``name`` in ``folder`` (``name`` must hold no dot: ``save`` and
    ``load`` put the suffixes on with ``Path.with_suffix``)."""
    return [folder / f"{name}{suffix}" for suffix in SEGMENT_SUFFIXES]


def write_segment(folder: Path, name: str, chunks: EmbeddedChunks, durable: bool = True) -> None:
    """Save chunks and vectors as a ``FAISSDocumentStore`` named ``name``, complete or not at all: both
    files are written under temporary names, then renamed (a reader missing either file ignores it).

    ``durable`` fsyncs both files before the renames (the caller fsyncs ``folder``); staged chunks skip
    it, as losing them only costs embedding them again.
    """
    store = VectorStore(embedding_dim=chunks.vectors.shape[1])
    store.add_embedded(chunks.documents, chunks.vectors)
    tmp = f".{name}-tmp"
    store.save(folder / tmp)
    for written, final in zip(segment_files(folder, tmp), segment_files(folder, name), strict=True):
        if durable:
            with written.open("rb") as f:
                os.fsync(f.fileno())
        os.replace(written, final)


def read_segment(folder: Path, name: str) -> EmbeddedChunks:
    """The chunks of a store written by ``write_segment``, with their vectors in the same order.

    Raises one of ``READ_ERRORS`` when a file is missing or damaged.
    """
    store = VectorStore()
    store.load(folder / name)  # unlike the constructor, raises when the .faiss file is missing
    index = store._get_index_or_raise()
    vectors = faiss.downcast_index(index.index).reconstruct_n(0, index.ntotal)
    # Row i of the inner flat index holds the vector added with the i-th id of the IndexIDMap.
    documents = [store.documents[store.id_map[int_id]] for int_id in faiss.vector_to_array(index.id_map).tolist()]
    if len(documents) != store.count_documents():
        raise ValueError(f"{name} holds {store.count_documents()} chunks but {len(documents)} vectors")
    return EmbeddedChunks(documents, vectors)


def link_segment(source: Path, target: Path, name: str) -> None:
    """Put segment ``name`` of folder ``source`` into folder ``target`` without copying it (it is immutable).

    Where the filesystem has no hard links, the files are copied instead.
    """
    for source_file, target_file in zip(segment_files(source, name), segment_files(target, name), strict=True):
        try:
            os.link(source_file, target_file)
        except OSError:
            shutil.copy2(source_file, target_file)


def merge_plan(
    segments: list[dict[str, Any]], live: Counter[str], new_chunks: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split the live generation's segments into those kept as they are and those merged into the new one.

    Segments without live chunks go; one that is more than half dead is rewritten; then the newest
    segments join the merge while the merged size is at least half theirs (a binary counter), so each
    chunk is rewritten O(log N) times over the life of the index and a small change never rewrites the
    big old segments.
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
