"""Running an evaluation: every QA item through every selected system, the results document, and the machine."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from haystack import Document

from bot.bot import CorridorBot
from bot.evaluation.baselines import BM25Baseline, indexed_chunks
from bot.evaluation.metrics import (
    DEFAULT_BASELINES,
    SYSTEMS,
    ItemResult,
    evidence_rank,
    failures,
    judge_answer,
    load_qa,
    parse_baselines,
    passage_views,
    retrieval_problem,
    summarise,
)
from bot.evaluation.report import format_text, write_report

Progress = Callable[[int, int, str, dict[str, "ItemResult"]], None]


def run_eval(
    bot: CorridorBot,
    qa_path: Path,
    baselines: str | Iterable[str] = DEFAULT_BASELINES,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Evaluate every item with every selected system.

    Returns ``{"mode", "summary" and "items" (the shipped system's, as before baselines existed),
    "summaries" (per system), "baseline_items" (per other system), "failures", "settings", "machine", …}``.
    """
    systems = parse_baselines(baselines)
    items = load_qa(qa_path)
    started, machine, date = time.perf_counter(), machine_info(), _now()  # the load before this run adds its own
    bot.warm_up()
    top_k = bot.settings.top_k
    notes: dict[str, str] = {}
    writers: dict[str, CorridorBot] = {}
    if "shipped" in systems:
        writers["shipped"] = bot
    if "extractive" in systems:
        if bot.uses_llm:
            writers["extractive"] = CorridorBot(settings=replace(bot.settings, llm="none", llm_url=""))
        elif "shipped" in systems:
            notes["extractive"] = f"not run separately: the shipped bot answers extractively ({bot.llm_error})"
            systems.remove("extractive")
        else:
            writers["extractive"] = bot
    chunks = indexed_chunks(bot)
    bm25 = BM25Baseline(chunks) if "bm25" in systems else None

    results: dict[str, list[ItemResult]] = {name: [] for name in systems}
    for number, item in enumerate(items, start=1):
        row = evaluate_item(bot, item, systems, writers, bm25, top_k)
        for name, result in row.items():
            results[name].append(result)
        if progress:
            progress(number, len(items), str(item.get("id", number)), row)

    settings = {
        "top_k": top_k,
        "context_k": bot.settings.context_k,
        "embedding_model": bot.settings.embedding_model,
        "llm": bot.settings.llm_url or bot.settings.llm,
        "corpus_dir": str(bot.settings.corpus_dir),
        "chunks": len(chunks),
    }
    mode = "llm" if bot.uses_llm else f"extractive ({bot.llm_error})"
    return assemble(
        items, results, mode=mode, qa=str(qa_path), settings=settings, notes=notes,
        seconds=time.perf_counter() - started, machine=machine, date=date,
    )  # fmt: skip


def assemble(
    items: list[dict[str, Any]],
    results: dict[str, list[ItemResult]],
    *,
    mode: str,
    qa: str,
    settings: dict[str, Any],
    notes: dict[str, str] | None = None,
    seconds: float = 0.0,
    machine: dict[str, Any] | None = None,
    date: str | None = None,
) -> dict[str, Any]:
    """The results document (``--json``, the report) from per-system item results."""
    systems = [name for name in SYSTEMS if name in results]
    summaries = {name: summarise(results[name]) for name in systems}
    primary = next((s for s in ("shipped", "extractive", "dense") if s in systems), systems[0])
    return {
        "mode": mode,
        "qa": qa,
        "date": date or _now(),
        "seconds": round(seconds, 1),
        "systems": systems,
        "descriptions": {name: SYSTEMS[name] for name in systems},
        "notes": notes or {},
        "settings": settings,
        "machine": machine or machine_info(),
        "primary": primary,
        "summary": summaries[primary],
        "summaries": summaries,
        "items": [asdict(r) for r in results[primary]],
        "baseline_items": {name: [asdict(r) for r in results[name]] for name in systems if name != primary},
        "failures": failures(items, results, {primary, "dense"}),
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def evaluate_item(
    bot: CorridorBot,
    item: dict[str, Any],
    systems: Sequence[str],
    writers: dict[str, CorridorBot],
    bm25: BM25Baseline | None,
    top_k: int,
) -> dict[str, ItemResult]:
    """One item with each system: retrieval once per retriever, one answer per writer."""
    question, evidence = item["q"], item.get("evidence")
    base = {"id": str(item.get("id", "")), "lang": item["lang"], "answerable": item.get("answerable", True)}
    out: dict[str, ItemResult] = {}

    def retrieval(name: str, fetch: Callable[[], list[Document]]) -> ItemResult:
        began = time.perf_counter()
        passages = fetch()
        seconds = time.perf_counter() - began
        rank = evidence_rank(passages, evidence)
        return ItemResult(
            **base, hit_at_1=None if rank is None else rank == 1, hit_at_3=None if rank is None else 1 <= rank <= 3,
            correct=None, language_ok=None, answer="", seconds=round(seconds, 4),
            retrieved=[(p.content or "")[:80] for p in passages], system=name, question=question, rank=rank,
            passages=passage_views(passages, evidence), problems=retrieval_problem(rank, evidence, top_k),
        )  # fmt: skip

    if bm25 is not None:
        out["bm25"] = retrieval("bm25", lambda: bm25.retrieve(question, top_k))
    if "dense" not in systems and not writers:
        return out
    dense = retrieval("dense", lambda: bot.retrieve(question, top_k=top_k)[1])
    if "dense" in systems:
        out["dense"] = dense
    for name, writer in writers.items():
        began = time.perf_counter()
        answer = writer.ask(question)
        seconds = time.perf_counter() - began
        correct, language_ok, written, problems = judge_answer(item, answer.text, answer.answered)
        out[name] = replace(
            dense, correct=correct, language_ok=language_ok, answer=answer.text, seconds=round(seconds, 3),
            system=name, answered=answer.answered, answer_language=written, problems=problems, mode=answer.mode,
            notes=answer.notes,
        )  # fmt: skip
    return {name: out[name] for name in systems if name in out}


def run_eval_command(
    bot: CorridorBot,
    qa_path: Path,
    *,
    as_json: bool = False,
    report: Path | None = None,
    baselines: str = DEFAULT_BASELINES,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> dict[str, Any]:
    """``corridor-bot eval``: progress on stderr, the table (or ``--json``) on stdout, the report if asked."""
    out, err = out or sys.stdout, err or sys.stderr
    systems = parse_baselines(baselines)  # fail before loading anything

    def progress(done: int, total: int, item_id: str, row: dict[str, ItemResult]) -> None:
        status = ", ".join(f"{n} {'ok' if not r.problems else 'FAIL'} {r.seconds:.1f}s" for n, r in row.items())
        print(f"[{done}/{total}] {item_id}: {status}", file=err, flush=True)

    results = run_eval(bot, qa_path, systems, progress)
    if as_json:
        print(json.dumps(results, ensure_ascii=False, indent=2), file=out)
    else:
        print(format_text(results), file=out)
    if report is not None:
        written = write_report(results, report)
        print("report: " + ", ".join(str(p) for p in written), file=err)
    return results


# The machine ---------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """What the figures were measured on, for the report and the benchmarks."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    physical = set()
    for n in os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(usable):
        try:
            physical.add(Path(f"/sys/devices/system/cpu/cpu{n}/topology/thread_siblings_list").read_text().strip())
        except OSError:
            physical.add(str(n))
    quota = None
    try:
        limit, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        quota = None if limit == "max" else round(int(limit) / int(period), 2)
    except (OSError, ValueError):
        pass
    memory = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {
        "cpu": cpu,
        "cpus_logical": os.cpu_count(),
        "cpus_usable": usable,
        "cores_physical": len(physical),
        "cgroup_cpu_quota": quota,
        "memory_gib": memory,
        "load_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
