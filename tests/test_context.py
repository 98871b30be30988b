"""What the answer writer reads of the passages: their sentences closest to the question, within a budget."""

from __future__ import annotations

import pytest
from haystack import Document

from bot.config import Settings
from bot.context import SentenceSelector, approx_tokens
from bot.embedders import document_embedder, text_embedder

pytestmark = pytest.mark.e2e

PASSAGES = [
    Document(
        content="Le pôle Alsace BioValley réunit 400 entreprises. Le pôle est dirigé par Nicolas Carboni depuis 2006. "
        "Son siège est à Illkirch, près de Strasbourg.",
        meta={"document": "a.txt", "language": "fr"},
        score=0.85,
    ),
    Document(
        content="The Kansai Bio Promotion Council was founded in 2002. Its members meet twice a year in Osaka.",
        meta={"document": "b.md", "language": "en"},
        score=0.80,
    ),
]


@pytest.fixture(scope="module")
def selector() -> SentenceSelector:
    settings = Settings.from_env()
    selector = SentenceSelector(text_embedder(settings), document_embedder(settings, False, batch_size=4), budget=60)
    selector.warm_up()
    return selector


def test_each_passage_keeps_its_closest_sentence_within_the_budget(selector: SentenceSelector):
    out = selector.run(question="Qui dirige le pôle Alsace BioValley ?", passages=PASSAGES)
    assert [d.meta["document"] for d in out["passages"]] == ["a.txt", "b.md"]  # aligned, in order
    assert out["passages"][0].content == PASSAGES[0].content  # the sources keep the whole passage
    first, second = (d.content for d in out["excerpts"])
    assert "Nicolas Carboni" in first and "Illkirch" not in first
    assert second and second in PASSAGES[1].content
    assert sum(approx_tokens(d.content) for d in out["excerpts"]) <= 60 + 10  # joiners aside


def test_a_japanese_question_finds_the_french_sentence_and_a_zero_budget_keeps_everything(selector):
    out = selector.run(question="アルザス・バイオバレーの本部はどこですか？", passages=PASSAGES[:1])
    assert "Illkirch" in out["excerpts"][0].content
    selector.budget, budget = 0, selector.budget
    try:
        assert selector.run(question="x", passages=PASSAGES)["excerpts"] == PASSAGES
    finally:
        selector.budget = budget
