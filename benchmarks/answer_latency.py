"""Question → full answer latency and time to the first streamed piece, through ``CorridorBot.stream``.

Usage::

    .venv/bin/python benchmarks/answer_latency.py                        # the language model and the extractive writer
    .venv/bin/python benchmarks/answer_latency.py --writers llm --per-language 1 --repeats 1   # a quick look
    .venv/bin/python benchmarks/answer_latency.py --writers llm --llm qwen2.5-0.5b

A private copy of the seed corpus is indexed, then each writer's bot answers FR/EN/JA questions
from the dev QA file, after one untimed question (the model loaded, llama.cpp's prompt cache holding
the system prompt, as in a running server). For every answer: the time to the first streamed text
piece (what the user waits before reading), the time to the final checked ``Answer``, and the
streaming rate in pieces per second after the first one (llama.cpp streams one token per piece, so
it approximates the generation speed in tokens/s). The extractive writer does not stream: its first
piece is the whole answer. Answers that the grounding check rejected once (a second generation) are
counted, as they double the latency.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from common import median, percentile, print_header, questions, seed_settings, table, write_json

from bot import Answer, CorridorBot, Pending, Settings


def timed_stream(bot: CorridorBot, question: str) -> dict[str, Any]:
    """Stream one answer; return when each piece came and what the final answer was."""
    started = time.perf_counter()
    first = last = sources = None
    pieces = 0
    answer: Answer | None = None
    for part in bot.stream(question):
        now = time.perf_counter() - started
        if isinstance(part, Answer):
            answer = part
            continue
        if isinstance(part, Pending):
            sources = now if sources is None else sources
            continue
        pieces += 1
        first = now if first is None else first
        last = now
    total = time.perf_counter() - started
    assert answer is not None
    return {
        "total_s": total,
        "sources_s": sources if sources is not None else total,
        "first_piece_s": first if first is not None else total,
        "streamed": first is not None,
        "pieces": pieces,
        "pieces_per_s": (pieces - 1) / (last - first) if pieces > 2 and last and first and last > first else None,
        "answered": answer.answered,
        "mode": answer.mode,
        "retried": any(note.startswith("attempt") for note in answer.notes),
        "chars": len(answer.text),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", default="llm,extractive", help="llm, extractive or both (default)")
    parser.add_argument(
        "--llm", default=Settings.from_env().llm, help="the model (default: CORRIDOR_LLM or the shipped one)"
    )
    parser.add_argument("--per-language", type=int, default=2, help="answerable questions per language")
    parser.add_argument("--repeats", type=int, default=2, help="times each question is asked")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    writers = [w.strip() for w in args.writers.split(",") if w.strip()]
    if not set(writers) <= {"llm", "extractive"} or not writers:
        parser.error("--writers takes llm, extractive or llm,extractive")

    print_header("Question → answer latency through CorridorBot.stream")
    qs = questions(per_language=args.per_language, answerable_only=True)
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="corridor-answer-") as tmp:
        settings = seed_settings(Path(tmp))
        llm = args.llm
        for writer in writers:
            bot_settings = replace(settings, llm=llm) if writer == "llm" else replace(settings, llm="none", llm_url="")
            bot = CorridorBot(settings=bot_settings)
            began = time.perf_counter()
            bot.warm_up()
            if writer == "llm" and not bot.uses_llm:
                print(f"llm: no language model ({bot.llm_error}); skipped", file=sys.stderr)
                continue
            print(f"{writer}: warm-up (models, index{', language model' if writer == 'llm' else ''}) "
                  f"{time.perf_counter() - began:.1f} s", flush=True)  # fmt: skip
            timed_stream(bot, "Quelles actions prévoit le programme de coopération ?")  # untimed: fills the caches
            rows = []
            for repeat in range(args.repeats):
                for language, question in qs:
                    row = {"language": language, "question": question, "repeat": repeat, **timed_stream(bot, question)}
                    rows.append(row)
                    retried = " (retried)" if row["retried"] else ""
                    print(f"  {writer} {language} {row['first_piece_s']:.2f} s first piece, {row['total_s']:.2f} s "
                          f"total, {row['mode']}{retried}: {question}", flush=True)  # fmt: skip
            results[writer] = rows
    if not results:
        return 1

    head = ["writer", "lang", "answers", "sources p50 s", "first p50 s", "first p95 s", "new q first p50 s",
            "total p50 s", "total p95 s", "first/total", "pieces/s", "streamed", "answered", "retried"]  # fmt: skip
    lines = [head]
    summary: dict[str, dict[str, Any]] = {}
    for writer, rows in results.items():
        for language in [*dict.fromkeys(r["language"] for r in rows), "all"]:
            sel = [r for r in rows if language in ("all", r["language"])]
            firsts, totals = [r["first_piece_s"] for r in sel], [r["total_s"] for r in sel]
            new = [r["first_piece_s"] for r in sel if r["repeat"] == 0]
            rates = [r["pieces_per_s"] for r in sel if r["pieces_per_s"]]
            s = summary.setdefault(writer, {})[language] = {
                "answers": len(sel), "sources_p50_s": median([r["sources_s"] for r in sel]),
                "first_piece_p50_s": median(firsts), "first_piece_p95_s": percentile(firsts, 95),
                "new_question_first_piece_p50_s": median(new),
                "total_p50_s": median(totals), "total_p95_s": percentile(totals, 95),
                "pieces_per_s_p50": median(rates) if rates else None,
                "streamed": sum(r["streamed"] for r in sel), "answered": sum(r["answered"] for r in sel),
                "retried": sum(r["retried"] for r in sel),
            }  # fmt: skip
            lines.append([
                writer if language == next(iter(summary[writer])) else "", language, str(len(sel)),
                f"{s['sources_p50_s']:.2f}", f"{s['first_piece_p50_s']:.2f}", f"{s['first_piece_p95_s']:.2f}",
                f"{s['new_question_first_piece_p50_s']:.2f}", f"{s['total_p50_s']:.2f}",
                f"{s['total_p95_s']:.2f}", f"{s['first_piece_p50_s'] / s['total_p50_s']:.2f}",
                "-" if s["pieces_per_s_p50"] is None else f"{s['pieces_per_s_p50']:.1f}",
                f"{s['streamed']}/{len(sel)}", f"{s['answered']}/{len(sel)}", str(s["retried"]),
            ])  # fmt: skip
    print()
    print(table(lines))
    if {"llm", "extractive"} <= set(summary):
        ratio = summary["llm"]["all"]["total_p50_s"] / summary["extractive"]["all"]["total_p50_s"]
        print(f"\nllm / extractive total p50: ×{ratio:.1f}")
    print("sources = time until the sources are shown; first = time to the first streamed piece of the answer (the "
          "whole answer when nothing was streamed: the extractive writer, refusals); new q = the first time each "
          "question is asked (its sentences not yet embedded); pieces/s ≈ tokens/s of generation.")  # fmt: skip
    write_json(args.json, {"benchmark": "answer_latency", "llm": llm, "summary": summary, "answers": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
