"""The web chat (Gradio): ``python app.py`` or ``corridor-bot serve``. Only UI here; the bot does the rest.

Everything a press document or a user wrote is shown as text: it is escaped character by character
(HTML and Markdown alike) before it reaches the page, and the chat also sanitises what it renders.
"""

from __future__ import annotations

import html
import logging
import math
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

import bot as _bot_package  # noqa: F401  (sets the offline flags before gradio is imported)
from bot import Answer, CorridorBot, ReindexReport, Source
from bot.answer import CITATION
from bot.chunking import split_sentences
from bot.documents import SUPPORTED_EXTENSIONS, NotADocument, read_source
from bot.feedback import FeedbackLog, feedback_file
from bot.index import ReindexBusy
from bot.language import LANGUAGES, detect_language, is_japanese
from bot.uploads import UploadError, store_upload, token_ok
from bot.web_text import answer_language_choices, language_choices, pick_language, text

logger = logging.getLogger(__name__)

#: Two example questions per language, shown in the empty chat.
EXAMPLES = [
    "Qui dirige le pôle Alsace BioValley ?",
    "Quelles actions prévoit le programme de coopération ?",
    "When and where was the agreement with the Kansai Bio Promotion Council signed?",
    "Which French clusters form the LifeScience Corridor France?",
    "関西バイオ推進会議の会長は誰ですか？",
    "協定はいつ、どこで署名されましたか？",
]
#: Whole documents are served read-only under this path, relative to the page.
DOCUMENT_PATH = "corpus"
#: How many answers per browser session are remembered for feedback.
_REMEMBERED_ANSWERS = 50

#: System fonts only: the server may be offline, and Gradio's default theme fetches web fonts.
THEME = gr.themes.Default(
    font=(
        "system-ui",
        "-apple-system",
        "Segoe UI",
        "Roboto",
        "Noto Sans",
        "Liberation Sans",
        "Arial",
        "Hiragino Sans",
        "Yu Gothic UI",
        "Meiryo",
        "Noto Sans CJK JP",
        "IPAPGothic",
        "sans-serif",
    ),
    font_mono=("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace"),
)
CSS = """
.corridor-header h1 { margin-bottom: .25rem; }
#corridor-chat mark { background: #ffe066; color: #1a1a1a; padding: 0 .1em; border-radius: 2px; }
#corridor-chat blockquote { margin: .35rem 0 .8rem; }
"""

# Text shown as text --------------------------------------------------------------------------

#: ASCII characters that Markdown, HTML, LaTeX or autolinking could read as markup.
_MARKUP = frozenset("\\`*_{}[]()#+-.!|~$<>&:@=^\"'")


def as_text(value: str) -> str:
    """``value`` for a Markdown message, rendering exactly as written: no tags, no formatting, no links."""
    return "".join(f"&#{ord(c)};" if c in _MARKUP else c for c in value)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def answer_markdown(answer_text: str) -> str:
    """The answer as text, keeping its line breaks."""
    return "\n".join(as_text(line) for line in answer_text.splitlines())


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


# Sources panel ---------------------------------------------------------------------------------

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
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", CITATION.sub(" ", value)).lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
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
    """The sentence spans of ``passage`` that share the most words and numbers with what the answer says at [n].

    A Japanese answer about a French passage shares its names and numbers (Nadamoto, 2008), which is
    enough to find the sentence it came from. At most two sentences, none when nothing is shared.
    """
    parts = [p for p in _ANSWER_SENTENCE.split(answer_text) if f"[{number}]" in p]
    wanted = _terms(" ".join(parts) if parts else answer_text)
    if not wanted:
        return []
    language = "ja" if is_japanese(passage) else detect_language(passage)
    sentences = [(s.start, s.end) for s in split_sentences(passage, language, len(passage) + 1)]  # whole ones
    scores = [len(_terms(passage[start:end]) & wanted) for start, end in sentences]
    best = max(scores, default=0)
    if best == 0:
        return []
    floor = max(1, math.ceil(best * 0.6))
    ranked = sorted((i for i, score in enumerate(scores) if score >= floor), key=lambda i: (-scores[i], i))
    return sorted(sentences[i] for i in ranked[:2])


def highlighted(passage: str, spans: list[tuple[int, int]]) -> str:
    """The passage as text on one line, with ``spans`` wrapped in ``<mark>`` (escaped first, marked after)."""
    pieces, cursor = [], 0
    for start, end in spans:
        pieces.append(as_text(_one_line(passage[cursor:start])))
        pieces.append(f"<mark>{as_text(_one_line(passage[start:end]))}</mark>")
        cursor = end
    pieces.append(as_text(_one_line(passage[cursor:])))
    return " ".join(piece for piece in pieces if piece)


def document_link(document: str) -> str:
    """A link, relative to the page, that opens the whole document through the read-only route."""
    return f"{DOCUMENT_PATH}/{quote(document, safe='/')}"


def _source_heading(source: Source, language: str) -> str:
    date = f" · {as_text(source.date)}" if source.date else ""
    title = as_text(_one_line(source.title or source.document))
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
        spans = supporting_spans(source.text, answer.text, source.number)
        blocks.append(f"{_source_heading(source, language)}\n\n> {highlighted(source.text, spans)}")
    by_document: dict[str, list[Source]] = {}
    for source in answer.sources:
        if source not in cited:
            by_document.setdefault(source.document, []).append(source)
    if by_document:
        links = " · ".join(
            f"{', '.join(f'&#91;{s.number}&#93;' for s in group)} "
            f"[{as_text(_one_line(group[0].title or document))}]({document_link(document)})"
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


def _summary(answer: Answer) -> dict[str, Any]:
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


# Whole documents, read-only ----------------------------------------------------------------------

_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Referrer-Policy": "no-referrer",
}


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


# Admin panel ---------------------------------------------------------------------------------------


def _upload_error(error: UploadError, language: str) -> str:
    return text(f"upload_{error.reason}", language, name=as_text(error.name), **error.details)


def report_markdown(report: ReindexReport, language: str) -> str:
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


# The page --------------------------------------------------------------------------------------------


class _ChatInterface(gr.ChatInterface):
    """``gr.ChatInterface`` that shows the user's question as text and keeps the localised placeholder.

    Gradio 6.31 renders a question as Markdown and HTML (sanitised, but ``<img>`` or ``**`` still take
    effect), and blanks the placeholder on every submit without putting it back.
    """

    def _clear_and_save_textbox(self, message: Any) -> tuple[Any, Any]:
        return gr.update(value="", interactive=False), message

    def _append_message_to_history(self, message: Any, history: list[Any], role: Any = "user") -> list[Any]:
        if role == "user" and isinstance(message, str):
            message = answer_markdown(message)
        return super()._append_message_to_history(message, history, role)

    def _pop_last_user_message(self, history: list[Any]) -> tuple[list[Any], Any]:
        history, message = super()._pop_last_user_message(history)
        return history, html.unescape(message) if isinstance(message, str) else message


def build_demo(corridor_bot: CorridorBot, admin_secret: str | None = None) -> gr.Blocks:
    """The page: language switches, the chat (streamed answers, sources panels), feedback, and the admin panel.

    ``admin_secret`` defaults to the ``admin_token`` setting; without one the admin panel is not built at all.
    """
    expected = (corridor_bot.settings.admin_token if admin_secret is None else admin_secret).strip()
    feedback = FeedbackLog(feedback_file(corridor_bot.settings))

    def respond(
        message: str,
        history: list[dict[str, Any]],
        answer_language: str = "auto",
        ui_language: str | None = None,
        answers: dict[str, dict[str, Any]] | None = None,
    ) -> Iterator[tuple[Any, dict[str, Any] | None, dict[str, Any]]]:
        """Stream the answer, then show it with its sources; the dict is the whole answer, for scripts."""
        answers = dict(answers or {})
        forced = answer_language if answer_language in LANGUAGES else None
        question = _one_line(message or "")  # the bot refuses empty and over-long questions in their language
        language = forced or (None if question else ui_language)
        written = ""
        try:
            for part in corridor_bot.stream(question, history_turns(history), language):
                if isinstance(part, Answer):
                    messages = answer_messages(part, ui_language)
                    answers[messages[0]["content"]] = _summary(part)
                    yield messages, part.to_dict(), dict(list(answers.items())[-_REMEMBERED_ANSWERS:])
                else:
                    written += part
                    yield answer_markdown(written), None, answers
        except Exception as e:
            logger.exception("Answering %r failed", question)
            language = language or (detect_language(question) if question else "en")
            reply = text("error", ui_language or language, error=as_text(type(e).__name__))
            yield answer_messages(Answer(reply, language, False, mode="refusal")), None, answers

    with gr.Blocks(title="Corridor Bot", fill_height=True) as demo:
        ui_language = gr.State(None)  # set on page load; None (an API call) follows the answer
        saved_language = gr.BrowserState(None, storage_key="corridor-bot-interface-language")
        answers = gr.State({})
        details = gr.JSON(visible=False)
        pending_vote = gr.State(None)

        with gr.Row(equal_height=True):
            header = gr.Markdown(elem_classes="corridor-header")
            with gr.Column(scale=0, min_width=420):
                language_switch = gr.Radio(choices=language_choices(), value="en", elem_id="ui-language")
                answer_language = gr.Dropdown(
                    choices=answer_language_choices("en"), value="auto", elem_id="answer-language"
                )

        chatbot = gr.Chatbot(
            elem_id="corridor-chat",
            height=560,
            sanitize_html=True,
            allow_tags=False,
            latex_delimiters=[],
            buttons=["copy"],
            feedback_options=("Like", "Dislike"),
            layout="bubble",
        )
        textbox = gr.Textbox(elem_id="corridor-question", lines=1, max_lines=6, submit_btn=True, stop_btn=True)
        chat = _ChatInterface(
            respond,
            chatbot=chatbot,
            textbox=textbox,
            additional_inputs=[answer_language, ui_language, answers],
            additional_outputs=[details, answers],
            examples=[[question, None, None, None] for question in EXAMPLES],
            api_name="chat",
            api_description="Ask a question (French, English or Japanese); returns the messages shown "
            "(answer, then sources panel) and the whole answer with its sources.",
            fill_height=True,
        )

        with gr.Group(visible=False, elem_id="feedback-box") as feedback_box:
            feedback_note = gr.Markdown()
            with gr.Row():
                comment = gr.Textbox(elem_id="feedback-comment", max_length=2000, scale=4)
                send_comment = gr.Button(elem_id="feedback-send", scale=1)
        feedback_status = gr.Markdown(elem_id="feedback-status")
        footer = gr.Markdown()

        admin_parts: list[Any] = []
        if expected:
            with gr.Accordion(open=False, elem_id="admin-panel") as admin_box:
                admin_token_box = gr.Textbox(type="password", elem_id="admin-token")
                admin_files = gr.File(file_count="multiple", file_types=list(SUPPORTED_EXTENSIONS), type="filepath")
                with gr.Row():
                    upload_button = gr.Button(variant="primary")
                    reindex_button = gr.Button()
                admin_status = gr.Markdown(elem_id="admin-status")
            admin_parts = [admin_box, admin_token_box, admin_files, upload_button, reindex_button]

            def upload(token: str, files: list[str] | None, language: str, progress=gr.Progress()) -> str:  # noqa: B008
                return admin_upload(corridor_bot, token, expected, files, language, progress)

            def reindex(token: str, language: str, progress=gr.Progress()) -> str:  # noqa: B008
                return admin_reindex(corridor_bot, token, expected, language, progress)

            upload_button.click(
                upload,
                [admin_token_box, admin_files, ui_language],
                admin_status,
                api_visibility="private",
                show_progress="full",
            )
            reindex_button.click(
                reindex, [admin_token_box, ui_language], admin_status, api_visibility="private", show_progress="full"
            )

        def localise(language: str) -> list[Any]:
            """Every text on the page in ``language``."""
            updates: list[Any] = [
                language,
                language,
                f"# {as_text(text('title', language))}\n\n{text('description', language)}",
                gr.update(value=language, label=text("ui_language", language)),
                gr.update(label=text("answer_language", language), choices=answer_language_choices(language)),
                gr.update(label=text("chatbot", language)),
                gr.update(placeholder=text("placeholder", language)),
                gr.update(label=text("feedback_comment", language)),
                gr.update(value=text("feedback_send", language)),
                text("footer", language),
            ]
            if expected:
                extensions = ", ".join(SUPPORTED_EXTENSIONS)
                updates += [
                    gr.update(label=text("admin", language)),
                    gr.update(label=text("admin_token", language)),
                    gr.update(
                        label=text(
                            "admin_files", language, extensions=extensions, limit=corridor_bot.settings.max_upload_mb
                        )
                    ),
                    gr.update(value=text("admin_upload", language)),
                    gr.update(value=text("admin_reindex", language)),
                ]
            return updates

        localised = [
            ui_language,
            saved_language,
            header,
            language_switch,
            answer_language,
            chat.chatbot,
            chat.textbox,
            comment,
            send_comment,
            footer,
            *admin_parts,
        ]

        def on_load(saved: str | None, request: gr.Request) -> list[Any]:
            """``?lang=`` first, then the user's earlier choice, then the browser's languages."""
            params = request.query_params if request else {}
            headers = request.headers if request else {}
            wanted = pick_language(params.get("lang"), saved, headers.get("accept-language"))
            return localise(wanted)

        demo.load(on_load, [saved_language], localised, api_visibility="private", queue=False)
        language_switch.input(localise, [language_switch], localised, api_visibility="private", queue=False)

        def on_vote(
            history: list[dict[str, Any]], remembered: dict[str, dict[str, Any]], language: str, vote: gr.LikeData
        ) -> tuple[Any, Any, Any, Any]:
            """Save the vote at once; then offer a comment box that completes the same record."""
            question, shown = turn_at(history, vote.index)
            summary = remembered.get(shown) or {"question": question, "answer": html.unescape(shown)}
            helpful = vote.liked is True or vote.liked == "Like"
            try:
                record = feedback.add(helpful=helpful, interface_language=language, **_feedback_fields(summary))
            except OSError as e:
                logger.exception("Could not save feedback")
                return None, gr.update(visible=False), text("feedback_failed", language, error=as_text(str(e))), ""
            note = text("feedback_helpful" if helpful else "feedback_not_helpful", language)
            return record, gr.update(visible=True), "", note

        def on_comment(note: str, vote: dict[str, Any] | None, language: str) -> tuple[Any, Any, Any, Any]:
            if vote is None or not note.strip():
                return vote, gr.update(), "", gr.update()
            try:
                feedback.add(
                    helpful=vote["rating"] == "helpful",
                    comment=note,
                    feedback_id=vote["id"],
                    interface_language=language,
                    **_feedback_fields(vote),
                )
            except OSError as e:
                logger.exception("Could not save feedback")
                return vote, gr.update(), note, text("feedback_failed", language, error=as_text(str(e)))
            return None, gr.update(visible=False), "", text("feedback_saved", language)

        chat.chatbot.like(
            on_vote,
            [chat.chatbot, answers, ui_language],
            [pending_vote, feedback_box, feedback_status, feedback_note],
            api_visibility="private",
            queue=False,
        )
        gr.on(
            [send_comment.click, comment.submit],
            on_comment,
            [comment, pending_vote, ui_language],
            [pending_vote, feedback_box, comment, feedback_status],
            api_visibility="private",
            queue=False,
        )
    return demo


def _feedback_fields(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        key: summary.get(key, default)
        for key, default in (("question", ""), ("answer", ""), ("language", ""), ("sources", []))
    }


def serve(demo: gr.Blocks, corridor_bot: CorridorBot, **kwargs: Any) -> gr.Blocks:
    """Start the server with the read-only document route, the upload cap and the page's style."""
    settings = corridor_bot.settings
    kwargs.setdefault("server_name", settings.host)
    kwargs.setdefault("server_port", settings.port)
    demo.queue(default_concurrency_limit=4).launch(
        app_kwargs={"routes": [document_route(settings.corpus_dir)]},
        max_file_size=settings.max_upload_mb * 1_000_000,
        css=CSS,
        theme=THEME,
        **kwargs,
    )
    return demo


def launch(corridor_bot: CorridorBot, **kwargs: Any) -> None:
    """Load the models and the index first (building it on first use), then serve on the configured address."""
    corridor_bot.warm_up()
    serve(build_demo(corridor_bot), corridor_bot, **kwargs)


if __name__ == "__main__":
    launch(CorridorBot())
