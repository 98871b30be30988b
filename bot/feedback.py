"""Users' feedback on answers (helpful / not helpful, optional comment), kept as JSON lines an operator can read.

One line per event: a vote writes a record at once, and a comment sent afterwards writes a second
record with the same ``id`` (the later record completes the earlier one). Appends from several
server processes are serialised by a lock file, and each record is written with a single
``write`` on an ``O_APPEND`` descriptor, so lines never interleave.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from bot.config import Settings

MAX_COMMENT_CHARS = 2000
MAX_TEXT_CHARS = 8000


def feedback_file(settings: Settings) -> Path:
    """The feedback file for these settings (beside the index, so tests and deployments stay separate)."""
    if settings.feedback_file:
        return Path(settings.feedback_file).expanduser().resolve()
    return settings.index_dir.parent / "feedback" / "feedback.jsonl"


class FeedbackLog:
    """Appends feedback records to one JSON-lines file.

    Usage example:
    ```python
    log = FeedbackLog(feedback_file(settings))
    vote = log.add(helpful=True, question="Qui ?", answer="… [1]", language="fr", sources=[{"document": "a.txt"}])
    log.add(helpful=True, question="Qui ?", answer="… [1]", comment="Parfait", feedback_id=vote["id"])
    log.read()  # [{...}, {...}]
    ```
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = FileLock(str(self.path.with_name(f".{self.path.name}.lock")), timeout=10)

    def add(
        self,
        *,
        helpful: bool | None,
        question: str,
        answer: str,
        comment: str = "",
        language: str = "",
        sources: Iterable[dict[str, Any]] = (),
        feedback_id: str | None = None,
        interface_language: str = "",
    ) -> dict[str, Any]:
        """Append one record and return it (its ``id`` links a later comment to the vote)."""
        record = {
            "id": feedback_id or uuid.uuid4().hex,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "rating": None if helpful is None else "helpful" if helpful else "not_helpful",
            "comment": _clip(comment, MAX_COMMENT_CHARS),
            "question": _clip(question, MAX_TEXT_CHARS),
            "answer": _clip(answer, MAX_TEXT_CHARS),
            "language": language,
            "interface_language": interface_language,
            "sources": list(sources),
        }
        self._append((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        return record

    def read(self) -> list[dict[str, Any]]:
        """All records, oldest first; a line cut short by a crash is left out."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def _append(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # a crash left half a line: start ours on a fresh one
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)


def _clip(text: str, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[:limit] + "…"
