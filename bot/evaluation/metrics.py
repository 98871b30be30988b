"""Judging and counting: the QA items, each system's per-item result, and the per-language rates and counts.

Pure functions of the items and the retrieved passages or answers: nothing here loads a model or an index.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haystack import Document

from bot.answer import normalise, own_words
from bot.language import LANGUAGES, detect_language

SYSTEMS: dict[str, str] = {
    "bm25": "BM25 only: Haystack InMemoryBM25Retriever over the indexed chunks (NFKC, words + single CJK characters)",
    "dense": "dense only, the shipped retriever: e5 question embedding + FAISS over the indexed chunks",
    "extractive": "dense retrieval + the extractive writer (quotes the passages, no language model)",
    "shipped": "the configured bot: dense retrieval + its answer writer (the language model when available)",
}
RETRIEVERS = ("bm25", "dense")
WRITERS = ("extractive", "shipped")
DEFAULT_BASELINES = ",".join(SYSTEMS)


@dataclass
class ItemResult:
    """One QA item as one system did it; answer fields are None for the retrieval-only systems."""

    id: str
    lang: str
    answerable: bool
    hit_at_1: bool | None
    hit_at_3: bool | None
    correct: bool | None
    language_ok: bool | None
    answer: str
    seconds: float
    retrieved: list[str] = field(default_factory=list)
    system: str = "shipped"
    question: str = ""
    #: Rank (1-based) of the first passage holding the evidence within top_k; 0 when none does;
    #: None when the item has no evidence or its retrieval was not measured.
    rank: int | None = None
    answered: bool | None = None
    answer_language: str | None = None
    #: The passages as the report shows them: rank, document, score, the start of the text, evidence.
    passages: list[dict[str, Any]] = field(default_factory=list)
    #: Why the item counts as failed for this system (empty when it passed).
    problems: list[str] = field(default_factory=list)
    #: Which writer gave the answer ("llm", "extractive", "refusal") and what its checks rejected on the way.
    mode: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def reciprocal_rank(self) -> float | None:
        return None if self.rank is None else (1 / self.rank if self.rank else 0.0)

    @property
    def wrong_answer(self) -> bool | None:
        """Answered yet judged wrong (a refusal never is): the failure a user cannot tell from a right answer.

        None when the system writes no answers (bm25, dense) or the result predates ``answered``.
        """
        return None if self.answered is None else bool(self.answered and not self.correct)


def load_qa(path: Path) -> list[dict[str, Any]]:
    """Read a QA file, with a clear error for a malformed line."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            item["q"], item["lang"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise ValueError(f"{path}:{number}: not a QA item ({e})") from e
        items.append(item)
    return items


def parse_baselines(value: str | Iterable[str]) -> list[str]:
    """``"bm25,dense"`` → the systems to run, in the canonical order; an unknown name is a ValueError."""
    names = [n.strip() for n in (value.split(",") if isinstance(value, str) else value) if n.strip()]
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown or not names:
        raise ValueError(f"unknown baseline {', '.join(unknown) or '(none)'}: choose from {', '.join(SYSTEMS)}")
    return [n for n in SYSTEMS if n in names]


def answer_language(text: str) -> str:
    """The language the bot wrote in: citations and «quoted» source passages do not count."""
    return detect_language(own_words(text))


# Judging one item ---------------------------------------------------------------------------------


def evidence_rank(passages: Sequence[Document], evidence: str | None) -> int | None:
    """1-based rank of the first passage containing ``evidence`` (NFKC, case-insensitive), 0 if none."""
    if not evidence:
        return None
    needle = normalise(evidence)
    return next((n for n, p in enumerate(passages, start=1) if needle in normalise(p.content or "")), 0)


def passage_views(passages: Sequence[Document], evidence: str | None, chars: int = 160) -> list[dict[str, Any]]:
    needle = normalise(evidence) if evidence else None
    return [
        {
            "rank": n,
            "document": str(p.meta.get("document", "")),
            "score": round(float(p.score or 0.0), 4),
            "text": " ".join((p.content or "").split())[:chars],
            "evidence": bool(needle and needle in normalise(p.content or "")),
        }
        for n, p in enumerate(passages, start=1)
    ]


def judge_answer(item: dict[str, Any], text: str, answered: bool) -> tuple[bool, bool, str, list[str]]:
    """(correct, language ok, language written, problems) for an answer to ``item``."""
    problems = []
    if item.get("answerable", True):
        body = normalise(text)
        missing = [group for group in item.get("must", []) if not any(normalise(alt) in body for alt in group)]
        correct = answered and not missing
        if not answered:
            problems.append("refused an answerable question")
        elif missing:
            problems.append("answer lacks " + " and ".join(" / ".join(repr(a) for a in group) for group in missing))
    else:
        correct = not answered
        if answered:
            problems.append("answered an unanswerable question")
    written = answer_language(text)
    if written != item["lang"]:
        problems.append(f"written in {written}, asked in {item['lang']}")
    return correct, written == item["lang"], written, problems


def retrieval_problem(rank: int | None, evidence: str | None, top_k: int) -> list[str]:
    if rank is None or 1 <= rank <= 3:
        return []
    where = f"at rank {rank}" if rank else f"not in the top {top_k}"
    return [f"evidence {evidence!r} {where}"]


def failures(
    items: list[dict[str, Any]], results: dict[str, list[ItemResult]], judged: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Items that a ``judged`` system failed (default: all but bm25): what was asked and expected, every
    system's problems and answers on it, and what the retrievers returned.

    Items only a baseline misses are not listed: they are visible in the summary, and would bury the
    shipped configuration's own failures.
    """
    judged = set(judged if judged is not None else [*RETRIEVERS[1:], *WRITERS]) & set(results)
    judged = judged or set(results)
    out = []
    for i, item in enumerate(items):
        row = {name: rows[i] for name, rows in results.items()}
        problems = {name: r.problems for name, r in row.items() if r.problems}
        if not judged & set(problems):
            continue
        retrieved = {name: r.passages for name, r in row.items() if name in RETRIEVERS}
        if "dense" not in retrieved and (writer := next((r for n, r in row.items() if n in WRITERS), None)):
            retrieved["dense"] = writer.passages
        out.append({
            "id": str(item.get("id", "")), "lang": item["lang"], "question": item["q"],
            "answerable": item.get("answerable", True), "evidence": item.get("evidence"), "must": item.get("must", []),
            "problems": problems,
            "ranks": {name: r.rank for name, r in row.items() if name in RETRIEVERS},
            "answers": {name: r.answer for name, r in row.items() if name in WRITERS},
            "retrieved": retrieved,
        })  # fmt: skip
    return out


# Summaries ----------------------------------------------------------------------------------------


def _rate(values: Iterable[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 3) if known else None


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 3) if known else None


def _count(values: Iterable[bool | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def summarise(results: list[ItemResult]) -> dict[str, dict[str, Any]]:
    """Per-language and overall rates of one system, and its count of wrong answers (None: nothing measured)."""
    groups: dict[str, list[ItemResult]] = defaultdict(list)
    for r in results:
        groups[r.lang].append(r)
        groups["all"].append(r)
    summary = {}
    order = {lang: n for n, lang in enumerate(LANGUAGES)}
    for lang, items in sorted(groups.items(), key=lambda kv: (kv[0] == "all", order.get(kv[0], 99), kv[0])):
        answerable = [r for r in items if r.answerable]
        unanswerable = [r for r in items if not r.answerable]
        summary[lang] = {
            "items": len(items),
            "hit@1": _rate(r.hit_at_1 for r in items),
            "hit@3": _rate(r.hit_at_3 for r in items),
            "mrr": _mean(r.reciprocal_rank for r in items),
            "answer_accuracy": _rate(r.correct for r in answerable),
            "refusal_accuracy": _rate(r.correct for r in unanswerable),
            "wrong_answers": _count(r.wrong_answer for r in items),
            "language_match": _rate(r.language_ok for r in items),
            "median_seconds": round(statistics.median(r.seconds for r in items), 4),
        }
    return summary
