"""The admin panel's actions: each checks the token first, and each returns Markdown that says what happened.

Uploads are stored only if they convert; then the index is brought in step with ``corpus/`` without
ever waiting behind another reindex, so a click never hangs the page.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bot import CorridorBot
from bot.index import ReindexBusy
from bot.uploads import UploadError, store_upload, token_ok
from bot.web.render import as_text, report_markdown
from bot.web.text import text

logger = logging.getLogger(__name__)


def _upload_error(error: UploadError, language: str) -> str:
    return text(f"upload_{error.reason}", language, name=as_text(error.name), **error.details)


def admin_upload(
    corridor_bot: CorridorBot,
    token: str,
    expected: str,
    files: list[str] | None,
    language: str,
    progress: Any = None,
) -> str:
    """Store the uploaded files that convert, then reindex; one line per file and the reindex report."""
    if not token_ok(token, expected):
        return text("admin_bad_token", language)
    if not files:
        return text("admin_no_files", language)
    lines = []
    limit = corridor_bot.settings.max_upload_mb * 1_000_000
    for file in files:
        path = Path(file)
        try:
            stored = store_upload(path, path.name, corridor_bot.settings.corpus_dir, limit)
            lines.append(text("upload_saved", language, name=as_text(path.name), stored=as_text(stored.name)))
        except UploadError as e:
            lines.append(_upload_error(e, language))
    return "\n\n".join([*lines, admin_reindex(corridor_bot, token, expected, language, progress)])


def admin_reindex(corridor_bot: CorridorBot, token: str, expected: str, language: str, progress: Any = None) -> str:
    """Bring the index in step with ``corpus/``, reporting progress; never waits behind another reindex."""
    if not token_ok(token, expected):
        return text("admin_bad_token", language)

    def show(message: str, fraction: float) -> None:
        if progress is not None:
            progress(fraction, desc=f"{text('reindex_progress', language)}: {message}")

    try:
        return report_markdown(corridor_bot.reindex(wait=False, progress=show), language)
    except ReindexBusy:
        return text("reindex_busy", language)
    except Exception as e:
        logger.exception("Reindex from the admin panel failed")
        return text("reindex_failed", language, error=as_text(str(e)))
