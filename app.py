"""The web chat (Gradio): ``python app.py`` or ``corridor-bot serve``. Only the page here: layout and events.

Header with the language switches, the chat (streamed answers, sources panels), the feedback box, the
footer and, behind a token, the admin panel. What the page shows is built in ``bot.web``: ``render``
escapes everything a document or a user wrote (the chat also sanitises what it renders), ``text`` holds
the page's words, ``routes`` serves whole documents read-only and ``admin`` uploads and reindexes.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from typing import Any

import gradio as gr

import bot as _bot_package  # noqa: F401  (sets the offline flags before gradio is imported)
from bot import Answer, CorridorBot, Pending
from bot.documents import SUPPORTED_EXTENSIONS
from bot.feedback import FeedbackLog, feedback_file
from bot.language import LANGUAGES, detect_language
from bot.web.admin import admin_reindex, admin_upload
from bot.web.render import (
    answer_markdown,
    answer_messages,
    answer_summary,
    as_text,
    feedback_fields,
    history_turns,
    one_line,
    pending_messages,
    voted_summary,
)
from bot.web.routes import document_route
from bot.web.text import answer_language_choices, language_choices, pick_language, text

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
#: How many answers per browser session are remembered for feedback.
_REMEMBERED_ANSWERS = 50
#: Questions handled at once by the chat. Far more than the model's slots: each question gets its
#: sources at once, then waits in the bot's queue, which tells the asker their place in their language
#: (Gradio's own queue would hold them before the sources, with an untranslated counter).
_CHAT_CONCURRENCY = 64

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

    with gr.Blocks(title="Corridor Bot", fill_height=True) as demo:
        ui_language = gr.State(None)  # set on page load; None (an API call) follows the answer
        saved_language = gr.BrowserState(None, storage_key="corridor-bot-interface-language")
        answers = gr.State({})  # each shown answer's summary, so that a vote records what it is about
        details = gr.JSON(visible=False)  # the whole answer, for scripts

        with gr.Row(equal_height=True):
            header = gr.Markdown(elem_classes="corridor-header")
            with gr.Column(scale=0, min_width=420):
                language_switch = gr.Radio(choices=language_choices(), value="en", elem_id="ui-language")
                answer_language = gr.Dropdown(
                    choices=answer_language_choices("en"), value="auto", elem_id="answer-language"
                )

        chat = _chat(corridor_bot, inputs=[answer_language, ui_language, answers], outputs=[details, answers])
        comment, send_comment = _feedback_box(feedback, chat.chatbot, answers, ui_language)
        footer = gr.Markdown()
        admin_parts = _admin_panel(corridor_bot, expected, ui_language) if expected else []

        _follow_language(
            demo,
            corridor_bot,
            language_switch,
            saved_language,
            page=[
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
            ],
            admin=admin_parts,
        )
    return demo


def _chat(corridor_bot: CorridorBot, inputs: list[Any], outputs: list[Any]) -> _ChatInterface:
    """The chat: the answer streams in, then shows with its sources panel; also the ``/chat`` API for scripts."""

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
        question = one_line(message or "")  # the bot refuses empty and over-long questions in their language
        language = forced or (None if question else ui_language)
        written, pending = "", None
        try:
            for part in corridor_bot.stream(question, history_turns(history), language):
                if isinstance(part, Answer):
                    messages = answer_messages(part, ui_language)
                    answers[messages[0]["content"]] = answer_summary(part)
                    yield messages, part.to_dict(), dict(list(answers.items())[-_REMEMBERED_ANSWERS:])
                    continue
                if isinstance(part, Pending):
                    pending = part
                else:
                    written += part
                yield (
                    pending_messages(pending, written, ui_language) if pending else answer_markdown(written),
                    None,
                    answers,
                )
        except Exception as e:
            logger.exception("Answering %r failed", question)
            language = language or (detect_language(question) if question else "en")
            reply = text("error", ui_language or language, error=as_text(type(e).__name__))
            yield answer_messages(Answer(reply, language, False, mode="refusal")), None, answers

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
    return _ChatInterface(
        respond,
        chatbot=chatbot,
        textbox=textbox,
        additional_inputs=inputs,
        additional_outputs=outputs,
        examples=[[question, None, None, None] for question in EXAMPLES],
        api_name="chat",
        concurrency_limit=_CHAT_CONCURRENCY,
        api_description="Ask a question (French, English or Japanese); returns the messages shown "
        "(answer, then sources panel) and the whole answer with its sources.",
        fill_height=True,
    )


def _feedback_box(
    feedback: FeedbackLog, chatbot: gr.Chatbot, answers: gr.State, ui_language: gr.State
) -> tuple[gr.Textbox, gr.Button]:
    """A 👍/👎 is saved at once; then a comment box completes the same record. Returns the parts with labels."""
    pending_vote = gr.State(None)
    with gr.Group(visible=False, elem_id="feedback-box") as feedback_box:
        feedback_note = gr.Markdown()
        with gr.Row():
            comment = gr.Textbox(elem_id="feedback-comment", max_length=2000, scale=4)
            send_comment = gr.Button(elem_id="feedback-send", scale=1)
    feedback_status = gr.Markdown(elem_id="feedback-status")

    def on_vote(
        history: list[dict[str, Any]], remembered: dict[str, dict[str, Any]], language: str, vote: gr.LikeData
    ) -> tuple[Any, Any, Any, Any]:
        """Save the vote at once; then offer a comment box that completes the same record."""
        summary = voted_summary(history, vote.index, remembered)
        helpful = vote.liked is True or vote.liked == "Like"
        try:
            record = feedback.add(helpful=helpful, interface_language=language, **feedback_fields(summary))
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
                **feedback_fields(vote),
            )
        except OSError as e:
            logger.exception("Could not save feedback")
            return vote, gr.update(), note, text("feedback_failed", language, error=as_text(str(e)))
        return None, gr.update(visible=False), "", text("feedback_saved", language)

    chatbot.like(
        on_vote,
        [chatbot, answers, ui_language],
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
    return comment, send_comment


def _admin_panel(corridor_bot: CorridorBot, expected: str, ui_language: gr.State) -> list[Any]:
    """Upload documents and reindex, behind the admin token. Returns the parts with labels, in ``localise`` order."""
    with gr.Accordion(open=False, elem_id="admin-panel") as admin_box:
        admin_token_box = gr.Textbox(type="password", elem_id="admin-token")
        admin_files = gr.File(file_count="multiple", file_types=list(SUPPORTED_EXTENSIONS), type="filepath")
        with gr.Row():
            upload_button = gr.Button(variant="primary")
            reindex_button = gr.Button()
        admin_status = gr.Markdown(elem_id="admin-status")

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
    return [admin_box, admin_token_box, admin_files, upload_button, reindex_button]


def _follow_language(
    demo: gr.Blocks,
    corridor_bot: CorridorBot,
    language_switch: gr.Radio,
    saved_language: gr.BrowserState,
    page: list[Any],
    admin: list[Any],
) -> None:
    """Every text on the page in the user's language, on load and on each switch; ``admin`` is empty without a panel."""
    localised = [*page, *admin]

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
        if admin:
            extensions = ", ".join(SUPPORTED_EXTENSIONS)
            limit = corridor_bot.settings.max_upload_mb
            updates += [
                gr.update(label=text("admin", language)),
                gr.update(label=text("admin_token", language)),
                gr.update(label=text("admin_files", language, extensions=extensions, limit=limit)),
                gr.update(value=text("admin_upload", language)),
                gr.update(value=text("admin_reindex", language)),
            ]
        return updates

    def on_load(saved: str | None, request: gr.Request) -> list[Any]:
        """``?lang=`` first, then the user's earlier choice, then the browser's languages."""
        params = request.query_params if request else {}
        headers = request.headers if request else {}
        wanted = pick_language(params.get("lang"), saved, headers.get("accept-language"))
        return localise(wanted)

    demo.load(on_load, [saved_language], localised, api_visibility="private", queue=False)
    language_switch.input(localise, [language_switch], localised, api_visibility="private", queue=False)


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
