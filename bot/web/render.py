"""What the chat shows, as Markdown: everything a document or a user wrote is escaped, so it renders as text.

Each character Markdown, HTML, LaTeX or autolinking could read is written as an HTML entity, so a
press document or a question can neither format, link nor inject anything; only the markup built
here (``<mark>``, bold titles, links to the read-only document route) takes effect.
Also reads Gradio's message history back into (question, answer) turns.
"""

from __future__ import annotations

import html
from typing import Any

from bot import Answer, Pending, ReindexReport, Source
from bot.web.routes import document_link
from bot.web.text import text

#: ASCII characters that Markdown, HTML, LaTeX or autolinking could read as markup.
_MARKUP = frozenset("\\`*_{}[]()#+-.!|~$<>&:@=^\"'")


def as_text(value: str) -> str:
    """``value`` for a Markdown message, rendering exactly as written: no tags, no formatting, no links."""
    return "".join(f"&#{ord(c)};" if c in _MARKUP else c for c in value)


def one_line(value: str) -> str:
    """``value`` with every run of whitespace (line breaks included) as one space."""
    return " ".join(value.split())


def answer_markdown(answer_text: str) -> str:
    """The answer as text, keeping its line breaks."""
    return "\n".join(as_text(line) for line in answer_text.splitlines())


# Message history ---------------------------------------------------------------------------------


def _text(content: Any) -> str:
    """A history message's text, whether Gradio gives a string or a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(block.get("text", "") for block in content if isinstance(block, dict))
    return ""


def _is_panel(item: dict[str, Any]) -> bool:
    return bool((item.get("metadata") or {}).get("title"))


def history_turns(history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(question, answer) pairs from Gradio's message history, leaving out the sources panels."""
    turns: list[tuple[str, str]] = []
    question = None
    for item in history:
        if item.get("role") == "user":
            question = html.unescape(_text(item.get("content")))
        elif item.get("role") == "assistant" and question is not None and not _is_panel(item):
            turns.append((question, html.unescape(_text(item.get("content")))))
            question = None
    return turns


def turn_at(history: list[dict[str, Any]], index: int | list[int] | tuple[int, ...]) -> tuple[str, str]:
    """The (question, displayed answer) of the turn holding message ``index`` (a liked answer or its panel)."""
    position = index[0] if isinstance(index, list | tuple) else index
    start = position
    while start >= 0 and history[start].get("role") != "user":
        start -= 1
    question = html.unescape(_text(history[start].get("content"))) if start >= 0 else ""
    for item in history[start + 1 :]:
        if item.get("role") == "user":
            break
        if item.get("role") == "assistant" and not _is_panel(item):
            return question, _text(item.get("content"))
    return question, ""


# Answers and their sources panel -------------------------------------------------------------------


def highlighted(passage: str, spans: list[tuple[int, int]]) -> str:
    """The passage as text on one line, with ``spans`` wrapped in ``<mark>`` (escaped first, marked after)."""
    pieces, cursor = [], 0
    for start, end in spans:
        pieces.append(as_text(one_line(passage[cursor:start])))
        pieces.append(f"<mark>{as_text(one_line(passage[start:end]))}</mark>")
        cursor = end
    pieces.append(as_text(one_line(passage[cursor:])))
    return " ".join(piece for piece in pieces if piece)


def _source_heading(source: Source, language: str) -> str:
    date = f" · {as_text(source.date)}" if source.date else ""
    title = as_text(one_line(source.title or source.document))
    return (
        f"**&#91;{source.number}&#93; {title}**{date} · "
        f"[{as_text(text('open_document', language))} ↗]({document_link(source.document)})"
    )


def sources_markdown(answer: Answer, language: str | None = None) -> str:
    """The passages behind an answer: title, date, the cited passage with its supporting sentence marked, a link.

    Passages that were retrieved but not cited are listed after, by title only.
    """
    language = language or answer.language
    cited = [s for s in answer.sources if s.cited] or answer.sources[:1]
    blocks = []
    for source in cited:
        blocks.append(f"{_source_heading(source, language)}\n\n> {highlighted(source.text, source.support)}")
    by_document: dict[str, list[Source]] = {}
    for source in answer.sources:
        if source not in cited:
            by_document.setdefault(source.document, []).append(source)
    if by_document:
        links = " · ".join(
            f"{', '.join(f'&#91;{s.number}&#93;' for s in group)} "
            f"[{as_text(one_line(group[0].title or document))}]({document_link(document)})"
            for document, group in by_document.items()
        )
        blocks.append(f"*{as_text(text('also_consulted', language))}* : {links}")
    return "\n\n".join(blocks)


def answer_messages(answer: Answer, language: str | None = None) -> list[dict[str, Any]]:
    """The answer, then (when the documents answered) its collapsible sources panel."""
    messages: list[dict[str, Any]] = [{"role": "assistant", "content": answer_markdown(answer.text)}]
    if answer.answered and answer.sources:
        title = text("sources", language or answer.language)
        panel = sources_markdown(answer, language)
        messages.append({"role": "assistant", "content": panel, "metadata": {"title": title}})
    return messages


def pending_messages(pending: Pending, written: str = "", language: str | None = None) -> list[dict[str, Any]]:
    """The answer so far (or where the question stands in the queue), then the sources it is written from."""
    language = language or pending.language
    if written:
        status = answer_markdown(written)
    elif pending.waiting:
        key = "queue_ahead" if pending.ahead else "queue_next"
        status = f"*{as_text(text(key, language, count=str(pending.ahead)))}*"
    else:
        status = f"*{as_text(text('writing', language))}*"
    messages: list[dict[str, Any]] = [{"role": "assistant", "content": status}]
    if pending.sources:
        panel = sources_markdown(Answer("", pending.language, True, pending.sources), language)
        messages.append({"role": "assistant", "content": panel, "metadata": {"title": text("sources", language)}})
    return messages


# Feedback ----------------------------------------------------------------------------------------


def answer_summary(answer: Answer) -> dict[str, Any]:
    """What feedback records about an answer (no passage texts: the operator can open the documents)."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "language": answer.language,
        "sources": [
            {"number": s.number, "document": s.document, "title": s.title, "date": s.date, "cited": s.cited}
            for s in answer.sources
        ],
    }


def voted_summary(
    history: list[dict[str, Any]], index: int | list[int] | tuple[int, ...], remembered: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The voted answer's summary as remembered, else (forgotten, or from an API call) its question and text."""
    question, shown = turn_at(history, index)
    return remembered.get(shown) or {"question": question, "answer": html.unescape(shown)}


def feedback_fields(summary: dict[str, Any]) -> dict[str, Any]:
    """The fields a feedback record takes from an answer summary, defaulted when the summary lacks them."""
    return {
        key: summary.get(key, default)
        for key, default in (("question", ""), ("answer", ""), ("language", ""), ("sources", []))
    }


# Admin panel -------------------------------------------------------------------------------------


def report_markdown(report: ReindexReport, language: str) -> str:
    """A reindex's counts, then each skipped file with why (file names shown as text)."""
    lines = [
        text(
            "reindex_done",
            language,
            added=len(report.added),
            updated=len(report.updated),
            removed=len(report.removed),
            unchanged=len(report.unchanged),
        )
    ]
    lines += [
        text("reindex_skipped", language, name=as_text(name), reason=as_text(reason))
        for name, reason in report.skipped.items()
    ]
    return "\n\n".join(lines)
