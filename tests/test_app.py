"""The web chat served for real on 127.0.0.1 and called through gradio_client, as a script would."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from gradio_client import Client

from app import build_demo, history_turns, sources_markdown
from bot import Answer, CorridorBot, Source

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(seed_bot: CorridorBot) -> Iterator[str]:
    demo = build_demo(seed_bot)
    demo.queue().launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


def test_chat_api_answers_japanese_from_french_document(server_url: str):
    result = Client(server_url, verbose=False).predict("関西バイオ推進会議の会長は誰ですか？", api_name="/chat")
    text = str(result)
    assert "Nadamoto" in text
    assert "資料" in text  # the framing sentence is Japanese
    assert "Sources" in text and "2008-02-04-lifescience-corridor-france-kansai.txt" in text


def test_history_turns_skip_source_panels():
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Qui dirige BioValley ?"}]},
        {"role": "assistant", "content": "Nicolas Carboni [1]"},
        {"role": "assistant", "content": "…", "metadata": {"title": "Sources"}},
        {"role": "user", "content": "Et Lyonbiopôle ?"},
    ]
    assert history_turns(history) == [("Qui dirige BioValley ?", "Nicolas Carboni [1]")]


def test_document_html_is_shown_as_text_not_run():
    source = Source(1, "evil.html", "<b>Titre</b>", '<script>alert("x")</script> texte', 0.9, cited=True)
    markdown = sources_markdown(Answer("x [1]", "fr", True, [source]))
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert "<b>" not in markdown
