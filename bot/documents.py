"""Press documents → Haystack Documents: conversion by file type, then title, date and language."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes
from haystack import Document, Pipeline, component, super_component
from haystack.components.converters import (
    DOCXToDocument,
    HTMLToDocument,
    MarkdownToDocument,
    PyPDFToDocument,
    TextFileToDocument,
)
from haystack.components.joiners import DocumentJoiner
from haystack.components.routers import FileTypeRouter
from haystack.dataclasses import ByteStream

from bot.language import detect_language

MIME_TYPES: dict[str, str] = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
SUPPORTED_EXTENSIONS = tuple(MIME_TYPES)
_TEXT_MIME_TYPES = {"text/plain", "text/markdown", "text/html"}


class NotADocument(ValueError):
    """A file that must be skipped rather than indexed (too large, binary); the message is the reason shown."""


def read_source(path: Path, name: str, max_bytes: int | None = None) -> ByteStream:
    """A file as a ByteStream whose mime type comes from its extension and whose text encoding is detected.

    Detecting the encoding lets Latin-1 or Shift_JIS press releases be read instead of skipped. A file over
    ``max_bytes`` is refused from its size alone (never read whole into memory), and a "text" file whose
    bytes are not text is refused instead of being indexed as garbage; both raise ``NotADocument``.
    """
    mime_type = MIME_TYPES[path.suffix.lower()]
    if max_bytes is not None and (size := path.stat().st_size) > max_bytes:
        raise NotADocument(f"too large ({size / 1e6:.1f} MB, the limit is {max_bytes / 1e6:g} MB)")
    data = path.read_bytes()
    meta: dict[str, Any] = {"document": name, "file_path": name}
    if mime_type in _TEXT_MIME_TYPES:
        meta["encoding"] = _text_encoding(data)
        if not looks_like_text(data, meta["encoding"]):
            raise NotADocument("binary content, not text")
        if mime_type == "text/html" and meta["encoding"] != "utf-8-sig":
            # HTMLToDocument ignores meta["encoding"] and lets trafilatura guess, which reads Latin-1 as cp775.
            data, meta["encoding"] = data.decode(meta["encoding"], errors="replace").encode("utf-8"), "utf-8-sig"
    return ByteStream(data=data, mime_type=mime_type, meta=meta)


#: Legacy encodings of French, English and Japanese press releases. Left free to choose among all
#: code pages, charset_normalizer reads a short Latin-1 text as cp775 or cp1250 (mojibake).
_LEGACY_ENCODINGS = ["cp1252", "latin_1", "cp932", "shift_jis", "euc_jp", "iso2022_jp"]


def looks_like_text(data: bytes, encoding: str) -> bool:
    """False for bytes that no text encoding makes sense of: NUL bytes, or many control characters once decoded.

    Any byte string decodes as Latin-1, so a decoding that succeeds proves nothing; an image or archive
    renamed ``.txt`` shows itself by NULs or by control characters that real press text never holds.
    """
    sample = data[:65536]
    if b"\x00" in sample:
        return False
    text = sample.decode(encoding, errors="replace")
    odd = sum(1 for c in text if c == "\ufffd" or (not c.isprintable() and c not in "\n\r\t\f\v"))
    return odd <= 0.1 * max(len(text), 1)


def _text_encoding(data: bytes) -> str:
    if b"\x1b$B" in data or b"\x1b$@" in data:  # ISO-2022-JP (JIS) is 7-bit, so it would pass as UTF-8
        return "iso2022_jp"
    try:
        data.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        best = from_bytes(data[:200_000], cp_isolation=_LEGACY_ENCODINGS).best()
        return best.encoding if best else "latin-1"


#: Month names in French and English (with and without accents), lower case → their number.
MONTH_NUMBERS = {
    # French
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12,
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
#: The names as a regex alternation, longest first.
MONTH_NAMES = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
_DATE_PATTERNS = [
    (re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)"), ("y", "m", "d")),
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"), ("y", "m", "d")),
    (re.compile(rf"\b(\d{{1,2}})(?:er)?\s+({MONTH_NAMES})\s+(\d{{4}})\b", re.IGNORECASE), ("d", "M", "y")),
    (re.compile(rf"\b({MONTH_NAMES})\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.IGNORECASE), ("M", "d", "y")),
]

#: A press release's dateline: where and when it was issued, alone on its line or before a dash that opens the
#: text ("Strasbourg, 5 November 2008", "Lyon, le 12 mars 2009 – Lyonbiopôle annonce…", "2009年9月18日").
#: Its date is the release's, not that of what it reports.
DATELINE = re.compile(
    r"^[ \t]*(?:[^\W\d][^\n,]{0,40},[ \t]*(?:le[ \t]+)?)?(?P<date>"
    + "|".join(pattern.pattern for pattern, _ in _DATE_PATTERNS)
    + r")(?=[ \t.]*$|[ \t]*[–—-][ \t])",
    re.IGNORECASE | re.MULTILINE,
)


#: A day of a month, alone or in a range or pair of days, as the three languages write it: "15 au 17
#: octobre", "3 and 4 November", "November 5", "10月15日から17日", "2008-11-03".
_MONTH_DAYS = [
    re.compile(
        rf"(?<![\d.,])(?P<first>\d{{1,2}})(?:er)?(?:\s*(?P<joiner>au|et|and|to|-|–)\s*(?P<last>\d{{1,2}})(?:er)?)?"
        rf"\s+(?P<month>{MONTH_NAMES})\b",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?P<month>{MONTH_NAMES})\s+(?P<first>\d{{1,2}})(?:st|nd|rd|th)?"
        r"(?:\s*(?P<joiner>-|–|to|and)\s*(?P<last>\d{1,2}))?(?![\d,.]?\d)",
        re.IGNORECASE,
    ),
    re.compile(r"(?P<month>\d{1,2})\s*月\s*(?P<first>\d{1,2})\s*日(?:\s*(?P<joiner>から|～|〜|-|–|と)\s*(?P<last>\d{1,2})\s*日)?"),
    re.compile(r"(?<!\d)\d{4}-(?P<month>\d{2})-(?P<first>\d{2})(?!\d)"),
]


def month_days(text: str) -> set[tuple[int, int]]:
    """The (month, day) pairs ``text`` states, each day of a range included ("du 15 au 17 octobre": 15, 16, 17)."""
    found = set()
    for pattern in _MONTH_DAYS:
        for match in pattern.finditer(unicodedata.normalize("NFKC", text)):
            named = match["month"].lower()
            month = MONTH_NUMBERS[named] if named in MONTH_NUMBERS else int(named)
            parts = match.groupdict()
            first = int(parts["first"])
            last = int(parts["last"]) if parts.get("last") else first
            pair = parts.get("joiner") in ("et", "and", "と")
            days = (first, last) if pair else range(first, last + 1)
            found |= {(month, day) for day in days if 1 <= month <= 12 and 1 <= day <= 31}
    return found


def find_date(text: str) -> str | None:
    """The first calendar date stated in ``text``, as ISO ``YYYY-MM-DD``."""
    found: list[tuple[int, str]] = []
    for pattern, order in _DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        parts = dict(zip(order, match.groups(), strict=True))
        month = MONTH_NUMBERS[parts["M"].lower()] if "M" in parts else int(parts["m"])
        day, year = int(parts["d"]), int(parts["y"])
        if 1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= 2100:
            found.append((match.start(), f"{year:04d}-{month:02d}-{day:02d}"))
    return min(found)[1] if found else None


def find_title(text: str) -> str:
    """The first non-empty line, without Markdown decoration, as a human-readable title."""
    for line in text.splitlines():
        line = re.sub(r"^[#>\-\s]+|[*_`]+", "", line).strip()
        if line:
            return line[:200]
    return ""


@component
class DocumentMetadata:
    """Adds ``title``, ``date`` and ``language`` to each converted document.

    The date comes from the file name (``2008-02-04-…``) when it has one, else from the text.

    Usage example:
    ```python
    DocumentMetadata().run(documents=[Document(content="Titre\\n\\nLe 4 février 2008 …", meta={"document": "a.txt"})])
    ```
    """

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, list[Document]]:
        """Return copies of ``documents`` with the metadata filled in."""
        enriched = []
        for doc in documents:
            text = doc.content or ""
            name = str(doc.meta.get("document", ""))
            meta = {
                **doc.meta,
                "title": find_title(text) or Path(name).stem,
                "date": find_date(name) or find_date(text[:3000]),
                "language": detect_language(text[:3000]),
            }
            enriched.append(Document(content=text, meta=meta))
        return {"documents": enriched}


@super_component
class PressDocumentConverter:
    """Converts ``.txt``, ``.md``, ``.html``, ``.pdf`` and ``.docx`` press documents into Documents with metadata.

    Files that cannot be read are skipped by the converters (with a logged warning), never raised.

    Usage example:
    ```python
    converter = PressDocumentConverter()
    docs = converter.run(sources=[read_source(Path("corpus/a.txt"), "a.txt")])["documents"]
    ```
    """

    def __init__(self) -> None:
        pipeline = Pipeline()
        pipeline.add_component("router", FileTypeRouter(mime_types=sorted(set(MIME_TYPES.values()))))
        converters = {
            "text/plain": TextFileToDocument(),
            "text/markdown": MarkdownToDocument(progress_bar=False),
            "text/html": HTMLToDocument(),
            "application/pdf": PyPDFToDocument(),
            MIME_TYPES[".docx"]: DOCXToDocument(),
        }
        pipeline.add_component("joiner", DocumentJoiner())
        for number, (mime_type, converter) in enumerate(converters.items()):
            pipeline.add_component(f"converter_{number}", converter)
            pipeline.connect(f"router.{mime_type}", f"converter_{number}.sources")
            pipeline.connect(f"converter_{number}.documents", "joiner.documents")
        pipeline.add_component("metadata", DocumentMetadata())
        pipeline.connect("joiner.documents", "metadata.documents")
        self.pipeline = pipeline
        self.input_mapping = {"sources": ["router.sources"]}
        self.output_mapping = {"metadata.documents": "documents"}
