"""Language detection of questions (FR/EN/JA) and the bot's own messages in each language."""

from __future__ import annotations

import json

import pytest
from conftest import QA_DEV

from bot.language import LANGUAGES, MESSAGES, LanguageDetector, detect_language, is_japanese, message


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


def _qa_dev() -> list[dict[str, str]]:
    lines = QA_DEV.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_qa_dev_covers_every_language() -> None:
    assert {row["lang"] for row in _qa_dev()} == set(LANGUAGES)


@pytest.mark.parametrize("row", _qa_dev(), ids=lambda row: row["id"])
def test_qa_dev_questions_get_their_language(row: dict[str, str]) -> None:
    assert detect_language(row["q"]) == row["lang"]


def test_language_detector_component() -> None:
    detector = LanguageDetector()
    assert detector.run(text="署名式はどこで？") == {"language": "ja"}
    assert detector.run(text="Qui dirige le pôle ?") == {"language": "fr"}
    assert detector.run(text="Who signed the agreement?") == {"language": "en"}


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
