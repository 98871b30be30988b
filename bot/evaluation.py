"""Measure the bot on a QA file: retrieval hits, answer accuracy, refusals and answer language, per language.

QA file format (JSON lines): ``id``, ``lang``, ``q``, ``answerable``, ``must`` (groups of
alternatives, one of each group must appear in the answer), ``evidence`` (a substring one of the
top-3 sources must contain).
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.answer import CITATION, normalise
from bot.bot import CorridorBot
from bot.language import detect_language

_QUOTE = re.compile(r"«[^»]*»")


@dataclass
class ItemResult:
    id: str
    lang: str
    answerable: bool
    hit_at_1: bool | None
    hit_at_3: bool | None
    correct: bool
    language_ok: bool
    answer: str
    seconds: float
    retrieved: list[str] = field(default_factory=list)


def load_qa(path: Path) -> list[dict[str, Any]]:
    """Read a QA file, with a clear error for a malformed line."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            item["q"], item["lang"]
        except (json.JSONDecodeError, KeyError) as e:
            raise ValueError(f"{path}:{number}: not a QA item ({e})") from e
        items.append(item)
    return items


def answer_language(text: str) -> str:
    """The language the bot wrote in: citations and «quoted» source passages do not count."""
    return detect_language(_QUOTE.sub(" ", CITATION.sub(" ", text)))


def evaluate_item(bot: CorridorBot, item: dict[str, Any]) -> ItemResult:
    started = time.perf_counter()
    _, passages = bot.retrieve(item["q"], top_k=3)
    texts = [normalise(p.content or "") for p in passages]
    evidence = item.get("evidence")
    hit1 = hit3 = None
    if evidence:
        needle = normalise(evidence)
        hit1 = bool(texts) and needle in texts[0]
        hit3 = any(needle in t for t in texts)
    answer = bot.ask(item["q"])
    if item.get("answerable", True):
        body = normalise(answer.text)
        correct = answer.answered and all(any(normalise(alt) in body for alt in group) for group in item["must"])
    else:
        correct = not answer.answered
    return ItemResult(
        id=item.get("id", ""), lang=item["lang"], answerable=item.get("answerable", True), hit_at_1=hit1,
        hit_at_3=hit3, correct=correct, language_ok=answer_language(answer.text) == item["lang"],
        answer=answer.text, seconds=round(time.perf_counter() - started, 2),
        retrieved=[p.content[:80] if p.content else "" for p in passages],
    )  # fmt: skip


def _rate(values: list[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 3) if known else None


def summarise(results: list[ItemResult]) -> dict[str, dict[str, Any]]:
    """Per-language and overall rates."""
    groups: dict[str, list[ItemResult]] = defaultdict(list)
    for r in results:
        groups[r.lang].append(r)
        groups["all"].append(r)
    summary = {}
    for lang, items in sorted(groups.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        answerable = [r for r in items if r.answerable]
        unanswerable = [r for r in items if not r.answerable]
        summary[lang] = {
            "items": len(items),
            "hit@1": _rate([r.hit_at_1 for r in items]),
            "hit@3": _rate([r.hit_at_3 for r in items]),
            "answer_accuracy": _rate([r.correct for r in answerable]),
            "refusal_accuracy": _rate([r.correct for r in unanswerable]),
            "language_match": _rate([r.language_ok for r in items]),
            "median_seconds": sorted(r.seconds for r in items)[len(items) // 2],
        }
    return summary


def format_table(summary: dict[str, dict[str, Any]]) -> str:
    columns = ["items", "hit@1", "hit@3", "answer_accuracy", "refusal_accuracy", "language_match", "median_seconds"]
    rows = [["lang", *columns]] + [
        [lang, *("-" if v[c] is None else str(v[c]) for c in columns)] for lang, v in summary.items()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


def run_eval(bot: CorridorBot, qa_path: Path) -> dict[str, Any]:
    """Evaluate every item; returns ``{"summary", "items", "mode"}``."""
    results = [evaluate_item(bot, item) for item in load_qa(qa_path)]
    return {
        "mode": "llm" if bot.uses_llm else f"extractive ({bot.llm_error})",
        "summary": summarise(results),
        "items": [r.__dict__ for r in results],
    }
