"""Several press documents about the same kinds of facts, with the real model and a real index: each answer
comes from the document the question is about, and what no document says is refused in the asker's language.

The corpus is the shared six-document fixture set plus our four (fictional) documents in
``docs/eval/corpus-third``. The full evaluation over them is a benchmark (README, "Performance and
quality"); these few questions guard the behaviour.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from conftest import REPO_ROOT, make_settings

from bot import CorridorBot
from bot.evaluation import answer_language
from bot.language import message

MULTI = REPO_ROOT.parent / "shared" / "eval" / "corpus-multi"
THIRD = REPO_ROOT / "docs" / "eval" / "corpus-third"
PACIFIC = "2008-06-16-corridor-pacific-bio-alliance.txt"
MEDICON = "2009-05-14-alsace-biovalley-medicon-valley.txt"
STRASBOURG = "2008-11-05-kansai-delegation-strasbourg.txt"
LYON = "2009-06-02-kansai-mission-lyon.md"
TOULOUSE = "2009-09-18-toulouse-cancer-seminar.md"

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def multi_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CorridorBot]:
    if os.environ.get("CORRIDOR_SKIP_LLM_TESTS") == "1":
        pytest.skip("CORRIDOR_SKIP_LLM_TESTS=1")
    settings = make_settings(tmp_path_factory.mktemp("multi"), llm=os.environ.get("CORRIDOR_LLM", "qwen2.5-1.5b"))
    for folder in (MULTI, THIRD):
        for path in folder.iterdir():
            shutil.copy(path, settings.corpus_dir / path.name)
    bot = CorridorBot(settings=settings)
    bot.warm_up()
    assert bot.uses_llm, f"the language model did not start: {bot.llm_error}"
    yield bot


@pytest.mark.parametrize(
    ("question", "language", "fact", "document", "neighbours_fact"),
    [
        ("How many companies does the Pacific Bio Alliance bring together?", "en", "140", PACIFIC, "260"),
        ("Combien d'entreprises réunit la Medicon Valley Alliance ?", "fr", "260", MEDICON, "140"),
        ("Qui conduisait la délégation du Kansai à Strasbourg ?", "fr", "tanabe", STRASBOURG, "morimoto"),
        ("Who led the Kansai mission to Lyon?", "en", "morimoto", LYON, "tanabe"),
    ],
)
def test_confusable_questions_are_answered_from_their_own_document(
    multi_bot: CorridorBot, question: str, language: str, fact: str, document: str, neighbours_fact: str
) -> None:
    answer = multi_bot.ask(question)
    assert answer.answered, answer.notes
    assert fact in answer.text.lower() and neighbours_fact not in answer.text.lower(), answer.text
    assert answer_language(answer.text) == language
    cited = [source for source in answer.sources if source.cited]
    assert cited and all(source.document == document for source in cited), [s.document for s in cited]
    assert all(source.support for source in cited), "the supporting sentence is marked"


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Aiko Fujimura博士は何歳ですか？", "ja"),
        ("Combien de salariés compte la Pacific Bio Alliance ?", "fr"),  # 140 companies is not the answer
    ],
)
def test_what_no_document_says_is_refused_in_the_askers_language(
    multi_bot: CorridorBot, question: str, language: str
) -> None:
    answer = multi_bot.ask(question)
    assert not answer.answered, answer.text
    assert answer.language == language and answer.text == message("not_found", language)


def test_the_writer_reads_only_the_document_the_question_is_about(multi_bot: CorridorBot) -> None:
    """Three of the first four passages are the seminar's: the fourth, another document's, is left out, so that
    no neighbour's budget ("38 millions d'euros") can be given for the seminar's."""
    answer = multi_bot.ask("トゥールーズのセミナーの予算はいくらでしたか？")
    assert {source.document for source in answer.sources} == {TOULOUSE}
    assert not answer.answered, answer.text
