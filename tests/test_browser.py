"""The web chat in a real browser (Debian's headless Chromium driven by Playwright), as a Japanese user sees it.

Set ``CORRIDOR_SCREENSHOT=docs/screenshot.png`` to also save the README's screenshot (after the
first answer, sources panel open). ``CORRIDOR_CHROMIUM`` overrides the browser path.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import build_demo, serve
from bot import Answer, CorridorBot, Pending
from bot.feedback import FeedbackLog, feedback_file

pytestmark = pytest.mark.e2e

CHROMIUM = Path(os.environ.get("CORRIDOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",  # a closed network: no update checks, no refused-connection storm
    "--disable-component-update",
    "--no-first-run",
]
SEED_NAME = "2008-02-04-lifescience-corridor-france-kansai.txt"
QUESTION = "関西バイオ推進会議の会長は誰ですか？"
FOLLOW_UP = "その協定はどこで署名されましたか？"
TIMEOUT_MS = 120_000  # an extractive answer takes seconds, but CI machines are shared


class RecordingBot:
    """The seed bot, noting what the page asked it (to check that follow-ups carry the conversation).

    While ``writing`` is clear, everything after the sources is held back, as while a slow model writes.
    """

    def __init__(self, bot: CorridorBot) -> None:
        self._bot = bot
        self.calls: list[tuple[str, list[tuple[str, str]], str | None]] = []
        self.answers: list[Answer] = []
        self.writing = threading.Event()
        self.writing.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)

    def stream(self, question: str, history: Any = (), language: str | None = None) -> Iterator[str | Answer]:
        self.calls.append((question, list(history), language))
        for part in self._bot.stream(question, history, language):
            if not isinstance(part, Pending):
                assert self.writing.wait(TIMEOUT_MS / 1000)
            if isinstance(part, Answer):
                self.answers.append(part)
            yield part


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: the browser test needs Debian's package (apt-get install -y chromium), "
            "or CORRIDOR_CHROMIUM=/path/to/chromium."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: pip install -e '.[test]' (the pip package brings its driver).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def served(seed_bot: CorridorBot) -> Iterator[tuple[str, RecordingBot]]:
    recording = RecordingBot(seed_bot)
    demo = build_demo(recording, admin_secret="")  # type: ignore[arg-type]
    serve(demo, recording, server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True)  # type: ignore[arg-type]
    try:
        yield demo.local_url, recording
    finally:
        demo.close()


def test_japanese_user_asks_gets_a_japanese_answer_from_the_french_document_then_follows_up(browser, served):
    url, recording = served
    page = browser.new_page(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    page.goto(url)

    question_box = page.locator("#corridor-question textarea")
    # The interface follows the browser's language.
    page.wait_for_function(
        "() => document.querySelector('#corridor-question textarea')?.placeholder.startsWith('質問を入力')"
    )
    assert page.locator("#ui-language input[value='ja']").is_checked()

    # The sources show while the answer is still being written, then the answer comes.
    recording.writing.clear()
    question_box.fill(QUESTION)
    question_box.press("Enter")
    panels = page.locator("#corridor-chat .message.thought")
    panels.first.wait_for()
    assert "出典" in panels.first.inner_text()
    answer = page.locator("#corridor-chat [data-testid='bot']").first
    assert answer.inner_text().startswith("回答を作成しています")
    recording.writing.set()
    page.wait_for_function(
        "() => document.querySelector(\"#corridor-chat [data-testid='bot']\")?.innerText.startsWith('資料')"
    )
    assert "Nadamoto" in panels.first.locator("mark").first.inner_text()
    answer = answer.inner_text()
    assert answer.startswith("資料")  # the bot's own words are Japanese…
    assert "Kansai Bio Promotion Council" in answer  # …the quote stays in the French of the document
    panel = panels.first
    assert "出典" in panel.inner_text()
    assert "LIFESCIENCE CORRIDOR FRANCE" in panel.inner_text() and "2008-02-04" in panel.inner_text()
    assert "Nadamoto" in panel.locator("mark").first.inner_text()  # the supporting sentence is highlighted
    link = panel.get_by_role("link", name="文書全体を開く ↗")
    assert link.get_attribute("href") == f"corpus/{SEED_NAME}"
    document = page.request.get(f"{url}corpus/{SEED_NAME}")
    assert document.ok and document.headers["content-type"].startswith("text/plain") and "Nadamoto" in document.text()
    assert question_box.get_attribute("placeholder").startswith("質問を入力")

    if os.environ.get("CORRIDOR_SCREENSHOT"):
        page.mouse.move(0, 0)
        page.screenshot(path=os.environ["CORRIDOR_SCREENSHOT"])

    # Feedback: a vote is saved at once, a comment completes it.
    page.locator("#corridor-chat button[aria-label='いいね']").last.click()
    page.locator("#feedback-comment textarea").fill("出典が分かりやすい")
    page.locator("#feedback-send").click()
    page.wait_for_function("() => document.querySelector('#feedback-status')?.innerText.includes('コメントを記録')")
    records = FeedbackLog(feedback_file(recording.settings)).read()[-2:]
    assert [r["rating"] for r in records] == ["helpful", "helpful"] and records[1]["comment"] == "出典が分かりやすい"
    assert records[0]["question"] == QUESTION and records[0]["sources"][0]["document"] == SEED_NAME

    # A follow-up is asked with the conversation so far.
    question_box.fill(FOLLOW_UP)
    question_box.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#corridor-chat .message.thought').length === 2")
    page.wait_for_function(
        "() => document.querySelectorAll(\"#corridor-chat [data-testid='bot']\")[2]?.innerText.startsWith('資料')"
    )
    assert recording.calls[-1] == (FOLLOW_UP, [(QUESTION, recording.answers[0].text)], None)
    follow_up = page.locator("#corridor-chat [data-testid='bot']").nth(2).inner_text()
    assert follow_up.startswith("資料")
    assert "Osaka" in follow_up + panels.nth(1).inner_text()  # where it was signed
    assert recording.answers[-1].language == "ja"
    assert not alerts
    page.close()


def test_interface_language_can_be_switched_and_markup_in_a_question_never_runs(browser, served):
    url, _ = served
    page = browser.new_page(locale="en-US")
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    question_box = page.locator("#corridor-question textarea")
    page.wait_for_function(
        "() => document.querySelector('#corridor-question textarea')?.placeholder.startsWith('Your')"
    )
    page.locator("#ui-language").get_by_text("Français").click()
    page.wait_for_function(
        "() => document.querySelector('#corridor-question textarea')?.placeholder.startsWith('Votre')"
    )
    assert "Langue des réponses" in page.locator("#answer-language").inner_text()

    hostile = '<img src=x onerror="window.__ran = 1"><script>window.__ran = 2</script> **Qui** dirige BioValley ?'
    question_box.fill(hostile)
    question_box.press("Enter")
    page.locator("#corridor-chat [data-testid='bot']").first.wait_for()
    assert page.locator("#corridor-chat [data-testid='user']").first.inner_text().strip() == hostile  # shown as text
    assert page.evaluate("window.__ran") is None
    assert page.locator("#corridor-chat img[src='x']").count() == 0
    page.close()
