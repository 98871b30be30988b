"""``bot.evaluation``: the metrics on hand-made results, the report, and one real run with the extractive bot."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from haystack import Document

from bot import CorridorBot
from bot.cli import _parser
from bot.evaluation import (
    BM25_TOKENS,
    BM25Baseline,
    ItemResult,
    assemble,
    evidence_rank,
    failures,
    format_summaries,
    format_text,
    judge_answer,
    markdown_report,
    parse_baselines,
    passage_views,
    run_eval,
    run_eval_command,
    summarise,
    svg_chart,
    unicode_bars,
    write_report,
)

PASSAGES = [
    Document(content="Le pôle Cancer-Bio-Santé est dirigé par Jean-Pierre Saintouil.", meta={"document": "a.txt"}),
    Document(content="Nicolas Carboni, Directeur Général du Pôle Alsace BioValley.", meta={"document": "a.txt"}),
    Document(content="Contact presse : VICBIOSTART, tél. 05 61 14 24 54.", meta={"document": "b.txt"}),
]


def result(lang: str, system: str = "shipped", *, rank: int | None = 1, correct: bool | None = True,
           answerable: bool = True, language_ok: bool | None = True, seconds: float = 1.0,
           problems: list[str] | None = None, answered: bool | None = None) -> ItemResult:  # fmt: skip
    """One hand-made item result; hit@1/@3 follow from ``rank`` as in ``evaluate_item``."""
    return ItemResult(
        id=f"{lang}-{system}-{rank}", lang=lang, answerable=answerable,
        hit_at_1=None if rank is None else rank == 1, hit_at_3=None if rank is None else 1 <= rank <= 3,
        correct=correct, language_ok=language_ok, answer="text", seconds=seconds, system=system, rank=rank,
        problems=problems or [], answered=answered,
    )  # fmt: skip


# Judging one item ---------------------------------------------------------------------------------


def test_evidence_rank_is_1_based_nfkc_and_case_insensitive():
    assert evidence_rank(PASSAGES, "Nicolas Carboni") == 2
    assert evidence_rank(PASSAGES, "ＶＩＣＢＩＯＳＴＡＲＴ") == 3  # full-width letters, NFKC
    assert evidence_rank(PASSAGES, "saintouil") == 1
    assert evidence_rank(PASSAGES, "Masahiro Nadamoto") == 0
    assert evidence_rank(PASSAGES, None) is None
    assert evidence_rank([], "x") == 0


def test_reciprocal_rank():
    assert result("fr", rank=1).reciprocal_rank == 1.0
    assert result("fr", rank=4).reciprocal_rank == 0.25
    assert result("fr", rank=0).reciprocal_rank == 0.0
    assert result("fr", rank=None).reciprocal_rank is None


def test_passage_views_mark_the_evidence():
    views = passage_views(PASSAGES, "Carboni", chars=20)
    assert [v["evidence"] for v in views] == [False, True, False]
    assert views[1] == {"rank": 2, "document": "a.txt", "score": 0.0, "text": "Nicolas Carboni, Dir", "evidence": True}


FR_CARBONI = {"lang": "fr", "must": [["carboni"]]}
UNANSWERABLE = {"lang": "en", "answerable": False, "must": []}


@pytest.mark.parametrize(
    ("item", "text", "answered", "correct", "problem"),
    [
        (FR_CARBONI, "Le pôle est dirigé par Nicolas Carboni [2].", True, True, None),
        ({"lang": "en", "must": [["june 2008", "juin 2008"]]}, "It will be signed in Juin 2008 [1].", True, True, None),
        ({"lang": "fr", "must": [["midi-pyr"], ["limousin"]]}, "Le Limousin [1].", True, False, "answer lacks"),
        (FR_CARBONI, "Les documents ne contiennent pas la réponse.", False, False, "refused"),
        (UNANSWERABLE, "The documents do not contain the answer.", False, True, None),
        (UNANSWERABLE, "The president is Bob [1].", True, False, "answered an"),
    ],
)
def test_judge_answer(item: dict[str, Any], text: str, answered: bool, correct: bool, problem: str | None):
    ok, language_ok, written, problems = judge_answer(item, text, answered)
    assert ok is correct
    assert language_ok and written == item["lang"]
    assert (problem is None and not problems) or any(p.startswith(problem or "") for p in problems), problems


def test_answer_language_ignores_quotes_and_citations():
    quoted = "D'après les documents :\n« Nicolas Carboni Directeur Général du Pôle Alsace BioValley » [2]"
    assert judge_answer({"lang": "fr", "must": [["carboni"]]}, quoted, True)[:2] == (True, True)
    correct, language_ok, written, problems = judge_answer({"lang": "ja", "must": [["carboni"]]}, quoted, True)
    assert correct and not language_ok and written == "fr"
    assert problems == ["written in fr, asked in ja"]


def test_parse_baselines():
    assert parse_baselines("shipped, bm25") == ["bm25", "shipped"]  # canonical order
    assert parse_baselines(["dense"]) == ["dense"]
    with pytest.raises(ValueError, match="unknown baseline hybrid"):
        parse_baselines("bm25,hybrid")
    with pytest.raises(ValueError, match="choose from"):
        parse_baselines(" , ")


# BM25 baseline ------------------------------------------------------------------------------------


def test_bm25_tokens_split_japanese_into_characters_and_latin_into_words():
    assert re.findall(BM25_TOKENS, "bio-japan 2008の会期はいつ？") == [
        "bio",
        "japan",
        "2008",
        "の",
        "会",
        "期",
        "は",
        "い",
        "つ",
    ]
    assert re.findall(BM25_TOKENS, "pôle d'alsace_biovalley") == ["pôle", "d", "alsace", "biovalley"]


def test_bm25_baseline_finds_japanese_and_full_width_and_returns_the_original_chunks():
    docs = [
        Document(content="署名式は大阪で行われた。", meta={"document": "ja.txt"}),
        Document(content="La DGE soutient le Corridor.", meta={"document": "fr.txt"}),
        Document(content="Le salon aura lieu à Munich.", meta={"document": "fr.txt"}),
    ]
    bm25 = BM25Baseline(docs)
    found = bm25.retrieve("署名式はどこ？", top_k=2)
    assert found[0].content == "署名式は大阪で行われた。" and found[0].meta == {"document": "ja.txt"}
    assert found[0].score is not None and found[0].score > 0
    assert bm25.retrieve("ＤＧＥ", top_k=3)[0].content == "La DGE soutient le Corridor."  # NFKC
    assert bm25.retrieve("  ", top_k=3) == []
    assert bm25.retrieve("zzz", top_k=3) == []  # BM25L drops documents without a query term


# Summaries and reports ----------------------------------------------------------------------------


def hand_made() -> tuple[list[dict[str, Any]], dict[str, list[ItemResult]]]:
    """Three items (fr, ja answerable, en unanswerable) with bm25, dense and shipped results."""
    items = [
        {"id": "q1", "lang": "fr", "q": "Qui dirige Alsace BioValley ?", "answerable": True, "must": [["carboni"]],
         "evidence": "Nicolas Carboni"},
        {"id": "q2", "lang": "ja", "q": "誰が？", "answerable": True, "must": [["saintouil"]], "evidence": "Saintouil"},
        {"id": "q3", "lang": "en", "q": "Share price?", "answerable": False, "must": [], "evidence": None},
    ]  # fmt: skip
    results = {
        "bm25": [
            result("fr", "bm25", rank=2, correct=None, language_ok=None, seconds=0.001),
            result("ja", "bm25", rank=0, correct=None, language_ok=None, seconds=0.003,
                   problems=["evidence 'Saintouil' not in the top 5"]),
            result("en", "bm25", rank=None, correct=None, language_ok=None, answerable=False, seconds=0.002),
        ],
        "dense": [
            result("fr", "dense", rank=1, correct=None, language_ok=None, seconds=0.02),
            result("ja", "dense", rank=4, correct=None, language_ok=None, seconds=0.04,
                   problems=["evidence 'Saintouil' at rank 4"]),
            result("en", "dense", rank=None, correct=None, language_ok=None, answerable=False, seconds=0.03),
        ],
        "shipped": [
            result("fr", rank=1, correct=True, seconds=2.0, answered=True),
            result("ja", rank=4, correct=False, language_ok=False, seconds=4.0, answered=True,
                   problems=["answer lacks 'saintouil'", "written in fr, asked in ja"]),
            result("en", rank=None, correct=True, answerable=False, seconds=3.0, answered=False),
        ],
    }  # fmt: skip
    for rows in results.values():
        rows[1].passages = passage_views(PASSAGES, "Saintouil")
    return items, results


def test_summarise_per_language_and_overall():
    _, results = hand_made()
    summary = summarise(results["shipped"])
    assert list(summary) == ["fr", "en", "ja", "all"]  # the bot's languages in order, then the total
    assert summary["all"] == {
        "items": 3, "hit@1": 0.5, "hit@3": 0.5, "mrr": 0.625, "answer_accuracy": 0.5, "refusal_accuracy": 1.0,
        "wrong_answers": 1, "language_match": 0.667, "median_seconds": 3.0,
    }  # fmt: skip
    assert summary["en"]["hit@1"] is None and summary["en"]["mrr"] is None  # no evidence to find
    assert summary["en"]["answer_accuracy"] is None and summary["en"]["refusal_accuracy"] == 1.0
    assert summary["ja"]["mrr"] == 0.25 and summary["ja"]["language_match"] == 0.0
    bm25 = summarise(results["bm25"])["all"]
    assert bm25["mrr"] == 0.25 and bm25["hit@3"] == 0.5  # ranks 2 and 0: (1/2 + 0) / 2
    assert bm25["answer_accuracy"] is None and bm25["language_match"] is None and bm25["wrong_answers"] is None
    assert bm25["median_seconds"] == 0.002


def test_wrong_answers_count_answers_judged_wrong_never_refusals():
    """Wrong: an answerable item answered without every fact, or any answer to an unanswerable one."""
    cases = [
        (FR_CARBONI, "Le pôle est dirigé par Jean Dupont [1].", True),  # answered, lacks the fact: wrong
        (FR_CARBONI, "Les documents ne contiennent pas la réponse.", False),  # refused: a miss, not wrong
        (FR_CARBONI, "Le pôle est dirigé par Nicolas Carboni [2].", True),  # right
        (UNANSWERABLE, "The president is Bob [1].", True),  # any answer to an unanswerable item: wrong
        (UNANSWERABLE, "The documents do not contain the answer.", False),  # refused: right
    ]
    results = []
    for n, (item, text, answered) in enumerate(cases):
        correct, language_ok, _, problems = judge_answer(item, text, answered)
        results.append(result(item["lang"], rank=None, correct=correct, answerable=item.get("answerable", True),
                              language_ok=language_ok, problems=problems, answered=answered))  # fmt: skip
        results[-1].id = f"w{n}"
    assert [r.wrong_answer for r in results] == [True, False, False, True, False]
    summary = summarise(results)
    assert {lang: v["wrong_answers"] for lang, v in summary.items()} == {"fr": 1, "en": 1, "all": 2}
    assert summary["fr"]["answer_accuracy"] == 0.333 and summary["en"]["refusal_accuracy"] == 0.5
    retrieval_only = summarise([result("fr", "dense", correct=None, language_ok=None)])
    assert retrieval_only["all"]["wrong_answers"] is None


def test_old_style_item_results_still_summarise():
    """``ItemResult`` built positionally, as before ranks existed: MRR is unknown, the rest as before."""
    summary = summarise([ItemResult("a", "fr", True, True, True, True, True, "x", 1.0)])
    assert summary["fr"]["hit@1"] == 1.0 and summary["fr"]["mrr"] is None


def test_failures_list_the_shipped_configurations_failures_with_what_was_retrieved():
    items, results = hand_made()
    listed = failures(items, results, {"shipped", "dense"})
    assert [f["id"] for f in listed] == ["q2"]
    f = listed[0]
    assert f["problems"] == {
        "bm25": ["evidence 'Saintouil' not in the top 5"],
        "dense": ["evidence 'Saintouil' at rank 4"],
        "shipped": ["answer lacks 'saintouil'", "written in fr, asked in ja"],
    }
    assert f["ranks"] == {"bm25": 0, "dense": 4} and f["answers"] == {"shipped": "text"}
    assert [p["evidence"] for p in f["retrieved"]["dense"]] == [True, False, False]
    assert failures(items, {"bm25": results["bm25"]}, {"shipped", "dense"})[0]["id"] == "q2"  # bm25 alone: its own
    assert failures(items, results, {"shipped"})[0]["problems"]["shipped"]


def assembled() -> dict[str, Any]:
    items, results = hand_made()
    settings = {"top_k": 5, "context_k": 4, "embedding_model": "e5", "llm": "none", "corpus_dir": "c", "chunks": 19}
    return assemble(items, results, mode="extractive (disabled)", qa="qa.jsonl", settings=settings, seconds=12.3)


def test_assemble_keeps_the_old_keys_and_adds_every_system():
    results = assembled()
    assert results["systems"] == ["bm25", "dense", "shipped"] and results["primary"] == "shipped"
    assert results["summary"] == results["summaries"]["shipped"]
    assert [results["summaries"][s]["all"]["wrong_answers"] for s in results["systems"]] == [None, None, 1]
    assert [row["system"] for row in results["items"]] == ["shipped"] * 3  # one row per item, as before
    assert {name: len(rows) for name, rows in results["baseline_items"].items()} == {"bm25": 3, "dense": 3}
    assert results["machine"]["cpus_usable"] >= 1 and results["machine"]["cpu"]
    json.dumps(results, ensure_ascii=False)  # --json must not fail on any field


def test_text_table_and_bars():
    results = assembled()
    table = format_summaries(results["summaries"])
    lines = table.splitlines()
    assert lines[0].split() == ["system", "lang", "items", "hit@1", "hit@3", "MRR", "answer", "refusal", "wrong",
                                "language", "median", "s"]  # fmt: skip
    assert len(lines) == 1 + 3 * 4 and lines[1].split()[:2] == ["bm25", "fr"]
    text = format_text(results)
    assert "failed items (1):" in text and "shipped: answer lacks 'saintouil'; written in fr, asked in ja" in text
    bars = unicode_bars(results["summaries"], width=10)
    assert "Retrieval hit@3" in bars and "Answer accuracy" in bars
    assert "ja  bm25   ░░░░░░░░░░ 0.0" in bars and "██████████ 1.0" in bars


def test_markdown_report_and_svg_chart(tmp_path: Path):
    results = assembled()
    md = markdown_report(results, "chart.svg")
    assert md.startswith("# Corridor Bot evaluation\n")
    assert "| system | lang | items | hit@1 | hit@3 | MRR | answer | refusal | wrong | language | median s |" in md
    assert "| **shipped** | **all** | 3 | 0.5 | 0.5 | 0.625 | 0.5 | 1.0 | 1 | 0.667 | 3.0 |" in md
    assert "| **bm25** | **all** | 3 | 0.0 | 0.5 | 0.25 | - | - | - | - | 0.002 |" in md
    assert "**wrong**: the number of items answered yet judged wrong" in md
    assert "![Per-language results](chart.svg)" in md and "```text\nRetrieval hit@3" in md
    assert "## Failed items (1)" in md and "### q2 (ja): 誰が？" in md
    assert "- expected: `saintouil`; evidence `Saintouil`" in md
    assert "Retrieved by dense (evidence at rank 4):" in md and "Retrieved by bm25 (evidence not retrieved):" in md
    assert "1. ✅ `a.txt` 0.000: Le pôle Cancer-Bio-Santé" in md
    assert results["machine"]["cpu"] in md

    root = ET.fromstring(svg_chart(results["summaries"]))
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "dense ja: 0.0" in titles and "bm25 all: 0.25" in titles and "shipped fr: 1.0" in titles
    panels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("font-weight") == "bold"]
    assert panels == ["Retrieval hit@3", "Retrieval MRR", "Answer accuracy", "Refusal accuracy",
                      "Answer language match"]  # fmt: skip

    written = write_report(results, tmp_path / "out" / "eval.md")
    assert written == [tmp_path / "out" / "eval.md", tmp_path / "out" / "eval.svg"]
    assert "](eval.svg)" in written[0].read_text(encoding="utf-8")
    ET.fromstring(written[1].read_text(encoding="utf-8"))


def test_cli_eval_flags():
    args = _parser().parse_args(["eval", "--qa", "qa.jsonl", "--json", "--report", "r.md", "--baselines", "bm25"])
    assert (args.qa, args.json, args.report, args.baselines) == (Path("qa.jsonl"), True, Path("r.md"), "bm25")
    assert _parser().parse_args(["eval", "--qa", "qa.jsonl"]).baselines == "bm25,dense,extractive,shipped"


# One real run -------------------------------------------------------------------------------------

QA_LINES = [
    {"id": "t-fr", "lang": "fr", "q": "Qui dirige le pôle Alsace BioValley ?", "answerable": True,
     "must": [["carboni"]], "evidence": "Nicolas Carboni"},
    {"id": "t-ja", "lang": "ja", "q": "関西バイオ推進会議の会長は誰ですか？", "answerable": True,
     "must": [["nadamoto", "灘本"]], "evidence": "Masahiro Nadamoto"},
    {"id": "t-en", "lang": "en", "q": "What is the share price of bioMérieux?", "answerable": False, "must": [],
     "evidence": None},
]  # fmt: skip


@pytest.mark.e2e
def test_eval_with_the_extractive_bot(seed_bot: CorridorBot, tmp_path: Path):
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in QA_LINES) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    results = run_eval_command(seed_bot, qa, report=tmp_path / "report.md", out=out, err=err)

    assert results["systems"] == ["bm25", "dense", "shipped"]  # no LLM: extractive is what ships
    assert "extractive" in results["notes"]
    assert results["settings"]["chunks"] == seed_bot.index.load().store.count_documents()
    for system in ("bm25", "dense", "shipped"):
        assert list(results["summaries"][system]) == ["fr", "en", "ja", "all"]
        assert results["summaries"][system]["all"]["items"] == 3
    dense, shipped = results["summaries"]["dense"]["all"], results["summaries"]["shipped"]["all"]
    assert dense["hit@3"] == 1.0 and 0 < dense["mrr"] <= 1
    assert shipped["hit@3"] == dense["hit@3"] and shipped["language_match"] is not None
    assert results["summaries"]["bm25"]["all"]["answer_accuracy"] is None
    assert results["summaries"]["bm25"]["all"]["wrong_answers"] is None
    assert shipped["wrong_answers"] == sum(row["answered"] and not row["correct"] for row in results["items"])
    all_rows = [*results["items"], *(row for rows in results["baseline_items"].values() for row in rows)]
    rows = {(row["id"], row["system"]): row for row in all_rows}
    assert rows[("t-ja", "dense")]["rank"] >= 1 and rows[("t-en", "dense")]["rank"] is None
    assert len(rows[("t-fr", "dense")]["passages"]) == seed_bot.settings.top_k
    assert rows[("t-fr", "shipped")]["answered"] is True and "Carboni" in rows[("t-fr", "shipped")]["answer"]

    printed = out.getvalue()
    assert printed.splitlines()[0].startswith("QA file: ")
    assert any(line.split()[:3] == ["system", "lang", "items"] for line in printed.splitlines())
    assert "[3/3] t-en: bm25 " in err.getvalue() and "report: " in err.getvalue()
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Summary" in md and "## Per language" in md and "## Failed items" in md
    ET.fromstring((tmp_path / "report.svg").read_text(encoding="utf-8"))

    only_bm25 = run_eval(seed_bot, qa, "bm25")
    assert only_bm25["systems"] == ["bm25"] and only_bm25["primary"] == "bm25"
    assert {row["system"] for row in only_bm25["items"]} == {"bm25"} and only_bm25["baseline_items"] == {}
