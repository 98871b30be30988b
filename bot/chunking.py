"""Documents → chunks: whole sentences packed up to a character budget, with one sentence of overlap.

Haystack's sentence splitter relies on NLTK Punkt, which has no Japanese and downloads its data at
run time; ``pysbd`` splits French, English and Japanese (on 。！？) offline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pysbd
from haystack import Document, component

_PARAGRAPH = re.compile(r"\n\s*\n")
_LINE = re.compile(r"[^\n]+")
_BULLET = re.compile(r"[ \t]*(?:[-–•*·▪]\s|[・■●○◆]|\d{1,2}[.)]\s)")
_HEADING = re.compile(r"(?m)^[ \t]*(?:#{1,6}\s+(?P<md>.+)|(?P<caps>[^\na-zà-ÿ]{8,}))\s*$")


def find_headings(text: str) -> list[tuple[int, str]]:
    """Section headings (Markdown ``#`` lines or lines in capitals) with their offsets, in readable case.

    A bullet under "À PROPOS DU LIFE SCIENCE CORRIDOR FRANCE" often never names its subject; embedding
    the heading with the chunk lets a question that names the subject find it. A heading set on two
    lines ("LE PROGRAMME DE COOPERATION" / "ENTRE … ET …") is one heading.
    """
    headings: list[tuple[int, str]] = []
    previous_end = -1
    for match in _HEADING.finditer(text):
        heading = match.group("md") or match.group("caps")
        letters = [c for c in heading if c.isalpha()]
        if match.group("caps") and (len(letters) < 6 or not all(c.isupper() for c in letters)):
            continue
        heading = re.sub(r"^(?:[^\w\s]+|[^\x00-\x7f](?=\s))\s*", "", heading).strip()  # stray bullet glyphs
        heading = heading.title() if match.group("caps") else heading
        if headings and not text[previous_end : match.start()].strip():
            headings[-1] = (headings[-1][0], f"{headings[-1][1]} {heading}")
        else:
            headings.append((match.start(), heading))
        previous_end = match.end()
    return headings


def list_lead_in(text: str, start: int) -> str | None:
    """The sentence that introduces the bulleted list a chunk starts in ("Parmi les actions … :").

    A chunk that holds only the later items of a list has lost what they are items of; the lead-in is
    embedded with it, as the heading is.
    """
    if not _BULLET.match(text, start):
        return None
    end = start
    while end > 0:  # line by line backwards, without copying the text before the chunk
        begin = text.rfind("\n", 0, end - 1) + 1
        line = text[begin:end].strip()
        if line and not _BULLET.match(line):
            return line if line.endswith((":", "：")) else None
        end = begin
    return None


def passage_text(chunk: Document) -> str:
    """A chunk as the answer writer reads it: prefixed with its list's lead-in, when it has one.

    "- Organisation de séminaires …" alone does not say that it is one of "les actions au programme".
    (The section heading, embedded for retrieval too, is left out: repeated over every passage, it
    drew the small model to the heading's names.)
    """
    lead_in = chunk.meta.get("lead_in")
    return f"({lead_in}) {chunk.content or ''}" if lead_in else chunk.content or ""


@dataclass
class _Sentence:
    start: int
    end: int
    paragraph: int

    @property
    def length(self) -> int:
        return self.end - self.start


@cache
def _segmenter(language: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=language if language in ("fr", "en", "ja") else "en", clean=False)


def split_sentences(text: str, language: str, max_chars: int) -> list[_Sentence]:
    """Sentences of ``text`` as character spans; each line break also ends a sentence (bullets, contacts)."""
    sentences: list[_Sentence] = []
    paragraph_starts = [0] + [m.end() for m in _PARAGRAPH.finditer(text)]
    for line in _LINE.finditer(text):
        paragraph = sum(1 for start in paragraph_starts if start <= line.start()) - 1
        cursor = line.start()
        for piece in _segmenter(language).segment(line.group()):
            stripped = piece.strip()
            if not stripped:
                continue
            start = text.find(stripped, cursor)
            cursor = start + len(stripped)
            sentences.extend(_Sentence(b, e, paragraph) for b, e in _cut_long(text, start, cursor, max_chars))
    return sentences


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than ``max_chars`` after a comma or semicolon, else at a space, never mid-word."""
    spans = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        cut = max(window.rfind(mark) for mark in (", ", "; ", "、", "，"))
        if cut < max_chars // 3:
            cut = window.rfind(" ")
        cut = cut + 1 if cut >= max_chars // 3 else max_chars
        spans.append((start, start + cut))
        start += cut
        while start < end and text[start].isspace():
            start += 1
    spans.append((start, end))
    return spans


@component
class SentenceChunker:
    """Splits documents into chunks of whole sentences, by the document's language.

    Each chunk records the ``section`` heading it falls under and, when it starts inside a bulleted
    list, the list's ``lead_in``; both are embedded with it (see ``bot/embedders.py``).
    A chunk grows sentence by sentence up to ``max_chars`` (``max_chars_ja`` for Japanese). It closes
    early at a paragraph break once it holds ``max_chars / 2``, so short headings and bullets join
    their neighbours instead of standing alone. The next chunk repeats the previous chunk's last
    sentence when that sentence is short enough, so a fact cut at a boundary is still found whole.

    Usage example:
    ```python
    chunker = SentenceChunker(max_chars=420, max_chars_ja=200)
    chunks = chunker.run(documents=[Document(content=text, meta={"language": "fr"})])["documents"]
    ```
    """

    def __init__(self, max_chars: int = 420, max_chars_ja: int = 200) -> None:
        self.max_chars = max_chars
        self.max_chars_ja = max_chars_ja

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, list[Document]]:
        """Return the chunks of every document, each with its source's metadata plus position."""
        chunks: list[Document] = []
        for doc in documents:
            text = doc.content or ""
            language = str(doc.meta.get("language", "en"))
            budget = self.max_chars_ja if language == "ja" else self.max_chars
            # A heading at the very top is the document's title: it would tie the opening chunks, and
            # only those, to every question that names the document's subject.
            headings = [(offset, h) for offset, h in find_headings(text) if text[:offset].strip()]
            for number, (start, end) in enumerate(self._pack(split_sentences(text, language, budget), budget)):
                section = next((h for offset, h in reversed(headings) if offset <= start), None)
                meta = {
                    **doc.meta, "source_id": doc.id, "chunk": number, "split_idx_start": start,
                    "section": section, "lead_in": list_lead_in(text, start),
                }  # fmt: skip
                chunks.append(Document(content=text[start:end], meta=meta))
        return {"documents": chunks}

    @staticmethod
    def _pack(sentences: list[_Sentence], budget: int) -> list[tuple[int, int]]:
        groups: list[list[_Sentence]] = []
        current: list[_Sentence] = []
        fresh = 0  # sentences in ``current`` that are not overlap from the previous chunk
        for sentence in sentences:
            size = sentence.end - current[0].start if current else sentence.length
            paragraph_break = bool(current) and sentence.paragraph != current[-1].paragraph
            small = bool(current) and current[-1].end - current[0].start < budget // 4
            full = size > (budget * 3 // 2 if small else budget) or (
                paragraph_break and current[-1].end - current[0].start >= budget // 2
            )
            if current and fresh and full:
                groups.append(current)
                last = current[-1]
                current = [last] if last.length <= budget // 3 and last.length + sentence.length <= budget else []
                fresh = 0
            current.append(sentence)
            fresh += 1
        if current and fresh:
            tail_size = current[-1].end - current[0].start
            if groups and tail_size < budget // 4 and current[-1].end - groups[-1][0].start <= budget * 1.3:
                groups[-1] = groups[-1] + [s for s in current if s not in groups[-1]]
            else:
                groups.append(current)
        return [(group[0].start, group[-1].end) for group in groups]
