"""Documents uploaded through the admin panel: token check, safe names, size cap, and a trial conversion.

A file reaches ``corpus/`` only if it converts to text, so a broken upload gets a clear error
instead of a silent skip at the next reindex. Names are cleaned (no folders, no ``..``, no control
characters, NFC, Japanese letters kept) and an existing file is never overwritten: a suffix is added.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import unicodedata
import uuid
from pathlib import Path

from bot.documents import SUPPORTED_EXTENSIONS, PressDocumentConverter, read_source

logger = logging.getLogger(__name__)

_MAX_NAME_BYTES = 180  # well under the 255-byte limit of common file systems, leaving room for "-99"
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_TEXT_EXTENSIONS = {".txt", ".md", ".html", ".htm"}


class UploadError(ValueError):
    """An upload that was refused; ``reason`` is one of "unsupported", "too_large", "unreadable", "empty"."""

    def __init__(self, reason: str, name: str, **details: object) -> None:
        super().__init__(f"{name}: {reason.replace('_', ' ')}" + (f" ({details})" if details else ""))
        self.reason = reason
        self.name = name
        self.details = details


def token_ok(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison, and never true when no token is configured."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), expected.encode("utf-8"))


def safe_filename(name: str) -> str:
    """A file name that stays inside ``corpus/``: last path component only, NFC, printable, not hidden.

    Letters and digits of any script are kept (Japanese names stay readable); other characters
    become "_". The extension is lower-cased and must be supported.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = f".{extension.lower()}" if extension else ""
    if extension not in SUPPORTED_EXTENSIONS:
        raise UploadError("unsupported", name or "?", extensions=", ".join(SUPPORTED_EXTENSIONS))
    stem = "".join(c if c.isalnum() or c in "-_.() " else "_" for c in stem)
    stem = re.sub(r"\s+", " ", stem)
    stem = re.sub(r"\.{2,}", ".", stem)
    stem = re.sub(r"_{2,}", "_", stem).strip(" ._-")
    if not stem or stem.lower().split(".")[0] in _WINDOWS_RESERVED:
        stem = f"document_{stem}".rstrip("_")
    while len((stem + extension).encode("utf-8")) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" ._-") + extension


def check_converts(path: Path, name: str) -> None:
    """Raise ``UploadError`` unless ``path`` converts to some text, as the indexer will convert it."""
    if path.suffix.lower() in _TEXT_EXTENSIONS and b"\x00" in path.read_bytes()[:65536]:
        raise UploadError("unreadable", name)  # a binary file renamed .txt
    try:
        documents = PressDocumentConverter().run(sources=[read_source(path, name)])["documents"]
    except Exception as e:  # converters raise all sorts of things on broken files
        logger.info("Upload %s does not convert: %s", name, e)
        raise UploadError("unreadable", name) from e
    if not documents:
        raise UploadError("unreadable", name)
    if not any((doc.content or "").strip() for doc in documents):
        raise UploadError("empty", name)


def store_upload(source: Path, name: str, corpus_dir: Path, max_bytes: int) -> Path:
    """Check an uploaded file and copy it into ``corpus_dir`` under a safe, unused name; return that path.

    The copy is made as a hidden file first (ignored by the indexer), checked, then linked under its
    final name, which fails rather than replaces when the name is taken.
    """
    display = (name or source.name).strip() or "?"
    final = safe_filename(display)
    size = source.stat().st_size
    if size > max_bytes:
        raise UploadError("too_large", display, size=f"{size / 1_000_000:.1f}", limit=f"{max_bytes / 1_000_000:g}")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    staging = corpus_dir / f".upload-{uuid.uuid4().hex}{Path(final).suffix}"
    try:
        with source.open("rb") as src, staging.open("xb") as dst:
            dst.write(src.read(max_bytes + 1))
        if staging.stat().st_size > max_bytes:
            raise UploadError("too_large", display, size=f"{size / 1_000_000:.1f}", limit=f"{max_bytes / 1_000_000:g}")
        check_converts(staging, final)
        return _link_unused(staging, corpus_dir, final)
    finally:
        staging.unlink(missing_ok=True)


def _link_unused(staging: Path, corpus_dir: Path, name: str) -> Path:
    stem, extension = Path(name).stem, Path(name).suffix
    for number in range(1, 1000):
        target = corpus_dir / (name if number == 1 else f"{stem}-{number}{extension}")
        try:
            os.link(staging, target)
            return target
        except FileExistsError:
            continue
        except OSError:  # no hard links here: exclusive create, then copy
            try:
                with target.open("xb") as dst:
                    dst.write(staging.read_bytes())
                return target
            except FileExistsError:
                continue
    raise UploadError("unreadable", name)
