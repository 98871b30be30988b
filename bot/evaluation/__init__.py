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
on unanswerable ones, wrong answers (how many items were answered yet judged wrong: refusals are
not wrong answers), answer-language match. Retrieval metrics of ``extractive`` and ``shipped`` are
those of the dense retriever they use.

The package holds the metrics and judging (``metrics``), the BM25 baseline (``baselines``), the run
(``run``) and the text table, Markdown report and chart (``report``); the names below are its API.
"""

from bot.evaluation.baselines import BM25_TOKENS, BM25Baseline, indexed_chunks
from bot.evaluation.metrics import (
    DEFAULT_BASELINES,
    RETRIEVERS,
    SYSTEMS,
    WRITERS,
    ItemResult,
    answer_language,
    evidence_rank,
    failures,
    judge_answer,
    load_qa,
    parse_baselines,
    passage_views,
    retrieval_problem,
    summarise,
)
from bot.evaluation.report import (
    COLOURS,
    COLUMNS,
    PANELS,
    format_summaries,
    format_table,
    format_text,
    markdown_report,
    svg_chart,
    unicode_bars,
    write_report,
)
from bot.evaluation.run import Progress, assemble, evaluate_item, machine_info, run_eval, run_eval_command

__all__ = [
    "BM25_TOKENS",
    "COLOURS",
    "COLUMNS",
    "DEFAULT_BASELINES",
    "PANELS",
    "RETRIEVERS",
    "SYSTEMS",
    "WRITERS",
    "BM25Baseline",
    "ItemResult",
    "Progress",
    "answer_language",
    "assemble",
    "evaluate_item",
    "evidence_rank",
    "failures",
    "format_summaries",
    "format_table",
    "format_text",
    "indexed_chunks",
    "judge_answer",
    "load_qa",
    "machine_info",
    "markdown_report",
    "parse_baselines",
    "passage_views",
    "retrieval_problem",
    "run_eval",
    "run_eval_command",
    "summarise",
    "svg_chart",
    "unicode_bars",
    "write_report",
]
