"""Measure the bot on a QA file, per language, beside baselines: retrieval hits, answers, refusals, answer language.

QA file format (JSON lines): ``id``, ``lang``, ``q``, ``answerable``, ``must`` (groups of
alternatives, one of each group must appear in the answer), ``evidence`` (a substring one of the
top-3 sources must contain).

Systems compared in one run (``corridor-bot eval --baselines …``), all over the same indexed chunks:

- ``bm25``: keyword retrieval only, what the embeddings are measured against;
- ``dense``: the shipped retriever (e5 question embedding + FAISS);
- ``extractive``: dense passages answered by quoting them (the no-LLM writer);
- ``shipped``: the configured bot, as a user gets it (the language model when one is available).

Metrics: hit@1 / hit@3 (the evidence is in the first / first three passages), MRR over the top
``settings.top_k`` passages (a miss counts 0), answer accuracy on answerable items, refusal accuracy
on unanswerable ones, answer-language match. Retrieval metrics of ``extractive`` and ``shipped`` are
those of the dense retriever they use.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, TextIO

from haystack import Document
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever
from haystack.document_stores.in_memory import InMemoryDocumentStore

from bot.answer import normalise, own_words
from bot.bot import CorridorBot
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
#: Metrics of the summary tables, in column order, with their short headers.
COLUMNS = {
    "items": "items",
    "hit@1": "hit@1",
    "hit@3": "hit@3",
    "mrr": "MRR",
    "answer_accuracy": "answer",
    "refusal_accuracy": "refusal",
    "language_match": "language",
    "median_seconds": "median s",
}
#: Chart panels: metric, title, the systems it compares.
PANELS = [
    ("hit@3", "Retrieval hit@3", RETRIEVERS),
    ("mrr", "Retrieval MRR", RETRIEVERS),
    ("answer_accuracy", "Answer accuracy", WRITERS),
    ("refusal_accuracy", "Refusal accuracy", WRITERS),
    ("language_match", "Answer language match", WRITERS),
]
COLOURS = {"bm25": "#9c9c9c", "dense": "#4e79a7", "extractive": "#f28e2b", "shipped": "#59a14f"}
# Latin words (digits included), or one CJK character: Japanese has no spaces, and single characters
# are the usual dictionary-free BM25 unit for it.
_CJK = r"\u3041-\u3096\u30a1-\u30fa\u30fc\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\uac00-\ud7af"
BM25_TOKENS = rf"[{_CJK}]|[^\W_{_CJK}]+"


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

    @property
    def reciprocal_rank(self) -> float | None:
        return None if self.rank is None else (1 / self.rank if self.rank else 0.0)


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


# BM25 baseline ------------------------------------------------------------------------------------


class BM25Baseline:
    """Keyword retrieval over the same chunks as the dense index, so the report shows what embeddings add.

    Texts and questions are NFKC-normalised (full-width letters and digits become ASCII); Japanese is
    split into single characters, other scripts into words.
    """

    def __init__(self, documents: Iterable[Document]) -> None:
        self._originals = {doc.id: doc for doc in documents if doc.content}
        self.store = InMemoryDocumentStore(bm25_tokenization_regex=BM25_TOKENS, shared=False)
        self.store.write_documents(
            [
                Document(id=d.id, content=unicodedata.normalize("NFKC", d.content or ""))
                for d in self._originals.values()
            ]
        )
        self.retriever = InMemoryBM25Retriever(self.store)

    def retrieve(self, question: str, top_k: int) -> list[Document]:
        query = unicodedata.normalize("NFKC", question).strip()
        if not query:
            return []
        found = self.retriever.run(query=query, top_k=top_k)["documents"]
        return [replace(self._originals[d.id], score=d.score) for d in found]


def indexed_chunks(bot: CorridorBot) -> list[Document]:
    """The chunks of the bot's live index generation (read through the public ``CorpusIndex.load``)."""
    bot.warm_up()
    loaded = bot.index.load()
    if loaded is None:
        raise ValueError(f"the index in {bot.settings.index_dir} cannot be loaded")
    return loaded.store.filter_documents()


# Running ------------------------------------------------------------------------------------------

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
            system=name, answered=answer.answered, answer_language=written, problems=problems,
        )  # fmt: skip
    return {name: out[name] for name in systems if name in out}


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


def summarise(results: list[ItemResult]) -> dict[str, dict[str, Any]]:
    """Per-language and overall rates of one system (None where nothing was measured)."""
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
            "language_match": _rate(r.language_ok for r in items),
            "median_seconds": round(statistics.median(r.seconds for r in items), 4),
        }
    return summary


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _align(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def format_table(summary: dict[str, dict[str, Any]]) -> str:
    """One system's summary as an aligned text table."""
    rows = [["lang", *COLUMNS.values()]]
    rows += [[lang, *(_cell(v.get(c)) for c in COLUMNS)] for lang, v in summary.items()]
    return _align(rows)


def format_summaries(summaries: dict[str, dict[str, dict[str, Any]]]) -> str:
    """All systems side by side, one row per system and language."""
    rows = [["system", "lang", *COLUMNS.values()]]
    for system, summary in summaries.items():
        for n, (lang, v) in enumerate(summary.items()):
            rows.append([system if n == 0 else "", lang, *(_cell(v.get(c)) for c in COLUMNS)])
    return _align(rows)


def _header(results: dict[str, Any]) -> list[str]:
    s, m = results["settings"], results["machine"]
    return [
        f"QA file: {results['qa']} ({results['summaries'][results['primary']]['all']['items']} items)",
        f"answer writer: {results['mode']}; top_k {s['top_k']}; {s['chunks']} chunks; model {s['embedding_model']}",
        f"machine: {m['cpu']}, {m['cpus_usable']} CPUs usable, load {m['load_1min']}; {results['date']}; "
        f"{results['seconds']} s",
    ]


def format_text(results: dict[str, Any]) -> str:
    """What ``corridor-bot eval`` prints: the run, the table of every system, then the failed items."""
    lines = [*_header(results), "", format_summaries(results["summaries"])]
    lines += [f"note: {name}: {note}" for name, note in results["notes"].items()]
    if results["failures"]:
        lines += ["", f"failed items ({len(results['failures'])}):"]
        for f in results["failures"]:
            lines.append(f"  {f['id']} [{f['lang']}] {f['question']}")
            lines += [f"    {name}: {'; '.join(problems)}" for name, problems in f["problems"].items()]
    return "\n".join(lines)


# Markdown report and chart ------------------------------------------------------------------------


def _panel_systems(summaries: dict[str, Any], group: Sequence[str]) -> list[str]:
    return [s for s in group if s in summaries]


def _languages(summaries: dict[str, dict[str, Any]]) -> list[str]:
    return list(next(iter(summaries.values())).keys()) if summaries else []


def unicode_bars(summaries: dict[str, dict[str, dict[str, Any]]], width: int = 20) -> str:
    """The chart's panels as text bars: readable in a terminal, a diff and any Markdown viewer."""
    lines = []
    for metric, title, group in PANELS:
        systems = _panel_systems(summaries, group)
        values = [(lang, s, summaries[s][lang].get(metric)) for lang in _languages(summaries) for s in systems]
        if not any(v is not None for _, _, v in values):
            continue
        lines.append(title)
        name_width = max(len(s) for s in systems)
        last = None
        for lang, system, value in values:
            bar = "·" * width if value is None else "█" * round(value * width) + "░" * (width - round(value * width))
            lines.append(f"  {lang if lang != last else '':<4}{system:<{name_width}}  {bar} {_cell(value)}")
            last = lang
        lines.append("")
    return "\n".join(lines).rstrip()


def svg_chart(summaries: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Grouped bars per language, one panel per metric, as a self-contained SVG (no plotting library).

    Written by hand because matplotlib is not a dependency, and Mermaid's ``xychart-beta`` draws
    several bar series on top of each other rather than side by side.
    """
    panels = [(m, t, _panel_systems(summaries, g)) for m, t, g in PANELS]
    panels = [(m, t, s) for m, t, s in panels if s and any(summaries[x][lang].get(m) is not None
                                                          for x in s for lang in _languages(summaries))]  # fmt: skip
    languages = _languages(summaries)
    pw, ph, columns = 300, 190, 3
    top = 40
    rows = max(1, -(-len(panels) // columns))
    width, height = pw * min(columns, max(1, len(panels))), top + ph * rows
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    x = 10
    for system in summaries:
        out.append(f'<rect x="{x}" y="12" width="12" height="12" fill="{COLOURS.get(system, "#777")}"/>')
        out.append(f'<text x="{x + 16}" y="22">{escape(system)}</text>')
        x += 24 + 7 * len(system)
    for n, (metric, title, systems) in enumerate(panels):
        ox, oy = pw * (n % columns), top + ph * (n // columns)
        left, plot_w, plot_h, base = ox + 34, pw - 48, ph - 70, oy + ph - 32
        out.append(
            f'<text x="{ox + pw / 2}" y="{oy + 16}" text-anchor="middle" font-weight="bold">{escape(title)}</text>'
        )
        for tick in (0.0, 0.5, 1.0):
            y = base - tick * plot_h
            out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#666">{tick:g}</text>')
        group_w = plot_w / max(1, len(languages))
        bar_w = min(22.0, (group_w - 10) / len(systems))
        for g, lang in enumerate(languages):
            gx = left + g * group_w + (group_w - bar_w * len(systems)) / 2
            for b, system in enumerate(systems):
                value = summaries[system][lang].get(metric)
                bx = gx + b * bar_w
                if value is None:
                    out.append(
                        f'<text x="{bx + bar_w / 2:.1f}" y="{base - 3}" text-anchor="middle" fill="#999">–</text>'
                    )
                    continue
                h = value * plot_h
                out.append(
                    f'<rect x="{bx:.1f}" y="{base - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                    f'fill="{COLOURS.get(system, "#777")}"><title>{escape(system)} {lang}: {value}</title></rect>'
                )
                out.append(
                    f'<text x="{bx + bar_w / 2 - 1:.1f}" y="{base - h - 3:.1f}" text-anchor="middle" '
                    f'font-size="9">{value:.2f}</text>'
                )
            out.append(f'<text x="{left + (g + 0.5) * group_w:.1f}" y="{base + 15}" text-anchor="middle">{lang}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_report(results: dict[str, Any], chart: str | None = None) -> str:
    """The full report: run details, the summary table of every system, the chart, the failed items."""
    summaries = results["summaries"]
    s = results["settings"]
    m = results["machine"]
    headers = ["system", "lang", *COLUMNS.values()]
    lines = [
        "# Corridor Bot evaluation",
        "",
        f"- QA file: `{results['qa']}` ({summaries[results['primary']]['all']['items']} items), run {results['date']} "
        f"in {results['seconds']} s",
        f"- Answer writer: {results['mode']}; embedding model `{s['embedding_model']}`; top_k {s['top_k']}, "
        f"context_k {s['context_k']}; {s['chunks']} indexed chunks",
        f"- Machine: {m['cpu']}, {m['cpus_usable']} usable CPUs ({m['cores_physical']} physical cores), "
        f"{m['memory_gib']} GiB RAM, load average {m['load_1min']} at the start; Python {m['python']}",
        "",
        "## Summary",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" if i < 2 else "--:" for i in range(len(headers))) + "|",
    ]
    for system, summary in summaries.items():
        for lang, v in summary.items():
            row = [f"**{system}**" if lang == "all" else system, f"**{lang}**" if lang == "all" else lang]
            lines.append("| " + " | ".join(row + [_cell(v.get(c)) for c in COLUMNS]) + " |")
    lines += ["", "Systems:", ""]
    lines += [f"- **{name}**: {desc}" for name, desc in results["descriptions"].items()]
    lines += [f"- {name}: {note}" for name, note in results["notes"].items()]
    lines += [
        "",
        "Metrics: **hit@1 / hit@3**: the evidence passage is first / in the first three; **MRR**: mean of "
        f"1/rank of the evidence within the top {s['top_k']} (0 when absent); these three over the items that "
        "name their evidence (answerable ones); **answer**: answerable items "
        "answered with every expected fact; **refusal**: unanswerable items declined; **language**: the answer's "
        "own words (not quotes or citations) are in the question's language; **median s**: per question, "
        "retrieval only for bm25/dense, the whole answer for extractive/shipped. The retrieval columns of "
        "extractive and shipped are those of the dense retriever they use.",
        "",
        "## Per language",
        "",
    ]
    if chart:
        lines += [f"![Per-language results]({chart})", ""]
    lines += ["```text", unicode_bars(summaries), "```", "", f"## Failed items ({len(results['failures'])})", ""]
    if not results["failures"]:
        lines.append("None.")
    for f in results["failures"]:
        lines += [f"### {f['id']} ({f['lang']}): {_md(f['question'])}", ""]
        expected = "an unanswerable question: the bot should decline"
        if f["answerable"]:
            expected = "; ".join(" or ".join(f"`{a}`" for a in group) for group in f["must"]) or "(any answer)"
            expected += f"; evidence `{f['evidence']}`" if f["evidence"] else ""
        lines.append(f"- expected: {expected}")
        lines += [f"- **{name}**: {_md('; '.join(problems))}" for name, problems in f["problems"].items()]
        lines += [f"- {name} answer: {_md(text)[:400]}" for name, text in f["answers"].items()]
        for name, passages in f["retrieved"].items():
            rank = f["ranks"].get(name)
            where = "" if rank is None else f" (evidence at rank {rank})" if rank else " (evidence not retrieved)"
            lines += ["", f"Retrieved by {name}{where}:", ""]
            lines += [
                f"{p['rank']}. {'✅ ' if p['evidence'] else ''}`{p['document']}` {p['score']:.3f}: {_md(p['text'])}"
                for p in passages
            ] or ["(nothing)"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_report(results: dict[str, Any], path: Path) -> list[Path]:
    """Write the Markdown report at ``path`` and its chart beside it (same name, ``.svg``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chart = path.with_suffix(".svg")
    chart.write_text(svg_chart(results["summaries"]), encoding="utf-8")
    path.write_text(markdown_report(results, chart.name), encoding="utf-8")
    return [path, chart]


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
