"""Language detection of questions (FR/EN/JA) and the bot's own messages in each language."""

from __future__ import annotations

import json

import pytest
from conftest import QA_DEV

from bot.language import (
    LANGUAGES,
    MESSAGES,
    detect_language,
    foreign_language,
    is_japanese,
    message,
    warm_up,
    without_names,
)


@pytest.mark.parametrize(
    "question",
    [
        "Qui ?",
        "Quand ?",
        "Quoi ?",
        "Où ?",
        "Pourquoi ?",
        "Combien ?",
        "Qui a signé ?",
        "À quelle heure ?",
        "Qui dirige le pôle Alsace BioValley ?",
        "Quand l'accord avec le Kansai a-t-il été signé ?",
        "Quelles sont les prochaines étapes du programme de coopération internationale ?",
        "Le Life Science Corridor France sera-t-il présent à Bio-Japan ?",
    ],
)
def test_french_questions(question: str) -> None:
    assert detect_language(question) == "fr"


@pytest.mark.parametrize(
    "question",
    [
        "Who?",
        "When?",
        "How?",
        "What?",
        "Who signed?",
        "Who heads the Alsace BioValley cluster?",
        "When was the agreement with the Kansai signed?",
        "Which regions are covered by the Cancer-Bio-Santé cluster and what do they work on?",
        "Will the Life Science Corridor France attend Bio-Japan in Yokohama?",
        "Lyonbiopôle labeled 22 R&D projects in 2009.",  # a name's accent is not French
    ],
)
def test_english_questions(question: str) -> None:
    assert detect_language(question) == "en"


@pytest.mark.parametrize(
    "question",
    [
        "関西バイオ推進会議の会長は誰ですか？",
        "署名式はどこで？",
        # kanji only: no kana to go by, and statistical detectors call this Chinese
        "再生医療",
        "関西バイオ推進会議",
        "大阪",
        # Latin and Japanese mixed
        "Bio-Japan 2008の会期はいつですか？",
        "iPS細胞とは",
        "Life Science Corridor Franceとは何ですか",
        # half-width katakana, full-width Latin with Japanese
        "ﾊﾞｲｵ",
        "ＢｉｏＪａｐａｎはいつ？",
    ],
)
def test_japanese_questions(question: str) -> None:
    assert detect_language(question) == "ja"
    assert is_japanese(question)


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Ｗｈｏ ｉｓ ｔｈｅ ｐｒｅｓｉｄｅｎｔ ｏｆ ｔｈｅ ｃｏｕｎｃｉｌ？", "en"),
        ("Ｗｈｏ？", "en"),
        ("Ｑｕｉ ｄｉｒｉｇｅ ｌｅ ｐôｌｅ ？", "fr"),
        ("Ｑｕａｎｄ ？", "fr"),
    ],
)
def test_full_width_latin_is_read_as_latin(question: str, language: str) -> None:
    """Full-width Latin letters (typed with a Japanese input method) are not Japanese by themselves."""
    assert not is_japanese(question)
    assert detect_language(question) == language


@pytest.mark.parametrize(
    "text",
    [
        "관서 바이오 추진 회의 회장은 누구입니까?",
        "한국어",
        "서울 大學校",  # Hangul with Hanja: still Korean, not Japanese
        "大韓民國 국회",
    ],
)
def test_korean_is_not_japanese(text: str) -> None:
    assert not is_japanese(text)
    assert detect_language(text) != "ja"
    assert detect_language(text) in LANGUAGES


@pytest.mark.parametrize("text", ["", "   ", "?", "2008", "!!!", "www.lyonbiopole.org"])
def test_undecidable_text_falls_back_to_a_supported_language(text: str) -> None:
    assert detect_language(text) in ("fr", "en")


@pytest.mark.parametrize(
    "question",
    [
        "Combien de salariés compte la Pacific Bio Alliance ?",  # langdetect read it as Spanish
        "Combien de membres compte la Kansai Bio Alliance ?",
        "Qui préside la Pacific Bio Alliance ?",
        "Qui finance le Corridor Program ?",
        "Qui dirige Medicen Paris Region ?",
        "Qui est le CEO de Osaka Bio Headquarters ?",
        "Quand a eu lieu BIO 2008 ?",
        "Où se tient BioJapan ?",
        "Et BioValley ?",
        "Budget ?",  # French typography: a space before the question mark
    ],
)
def test_french_questions_naming_foreign_organisations(question: str) -> None:
    assert foreign_language(question) is None
    assert detect_language(question) == "fr"


@pytest.mark.parametrize(
    "question",
    [
        "Who is the president of bioMérieux Japon?",  # was read as French
        "What does Génopole do?",  # was taken for Portuguese
        "Where is Lyonbiopôle based?",
        "Who leads the Pôle Cancer-Bio-Santé?",
        "Who runs the Pôle Médecine du Futur?",
        "What is the Direction Générale des Entreprises?",
        "What is the Agence Française pour les Investissements Internationaux?",
        "Who represents the Conseil Régional d'Alsace?",
        "Who is Jean-Pierre Raffarin?",
        "Budget?",
    ],
)
def test_english_questions_naming_french_organisations(question: str) -> None:
    assert foreign_language(question) is None
    assert detect_language(question) == "en"


@pytest.mark.parametrize(
    "question", ["Aiko Fujimura博士は何歳ですか？", "Pacific Bio Allianceの会長は誰？", "bioMérieux Japonの社長は？"]
)
def test_japanese_questions_with_latin_names(question: str) -> None:
    assert foreign_language(question) is None
    assert detect_language(question) == "ja"


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("¿Dónde se firmó el acuerdo de cooperación?", "es"),
        ("¿Quién preside la Pacific Bio Alliance?", "es"),
        ("Wer leitet den Cluster Alsace BioValley?", "de"),
        ("Wie viele Mitarbeiter hat die Pacific Bio Alliance?", "de"),
        ("Chi presiede il consiglio di amministrazione?", "it"),
        ("Quem assinou o acordo de cooperação?", "pt"),
        ("Wanneer werd de overeenkomst ondertekend?", "nl"),
        ("협정은 언제 서명되었습니까?", "ko"),  # three words: was not checked
        ("관서 바이오 추진 회의 회장은 누구입니까?", "ko"),
        ("Кто подписал соглашение?", "ru"),
    ],
)
def test_questions_in_other_languages_are_flagged(question: str, code: str) -> None:
    assert foreign_language(question) == code


@pytest.mark.parametrize(
    "text",
    [
        "",
        "?",
        "2008",
        "Qui ?",
        "Who?",
        "Wer?",
        "Qui est Aiko Fujimura ?",
        "Alsace BioValley",
        "再生医療",
        "署名式はどこで？",
    ],
)
def test_short_or_japanese_texts_are_never_foreign(text: str) -> None:
    assert foreign_language(text) is None


@pytest.mark.parametrize(
    ("text", "core"),
    [
        ("Qui préside la Pacific Bio Alliance ?", "Qui préside la ?"),
        ("Who is the president of bioMérieux Japon?", "Who is the president of"),
        ("Who represents the Conseil Régional d'Alsace?", "Who represents the d'"),
        ("Le Life Science Corridor France sera-t-il présent ?", "Le sera-t-il présent ?"),
        ("Qui a signé ? Le Président.", "Qui a signé ? Le"),  # a sentence's first word stays
        ("WHO IS THE PRESIDENT?", "WHO IS THE PRESIDENT?"),
        ("Alsace BioValley", "Alsace"),  # the opening word stays, even a name
        ("bioMérieux ?", "bioMérieux ?"),  # nothing but names: all kept
    ],
)
def test_without_names(text: str, core: str) -> None:
    assert without_names(text) == core


def _qa_dev() -> list[dict[str, str]]:
    lines = QA_DEV.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_qa_dev_covers_every_language() -> None:
    assert {row["lang"] for row in _qa_dev()} == set(LANGUAGES)


@pytest.mark.parametrize("row", _qa_dev(), ids=lambda row: row["id"])
def test_qa_dev_questions_get_their_language(row: dict[str, str]) -> None:
    assert detect_language(row["q"]) == row["lang"]


def test_warm_up_loads_the_detectors_once() -> None:
    warm_up()
    assert detect_language("署名式はどこで？") == "ja"
    assert detect_language("Qui dirige le pôle ?") == "fr"
    assert detect_language("Who signed the agreement?") == "en"


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_message_in_each_language(key: str) -> None:
    texts = {language: message(key, language, code="de", limit=2000) for language in LANGUAGES}
    assert all(text.strip() for text in texts.values())
    assert len(set(texts.values())) == len(LANGUAGES), "each language has its own wording"
    assert is_japanese(texts["ja"])
    assert not is_japanese(texts["fr"]) and not is_japanese(texts["en"])
    assert detect_language(texts["ja"]) == "ja"


def test_message_wording() -> None:
    assert message("empty_question", "fr") == "Veuillez poser une question."
    assert message("empty_question", "en") == "Please ask a question."
    assert message("not_found", "ja") == "資料にはこの質問への答えが見つかりませんでした。"


@pytest.mark.parametrize("language", ["de", "ko", "", "zh", "EN"])
def test_message_in_unknown_language_is_english(language: str) -> None:
    for key in MESSAGES:
        assert message(key, language) == message(key, "en")


def test_message_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        message("no_such_message", "en")


def test_a_long_repetitive_french_question_is_not_taken_for_another_language() -> None:
    """lingua read "Qui dirige le pôle ? " × 100 as Dutch; function words decide such a text."""
    assert foreign_language("Qui dirige le pôle ? " * 100) is None
    assert foreign_language("Who leads the cluster? " * 100) is None
