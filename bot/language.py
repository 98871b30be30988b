"""Which language a text is in (French, English or Japanese), and the bot's own words in each.

Japanese is decided by script: statistical detectors (lingua included) call kanji-only text Chinese.
For French versus English, proper names are set aside first, so that a French question about the
"Pacific Bio Alliance" or an English one about "Lyonbiopôle" is read by its own words; what is left
is decided by marker words when it is short, by lingua (restricted to French and English) when it
is longer. Whether a question is in another language altogether is asked of lingua too, over the
European languages most like French and English and a few with a script of their own, and only a
confident answer counts. ``benchmarks/language_detection.py`` compares this with the ``langdetect``
version it replaced (which took "Combien de salariés compte la Pacific Bio Alliance ?" for Spanish).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import lingua

Language = Literal["fr", "en", "ja"]
LANGUAGES: tuple[Language, ...] = ("fr", "en", "ja")
LANGUAGE_NAMES: dict[str, str] = {"fr": "French", "en": "English", "ja": "Japanese"}

#: How sure lingua must be before a question is said to be in another language (see the benchmark).
FOREIGN_CONFIDENCE = 0.5
#: The languages the foreign check tells apart: French and English, the European languages closest to
#: them, and languages with a script of their own (told by their script alone: no model is loaded).
#: Chinese is left out: kanji-only text is Japanese here.
FOREIGN_CANDIDATES = ("FRENCH", "ENGLISH", "GERMAN", "SPANISH", "ITALIAN", "PORTUGUESE", "DUTCH")
FOREIGN_CANDIDATES += ("RUSSIAN", "ARABIC", "GREEK", "HEBREW", "HINDI", "THAI", "KOREAN")

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_LATIN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]")
_WORD = re.compile(r"[^\W\d_]{2,}")
_FRENCH_MARKERS = re.compile(
    r"\b(qui|que|quoi|quel(?:le)?s?|quand|où|comment|pourquoi|combien|est|sont|les|des|du|une?|le|la|et|"
    r"à|au|aux|avec|pour|dans|sur|a-t-il|a-t-elle)\b|[àâçéèêëîïôûùœ]",
    re.IGNORECASE,
)
_ENGLISH_MARKERS = re.compile(
    r"\b(who|what|when|where|which|why|how|is|are|the|of|and|does|did|will|with|for|in|on)\b",
    re.IGNORECASE,
)
#: French typography puts a space before ? ! : ; ("Budget ?"), English does not.
_FRENCH_SPACING = re.compile(r"\S\s+[?!:;]")
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu)['’]", re.IGNORECASE)
_PUNCTUATION = "«»\"“”'’()[]¿¡,;:?!."


def is_japanese(text: str) -> bool:
    """Kana anywhere, or kanji without Hangul, marks Japanese (Chinese is not a supported language)."""
    return bool(_KANA.search(text)) or (bool(_KANJI.search(text)) and not _HANGUL.search(text))


def _is_name(token: str, opening: bool) -> bool:
    """A capitalised word that does not open a sentence, or a word with an inner capital ("bioMérieux")."""
    word = _ELISION.sub("", token.strip(_PUNCTUATION))
    inner_capital = any(a.islower() and b.isupper() for a, b in itertools.pairwise(word))
    return inner_capital or (not opening and word[:1].isupper() and any(c.islower() for c in word))


def _without_name_tokens(text: str) -> str:
    kept, opening = [], True
    for token in text.split():
        if not _is_name(token, opening):
            kept.append(token)
        elif elided := _ELISION.match(token.lstrip(_PUNCTUATION)):
            kept.append(elided.group())  # "d'Alsace" → "d'"
        opening = token[-1:] in ".!?:"
    return " ".join(kept)


def without_names(text: str) -> str:
    """``text`` without its proper names ("Qui préside la Pacific Bio Alliance ?" → "Qui préside la ?").

    All-capital words ("BIO", "WHO IS") stay; so does the whole text when nothing but names is left.
    """
    core = _without_name_tokens(text)
    return core if _WORD.search(core) else text


def common_words(text: str) -> list[str]:
    """The lower-case words of ``text``, names aside: what tells its language ("22 representatives")."""
    return [word for word in _WORD.findall(_without_name_tokens(text)) if word.islower()]


def marker_hits(text: str) -> tuple[int, int]:
    """How many French and English marker words (and French accented letters) ``text`` holds.

    A capitalised word's accents do not count: it may be a name ("Lyonbiopôle labeled 22 projects").
    """
    french = [m for m in _FRENCH_MARKERS.findall(text) if m]
    lower = " ".join(token for token in text.split() if not token[:1].isupper())
    accents = [m for m in _FRENCH_MARKERS.findall(lower) if not m]
    return len(french) + len(accents), len(_ENGLISH_MARKERS.findall(text))


@functools.cache
def _french_english() -> lingua.LanguageDetector:
    """lingua over French and English, built on first use (its two models: ≈ 80 MB, under a second)."""
    from lingua import Language as LinguaLanguage
    from lingua import LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_languages(LinguaLanguage.FRENCH, LinguaLanguage.ENGLISH)
    return builder.with_preloaded_language_models().build()


@functools.cache
def _foreign_candidates() -> lingua.LanguageDetector:
    """lingua over ``FOREIGN_CANDIDATES``, built on first use.

    Its models are not preloaded: the Latin-script ones load with the first question in Latin letters
    (≈ 200 MB in all, shared with ``_french_english``; about a second), the others are never needed.
    """
    from lingua import Language as LinguaLanguage
    from lingua import LanguageDetectorBuilder

    languages = [getattr(LinguaLanguage, name) for name in FOREIGN_CANDIDATES]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def detect_language(text: str) -> Language:
    """Return "ja", "fr" or "en"; anything else (or undecidable) is treated as English."""
    text = unicodedata.normalize("NFKC", text)
    if is_japanese(text):
        return "ja"
    core = without_names(text)
    fr_hits, en_hits = marker_hits(core)
    if len(_WORD.findall(core)) < 6:
        if fr_hits != en_hits:
            return "fr" if fr_hits > en_hits else "en"
        if _FRENCH_SPACING.search(core):
            return "fr"
    found = _french_english().detect_language_of(core)
    if found is None:
        return "fr" if fr_hits > en_hits else "en"
    return "fr" if found.iso_code_639_1.name == "FR" else "en"


def foreign_language(text: str) -> str | None:
    """The code of a language other than French, English or Japanese when ``text`` is clearly in one.

    Questions in such a language are answered in English, with a word saying so. Names are set aside
    first, and texts of fewer than three words besides them are never foreign.
    """
    text = unicodedata.normalize("NFKC", text)
    if is_japanese(text):
        return None
    if len(_HANGUL.findall(text)) > len(_LATIN.findall(text)):
        return "ko"
    core = without_names(text)
    words = len(_WORD.findall(core))
    marker_words = max(sum(1 for m in pattern.findall(core) if m) for pattern in (_FRENCH_MARKERS, _ENGLISH_MARKERS))
    if words < 3 or marker_words * 2 >= words:  # half French or English function words: not foreign
        return None
    values = _foreign_candidates().compute_language_confidence_values(core)
    if not values or values[0].value < FOREIGN_CONFIDENCE:
        return None
    code = values[0].language.iso_code_639_1.name.lower()
    return None if code in LANGUAGES else code


def warm_up() -> None:
    """Load lingua's models now (about a second) rather than with the first question."""
    detect_language("Qui a signé l'accord ?")
    foreign_language("Who signed the agreement with the Kansai?")


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
    "citation_corrected": {
        "fr": "(Source rattachée au passage qui l'énonce :)",
        "en": "(Source set to the passage that states it:)",
        "ja": "（出典を記載箇所に合わせました：）",
    },
    "draft_withdrawn": {
        "fr": "(Brouillon ci-dessus retiré : les passages cités ne le confirment pas.)",
        "en": "(Draft above withdrawn: the passages it cites do not bear it out.)",
        "ja": "（上の下書きは引用箇所で裏付けられないため取り下げました。）",
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
