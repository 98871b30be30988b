"""Helpers shared by the benchmarks: the machine, percentiles, a private copy of the seed corpus, questions."""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bot import Settings  # noqa: E402
from bot.evaluation import machine_info  # noqa: E402

SEED = REPO_ROOT / "corpus" / "2008-02-04-lifescience-corridor-france-kansai.txt"
QA_DEV = REPO_ROOT.parent / "shared" / "eval" / "qa-dev.jsonl"
#: Used when the shared QA file is not there: two questions per language about the seed document.
FALLBACK_QUESTIONS = [
    ("fr", "Qui dirige le pôle Alsace BioValley ?"),
    ("fr", "Quel est le numéro de téléphone du contact presse ?"),
    ("en", "When will the partnership with the United States be signed?"),
    ("en", "What is the website of Lyonbiopole?"),
    ("ja", "関西バイオ推進会議の会長は誰ですか？"),
    ("ja", "署名式はどの都市で行われましたか？"),
]


def questions(per_language: int | None = None, answerable_only: bool = False) -> list[tuple[str, str]]:
    """(language, question) pairs from the shared dev QA file, interleaved fr/en/ja."""
    pairs = list(FALLBACK_QUESTIONS)
    if QA_DEV.is_file():
        items = [json.loads(line) for line in QA_DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
        pairs = [(i["lang"], i["q"]) for i in items if i.get("answerable", True) or not answerable_only]
    by_language: dict[str, list[str]] = {}
    for language, question in pairs:
        by_language.setdefault(language, []).append(question)
    lists = {lang: qs[:per_language] for lang, qs in by_language.items()}
    longest = max(map(len, lists.values()))
    return [(lang, qs[n]) for n in range(longest) for lang, qs in lists.items() if n < len(qs)]


def seed_settings(root: Path, **overrides: Any) -> Settings:
    """Settings on a private copy of the seed corpus under ``root`` (models from the usual cache)."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy2(SEED, corpus / SEED.name)
    values: dict[str, Any] = {"corpus_dir": corpus, "index_dir": root / "index", "llm": "none", **overrides}
    return Settings.from_env(**values)


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (numpy's default), without numpy."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def machine_lines() -> list[str]:
    """The machine and the thread settings the figures depend on, and how busy it was."""
    info = machine_info()
    threads = []
    try:
        import torch

        threads.append(f"torch {torch.__version__} threads {torch.get_num_threads()}")
    except ImportError:
        pass
    try:
        import faiss

        threads.append(f"faiss {faiss.__version__} threads {faiss.omp_get_max_threads()}")
    except ImportError:
        pass
    quota = f", cgroup CPU quota {info['cgroup_cpu_quota']}" if info["cgroup_cpu_quota"] else ""
    return [
        f"machine: {info['cpu']}; {info['cpus_usable']} usable CPUs ({info['cores_physical']} physical cores, "
        f"{info['cpus_logical']} logical{quota}); {info['memory_gib']} GiB RAM; {info['platform']}",
        f"python {info['python']}; {'; '.join(threads)}; load average {os.getloadavg()[0]:.2f} (1 min) at start"
        + ("  <-- busy machine: figures are not representative" if os.getloadavg()[0] > 0.5 else ""),
    ]


def print_header(title: str) -> None:
    print(title)
    for line in machine_lines():
        print(line)
    print()


def table(rows: list[list[str]]) -> str:
    """Right-aligned columns (the first left-aligned)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    )


def write_json(path: str | None, data: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps({"machine": machine_info(), **data}, indent=2, ensure_ascii=False) + "\n")
        print(f"\nresults written to {path}")


WORDS = SEED.read_text(encoding="utf-8").split()


def filler_text(rng: random.Random, number: int, words: int = 60) -> str:
    """A chunk-sized French-looking text drawn from the seed's vocabulary (unique thanks to ``number``)."""
    return f"Note {number}. " + " ".join(rng.choice(WORDS) for _ in range(words)) + "."
