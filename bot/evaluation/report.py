"""The text table, the Markdown report, its SVG chart and unicode bars: views of a run's results, computing nothing."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from bot.evaluation.metrics import RETRIEVERS, WRITERS

#: Metrics of the summary tables, in column order, with their short headers.
COLUMNS = {
    "items": "items",
    "hit@1": "hit@1",
    "hit@3": "hit@3",
    "mrr": "MRR",
    "answer_accuracy": "answer",
    "refusal_accuracy": "refusal",
    "wrong_answers": "wrong",
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
        "answered with every expected fact; **refusal**: unanswerable items declined; **wrong**: the number of "
        "items answered yet judged wrong (an answerable item missing an expected fact, or any answer to an "
        "unanswerable one; refusals are not counted), the mistakes a reader cannot tell from a right answer; "
        "**language**: the answer's "
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
