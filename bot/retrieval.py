"""Question → language + best passages: the query pipeline over the live FAISS index."""

from __future__ import annotations

from dataclasses import replace

import faiss
from haystack import Document, Pipeline, component
from haystack_integrations.components.retrievers.faiss import FAISSEmbeddingRetriever
from haystack_integrations.document_stores.faiss import FAISSDocumentStore

from bot.config import Settings
from bot.embedders import text_embedder
from bot.language import LanguageDetector
from bot.names import NameWeights, names, words


@component
class NameMatchRanker:
    """Puts first the passages whose document names what the question names.

    Press documents about the same kinds of facts look alike to a small embedding model: "how many
    companies" finds every document that counts companies. The names in the question ("Pacific Bio
    Alliance", "Kanazawa") say which document it is about. Each passage's cosine similarity gets
    ``weight`` × the share of the question's names that its document (title and text) holds, each
    name weighted by how few documents hold it.

    Usage example:
    ```python
    ranker = NameMatchRanker(store.filter_documents(), top_k=5)
    ranker.run(query="Who chairs the Pacific Bio Alliance?", documents=retrieved)["documents"]
    ```
    """

    def __init__(self, chunks: list[Document], weight: float = 0.1, top_k: int = 5) -> None:
        self.weight = weight
        self.top_k = top_k
        self.document_words: dict[str, set[str]] = {}
        for chunk in chunks:
            name = str(chunk.meta.get("document", ""))
            if name not in self.document_words:
                self.document_words[name] = words(str(chunk.meta.get("title", "")))
            self.document_words[name] |= words(chunk.content or "")
        self.weights = NameWeights(self.document_words.values())

    @component.output_types(documents=list[Document])
    def run(self, query: str, documents: list[Document], top_k: int | None = None) -> dict[str, list[Document]]:
        """Rescore ``documents`` (FAISS L2 scores of unit vectors) and keep the best ``top_k``."""
        asked = names(query)
        rescored = []
        for doc in documents:
            cosine = 1 - (1 / doc.score - 1) / 2 if doc.score else 0.0  # the store's score is 1 / (1 + L2²)
            words_of_document = self.document_words.get(str(doc.meta.get("document", "")), set())
            rescored.append(replace(doc, score=cosine + self.weight * self.weights.match(asked, words_of_document)))
        rescored.sort(key=lambda d: d.score or 0.0, reverse=True)
        return {"documents": rescored[: top_k or self.top_k]}


def by_document(passages: list[Document]) -> list[Document]:
    """Passages grouped by document, the best document first, each document's passages in reading order.

    The answer writer then reads each document as one block under its title, as the prompt shows it.
    """
    best: dict[str, int] = {}
    for rank, doc in enumerate(passages):
        best.setdefault(str(doc.meta.get("document", "")), rank)
    return sorted(
        passages, key=lambda d: (best[str(d.meta.get("document", ""))], d.meta.get("split_idx_start") or 0)
    )


def query_pipeline(store: FAISSDocumentStore, settings: Settings) -> Pipeline:
    """Detect the question's language, fetch ``candidates`` nearest chunks in any language, keep ``top_k``.

    The question is embedded with e5's ``query:`` prefix into the same multilingual space as the
    chunks, so a Japanese question finds French passages; the names it holds then pick the document.
    """
    pipeline = Pipeline()
    pipeline.add_component("language", LanguageDetector())
    pipeline.add_component("embedder", text_embedder(settings))
    pipeline.add_component(
        "retriever", FAISSEmbeddingRetriever(document_store=store, top_k=max(settings.candidates, settings.top_k))
    )
    pipeline.add_component("ranker", NameMatchRanker(store.filter_documents(), top_k=settings.top_k))
    pipeline.connect("embedder.embedding", "retriever.query_embedding")
    pipeline.connect("retriever.documents", "ranker.documents")
    return pipeline


def retrieve(pipeline: Pipeline, question: str, top_k: int | None = None) -> tuple[str, list[Document]]:
    """Run the query pipeline: the question's language and its passages, best first.

    One query gains nothing from FAISS's OpenMP threads, and they stall for tens of milliseconds
    whenever another process (the language model) keeps the cores busy. The setting is per thread,
    hence here, in the thread that searches.
    """
    faiss.omp_set_num_threads(1)
    inputs: dict[str, dict] = {
        "language": {"text": question},
        "embedder": {"text": question},
        "ranker": {"query": question},
    }
    if top_k is not None:
        inputs["ranker"]["top_k"] = top_k
        inputs["retriever"] = {"top_k": max(top_k, pipeline.get_component("retriever").top_k)}
    result = pipeline.run(inputs)
    return result["language"]["language"], result["ranker"]["documents"]
