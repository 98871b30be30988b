"""Which language a text is in (French, English or Japanese), and the bot's own words in each.

Japanese is decided by script: statistical detectors confuse kanji-only text with Chinese or
Korean. French versus English is left to ``langdetect``, seeded and restricted to those two, since
unrestricted it reads "Qui ?" as Vietnamese.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from haystack import component
from langdetect import DetectorFactory, LangDetectException, detect_langs

Language = Literal["fr", "en", "ja"]
LANGUAGES: tuple[Language, ...] = ("fr", "en", "ja")
LANGUAGE_NAMES: dict[str, str] = {"fr": "French", "en": "English", "ja": "Japanese"}

DetectorFactory.seed = 0

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_FRENCH_MARKERS = re.compile(
    r"\b(qui|que|quoi|quel(?:le)?s?|quand|où|comment|pourquoi|combien|est|sont|les|des|du|une?|le|la|et|"
    r"à|au|aux|avec|pour|dans|sur|a-t-il|a-t-elle)\b|[àâçéèêëîïôûùœ]",
    re.IGNORECASE,
)
_ENGLISH_MARKERS = re.compile(
    r"\b(who|what|when|where|which|why|how|is|are|the|of|and|does|did|will|with|for|in|on)\b",
    re.IGNORECASE,
)


def is_japanese(text: str) -> bool:
    """Kana anywhere, or kanji without Hangul, marks Japanese (Chinese is not a supported language)."""
    return bool(_KANA.search(text)) or (bool(_KANJI.search(text)) and not _HANGUL.search(text))


def detect_language(text: str) -> Language:
    """Return "ja", "fr" or "en"; anything else (or undecidable) is treated as English."""
    text = unicodedata.normalize("NFKC", text)
    if is_japanese(text):
        return "ja"
    fr_hits, en_hits = len(_FRENCH_MARKERS.findall(text)), len(_ENGLISH_MARKERS.findall(text))
    if len(text.split()) < 6 and fr_hits != en_hits:
        return "fr" if fr_hits > en_hits else "en"
    try:
        probabilities = {p.lang: p.prob for p in detect_langs(text)}
    except LangDetectException:
        return "fr" if fr_hits > en_hits else "en"
    fr, en = probabilities.get("fr", 0.0), probabilities.get("en", 0.0)
    if fr == en:
        return "fr" if fr_hits > en_hits else "en"
    return "fr" if fr > en else "en"


def foreign_language(text: str) -> str | None:
    """The code of a language other than French, English or Japanese when ``text`` is clearly in one.

    Questions in such a language are answered in English, with a word saying so.
    """
    text = unicodedata.normalize("NFKC", text)
    if is_japanese(text) or len(re.findall(r"[^\W\d_]{2,}", text)) < 4:
        return None
    if _HANGUL.search(text):
        return "ko"
    try:
        best = detect_langs(text)[0]
    except (LangDetectException, IndexError):
        return None
    if best.lang in LANGUAGES or best.prob < 0.95:
        return None
    return best.lang


@component
class LanguageDetector:
    """Tags a question with its language so the answer can be written in it.

    Usage example:
    ```python
    LanguageDetector().run(text="署名式はどこで？")  # {"language": "ja"}
    ```
    """

    @component.output_types(language=str)
    def run(self, text: str) -> dict[str, str]:
        """Detect the language of ``text``."""
        return {"language": detect_language(text)}


MESSAGES: dict[str, dict[str, str]] = {
    "not_found": {
        "fr": "Les documents ne contiennent pas la réponse à cette question.",
        "en": "The documents do not contain the answer to this question.",
        "ja": "資料にはこの質問への答えが見つかりませんでした。",
    },
    "extractive_lead": {
        "fr": "D'après les documents :",
        "en": "According to the documents (quoted in the original language):",
        "ja": "資料の該当箇所（原文のまま引用）：",
    },
    "no_llm": {
        "fr": "(Mode sans modèle de langue : extraits les plus pertinents.)",
        "en": "(Running without a language model: the most relevant passages are quoted.)",
        "ja": "（言語モデルなしで動作中：最も関連する箇所を引用しています。）",
    },
    "too_long": {
        "fr": "Cette question est trop longue ({limit} caractères au plus). Merci de la raccourcir.",
        "en": "This question is too long (at most {limit} characters). Please shorten it.",
        "ja": "質問が長すぎます（{limit}文字以内）。短くしてください。",
    },
    "other_language": {
        "fr": "(Question dans une autre langue ({code}) : je réponds en anglais, français ou japonais.)",
        "en": "(Your question seems to be in another language ({code}); I answer in English, French or Japanese.)",
        "ja": "（ご質問は別の言語（{code}）のようです。英語・フランス語・日本語で回答します。）",
    },
    "empty_question": {
        "fr": "Veuillez poser une question.",
        "en": "Please ask a question.",
        "ja": "質問を入力してください。",
    },
}


def localised(table: dict[str, dict[str, str]], key: str, language: str | None, **values: object) -> str:
    """Sentence ``key`` of ``table`` in ``language`` (English when unknown), with ``values`` filled in."""
    texts = table[key]
    text = texts.get(language or "en", texts["en"])
    return text.format(**values) if values else text


def message(key: str, language: str, **values: object) -> str:
    """The bot's own sentence ``key`` in ``language`` (English when the language is unknown)."""
    return localised(MESSAGES, key, language, **values)
