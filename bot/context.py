"""Retrieved passages → the sentences the answer writer reads, within a token budget.

On two CPU cores llama.cpp reads about 90 prompt tokens per second, and everything in the prompt
before the question is either cached (the fixed system prompt) or read afresh (the passages). Four
whole chunks are ~450 tokens, five seconds before the first word. The sentences closest to the
question carry the answer; the rest of each chunk mostly carries neighbouring facts that a small
model borrows by mistake. The full passages still go to the sources panel.

Off by default (``Settings.context_tokens = 0``). Measured with ``corridor-bot eval``: a 150-token
budget without a sentence per passage, or sentences cut at 200 characters, lost answers on the seed's
qa-dev (a long list of names cut in two swapped their titles). Whole sentences, one per passage
first, 300 tokens, brought the first word from ~5 s to ~3.3 s and held on qa-dev and qa-multi, but
on the held-out third set wrong answers went from 4 to 8: the model, shown fewer sentences, took the
person or number of a neighbouring sentence. Quality first; the budget stays for those who want speed.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import replace

import numpy as np
from haystack import Document, component
from haystack_integrations.components.embedders.sentence_transformers import (
    SentenceTransformersDocumentEmbedder,
    SentenceTransformersTextEmbedder,
)

from bot.chunking import passage_text, split_sentences

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def approx_tokens(text: str) -> float:
    """Qwen's tokeniser: about one token per Japanese character, about 3 characters per Latin-script token."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk) / 3


@component
class SentenceSelector:
    """Keeps each passage's sentence closest to the question, then the closest others, within ``budget`` tokens.

    A sentence's score is its cosine similarity to the question plus its passage's retrieval score
    (which holds the name match), so that a close sentence in the wrong document loses to one in the
    right document. The kept sentences stay in document order; a passage with none left is dropped
    from both outputs, which stay aligned so that [n] means the same passage in each.

    Embedding a dozen sentences takes ~0.3 s on two cores, so the vectors of the last ``cache_size``
    sentences are kept: questions about the same documents share most of their sentences.

    Usage example:
    ```python
    selector = SentenceSelector(text_embedder(settings), document_embedder(settings, False), budget=300)
    selector.warm_up()
    out = selector.run(question="Qui dirige le pôle ?", passages=docs)
    out["passages"], out["excerpts"]  # the full passages kept, and what the writer reads of each
    ```
    """

    def __init__(
        self,
        question_embedder: SentenceTransformersTextEmbedder,
        sentence_embedder: SentenceTransformersDocumentEmbedder,
        budget: int = 300,
        max_chars: int = 400,
        cache_size: int = 20_000,
    ) -> None:
        self.question_embedder = question_embedder
        self.sentence_embedder = sentence_embedder
        self.budget = budget
        self.max_chars = max_chars
        self.cache_size = cache_size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def warm_up(self) -> None:
        """Load the embedding model (shared with retrieval and indexing)."""
        self.question_embedder.warm_up()
        self.sentence_embedder.warm_up()

    @component.output_types(passages=list[Document], excerpts=list[Document])
    def run(self, question: str, passages: list[Document]) -> dict[str, list[Document]]:
        """The ``passages`` that keep at least one sentence, and those sentences as passages of their own."""
        if self.budget <= 0 or not passages:
            return {"passages": passages, "excerpts": passages}
        sentences: list[tuple[int, str]] = []  # (passage, text)
        for p, doc in enumerate(passages):
            text = passage_text(doc)
            for span in split_sentences(text, str(doc.meta.get("language", "en")), self.max_chars):
                sentences.append((p, text[span.start : span.end].strip()))
        query = np.array(self.question_embedder.run(text=question)["embedding"], dtype=np.float32)
        similarity = self._embed([text for _, text in sentences]) @ query
        scores = similarity + np.array([passages[p].score or 0.0 for p, _ in sentences])
        ranked = [int(i) for i in np.argsort(-scores)]
        # Each passage's best sentence first (the embedder alone misjudges a short cross-language
        # sentence too often to drop a passage on its word), then the best of the rest.
        best_of_passage: dict[int, int] = {}
        for i in ranked:
            best_of_passage.setdefault(sentences[i][0], i)
        kept: set[int] = set()
        used = 0.0
        for i in [*best_of_passage.values(), *ranked]:
            cost = approx_tokens(sentences[i][1])
            if i in kept or (kept and used + cost > self.budget):
                continue
            kept.add(i)
            used += cost
        full, excerpts = [], []
        for p, doc in enumerate(passages):
            chosen = [text for i, (q, text) in enumerate(sentences) if q == p and i in kept]
            if chosen:
                full.append(doc)
                excerpts.append(replace(doc, content=" … ".join(chosen), meta={**doc.meta, "lead_in": None}))
        return {"passages": full, "excerpts": excerpts}

    def _embed(self, sentences: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(s for s in sentences if s not in self._vectors))
        if missing:
            embedded = self.sentence_embedder.run(documents=[Document(content=s) for s in missing])["documents"]
            for sentence, doc in zip(missing, embedded, strict=True):
                self._vectors[sentence] = np.asarray(doc.embedding, dtype=np.float32)
        for sentence in sentences:
            self._vectors.move_to_end(sentence)
        while len(self._vectors) > self.cache_size:
            self._vectors.popitem(last=False)
        return np.stack([self._vectors[s] for s in sentences])
