"""The web chat (Gradio): ``python app.py`` or ``corridor-bot serve``. Only UI here; the bot does the rest."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import gradio as gr

import bot as _bot_package  # noqa: F401  (sets the offline flags before gradio is imported)
from bot import Answer, CorridorBot

EXAMPLES = [
    "Qui dirige le pôle Alsace BioValley ?",
    "When and where was the agreement with the Kansai Bio Promotion Council signed?",
    "関西バイオ推進会議の会長は誰ですか？",
    "Quelles actions prévoit le programme de coopération ?",
]

DESCRIPTION = (
    "Questions about the LifeScience Corridor France and its partners, answered from the press documents. "
    "Ask in English, French or Japanese · Posez vos questions en français · 日本語でも質問できます。"
)


def _text(content: Any) -> str:
    """A history message's text, whether Gradio gives a string or a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(block.get("text", "") for block in content if isinstance(block, dict))
    return ""


def history_turns(history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(question, answer) pairs from Gradio's message history, leaving out the sources panels."""
    turns: list[tuple[str, str]] = []
    question = None
    for item in history:
        if item.get("role") == "user":
            question = _text(item.get("content"))
        elif item.get("role") == "assistant" and question is not None and not (item.get("metadata") or {}).get("title"):
            turns.append((question, _text(item.get("content"))))
            question = None
    return turns


def sources_markdown(answer: Answer) -> str:
    """The passages behind an answer; document text is escaped so nothing in it runs in the page."""
    lines = []
    for source in answer.sources:
        mark = "**cited**" if source.cited else "retrieved"
        date = f", {source.date}" if source.date else ""
        lines.append(
            f"**[{source.number}] {html.escape(source.title)}** ({html.escape(source.document)}{date}; {mark}, "
            f"score {source.score:.2f})\n\n> {html.escape(source.text).replace(chr(10), ' ')}"
        )
    return "\n\n".join(lines)


def build_demo(corridor_bot: CorridorBot) -> gr.ChatInterface:
    """The chat: answers stream in, and each answer is followed by a collapsible "Sources" panel."""

    def respond(message: str, history: list[dict[str, Any]]) -> Iterator[str | list[dict[str, Any]]]:
        written = ""
        for part in corridor_bot.stream(message, history_turns(history)):
            if isinstance(part, Answer):
                messages: list[dict[str, Any]] = [{"role": "assistant", "content": part.text}]
                if part.sources and part.answered:
                    messages.append(
                        {"role": "assistant", "content": sources_markdown(part), "metadata": {"title": "Sources"}}
                    )
                yield messages
            else:
                written += part
                yield written

    return gr.ChatInterface(
        respond,
        title="Corridor Bot — LifeScience Corridor France",
        description=DESCRIPTION,
        examples=EXAMPLES,
        api_name="chat",
        chatbot=gr.Chatbot(height=560, sanitize_html=True),
        textbox=gr.Textbox(placeholder="Question (FR / EN / 日本語)…", max_length=2000),
    )


def launch(corridor_bot: CorridorBot, **kwargs: Any) -> None:
    """Load the models and the index first (building it on first use), then serve on the configured address."""
    corridor_bot.warm_up()
    settings = corridor_bot.settings
    build_demo(corridor_bot).queue(default_concurrency_limit=4).launch(
        server_name=settings.host, server_port=settings.port, **kwargs
    )


if __name__ == "__main__":
    launch(CorridorBot())
