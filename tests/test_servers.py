"""The bot split into processes, as on a server: the language model in its own ``corridor-bot llm-server``
process, and two web workers (``python app.py``) on one index folder that a third process reindexes.

Every process is real and started as a subprocess; nothing here is mocked.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, SEED
from gradio_client import Client

from bot import CorridorBot, generation

QUESTION = "Qui dirige le pôle Alsace BioValley ?"
NEW_DOCUMENT = "2009-03-12-nordique-sante.txt"
NEW_TEXT = """Un nouveau partenaire nordique pour le Corridor

Strasbourg, le 12 mars 2009. Le pôle Nordique Santé est présidé par Ingrid Halvorsen.

Il réunit 80 entreprises de santé d'Europe du Nord et rejoint le LifeScience Corridor France.
"""
NEW_QUESTION = "Qui préside le pôle Nordique Santé ?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    """This environment without the tester's ``CORRIDOR_*`` settings (but with their model locations)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORRIDOR_")}
    env.update({k: v for k, v in os.environ.items() if k in ("CORRIDOR_EMBEDDING_MODEL", "CORRIDOR_CACHE_DIR")})
    return {**env, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8", **extra}


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Status and body; 0 when nothing listens."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


class Process:
    """A child process whose output goes to a log file (quoted when it fails)."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None:
                pytest.fail(f"{what}: the process ended ({self.process.returncode}):\n{self.output[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not ready after {timeout:.0f} s:\n{self.output[-3000:]}")
            time.sleep(0.3)

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


# The language model on its own server ----------------------------------------------------------------------------


@dataclass
class LLMServer:
    process: Process
    url: str
    model_name: str
    api_key: str


@pytest.fixture
def llm_server(tmp_path: Path) -> Iterator[LLMServer]:
    """``corridor-bot llm-server`` with the shipped model, its key given the way the web workers get it."""
    if os.environ.get("CORRIDOR_SKIP_LLM_TESTS") == "1":
        pytest.skip("CORRIDOR_SKIP_LLM_TESTS=1")
    key = secrets.token_urlsafe(16)
    command = [sys.executable, "-m", "bot.cli", "llm-server", "--port", str(free_port()), "--slots", "1",
               "--llm", os.environ.get("CORRIDOR_LLM", "qwen2.5-1.5b")]  # fmt: skip
    server = Process(command, child_env(CORRIDOR_LLM_API_KEY=key), tmp_path / "llm-server.log")
    try:
        server.wait_until(lambda: "CORRIDOR_LLM_MODEL_NAME=" in server.output, 180, "llm-server")
        printed = dict(line.split("=", 1) for line in server.output.splitlines() if line.startswith("CORRIDOR_LLM_"))
        assert "CORRIDOR_LLM_API_KEY" not in printed  # it was given: never echoed
        yield LLMServer(server, printed["CORRIDOR_LLM_URL"], printed["CORRIDOR_LLM_MODEL_NAME"], key)
    finally:
        server.stop()


@pytest.mark.llm
def test_bot_answers_through_a_separate_llm_server(llm_server: LLMServer, tmp_path: Path, monkeypatch) -> None:
    root = llm_server.url.removesuffix("/v1")
    assert http_get(f"{root}/health") == (200, b'{"status":"ok"}')
    assert http_get(f"{llm_server.url}/models")[0] == 401  # no key, no model
    status, _ = http_get(f"{llm_server.url}/models", {"Authorization": f"Bearer {llm_server.api_key}"})
    assert status == 200
    assert llm_server.process.process.pid != os.getpid()

    monkeypatch.setenv("CORRIDOR_LLM_API_KEY", llm_server.api_key)
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO_ROOT / "corpus", corpus)
    in_process_servers = dict(generation._servers)
    bot = CorridorBot(
        corpus_dir=corpus, index_dir=tmp_path / "index", llm_url=llm_server.url, llm_model_name=llm_server.model_name
    )
    answer = bot.ask(QUESTION)

    assert bot.uses_llm, bot.llm_error
    assert generation._servers == in_process_servers  # no llama.cpp started in this process
    assert answer.mode == "llm" and answer.answered, (answer.text, answer.notes)
    assert "Carboni" in answer.text
    assert any(source.cited and source.document == SEED.name for source in answer.sources)

    # The answers came from that process: once it is gone, the bot falls back to quoting passages.
    assert llm_server.process.stop() == 0  # SIGTERM: a clean stop
    assert http_get(f"{root}/health")[0] == 0
    fallback = bot.ask(QUESTION)
    assert fallback.mode != "llm" and "Carboni" in fallback.text


# Two web workers, one index, one writer --------------------------------------------------------------------------


@dataclass
class Worker:
    process: Process
    url: str

    def ask(self, question: str) -> dict[str, Any]:
        """The answer the chat API gives a new visitor (no conversation before)."""
        _, answer = Client(self.url, verbose=False).predict(question, api_name="/chat")
        return answer


@pytest.fixture
def shared_index(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    return corpus, tmp_path / "index"


@pytest.fixture
def workers(shared_index: tuple[Path, Path], tmp_path: Path) -> Iterator[list[Worker]]:
    """Two ``python app.py`` processes on ports of their own, started together on one (not yet built) index."""
    corpus, index = shared_index
    started: list[Worker] = []
    try:
        for n in (1, 2):
            port = free_port()
            env = child_env(CORRIDOR_CORPUS_DIR=str(corpus), CORRIDOR_INDEX_DIR=str(index), CORRIDOR_LLM="none",
                            CORRIDOR_HOST="127.0.0.1", CORRIDOR_PORT=str(port))  # fmt: skip
            process = Process([sys.executable, "app.py"], env, tmp_path / f"worker{n}.log")
            started.append(Worker(process, f"http://127.0.0.1:{port}/"))
        for n, worker in enumerate(started, 1):
            worker.process.wait_until(lambda w=worker: http_get(w.url)[0] == 200, 240, f"worker {n}")
        yield started
    finally:
        for worker in started:
            worker.process.stop()


def names(answer: dict[str, Any]) -> set[str]:
    return {source["document"] for source in answer["sources"]}


@pytest.mark.e2e
def test_two_web_workers_pick_up_an_index_written_by_a_third_process(
    workers: list[Worker], shared_index: tuple[Path, Path], tmp_path: Path
) -> None:
    corpus, index = shared_index
    pids = {worker.process.process.pid for worker in workers}
    assert len(pids) == 2 and os.getpid() not in pids
    for worker in workers:
        answer = worker.ask(QUESTION)
        assert answer["answered"] and "Carboni" in answer["text"], answer["text"]
        assert "Halvorsen" not in worker.ask(NEW_QUESTION)["text"]

    (corpus / NEW_DOCUMENT).write_text(NEW_TEXT, encoding="utf-8")
    command = [sys.executable, "-m", "bot.cli", "index", "--corpus", str(corpus), "--index", str(index)]
    writer = subprocess.run(command, cwd=REPO_ROOT, env=child_env(CORRIDOR_LLM="none"), capture_output=True,
                            text=True, encoding="utf-8", timeout=300)  # fmt: skip
    assert writer.returncode == 0, writer.stderr[-3000:]
    assert f"added: 1  ({NEW_DOCUMENT})" in writer.stdout, writer.stdout

    for worker in workers:  # neither worker was told: each reloads the new generation on its next question
        answer = worker.ask(NEW_QUESTION)
        assert answer["answered"] and "Halvorsen" in answer["text"], answer["text"]
        assert NEW_DOCUMENT in names(answer)
        assert any(s["cited"] and s["document"] == NEW_DOCUMENT for s in answer["sources"])
