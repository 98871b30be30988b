"""End to end through ``CorridorBot``: real embedding model, real FAISS index on disk, real pipelines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import QA_DEV, REPO_ROOT
from haystack import Document

from bot import Answer, CorridorBot, Pending
from bot.answer import (
    check_grounding,
    cited_numbers,
    repoint_citations,
    unsupported_names,
    worth_quoting,
)
from bot.chunking import passage_text
from bot.evaluation import answer_language, load_qa, summarise
from bot.generation import EXAMPLE_NAMES, SYSTEM_PROMPT, _add_missing_citation, _bare_answer_framed, _example_leaks

pytestmark = pytest.mark.e2e

CROSS_LINGUAL = [
    ("Qui dirige le pôle Alsace BioValley ?", "fr", "Nicolas Carboni"),
    ("When will the partnership with the United States be signed?", "en", "Juin 2008"),
    ("関西バイオ推進会議の会長は誰ですか？", "ja", "Masahiro Nadamoto"),
    ("Bio-Japan 2008の会期はいつですか？", "ja", "15 au 17 Octobre 2008"),
]


@pytest.mark.parametrize(("question", "language", "evidence"), CROSS_LINGUAL)
def test_retrieval_finds_french_passages_in_every_language(seed_bot: CorridorBot, question, language, evidence):
    detected, passages = seed_bot.retrieve(question, top_k=3)
    assert detected == language
    assert any(evidence in (p.content or "") for p in passages), [p.content[:60] for p in passages]
    assert all(p.meta["document"] == "2008-02-04-lifescience-corridor-france-kansai.txt" for p in passages)


@pytest.mark.parametrize(
    ("question", "evidence"),
    [  # without AskedDetailRanker, the dates of the signing and the launch ranked first (evidence 4th to 7th)
        ("関西との提携はどの期間で設定されていますか？", "2008-2010"),
        ("What period is the partnership with the Kansai established for?", "2008-2010"),
        ("At which event was the Life Science Corridor France officially launched?", "Rencontres Eurorégionales"),
        ("ライフサイエンス・コリドー・フランスはどのイベントで正式に発足しましたか？", "Rencontres Eurorégionales"),
        # the bullet of "À propos du Life Science Corridor France" never names it: without the section's
        # subject, every passage that mentions the corridor ranked above it
        ("Which body supports the Life Science Corridor France initiative?", "Direction Générale des Entreprises"),
    ],
)
def test_the_passage_giving_the_period_or_event_asked_for_is_read(seed_bot: CorridorBot, question, evidence):
    _, passages = seed_bot.retrieve(question, top_k=3)
    assert any(evidence in (p.content or "") for p in passages), [p.content[:60] for p in passages]


def test_a_when_question_reads_this_morning_with_the_sentence_that_dates_it(seed_bot: CorridorBot):
    """The passage of "Officialisée ce matin à 10H45" ranks first; read alone, it gives no date."""
    sources = seed_bot.ask("Quand l'accord avec le Kansai a-t-il été signé ?").sources
    assert any("ce matin" in s.text and "4 Février 2008" in s.text for s in sources), [s.text[:60] for s in sources]
    where = seed_bot.ask("Où l'accord avec le Kansai a-t-il été signé ?").sources
    assert not any("ce matin" in s.text and "4 Février 2008" in s.text for s in where)


def test_index_is_on_disk_and_reloads(seed_bot: CorridorBot):
    from haystack_integrations.document_stores.faiss import FAISSDocumentStore

    live = seed_bot.index.load()
    assert live is not None
    folder = seed_bot.settings.index_dir / live.generation
    assert (folder / "manifest.json").is_file()
    segments = sorted(folder.glob("seg-*.faiss"))
    assert segments and all(segment.with_suffix(".json").is_file() for segment in segments)
    on_disk = FAISSDocumentStore(index_path=str(segments[0].with_suffix("")))  # a real FAISS store, alone
    assert on_disk.index.ntotal == on_disk.count_documents() > 0
    assert live.store.index.ntotal == live.store.count_documents() > 10


@pytest.mark.parametrize(("question", "language", "evidence"), CROSS_LINGUAL[:3])
def test_extractive_answer_quotes_and_cites_in_the_askers_language(seed_bot, question, language, evidence):
    answer = seed_bot.ask(question)
    assert answer.language == language and answer.answered and answer.mode == "extractive"
    numbers = cited_numbers(answer.text, len(answer.sources))
    assert numbers, answer.text
    assert any(s.cited and evidence in s.text for s in answer.sources)
    assert answer_language(answer.text) == language  # the framing, not the quoted French


def test_every_extractive_sentence_is_a_passage_quote(seed_bot: CorridorBot):
    answer = seed_bot.ask("Quel est le numéro de téléphone du contact presse ?")
    quotes = [line.split("«", 1)[1].rsplit("»", 1)[0].strip() for line in answer.text.splitlines() if "«" in line]
    assert quotes
    passages = [" ".join(s.text.split()) for s in answer.sources]
    assert all(any(" ".join(q.split()) in p for p in passages) for q in quotes)


def test_a_contact_detail_is_quoted_from_the_line_that_gives_it(seed_bot: CorridorBot):
    question = "What is the website of Lyonbiopole?"
    _, passages = seed_bot.retrieve(question)
    elsewhere = [n for n, p in enumerate(passages, start=1) if "lyonbiopole.org" not in (p.content or "")]
    assert seed_bot._extractive is not None
    out = seed_bot._extractive.run(question=question, language="en", passages=passages, only=elsewhere[:1])
    assert out["answered"] and "www.lyonbiopole.org" in out["text"]  # not only the passage a draft cited wrongly
    assert "cancerbiosante" not in out["text"]  # the line of another cluster's address is not quoted


def test_stream_yields_final_answer_and_empty_question_is_refused_politely(seed_bot: CorridorBot):
    parts = list(seed_bot.stream("   "))
    assert len(parts) == 1 and isinstance(parts[0], Answer)
    assert not parts[0].answered and parts[0].text == "Please ask a question."
    parts = list(seed_bot.stream("Qui dirige le pôle Cancer-Bio-Santé ?"))
    assert isinstance(parts[-1], Answer) and parts[-1].language == "fr"
    # The sources come first, before any text: the passages the answer is then written from.
    assert isinstance(parts[0], Pending) and not parts[0].waiting and parts[0].language == "fr"
    assert [s.text for s in parts[0].sources] == [s.text for s in parts[-1].sources]


def test_grounding_check_catches_invented_names_numbers_and_bad_citations():
    passages = [Document(content="Le partenariat avec les Etats-Unis sera signé en Juin 2008 à Boston.")]
    assert check_grounding("It will be signed in June 2008 [1].", "en", passages) == []
    assert "number 2009 is not in the passage it cites" in check_grounding("Signed in 2009 [1].", "en", passages)
    assert "no valid citation" in check_grounding("Signed in June 2008 [4].", "en", passages)
    assert "not written in Japanese" in check_grounding("Signed in June 2008 [1].", "ja", passages)
    assert "not written in English" in check_grounding("2008年 [1].", "en", passages)  # a Japanese counter
    assert unsupported_names("It was signed by Emmanuel Macron in Boston [1].", "Who signed?", passages) == [
        "Emmanuel",
        "Macron",
    ]


def test_grounding_tolerates_exonyms_but_not_new_names():
    passages = [Document(content="Bruno Bombarde (président de bioMerieux Japon), Kansai")]
    assert unsupported_names("BioMerieux Japan の社長は Bruno Bombarde です [1]。", "誰？", passages) == []
    assert unsupported_names("It was Bruno Martin in Kanto [1].", "Who?", passages) == ["Martin", "Kanto"]


def test_a_name_is_held_only_as_a_whole_word():
    passages = [Document(content="La mission arrive maintenant à Lyonbiopôle, 22 membres.")]
    assert unsupported_names("Elle est arrivée à Lyon en Mai [1].", "Quand ?", passages) == ["Lyon", "Mai"]
    assert unsupported_names("Elle est arrivée à Lyonbiopôle [1].", "Où ?", passages) == []


def test_a_japanese_passage_holds_the_latin_names_and_months_it_writes_in_japanese():
    report = [Document(content="横浜で10月15日から17日まで開催された。ストラスブールの企業も参加した。")]
    answer = "It was held in Yokohama from 15 to 17 October 2008, with firms from Strasbourg [1]."
    assert unsupported_names(answer, "When?", report) == []
    assert unsupported_names("It was held in Kyoto in November 2008 [1].", "When?", report) == ["Kyoto", "November"]
    lecture = [Document(content="基調講演は京都大学の山口恵子教授が行った。")]
    assert unsupported_names("Keiko Yamaguchi of Kyoto University [1].", "Who?", lecture) == []  # 京都大 holds 京都
    assert unsupported_names("Keiko Yamaguchi of Osaka University [1].", "Who?", lecture) == ["Osaka"]


@pytest.mark.parametrize(
    ("text", "language"),
    [("Lyonbiopole's website is [2].", "en"), ("Le site est : [2]", "fr"), ("サイトは[2]。", "ja")],
)
def test_a_citation_in_place_of_the_fact_is_a_wording_problem(text: str, language: str):
    passages = [Document(content="a"), Document(content="Pôle LyonBioPôle : www.lyonbiopole.org")]
    problems = check_grounding(text, language, passages)
    assert any("instead of the fact" in p for p in problems)
    assert worth_quoting(problems)
    assert check_grounding("The website is www.lyonbiopole.org [2].", "en", passages) == []


def test_a_citation_moves_to_the_passage_holding_the_facts():
    passages = [
        Document(content="Jean-Pierre Saintouil, Directeur Général du pôle Cancer-Bio-Santé ; www.lyonbiopole.org"),
        Document(content="Pôle Cancer-Bio-Santé (Midi-Pyrénées, Limousin)"),
    ]
    question = "Qui dirige le pôle Cancer-Bio-Santé ?"
    assert repoint_citations("Il est dirigé par Jean-Pierre Saintouil [2].", question, passages).endswith("[1].")
    assert repoint_citations("Il est dirigé par Jean-Pierre Saintouil. [2]", question, passages).endswith("[1]")
    kept = "Il couvre Midi-Pyrénées et Limousin [2]. Le site est www.lyonbiopole.org [1]."
    assert repoint_citations(kept, question, passages) == kept
    both = "Saintouil [2]、Limousin [1]。"
    assert repoint_citations(both, question, passages) == both, "a sentence citing two passages is left alone"
    assert repoint_citations("会長は Saintouil です [2]。次は Limousin [1]。", "誰？", passages) == (
        "会長は Saintouil です [1]。次は Limousin [2]。"
    )


def test_names_from_the_prompt_examples_are_caught():
    passages = [Document(content="Ce partenariat a été négocié par le Pôle Cancer-Bio-Santé.")]
    assert _example_leaks("Martin negotiated it [1].", passages, "Who negotiated?") != []
    assert _example_leaks("The Pôle Cancer-Bio-Santé negotiated it [1].", passages, "Who negotiated?") == []
    assert all(name in SYSTEM_PROMPT for name in EXAMPLE_NAMES)


def test_an_answer_sharing_no_word_with_the_passages_gets_no_citation():
    passages = [Document(content="Nicolas Carboni dirige Alsace BioValley."), Document(content="Autre chose.")]
    assert _add_missing_citation("Alsace BioValley is led by Nicolas Carboni.", passages) == (
        "Alsace BioValley is led by Nicolas Carboni [1]."
    )
    assert _add_missing_citation("強みは生物産業の活性化です。", passages) == "強みは生物産業の活性化です。"
    assert "no valid citation" in check_grounding("強みは生物産業の活性化です。", "ja", passages)
    signed = [Document(content="Signé à Osaka en 2008."), Document(content="Contact : Alexandra Foissac, 2009.")]
    assert _add_missing_citation("2009年に行われました。", signed) == "2009年に行われました。"  # numbers tell nothing
    assert _add_missing_citation("Alexandra Foissac です。", signed) == "Alexandra Foissac です [2]。"  # names do
    assert _add_missing_citation("2009年に大阪で行われました。", signed).endswith("[1]。")  # 大阪 reads Osaka
    # each sentence is cited where it was read
    two = "Signé à Osaka en 2008. Le contact est Alexandra Foissac."
    assert _add_missing_citation(two, signed) == "Signé à Osaka en 2008 [1]. Le contact est Alexandra Foissac [2]."
    shown = [*signed, Document(content="BioJapan 2009")]
    assert _add_missing_citation("次回は2009年のBioJapanです。", shown).endswith("[3]。")  # a name inside Japanese
    alsace = [Document(content="Alsace BioValley : chimie, biologie.")]
    unchecked = "アルザスの強みは生物産業です。"  # a name read from katakana, no fact the checks could verify
    assert _add_missing_citation(unchecked, alsace) == unchecked
    both = [Document(content="BioJapan : 18 entreprises."), Document(content="BioJapan 2009 est prévu.")]
    assert _add_missing_citation("次回は2009年のBioJapanです。", both).endswith("[2]。")  # numbers break the tie
    seminar = [
        Document(content="関西バイオ推進会議は、トゥールーズで日仏がん研究セミナーを開催した。"),
        Document(content="両者は、次回のセミナーを2010年春に神戸で開催することで合意した。"),
    ]
    asked = "次回の日仏がん研究セミナーはどこで開催されますか？"
    restated = "次回の日仏がん研究セミナーは2010年春に神戸で開催されます。"
    assert _add_missing_citation(restated, seminar, asked).endswith("[2]。")  # 神戸, not the question's セミナー


def test_a_bare_name_answers_a_japanese_question_in_japanese():
    passages = [Document(content="CONTACT PRESSE Alexandra Foissac")]
    framed = _bare_answer_framed("Alexandra Foissac [1]", "ja")
    assert framed == "Alexandra Foissac です [1]。"
    assert check_grounding(framed, "ja", passages, "報道担当者の名前は？") == []
    assert _bare_answer_framed("Alexandra Foissac [1]", "en") == "Alexandra Foissac [1]"
    assert _bare_answer_framed("The contact is Alexandra Foissac [1].", "ja").endswith("[1].")  # not bare: retried


def test_the_writer_reads_a_list_item_with_its_lead_in():
    meta = {"section": "Le Programme", "lead_in": "Les actions :"}
    item = Document(content="- Organisation de séminaires ;", meta=meta)
    assert passage_text(item) == "(Les actions :) - Organisation de séminaires ;"
    assert passage_text(Document(content="Texte.", meta={"section": "Le Programme", "lead_in": None})) == "Texte."


def test_eval_summary_counts_per_language():
    items = load_qa(QA_DEV)
    assert {item["lang"] for item in items} == {"fr", "en", "ja"}
    from bot.evaluation import ItemResult

    results = [
        ItemResult("a", "fr", True, True, True, True, True, "x", 1.0),
        ItemResult("b", "fr", False, None, None, False, True, "x", 1.0),
        ItemResult("c", "ja", True, False, True, False, False, "x", 2.0),
    ]
    summary = summarise(results)
    assert summary["fr"]["answer_accuracy"] == 1.0 and summary["fr"]["refusal_accuracy"] == 0.0
    assert summary["ja"]["hit@1"] == 0.0 and summary["ja"]["hit@3"] == 1.0
    assert summary["all"]["items"] == 3


def test_no_model_hub_is_contacted(tmp_path: Path):
    """A fresh process with every socket connection refused builds, indexes and answers."""
    script = textwrap.dedent(
        f"""
        import socket, json, shutil, pathlib
        def refuse(*args, **kwargs):
            raise OSError("network blocked by the test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        from bot import CorridorBot
        corpus = pathlib.Path({str(tmp_path)!r}) / "corpus"
        corpus.mkdir()
        shutil.copy({str(REPO_ROOT / "corpus" / "2008-02-04-lifescience-corridor-france-kansai.txt")!r}, corpus)
        bot = CorridorBot(corpus_dir=corpus, index_dir=corpus.parent / "index", llm="none")
        answer = bot.ask("Who heads the DGE's technology partnerships office?")
        import os
        print(json.dumps({{"answered": answer.answered, "offline": os.environ["HF_HUB_OFFLINE"],
                           "sources": [s.text for s in answer.sources]}}))
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["offline"] == "1"
    assert any("Alain Griot" in text for text in out["sources"])


# The shipped configuration: the real local language model ---------------------------------------


@pytest.mark.llm
@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        ("Qui dirige le pôle Alsace BioValley ?", "fr", ["carboni"]),
        ("Quand l'accord avec le Kansai a-t-il été signé ?", "fr", ["février 2008"]),  # "ce matin", dated
        ("When will the partnership with the United States be signed?", "en", ["june 2008"]),
        ("Bio-Japan 2008の会期はいつですか？", "ja", ["10月", "15", "17"]),  # octobre, as a Japanese month
    ],
)
def test_llm_answers_in_the_askers_language_with_valid_citations(llm_bot: CorridorBot, question, language, expected):
    answer = llm_bot.ask(question)
    assert answer.answered, answer.notes
    assert answer.mode == "llm", answer.notes
    assert all(fact in answer.text.lower() for fact in expected), answer.text
    assert answer_language(answer.text) == language
    numbers = cited_numbers(answer.text, len(answer.sources))
    assert numbers and all(answer.sources[n - 1].cited for n in numbers)
    assert check_grounding(answer.text, language, [Document(content=s.text) for s in answer.sources], question) == []


@pytest.mark.llm
def test_names_reach_japanese_readers_in_their_source_spelling(llm_bot: CorridorBot):
    """The model tends to transliterate names (マサハロ・ナダモ): such drafts are replaced by a quote."""
    answer = llm_bot.ask("関西バイオ推進会議の会長は誰ですか？")
    assert answer.answered and "Nadamoto" in answer.text, answer.text
    assert answer_language(answer.text) == "ja"


@pytest.mark.llm
@pytest.mark.parametrize(
    ("question", "language"),
    [("Qui est le président de la République française ?", "fr"), ("大阪の明日の天気は？", "ja")],
)
def test_llm_refuses_what_the_documents_do_not_say(llm_bot: CorridorBot, question, language):
    answer = llm_bot.ask(question)
    assert not answer.answered
    assert answer.language == language
    assert answer_language(answer.text) == language


@pytest.mark.llm
def test_a_question_gets_the_same_answer_whatever_was_asked_before(llm_bot: CorridorBot):
    """llama.cpp would reuse what a slot read for the last question: measured, this question's event was
    named when asked first and refused when asked right after the regions (rounding of another reading)."""
    question = "Lors de quel événement le Life Science Corridor France a-t-il été lancé ?"
    first = llm_bot.ask(question).text
    llm_bot.ask("Quelles régions couvre le pôle Cancer-Bio-Santé ?")
    assert llm_bot.ask(question).text == first


@pytest.mark.llm
def test_llm_streams_and_rewrites_follow_ups(llm_bot: CorridorBot):
    first = llm_bot.ask("Où l'accord avec le Kansai a-t-il été signé ?")
    parts = list(llm_bot.stream("Et à quelle heure ?", history=[(first.question, first.text)]))
    assert isinstance(parts[-1], Answer)
    answer = parts[-1]
    assert answer.search_query != "Et à quelle heure ?"
    assert answer.answered and "10" in answer.text and "45" in answer.text, (answer.search_query, answer.text)
    if answer.mode == "llm":
        assert len(parts) > 2  # pieces arrived before the final answer
