"""Which sentence of a cited passage supports the answer: the one the sources panel highlights.

Computed once per answer, beside the checks, so that every caller (the web chat, the CLI's JSON,
Python) gets the same span, and the web page only marks it.
"""

from __future__ import annotations

import re

from bot.answer import CITATION, own_words
from bot.chunking import split_sentences
from bot.language import detect_language, is_japanese
from bot.names import facts, fold, words

_STOPWORD_TEXT = (
    "les des une pour dans avec sur par qui que quoi est sont aux ces cette entre son ses leur leurs plus "
    "mais comme ont etre ete fait faire tout tous toute tres aussi apres avant lors selon dont elle ils "
    "the and for with that this from are was were which who what when where how has have had its their "
    "been into also than then about there here will would not but all any can"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_LATIN_OR_NUMBER = re.compile(r"[a-z]+|\d+")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_ANSWER_SENTENCE = re.compile(r"(?<=[.!?\]])\s+(?![\[»)）\"」])|(?<=[。！？])\s*(?![\[\s»)）\"」])|\n")


def _terms(value: str) -> set[str]:
    """Words (3+ letters, accents folded), numbers and Japanese character pairs that two texts can share."""
    folded = fold(CITATION.sub(" ", value))
    terms: set[str] = set()
    for token in _LATIN_OR_NUMBER.findall(folded):
        if token.isdigit():
            terms.add(token.lstrip("0") or "0")
        elif len(token) >= 3 and token not in _STOPWORDS:
            terms.add(token)
    for run in _CJK_RUN.findall(folded):
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    return terms


def supporting_spans(passage: str, answer_text: str, number: int) -> list[tuple[int, int]]:
    """The sentence of ``passage`` that supports what the answer says at [n], as a character span.

    The sentence holding the most of the answer's names and numbers wins (the facts the checks
    verified), then the one sharing the most words: a Japanese answer about a French passage shares
    its names and numbers (Nadamoto, 2008). A second sentence is added only when it holds a fact the
    first lacks. None when nothing is shared.
    """
    parts = [p for p in _ANSWER_SENTENCE.split(answer_text) if f"[{number}]" in p]
    said = " ".join(parts) if parts else answer_text
    wanted, wanted_facts = _terms(said), facts(own_words(said))
    if not wanted:
        return []
    language = "ja" if is_japanese(passage) else detect_language(passage)
    sentences = [(s.start, s.end) for s in split_sentences(passage, language, len(passage) + 1)]  # whole ones
    held = [wanted_facts & words(passage[a:b]) for a, b in sentences]
    scores = [(len(held[i]), len(_terms(passage[a:b]) & wanted)) for i, (a, b) in enumerate(sentences)]
    if not sentences or max(scores) == (0, 0):
        return []
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    missing = wanted_facts - held[best]
    extra = [i for i in range(len(sentences)) if held[i] & missing]
    chosen = {best, max(extra, key=lambda i: (len(held[i] & missing), -i))} if extra else {best}
    return sorted(sentences[i] for i in chosen)
