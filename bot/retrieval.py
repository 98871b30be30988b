"""Question → language + best passages: the query pipeline over the live FAISS index."""

from __future__ import annotations

import faiss
from haystack import Document, Pipeline
from haystack_integrations.components.retrievers.faiss import FAISSEmbeddingRetriever
from haystack_integrations.document_stores.faiss import FAISSDocumentStore

from bot.config import Settings
from bot.embedders import text_embedder
from bot.language import LanguageDetector


def query_pipeline(store: FAISSDocumentStore, settings: Settings) -> Pipeline:
    """Detect the question's language and fetch the ``top_k`` nearest chunks, in any language.

    The question is embedded with e5's ``query:`` prefix into the same multilingual space as the
    chunks, so a Japanese question finds French passages.
    """
    pipeline = Pipeline()
    pipeline.add_component("language", LanguageDetector())
    pipeline.add_component("embedder", text_embedder(settings))
    pipeline.add_component("retriever", FAISSEmbeddingRetriever(document_store=store, top_k=settings.top_k))
    pipeline.connect("embedder.embedding", "retriever.query_embedding")
    return pipeline


def retrieve(pipeline: Pipeline, question: str, top_k: int | None = None) -> tuple[str, list[Document]]:
    """Run the query pipeline: the question's language and its passages, best first.

    One query gains nothing from FAISS's OpenMP threads, and they stall for tens of milliseconds
    whenever another process (the language model) keeps the cores busy. The setting is per thread,
    hence here, in the thread that searches.
    """
    faiss.omp_set_num_threads(1)
    inputs: dict[str, dict] = {"language": {"text": question}, "embedder": {"text": question}}
    if top_k is not None:
        inputs["retriever"] = {"top_k": top_k}
    result = pipeline.run(inputs)
    return result["language"]["language"], result["retriever"]["documents"]
