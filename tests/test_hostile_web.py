"""The web chat under hostile use: only localhost unless told otherwise, capped uploads, binary files that
pose as text, and twenty users asking at once.

Upload names, the admin token and the upload checks are covered by tests/test_app.py.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from starlette.applications import Starlette
from starlette.testclient import TestClient

import app
from bot import CorridorBot, Settings
from bot.cli import main
from bot.uploads import UploadError, store_upload
from bot.web.routes import document_route

QUESTIONS = [
    "Qui préside le Kansai Bio Promotion Council ?",
    "Who chairs the Kansai Bio Promotion Council?",
    "関西バイオ推進会議の会長は誰ですか？",
    "Quand l'accord a-t-il été signé ?",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_default_host_is_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORRIDOR_HOST", raising=False)
    assert Settings().host == "127.0.0.1" and Settings.from_env().host == "127.0.0.1"
    monkeypatch.setenv("CORRIDOR_HOST", "0.0.0.0")  # the operator's explicit choice is kept
    assert Settings.from_env().host == "0.0.0.0"


def test_serve_command_binds_to_localhost_unless_told(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CORRIDOR_HOST", raising=False)
    seen: list[Settings] = []
    monkeypatch.setattr(app, "launch", lambda bot, **kwargs: seen.append(bot.settings))
    (tmp_path / "corpus").mkdir()
    common = ["--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index"), "--llm", "none"]
    assert main(["serve", *common]) == 0
    assert main(["serve", *common, "--host", "0.0.0.0"]) == 0
    assert [s.host for s in seen] == ["127.0.0.1", "0.0.0.0"]


@pytest.mark.e2e
def test_launch_passes_localhost_and_the_upload_cap_to_gradio(
    seed_bot: CorridorBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: calls.append(kwargs))
    app.launch(seed_bot)
    assert calls[0]["server_name"] == "127.0.0.1" == seed_bot.settings.host
    assert calls[0]["max_file_size"] == seed_bot.settings.max_upload_mb * 1_000_000


def test_binary_posing_as_text_is_refused_at_upload_and_not_shown(tmp_path: Path) -> None:
    corpus, incoming = tmp_path / "corpus", tmp_path / "incoming"
    corpus.mkdir()
    incoming.mkdir()
    controls = incoming / "controls.txt"
    controls.write_bytes(bytes([*range(1, 9), *range(14, 32)]) * 100)  # no NUL byte, yet not text
    with pytest.raises(UploadError) as error:
        store_upload(controls, controls.name, corpus, 1_000_000)
    assert error.value.reason == "unreadable" and not list(corpus.iterdir())

    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)  # e.g. copied in by hand
    client = TestClient(Starlette(routes=[document_route(corpus)]))
    page = client.get("/corpus/image.txt")
    assert page.status_code == 415 and "binary content" in page.text


@pytest.mark.e2e
def test_twenty_users_asking_at_once_are_all_answered(seed_bot: CorridorBot) -> None:
    demo = app.serve(app.build_demo(seed_bot, admin_secret=""), seed_bot, server_name="127.0.0.1",
                     server_port=_free_port(), prevent_thread_lock=True, quiet=True)  # fmt: skip
    try:
        url = demo.local_url
        assert httpx.get(url).status_code == 200

        def ask(number: int) -> tuple[float, dict[str, Any]]:
            started = time.perf_counter()
            _, answer = Client(url, verbose=False).predict(QUESTIONS[number % len(QUESTIONS)], api_name="/chat")
            return time.perf_counter() - started, answer

        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(ask, range(20)))  # an exception in any client fails the test
        assert len(results) == 20
        assert all(answer["answered"] and answer["sources"] for _, answer in results)
        assert all(seconds < 120 for seconds, _ in results)
    finally:
        demo.close()
