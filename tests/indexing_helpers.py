"""Checks shared by the index tests: what a consistent index is, and who the embedder was asked to embed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot.index import CorpusIndex, LoadedIndex


class EmbedderCalls:
    """Records which corpus files the real document embedder is asked to embed (it still embeds them)."""

    def __init__(self, index: CorpusIndex) -> None:
        self.files: list[str] = []
        embedder = index.indexing_pipeline().get_component("embedder")
        run = embedder.run

        def counting_run(documents: list, *args: object, **kwargs: object) -> dict:
            self.files.extend(doc.meta["document"] for doc in documents)
            return run(documents, *args, **kwargs)

        embedder.run = counting_run

    def take(self) -> set[str]:
        files, self.files = set(self.files), []
        return files


def corpus_state(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Every file under ``folder`` (hidden ones too): content hash, size, mtime."""
    return {
        path.relative_to(folder).as_posix(): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_size,
            path.stat().st_mtime_ns,
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def check_consistent(live: LoadedIndex | None) -> LoadedIndex:
    """The manifest and the FAISS store describe exactly the same chunks."""
    assert live is not None
    ids = [cid for entry in live.manifest["files"].values() for cid in entry["chunk_ids"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(live.store.documents)
    assert live.store.index.ntotal == live.store.count_documents() == len(ids)
    for name, entry in live.manifest["files"].items():
        assert all(live.store.documents[cid].meta["document"] == name for cid in entry["chunk_ids"])
    return live
