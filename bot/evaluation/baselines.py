"""The BM25 baseline: keyword retrieval over the very chunks the dense index holds, for comparison."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import replace

from haystack import Document
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever
from haystack.document_stores.in_memory import InMemoryDocumentStore

from bot.bot import CorridorBot

# Latin words (digits included), or one CJK character: Japanese has no spaces, and single characters
# are the usual dictionary-free BM25 unit for it.
_CJK = r"\u3041-\u3096\u30a1-\u30fa\u30fc\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\uac00-\ud7af"
BM25_TOKENS = rf"[{_CJK}]|[^\W_{_CJK}]+"


class BM25Baseline:
    """Keyword retrieval over the same chunks as the dense index, so the report shows what embeddings add.

    Texts and questions are NFKC-normalised (full-width letters and digits become ASCII); Japanese is
    split into single characters, other scripts into words.
    """

    def __init__(self, documents: Iterable[Document]) -> None:
        self._originals = {doc.id: doc for doc in documents if doc.content}
        self.store = InMemoryDocumentStore(bm25_tokenization_regex=BM25_TOKENS, shared=False)
        self.store.write_documents(
            [
                Document(id=d.id, content=unicodedata.normalize("NFKC", d.content or ""))
                for d in self._originals.values()
            ]
        )
        self.retriever = InMemoryBM25Retriever(self.store)

    def retrieve(self, question: str, top_k: int) -> list[Document]:
        query = unicodedata.normalize("NFKC", question).strip()
        if not query:
            return []
        found = self.retriever.run(query=query, top_k=top_k)["documents"]
        return [replace(self._originals[d.id], score=d.score) for d in found]


def indexed_chunks(bot: CorridorBot) -> list[Document]:
    """The chunks of the bot's live index generation (read through the public ``CorpusIndex.load``)."""
    bot.warm_up()
    loaded = bot.index.load()
    if loaded is None:
        raise ValueError(f"the index in {bot.settings.index_dir} cannot be loaded")
    return loaded.store.filter_documents()
