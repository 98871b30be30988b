"""Whole corpus documents served read-only: nothing outside ``corpus/`` is reachable and nothing in a file runs.

The chat's sources panel links here (``document_link``); ``app.serve`` mounts ``document_route`` beside the page.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.documents import SUPPORTED_EXTENSIONS, NotADocument, read_source

#: Whole documents are served read-only under this path, relative to the page.
DOCUMENT_PATH = "corpus"

_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Referrer-Policy": "no-referrer",
}


def document_link(document: str) -> str:
    """A link, relative to the page, that opens the whole document through the read-only route."""
    return f"{DOCUMENT_PATH}/{quote(document, safe='/')}"


def resolve_document(corpus_dir: Path, relative: str) -> Path | None:
    """The corpus file named by ``relative``, or None for anything outside ``corpus_dir``, hidden or unsupported."""
    try:
        root = corpus_dir.resolve()
        path = (root / relative).resolve()
    except (OSError, ValueError):
        return None
    if not path.is_relative_to(root) or path == root or not path.is_file():
        return None
    if any(part.startswith(".") for part in path.relative_to(root).parts):
        return None
    return path if path.suffix.lower() in SUPPORTED_EXTENSIONS else None


def document_route(corpus_dir: Path) -> Route:
    """``/corpus/<name>``: a corpus file, text formats always as ``text/plain`` so nothing in them runs."""

    def open_document(request: Request) -> Response:
        path = resolve_document(corpus_dir, request.path_params["path"])
        if path is None:
            return PlainTextResponse("Not found", status_code=404, headers=_SAFE_HEADERS)
        suffix = path.suffix.lower()
        if suffix in {".txt", ".md", ".html", ".htm"}:
            try:
                source = read_source(path, path.name)
            except NotADocument as e:  # a binary file named .txt: say so rather than fail with a 500
                return PlainTextResponse(f"Not shown: {e}", status_code=415, headers=_SAFE_HEADERS)
            body = source.data.decode(source.meta.get("encoding", "utf-8"), errors="replace")
            return PlainTextResponse(body, media_type="text/plain; charset=utf-8", headers=_SAFE_HEADERS)
        if suffix == ".pdf":  # the browser's PDF viewer needs scripts of its own, so no sandbox here
            return FileResponse(
                path,
                media_type="application/pdf",
                content_disposition_type="inline",
                filename=path.name,
                headers={"X-Content-Type-Options": "nosniff"},
            )
        return FileResponse(path, filename=path.name, headers=_SAFE_HEADERS)  # .docx: downloaded

    return Route(f"/{DOCUMENT_PATH}/{{path:path}}", open_document, methods=["GET", "HEAD"])
