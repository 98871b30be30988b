"""Passages → an answer in the asker's language that cites them, or a plain "not in the documents".

Two writers share one contract (``run(question, language, passages) -> {"text", "answered"}``):
``LLMAnswerWriter`` (a local or remote chat model, in ``bot/generation.py``) and
``ExtractiveAnswerWriter`` here, which quotes the best supporting sentences and needs no
language model. Every answer is checked by ``check_grounding`` before it reaches the user.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from haystack import Document, component
from haystack_integrations.components.embedders.sentence_transformers import (
    SentenceTransformersDocumentEmbedder,
    SentenceTransformersTextEmbedder,
)

from bot.chunking import passage_text, split_sentences
from bot.language import LANGUAGE_NAMES, detect_language, is_japanese, message

CITATION = re.compile(r"\[(\d+)\]")
_NUMBER = re.compile(r"\d+")
#: "The website is [2].": the citation stands where the fact should be.
_CITATION_AS_FACT = re.compile(
    r"(?:\b(?:is|are|was|were|at|est|sont|était|sera)|[:：は])\s*\[\d+\]\s*[.。]?\s*$", re.IGNORECASE
)
#: Katakana words joined by "・": how a foreign person's name is transliterated (マサヒロ・ナダモト).
_KATAKANA_NAME = re.compile(r"[ァ-ヺー]+(?:・[ァ-ヺー]+)+")
_MONTHS = [
    ("janvier", "january"), ("février", "fevrier", "february"), ("mars", "march"), ("avril", "april"), ("mai", "may"),
    ("juin", "june"), ("juillet", "july"), ("août", "aout", "august"), ("septembre", "september"),
    ("octobre", "october"), ("novembre", "november"), ("décembre", "decembre", "december"),
]  # fmt: skip


@dataclass
class Source:
    """A passage the answer was written from; ``number`` is its [n] in the answer text."""

    number: int
    document: str
    title: str
    text: str
    score: float
    date: str | None = None
    cited: bool = False

    @classmethod
    def from_document(cls, number: int, doc: Document, cited: bool = False) -> Source:
        return cls(
            number=number,
            document=str(doc.meta.get("document", "")),
            title=str(doc.meta.get("title", "")),
            text=doc.content or "",
            score=round(float(doc.score or 0.0), 4),
            date=doc.meta.get("date"),
            cited=cited,
        )


@dataclass
class Answer:
    """What the bot says: ``text`` in ``language``, whether the documents ``answered`` it, and its sources."""

    text: str
    language: str
    answered: bool
    sources: list[Source] = field(default_factory=list)
    question: str = ""
    #: The question actually searched (a follow-up rewritten to stand alone).
    search_query: str = ""
    #: Which writer produced the text ("llm", "extractive", "refusal") and any notes from the checks.
    mode: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def cited_numbers(text: str, passage_count: int) -> list[int]:
    """The [n] markers of ``text`` that point to one of the passages, in order of first use."""
    seen: list[int] = []
    for match in CITATION.finditer(text):
        n = int(match.group(1))
        if 1 <= n <= passage_count and n not in seen:
            seen.append(n)
    return seen


def _fold(text: str) -> str:
    """Lower case without accents, so "Generale" matches "Générale"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def unsupported_names(text: str, question: str, passages: list[Document]) -> list[str]:
    """Capitalised Latin-script words inside sentences that neither the passages nor the question contain.

    A small model that "knows" the answer from training names people the documents never mention;
    this catches that without a second model. Month names count as present when the passages name
    the same month in any language ("June" for "Juin").
    """
    known = _fold(question + " " + " ".join(passage_text(doc) for doc in passages)).replace("-", " ")
    months = {name for names in _MONTHS if any(n in known for n in names) for name in names}
    known_words = set(re.findall(r"\w+", known))
    names = []
    for sentence in re.split(r"(?<=[.!?。！？:])\s+|\n", CITATION.sub("", text)):
        sentence = sentence.strip()
        for match in re.finditer(r"(?<![A-Za-zÀ-ÿ])[A-ZÀ-Ý][A-Za-zÀ-ÿ'’-]{2,}", sentence):
            word = _fold(match.group()).replace("-", " ")
            if not match.start() or word in known or word in months:  # a sentence's first word may be any
                continue
            if not (len(word) >= 5 and any(_one_edit(word, token) for token in known_words)):
                names.append(match.group())
    return names


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one letter: "Japan" for "Japon", not a new name."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def repoint_citations(text: str, question: str, passages: list[Document]) -> str:
    """Point each single-cited sentence at the passage that holds most of its names and numbers.

    A small model often cites the passage after the one it read (the next "[n]" follows the fact in
    its prompt). Names and numbers it copied, and the question did not give, show where they came
    from; the citation moves only when another passage holds strictly more of them.
    """
    asked = set(re.findall(r"\w+", _fold(question)))
    texts = [set(re.findall(r"\w+", _fold(passage_text(doc)))) for doc in passages]

    def fix(sentence: str) -> str:
        cited = CITATION.findall(sentence)
        if len(cited) != 1 or not 1 <= int(cited[0]) <= len(passages):
            return sentence
        facts = {_fold(w) for w in re.findall(r"\b(?:[A-ZÀ-Ý][\w'-]+|\d+)\b", own_words(sentence))} - asked
        counts = [sum(w in words for w in facts) for words in texts]
        best = counts.index(max(counts)) + 1
        return CITATION.sub(f"[{best}]", sentence) if counts[best - 1] > counts[int(cited[0]) - 1] else sentence

    return "".join(fix(part) for part in re.split(r"(?<=[.!?])(?=\s)(?!\s*\[)|(?<=[。！？])(?!\s*\[)", text))


def own_words(text: str) -> str:
    """The answer without its citations and «quoted» passages: what the bot itself wrote."""
    return re.sub(r"«[^»]*»", " ", CITATION.sub(" ", text))


def written_in(text: str, language: str) -> bool:
    """Whether the answer's own words (not citations or «quotes») are in ``language``."""
    body = own_words(text)
    if language == "ja":
        return is_japanese(body)
    if re.search(r"[\u3040-\u30ff]", body):
        return False
    words = re.findall(r"[^\W\d_]+", body)
    return len(words) < 4 or detect_language(body) == language


def only_wording_problems(problems: list[str]) -> bool:
    """True when the facts passed and only the language or the spelling of names failed.

    Such an answer is better replaced by a quote of the passage than by a refusal.
    """
    wording = ("not written in", "transliterated", "instead of the fact")
    return bool(problems) and all(any(marker in p for marker in wording) for p in problems)


def check_grounding(text: str, language: str, passages: list[Document], question: str = "") -> list[str]:
    """Problems found in an answer: bad citations, wrong language, numbers or names not in the passages."""
    problems = []
    numbers = cited_numbers(text, len(passages))
    if not numbers:
        problems.append("no valid citation")
    if any(not 1 <= int(n) <= len(passages) for n in CITATION.findall(text)):
        problems.append("citation of a passage that does not exist")
    body = CITATION.sub("", text)
    if not written_in(text, language):
        problems.append(f"not written in {LANGUAGE_NAMES.get(language, language)}")
    if _CITATION_AS_FACT.search(text.strip()):
        problems.append("a citation stands instead of the fact: write the fact itself, then cite")
    support = normalise(" ".join(passage_text(doc) for doc in passages))
    supported = set(_NUMBER.findall(support)) | set(_NUMBER.findall(support.replace(" ", "")))
    supported |= {str(m) for m, names in enumerate(_MONTHS, start=1) if any(name in support for name in names)}
    for number in _NUMBER.findall(normalise(body)):
        if number.lstrip("0") not in {n.lstrip("0") for n in supported}:
            problems.append(f"number {number} is not in the passages")
    problems.extend(f"name {name} is not in the passages" for name in unsupported_names(text, question, passages))
    if language == "ja":
        problems.extend(
            f"the name {name} is transliterated: copy names in Latin letters exactly as in the passages"
            for name in _KATAKANA_NAME.findall(body)
            if name not in question
        )
    return problems


@component
class ExtractiveAnswerWriter:
    """Answers with the passage sentences closest to the question, quoted with their [n].

    It needs no language model, so it is the fallback when none is available, and it cannot state
    a fact that is not in a passage. The quotes stay in the documents' language; the framing
    sentence is in the asker's. Below ``min_score`` cosine similarity it declines to answer.

    Usage example:
    ```python
    writer = ExtractiveAnswerWriter(text_embedder(settings), document_embedder(settings, progress_bar=False))
    writer.warm_up()
    writer.run(question="Qui dirige le pôle ?", language="fr", passages=docs)  # {"text": "…", "answered": True}
    ```
    """

    def __init__(
        self,
        question_embedder: SentenceTransformersTextEmbedder,
        sentence_embedder: SentenceTransformersDocumentEmbedder,
        min_score: float = 0.80,
        max_sentences: int = 2,
    ) -> None:
        self.question_embedder = question_embedder
        self.sentence_embedder = sentence_embedder
        self.min_score = min_score
        self.max_sentences = max_sentences

    def warm_up(self) -> None:
        """Load the embedding model (shared with retrieval and indexing)."""
        self.question_embedder.warm_up()
        self.sentence_embedder.warm_up()

    @component.output_types(text=str, answered=bool)
    def run(self, question: str, language: str, passages: list[Document]) -> dict[str, Any]:
        """Quote the best sentences of ``passages``, or say the documents do not hold the answer."""
        candidates: list[tuple[int, str]] = []
        for number, doc in enumerate(passages, start=1):
            text = doc.content or ""
            doc_language = str(doc.meta.get("language", "en"))
            for sentence in split_sentences(text, doc_language, 400):
                candidates.append((number, text[sentence.start : sentence.end].strip()))
        if not candidates:
            return {"text": message("not_found", language), "answered": False}
        query = np.array(self.question_embedder.run(text=question)["embedding"], dtype=np.float32)
        embedded = self.sentence_embedder.run(documents=[Document(content=s) for _, s in candidates])["documents"]
        scores = np.array([d.embedding for d in embedded], dtype=np.float32) @ query
        best = np.argsort(-scores)[: self.max_sentences]
        if scores[best[0]] < self.min_score:
            return {"text": message("not_found", language), "answered": False}
        kept = [i for i in sorted(best) if scores[i] >= self.min_score]
        quotes = []
        for i in kept:
            number, sentence = candidates[i]
            if len(sentence) < 100 and i > 0 and candidates[i - 1][0] == number and i - 1 not in kept:
                sentence = f"{candidates[i - 1][1]} {sentence}"  # a fragment cut from a long sentence
            quotes.append(f"« {sentence} » [{number}]")
        return {"text": message("extractive_lead", language) + "\n" + "\n".join(quotes), "answered": True}
