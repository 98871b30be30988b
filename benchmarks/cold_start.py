"""Cold start: process start → first answer, and the peak memory of that process, with and without the LLM.

Usage::

    .venv/bin/python benchmarks/cold_start.py                       # 3 runs of each case
    .venv/bin/python benchmarks/cold_start.py --cases no-llm --repeats 1   # a quick look

Each run is a fresh ``python`` process that imports the bot, opens the index, loads the models and
answers one question, as ``corridor-bot ask`` does. The time is taken from just before the process
is spawned to the moment its answer arrives on the pipe (interpreter shutdown excluded); the process
reports its own phases too. Peak memory is the child's maximum resident set size from ``wait4``
(what ``/usr/bin/time -v`` reports), which includes the language model's weights once read.

Cases: ``no-llm`` and ``llm`` start on an index that already exists (a restart); ``first-run`` starts
on an empty index folder and builds it first (no LLM). The runs share the OS page cache, so only the
very first run of the benchmark reads the model files from disk; its figure is shown apart ("first").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from common import REPO_ROOT, median, print_header, seed_settings, table, write_json

from bot import Settings
from bot.index import CorpusIndex

QUESTION = "Qui dirige le pôle Alsace BioValley ?"
CHILD = textwrap.dedent(
    """
    import json, sys, time
    began = time.perf_counter()
    from bot import CorridorBot
    imported = time.perf_counter()
    no_llm = {"llm_url": ""} if sys.argv[3] == "none" else {}
    bot = CorridorBot(corpus_dir=sys.argv[1], index_dir=sys.argv[2], llm=sys.argv[3], **no_llm)
    bot.warm_up()
    warmed = time.perf_counter()
    answer = bot.ask(sys.argv[4])
    done = time.perf_counter()
    print(json.dumps({"import_s": imported - began, "warm_up_s": warmed - imported, "ask_s": done - warmed,
                      "uses_llm": bot.uses_llm, "llm_error": bot.llm_error, "answered": answer.answered,
                      "mode": answer.mode}), flush=True)
    """
)


def run_child(corpus: Path, index: Path, llm: str) -> dict[str, Any]:
    """Spawn one bot process; time it to its answer; its peak RSS from ``wait4``."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}  # CORRIDOR_* settings apply, as for ``corridor-bot ask``
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(corpus), str(index), llm, QUESTION],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env, cwd=REPO_ROOT,
    )  # fmt: skip
    assert child.stdout is not None and child.stderr is not None
    line = child.stdout.readline()
    answered = time.perf_counter() - started
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0 or not line.strip():
        raise RuntimeError(f"the bot process failed ({child.returncode}):\n{stderr[-3000:]}")
    return {"start_to_answer_s": answered, "peak_rss_mib": usage.ru_maxrss / 1024, **json.loads(line)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="no-llm,llm,first-run", help="no-llm, llm, first-run (default: all)")
    parser.add_argument("--llm", default=Settings.from_env().llm, help="the model (default: CORRIDOR_LLM or shipped)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each case")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if not cases or not set(cases) <= {"no-llm", "llm", "first-run"}:
        parser.error("--cases takes no-llm, llm and/or first-run")

    print_header("Cold start: process start → first answer, and peak memory")
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in cases}
    with tempfile.TemporaryDirectory(prefix="corridor-cold-") as tmp:
        settings = seed_settings(Path(tmp))
        if {"no-llm", "llm"} & set(cases):
            CorpusIndex(settings).reindex()  # the restart cases find an index
        for repeat in range(args.repeats):
            for case in cases:
                index = settings.index_dir
                if case == "first-run":
                    index = Path(tmp) / f"fresh-{repeat}"
                    shutil.rmtree(index, ignore_errors=True)
                llm = args.llm if case == "llm" else "none"
                run = run_child(settings.corpus_dir, index, llm)
                if case == "llm" and not run["uses_llm"]:
                    raise SystemExit(f"the language model did not start: {run['llm_error']}")
                runs[case].append(run)
                print(f"  {case}: {run['start_to_answer_s']:.1f} s to the answer (import {run['import_s']:.1f}, "
                      f"warm-up {run['warm_up_s']:.1f}, ask {run['ask_s']:.1f}), peak RSS "
                      f"{run['peak_rss_mib']:.0f} MiB, {run['mode']}", flush=True)  # fmt: skip

    rows = [["case", "runs", "start→answer s", "first run s", "import s", "warm-up s", "ask s", "peak RSS MiB"]]
    summary = {}
    for case, case_runs in runs.items():
        later = case_runs[1:] or case_runs
        s = summary[case] = {
            "runs": len(case_runs),
            "start_to_answer_s": median([r["start_to_answer_s"] for r in later]),
            "first_run_s": case_runs[0]["start_to_answer_s"],
            **{k: median([r[k] for r in later]) for k in ("import_s", "warm_up_s", "ask_s")},
            "peak_rss_mib": max(r["peak_rss_mib"] for r in case_runs),
        }
        seconds = [f"{s[k]:.1f}" for k in ("start_to_answer_s", "first_run_s", "import_s", "warm_up_s", "ask_s")]
        rows.append([case, str(len(case_runs)), *seconds, f"{s['peak_rss_mib']:.0f}"])
    print()
    print(table(rows))
    print("medians over the runs after the first (the page cache then holds the model files); peak RSS: the largest.")
    if "no-llm" in summary and "llm" in summary:
        a, b = summary["llm"], summary["no-llm"]
        print(f"llm / no-llm: start→answer ×{a['start_to_answer_s'] / b['start_to_answer_s']:.1f}, "
              f"peak memory ×{a['peak_rss_mib'] / b['peak_rss_mib']:.1f}")  # fmt: skip
    write_json(args.json, {"benchmark": "cold_start", "question": QUESTION, "summary": summary, "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
