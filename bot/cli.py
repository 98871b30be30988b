"""``corridor-bot``: index the corpus, ask a question, serve the web UI, evaluate on a QA file."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bot.answer import CITATION, Answer
from bot.bot import CorridorBot
from bot.config import Settings
from bot.index import IndexUnavailable, ReindexReport
from bot.language import message


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="corridor-bot", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", dest="corpus_dir", help="folder of press documents (default: ./corpus)")
    common.add_argument("--index", dest="index_dir", help="folder for the FAISS index (default: ./index)")
    common.add_argument("--embedding-model", help="sentence-transformers model name or path")
    common.add_argument("--llm", help='"qwen2.5-1.5b", "qwen2.5-0.5b", a .gguf path, or "none"')
    common.add_argument("--llm-url", help="OpenAI-compatible server URL (replaces --llm)")
    common.add_argument("--top-k", type=int, help="passages retrieved per question")
    common.add_argument("-v", "--verbose", action="store_true", help="log what the bot does")
    commands = parser.add_subparsers(dest="command", required=True)
    index = commands.add_parser("index", parents=[common], help="index new, changed and deleted documents")
    index.add_argument("--watch", action="store_true", help="keep running and reindex whenever corpus/ changes")
    index.add_argument("--interval", type=float, default=2.0, help="seconds between corpus checks with --watch")
    ask = commands.add_parser("ask", parents=[common], help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--language", choices=["fr", "en", "ja"], help="answer in this language")
    serve = commands.add_parser("serve", parents=[common], help="run the web chat")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 7860)")
    evaluate = commands.add_parser(
        "eval",
        parents=[common],
        help="measure the bot on a QA file",
        description="Measure the bot on a QA file. With --corpus and no --index, the corpus is indexed into a "
        "temporary folder removed afterwards: neither that corpus nor the configured index is written.",
    )
    evaluate.add_argument("--qa", required=True, type=Path, help="JSON-lines QA file")
    evaluate.add_argument("--json", action="store_true", help="print the full results as JSON")
    evaluate.add_argument("--report", type=Path, help="write a Markdown report (and its .svg chart) to this path")
    evaluate.add_argument(
        "--baselines", default="bm25,dense,extractive,shipped", help="systems to compare (default: all four)"
    )
    _add_llm_server_command(commands)
    return parser


def _add_llm_server_command(commands: Any) -> None:
    llm_server = commands.add_parser(
        "llm-server",
        help="serve the language model alone, as an OpenAI-compatible server for the web workers",
        description="Serve the language model (llama.cpp) as an OpenAI-compatible server until SIGINT or SIGTERM. "
        "Web workers use it with CORRIDOR_LLM_URL=<the printed URL>, CORRIDOR_LLM_MODEL_NAME and CORRIDOR_LLM_API_KEY.",
    )
    llm_server.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    llm_server.add_argument("--port", type=int, default=8081, help="port (default 8081)")
    llm_server.add_argument("--llm", help='"qwen2.5-1.5b" (default), "qwen2.5-0.5b" or a .gguf path')
    llm_server.add_argument("--slots", type=int, help="questions answered at once (default: CORRIDOR_LLM_SLOTS, 2)")
    llm_server.add_argument("--threads", type=int, help="CPU threads (default: CORRIDOR_LLM_THREADS or all cores)")
    llm_server.add_argument(
        "--model-name", help='model id clients ask for (default: CORRIDOR_LLM_MODEL_NAME, else "local")'
    )
    llm_server.add_argument(
        "--api-key",
        help="key every request must carry (default: CORRIDOR_LLM_API_KEY; without either, a random one is printed)",
    )
    llm_server.add_argument("-v", "--verbose", action="store_true", help="let llama.cpp log what it does")


def _llm_server(args: argparse.Namespace) -> int:
    """``corridor-bot llm-server``: the model the bot would load, served on its own until stopped."""
    from bot.generation import gguf_path, prefix_dir, prepare_system_prompt
    from bot.llm_model import ModelUnavailable
    from bot.llm_server import LocalLlamaServer, serve_until_stopped

    settings = Settings.from_env(llm=args.llm)
    try:
        path = gguf_path(settings)
    except ModelUnavailable as e:
        print(f"corridor-bot: {e}", file=sys.stderr)
        return 2
    given_key = args.api_key or os.environ.get("CORRIDOR_LLM_API_KEY")
    server = LocalLlamaServer(
        path,
        slots=args.slots or settings.llm_slots,
        n_threads=args.threads or settings.llm_threads or None,
        port=args.port,
        model_name=args.model_name or settings.llm_model_name,
        api_key=given_key,
        verbose=args.verbose,
        host=args.host,
        prefix_dir=prefix_dir(settings),
    )

    def ready(url: str) -> None:
        prepare_system_prompt(server)
        print(f"CORRIDOR_LLM_URL={url}")
        print(f"CORRIDOR_LLM_MODEL_NAME={server.model_name}")
        if not given_key:
            print(f"CORRIDOR_LLM_API_KEY={server.api_key}")
        print(f"Serving {path.name} with {server.slots} slots (Ctrl-C or SIGTERM to stop)", file=sys.stderr, flush=True)
        sys.stdout.flush()

    try:
        serve_until_stopped(server, on_ready=ready)
    except (RuntimeError, FileNotFoundError) as e:
        print(f"corridor-bot: {e}", file=sys.stderr)
        return 2
    return 0


def _print_progress(text: str, fraction: float) -> None:
    print(f"[{fraction:4.0%}] {text}", file=sys.stderr, flush=True)


def _print_report(report: ReindexReport) -> None:
    for label in ("added", "updated", "removed", "unchanged"):
        names = getattr(report, label)
        print(f"{label:>9}: {len(names)}" + (f"  ({', '.join(names)})" if names and label != "unchanged" else ""))
    for name, reason in report.skipped.items():
        print(f"  skipped: {name}: {reason}")
    rebuilt = f", full rebuild: {report.full_rebuild}" if report.full_rebuild else ""
    print(f"{report.chunks} chunks in {report.generation} ({report.seconds:.1f} s{rebuilt})")


def _print_answer(answer: Answer, streamed: str) -> None:
    """The final answer, under the streamed draft: a draft the checks rejected is marked as withdrawn,
    one that only got its citation added or moved to the passage that states it, as such."""
    if answer.text.strip() == streamed.strip():
        print()
    elif not streamed:
        print(answer.text)
    else:
        same_words = CITATION.sub("", answer.text).split() == CITATION.sub("", streamed).split()
        print(f"\n{message('citation_corrected' if same_words else 'draft_withdrawn', answer.language)}\n{answer.text}")
    for source in answer.sources:
        mark = "*" if source.cited else " "
        print(f"{mark}[{source.number}] {source.document} ({source.score:.2f}): {source.text[:160]!r}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.command == "llm-server":
        return _llm_server(args)
    overrides = {
        k: getattr(args, k, None)
        for k in ("corpus_dir", "index_dir", "embedding_model", "llm", "llm_url", "top_k", "host", "port")
    }
    try:
        with contextlib.ExitStack() as scratch:
            if args.command == "eval" and args.corpus_dir and not args.index_dir:
                # Another corpus must not replace (or mix into) the configured index: evaluate it on a scratch one.
                overrides["index_dir"] = scratch.enter_context(
                    tempfile.TemporaryDirectory(prefix="corridor-eval-index-", ignore_cleanup_errors=True)
                )
                print(f"Indexing {args.corpus_dir} into a scratch index: {overrides['index_dir']}", file=sys.stderr)
            return _run(args, CorridorBot(settings=Settings.from_env(**overrides)))
    except KeyboardInterrupt:
        return 130
    except (IndexUnavailable, ValueError, FileNotFoundError) as e:
        print(f"corridor-bot: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, bot: CorridorBot) -> int:
    """The chosen command, on a bot built from the flags."""
    if args.command == "index":
        progress = _print_progress
        if args.watch:
            from bot.watch import watch

            print(f"Watching {bot.settings.corpus_dir} (Ctrl-C to stop)…", file=sys.stderr)
            watch(bot, args.interval, on_report=_print_report, progress=progress)
        else:
            _print_report(bot.reindex(progress=progress))
    elif args.command == "ask":
        if args.json:
            print(json.dumps(bot.ask(args.question, language=args.language).to_dict(), ensure_ascii=False, indent=2))
            return 0
        streamed = ""
        for part in bot.stream(args.question, language=args.language):
            if isinstance(part, Answer):
                _print_answer(part, streamed)
            elif isinstance(part, str):
                streamed += part
                print(part, end="", flush=True)
    elif args.command == "serve":
        from app import launch

        launch(bot)
    elif args.command == "eval":
        from bot.evaluation import run_eval_command

        run_eval_command(bot, args.qa, as_json=args.json, report=args.report, baselines=args.baselines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
