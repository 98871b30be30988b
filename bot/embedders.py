"""Chunks and questions → vectors, with the sentence-transformers embedders of Haystack.

Both embedders name the same model, so Haystack's backend cache loads it once per process.
"""

from __future__ import annotations

from haystack.utils import ComponentDevice
from haystack_integrations.components.embedders.sentence_transformers import (
    SentenceTransformersDocumentEmbedder,
    SentenceTransformersTextEmbedder,
)

from bot.config import Settings
from bot.embedding_model import resolve_embedding_model

#: Embedded with each chunk: its document's title tells apart documents that report the same kinds of facts.
EMBEDDED_META_FIELDS = ("title", "section", "lead_in")


def _prefixes(model: str) -> tuple[str, str]:
    """e5 models were trained with "query: " / "passage: " prefixes and lose accuracy without them."""
    return ("query: ", "passage: ") if "e5" in model.lower() else ("", "")


def document_embedder(
    settings: Settings, progress_bar: bool = True, batch_size: int = 16
) -> SentenceTransformersDocumentEmbedder:
    """Embeds chunks for the index (normalised, so FAISS's L2 order is cosine order).

    A batch is padded to its longest text: a few sentences of mixed length embed faster in batches of 4.
    """
    model = resolve_embedding_model(settings.embedding_model, settings.cache_dir)
    return SentenceTransformersDocumentEmbedder(
        model=model,
        device=ComponentDevice.from_str("cpu"),
        prefix=_prefixes(settings.embedding_model)[1],
        batch_size=batch_size,
        progress_bar=progress_bar,
        normalize_embeddings=True,
        meta_fields_to_embed=list(EMBEDDED_META_FIELDS),
    )


def text_embedder(settings: Settings) -> SentenceTransformersTextEmbedder:
    """Embeds a question for retrieval."""
    model = resolve_embedding_model(settings.embedding_model, settings.cache_dir)
    return SentenceTransformersTextEmbedder(
        model=model,
        device=ComponentDevice.from_str("cpu"),
        prefix=_prefixes(settings.embedding_model)[0],
        progress_bar=False,
        normalize_embeddings=True,
    )
