"""Many users chatting at once: the web server started as ``corridor-bot serve``, N gradio clients for a bounded time.

Usage::

    .venv/bin/python benchmarks/load_test.py                    # 20 clients, 60 s, extractive answers (no LLM)
    .venv/bin/python benchmarks/load_test.py --seconds 10       # a quick smoke run
    .venv/bin/python benchmarks/load_test.py --llm              # the shipped local model (qwen2.5-1.5b)
    .venv/bin/python benchmarks/load_test.py --llm --seconds 180 --compare-slots 1   # 4 slots, then 1
    .venv/bin/python benchmarks/load_test.py --llm qwen2.5-0.5b --json load.json

The server runs in its own process on a free 127.0.0.1 port over a private copy of the seed corpus,
as an operator would run it. Each client keeps asking FR/EN/JA questions through the ``/chat`` API
until the time is up; requests still running then are waited for, so every request counts. Printed:
requests, errors, p50/p95 latency to the sources, to the first piece of the answer's text and to the
whole answer, answers per minute, and the server's resident memory (its process and its children)
after warm-up, half-way, at the end and at its peak, with the growth ratio. ``--compare-slots 1``
runs the same load again with the model's slots set to 1 and prints the throughput ratio.
Exits 1 on any error or when memory grew by more than ``--max-growth``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from common import REPO_ROOT, median, ms, percentile, print_header, questions, seed_settings, write_json
from gradio_client import Client

from bot import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants (the llama.cpp server is a child), in KiB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue  # exited meanwhile, or a kernel thread without VmRSS
    return total


def start_server(root: Path, port: int, llm: str, slots: int) -> subprocess.Popen[bytes]:
    """``corridor-bot serve`` on 127.0.0.1 over a private copy of the seed corpus (it builds its own index)."""
    settings = seed_settings(root)
    env = {**os.environ, "CORRIDOR_LLM": llm, "CORRIDOR_LLM_SLOTS": str(slots), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "bot.cli", "serve", "--corpus", str(settings.corpus_dir), "--index",
               str(settings.index_dir), "--host", "127.0.0.1", "--port", str(port), "--llm", llm]  # fmt: skip
    log = (root / "server.log").open("wb")
    return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(server: subprocess.Popen[bytes], url: str, timeout: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode} before answering")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s")


class Load:
    """Shared tallies of the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.sources: list[float] = []
        self.first_pieces: list[float] = []
        self.errors: list[str] = []
        self.refusals = 0

    def record(self, seconds: float, answer: Any, messages: Any, sources: float | None, first: float | None) -> None:
        with self.lock:
            if not isinstance(answer, dict) or not messages or not answer.get("text"):
                self.errors.append(f"empty or malformed reply: {messages!r:.200}")
                return
            self.latencies.append(seconds)
            self.sources.append(sources if sources is not None else seconds)
            self.first_pieces.append(first if first is not None else seconds)
            self.refusals += not answer.get("answered")


def is_answer_text(messages: Any) -> bool:
    """Whether a streamed update shows answer text, not the status line ("*Writing the answer…*": the only
    message that starts with a literal ``*``, as the page escapes every ``*`` an answer holds)."""
    first = messages[0] if isinstance(messages, list) and messages else messages
    content = first.get("content") if isinstance(first, dict) else first
    return isinstance(content, str) and bool(content) and not content.startswith("*")


def client_loop(url: str, number: int, deadline: float, asks: list[str], load: Load) -> None:
    """One user: ask question after question until ``deadline`` (an error ends nothing, it is counted)."""
    try:
        client = Client(url, verbose=False)
    except Exception as e:
        with load.lock:
            load.errors.append(f"client {number} could not connect: {type(e).__name__}: {e}")
        return
    turn = number
    while time.perf_counter() < deadline:
        question = asks[turn % len(asks)]
        turn += 1
        started = time.perf_counter()
        sources = first = None
        try:
            job = client.submit(question, api_name="/chat")
            for messages, _ in job:
                now = time.perf_counter() - started
                sources = now if sources is None else sources
                if first is None and is_answer_text(messages):
                    first = now
            messages, answer = job.result()
        except Exception as e:
            with load.lock:
                load.errors.append(f"client {number}: {type(e).__name__}: {e}")
            continue
        load.record(time.perf_counter() - started, answer, messages, sources, first)
        client.reset_session()  # a new conversation: follow-up rewriting is not what is measured here


def run_load(args: argparse.Namespace, asks: list[str], slots: int) -> dict[str, Any] | None:
    """Start a server with ``slots`` model slots, load it for ``args.seconds``, print and return the figures."""
    print(f"\n--- {args.clients} clients, {args.seconds:.0f} s, llm={args.llm}, {slots} slot(s) ---", flush=True)
    with tempfile.TemporaryDirectory(prefix="corridor-load-") as tmp:
        root, port = Path(tmp), free_port()
        url = f"http://127.0.0.1:{port}/"
        server = start_server(root, port, args.llm, slots)
        try:
            startup = wait_until_up(server, url, args.startup_timeout)
            warm = time.perf_counter()
            Client(url, verbose=False).predict(asks[0], api_name="/chat")  # first answer pays one-off costs
            print(f"server pid {server.pid} up in {startup:.1f} s, first answer in {time.perf_counter() - warm:.1f} s")

            load = Load()
            rss = {"start": rss_kib(server.pid)}
            samples: list[int] = []
            begin = time.perf_counter()
            deadline = begin + args.seconds
            threads = [threading.Thread(target=client_loop, args=(url, n, deadline, asks, load), daemon=True)
                       for n in range(args.clients)]  # fmt: skip
            for thread in threads:
                thread.start()
            while (
                any(thread.is_alive() for thread in threads) and time.perf_counter() < deadline + args.startup_timeout
            ):
                time.sleep(0.5)
                samples.append(rss_kib(server.pid))
                if "middle" not in rss and time.perf_counter() >= begin + args.seconds / 2:
                    rss["middle"] = samples[-1]
            elapsed = time.perf_counter() - begin
            rss["end"] = rss_kib(server.pid)
            rss.setdefault("middle", rss["end"])
            if server.poll() is not None:
                load.errors.append(f"the server died (exit code {server.returncode})")
        except RuntimeError as e:
            print(f"error: {e}\n--- server log ---\n{(root / 'server.log').read_text(errors='replace')[-3000:]}")
            return None
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGINT)
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()

    requests = len(load.latencies) + len(load.errors)
    growth = rss["end"] / rss["start"] if rss["start"] else float("nan")
    peak = max([rss["start"], *samples, rss["end"]])
    per_minute = len(load.latencies) / elapsed * 60
    print(f"requests      {requests} ({len(load.latencies)} answered, {load.refusals} of them refusals)")
    print(f"errors        {len(load.errors)}")
    for label, values in (("sources", load.sources), ("first piece", load.first_pieces), ("answer", load.latencies)):
        print(f"{label:<13} p50 {ms(median(values))} ms, p95 {ms(percentile(values, 95))} ms, "
              f"max {ms(max(values, default=float('nan')))} ms")  # fmt: skip
    print(f"throughput    {per_minute:.1f} answers/min over {elapsed:.1f} s (the last questions included)")
    print(f"server RSS    start {rss['start'] / 1024:.0f} MiB, middle {rss['middle'] / 1024:.0f} MiB, "
          f"end {rss['end'] / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB; growth end/start {growth:.3f}")  # fmt: skip
    for error in load.errors[:10]:
        print(f"  error: {error}")
    return {
        "slots": slots, "requests": requests, "answered": len(load.latencies), "refusals": load.refusals,
        "errors": load.errors, "answers_per_minute": per_minute,
        "sources_p50_s": median(load.sources), "sources_p95_s": percentile(load.sources, 95),
        "first_piece_p50_s": median(load.first_pieces), "first_piece_p95_s": percentile(load.first_pieces, 95),
        "latency_p50_s": median(load.latencies), "latency_p95_s": percentile(load.latencies, 95),
        "rss_kib": {**rss, "peak": peak}, "rss_growth": growth,
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients keep asking")
    parser.add_argument("--llm", nargs="?", const="qwen2.5-1.5b", default="none",
                        help="answer with this language model (default: none, extractive answers)")  # fmt: skip
    parser.add_argument(
        "--slots", type=int, default=Settings().llm_slots, help="the model's slots (CORRIDOR_LLM_SLOTS)"
    )
    parser.add_argument("--compare-slots", type=int, help="then run again with this many slots, and compare")
    parser.add_argument("--startup-timeout", type=float, default=900.0)
    parser.add_argument("--max-growth", type=float, default=1.5, help="fail if end RSS / start RSS exceeds this")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    print_header(f"Load test: {args.clients} concurrent chat clients for {args.seconds:.0f} s, llm={args.llm}")
    asks = [question for _, question in questions(answerable_only=True)]
    runs = [
        run_load(args, asks, slots) for slots in [args.slots, *([args.compare_slots] if args.compare_slots else [])]
    ]
    if None in runs:
        return 1
    if len(runs) == 2:
        ratio = runs[0]["answers_per_minute"] / max(runs[1]["answers_per_minute"], 1e-9)
        print(f"\n{args.slots} slots / {args.compare_slots} slot(s): ×{ratio:.2f} answers per minute")
    write_json(args.json, {"clients": args.clients, "seconds": args.seconds, "llm": args.llm, "runs": runs})
    if any(run["errors"] for run in runs):
        print("FAIL: some requests failed")
        return 1
    if any(run["rss_growth"] > args.max_growth for run in runs):
        print(f"FAIL: memory grew by more than {args.max_growth}x")
        return 1
    print("OK: every request answered, no error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
