"""The proper names a text holds (Latin script), folded so that "Générale" matches "generale", and the
Latin names a Japanese text writes in kanji or katakana (関西: Kansai, アルザス: Alsace).

Press documents about the same kinds of facts differ mostly by whom and what they name: the
retriever uses a question's names to favour the document about them, and the answer checks use
them to catch a fact borrowed from a neighbouring document.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from anyascii import anyascii

#: A capitalised Latin word, or one capitalised inside ("bioMérieux", "eBay"); the look-behind lets
#: "のBioJapan" count (Japanese has no spaces).
_NAME = re.compile(r"(?<![A-Za-zÀ-ÿ])[a-zà-ÿ]{0,4}[A-ZÀ-Ý][A-Za-zÀ-ÿ0-9'’-]+")
#: Words by script: Latin letters, digits, kana and kanji runs apart ("2009年のbiojapan" → 2009, 年, の, biojapan).
_WORD = re.compile(r"\d+|[a-z\u00c0-\u024f]+|[\u3040-\u30ff]+|[\u3400-\u9fff]+")
#: Question words and articles written with a capital at the start of a question.
_NOT_NAMES = frozenset({
    "who", "what", "when", "where", "which", "how", "why", "whom", "whose", "does", "did", "the",
    "qui", "que", "quel", "quelle", "quels", "quelles", "quand", "comment", "combien", "pourquoi", "lors", "les",
})  # fmt: skip
#: Capitalised words that name a kind of body or role, not a particular one: an answer may write
#: "the Council" or "le Conseil" for a body whose name the passages give in another language.
GENERIC_WORDS = frozenset({
    "council", "conseil", "president", "presidente", "director", "directeur", "directrice", "general", "generale",
    "region", "university", "universite", "centre", "center", "pole", "institut", "institute", "societe", "company",
    "agence", "agency", "ministere", "ministry", "commission", "fondation", "foundation", "laboratoire",
    "laboratory", "association", "alliance", "cluster", "prefecture", "prefect", "department", "departement",
    "government", "gouvernement",
})  # fmt: skip


def fold(text: str) -> str:
    """Lower case without accents, so "Generale" matches "Générale"; kana keep their voicing marks (ディ)."""
    return "".join(
        c if c > "\u024f" else "".join(d for d in unicodedata.normalize("NFKD", c) if not unicodedata.combining(d))
        for c in unicodedata.normalize("NFKC", text).lower()
    )


def words(text: str) -> set[str]:
    """The folded words of ``text``, script by script (hyphenated names split: "cancer-bio-sante")."""
    return set(_WORD.findall(fold(text)))


#: A web or e-mail address ("www.lyonbiopole.org", "a.b@c.fr"), written in lower case.
ADDRESS = re.compile(r"(?:https?://|www\.)[^\s<>«»\[\]]+[\w/]|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


#: Contact details a question can ask for: the words that ask (FR, EN, JA) and what the passage must hold.
CONTACTS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "web address": (
        re.compile(r"\b(web ?site|site (web|internet)|url|home ?page)\b|ウェブサイト|ホームページ|サイト|URL", re.I),
        re.compile(r"https?://|www\.", re.I),
    ),
    "e-mail": (
        re.compile(r"\b(e-?mail|courriel|adresse (électronique|mail))\b|メール", re.I),
        re.compile(r"[\w.+-]+@[\w-]+\.\w"),
    ),
    "phone number": (
        re.compile(r"\b(tele)?phone\b|téléphone|\btél\b|\bfax\b|電話", re.I),
        re.compile(r"(?:\+\d{1,3}\s?)?(?:\(0\)\s?)?\d{1,4}(?:[\s.-]\d{2,4}){3,}"),
    ),
}


def asked_contacts(question: str) -> dict[str, re.Pattern[str]]:
    """The contact details ``question`` asks for, each with the pattern of how a text gives it."""
    return {contact: given for contact, (asking, given) in CONTACTS.items() if asking.search(question)}


def facts(text: str) -> set[str]:
    """The names, numbers and address parts of ``text`` (folded): what an answer copies from the passage it read."""
    parts = {w for address in ADDRESS.findall(text) for w in words(address)}
    return names(text) | set(re.findall(r"(?<!\d)\d+(?!\d)", text)) | parts


def _name_parts(word: str) -> list[str]:
    return [part for part in re.split(r"[-'’]", fold(word)) if len(part) >= 3 and part not in _NOT_NAMES]


def names(text: str) -> set[str]:
    """The folded parts (≥ 3 letters) of the capitalised Latin words in ``text``, question words excepted."""
    return {part for match in _NAME.finditer(text) for part in _name_parts(match.group())}


#: Capitalised words in a row: one name ("Kansai Bio Promotion Council").
_NAME_RUN = re.compile(rf"{_NAME.pattern}(?:\s+{_NAME.pattern})*")


def name_shares(text: str) -> dict[str, float]:
    """Each part of a name written in several words gets its share of one name: "Kansai Bio Promotion
    Council" counts as one name, not four, beside "BioJapan" (see ``NameWeights.match``)."""
    shares: dict[str, float] = {}
    for run in _NAME_RUN.finditer(text):
        parts = [part for word in run.group().split() for part in _name_parts(word)]
        for part in parts:
            shares[part] = min(shares.get(part, 1.0), 1 / len(parts))
    return shares


class NameWeights:
    """How much each name tells documents apart: inverse document frequency over a corpus.

    A name that every document holds ("Corridor") says nothing about which one a question is
    about; one that a single document holds ("Kanazawa") says a lot.
    """

    def __init__(self, documents: Iterable[set[str]]) -> None:
        self.frequency: Counter[str] = Counter()
        self.documents = 0
        for document_words in documents:
            self.frequency.update(document_words)
            self.documents += 1

    def weight(self, name: str) -> float:
        return math.log((self.documents + 1) / (self.frequency.get(name, 0) + 0.5))

    def match(
        self, question_names: set[str], document_words: set[str], shares: Mapping[str, float] | None = None
    ) -> float:
        """The weighted share of ``question_names`` that a document holds, 0 to 1 (0 with no names).

        ``shares`` (``name_shares`` of the question) divide a name written in several words among its words.
        """
        shares = shares or {}
        weights = {name: max(self.weight(name), 0.0) * shares.get(name, 1.0) for name in question_names}
        total = sum(weights.values())
        return sum(w for name, w in weights.items() if name in document_words) / total if total else 0.0


#: Latin spellings that sound alike, for comparing a name with how Japanese reads it ("Alsace" / アルザス).
_SOUNDS = [
    (r"ph", "f"), (r"th", "t"), (r"ch", "sh"), (r"qu|ck", "k"), (r"c(?=[eiy])", "s"), (r"c", "k"), (r"x", "ks"),
    (r"v", "b"), (r"l", "r"), (r"z", "s"), (r"y", "i"), (r"h", ""), (r"([a-z])\1", r"\1"),
]  # fmt: skip
_VOWELS = re.compile(r"[aeiou]")


@functools.lru_cache(maxsize=65536)
def _sounds(word: str, japanese: bool) -> tuple[str, str]:
    """``word`` spelled by sound, and its consonants: French "ou" is u, Japanese "ou" and doubled vowels
    are long vowels."""
    word = re.sub(r"ou|oo", "o", word) if japanese else re.sub(r"eau|au", "o", word).replace("ou", "u")
    for pattern, replacement in _SOUNDS:
        word = re.sub(pattern, replacement, word)
    return word, _VOWELS.sub("", word)


class SoundIndex:
    """Names by how they sound, to find in one look-up those a romanised Japanese reading matches.

    Japanese readings of Japanese names match spelled by sound ("koube" / "kobe"); names from other
    languages, written in katakana, gain vowels ("su", "ru") and lose final consonants, so their
    consonants must match instead (and the first sound), three of them at least ("rss": "aruzasu" /
    "alsace"), save a final one where katakana ends in an added vowel ("sutorasuburu" / "strasbourg").
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.by_sound: dict[str, set[str]] = {}
        self.by_consonants: dict[tuple[str, str], set[str]] = {}
        self.by_consonants_but_last: dict[tuple[str, str], set[str]] = {}
        for name in names:
            sound, consonants = _sounds(name, japanese=False)
            self.by_sound.setdefault(sound, set()).add(name)
            self.by_consonants.setdefault((sound[:1], consonants), set()).add(name)
            self.by_consonants_but_last.setdefault((sound[:1], consonants[:-1]), set()).add(name)

    def matches(self, reading: str) -> set[str]:
        """The names that ``reading`` ("kansai", "aruzasu", "sutorasuburu") may stand for."""
        sound, consonants = _sounds(reading, japanese=True)
        found = set(self.by_sound.get(sound, ()))
        if len(consonants) >= 3:
            found |= self.by_consonants.get((sound[:1], consonants), set())
            if re.search(r"(?:[^aeiou]u|[td]o)$", reading):  # a vowel katakana adds at the end: ル, ド
                found |= self.by_consonants_but_last.get((sound[:1], consonants), set())
        return found


@functools.cache
def _tokenizer() -> Any:
    from janome.tokenizer import Tokenizer  # a dictionary of Japanese words and their readings, in the wheel

    return Tokenizer(mmap=True)  # the dictionary stays in its file: ~75 MB of memory, not ~300


_tokenizer_lock = threading.Lock()
#: A word in katakana only (トゥールーズ, アルザス・バイオバレー): a foreign name or loanword, read by sound.
KATAKANA = re.compile(r"[ァ-ヺー・]+")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@functools.lru_cache(maxsize=1024)
def japanese_readings(text: str) -> tuple[str, ...]:
    """The romanised readings of the names ``text`` writes in Japanese: proper nouns (関西 → kansai) and
    katakana words, alone and run together (アルザス・バイオバレー → aruzasu, baio, bare, baiobare)."""
    if not _JAPANESE.search(text):
        return ()
    with _tokenizer_lock:
        tokens = list(_tokenizer().tokenize(text))
    readings, run = [], []
    for token in tokens:
        katakana = bool(KATAKANA.fullmatch(token.surface))
        if not katakana and ("固有名詞" not in token.part_of_speech or not _JAPANESE.search(token.surface)):
            run = []
            continue
        reading = token.reading if token.reading != "*" else token.surface
        if token.surface.endswith("大") and reading.endswith("ダイ"):  # 京都大(学): Kyoto is a name of its own
            readings.append(anyascii(reading[:-2]).lower())
        for part in reading.split("・"):
            run = [*run, anyascii(part.replace("ッ", "")).lower()] if part else []  # ッ: the next consonant doubles
            readings += [run[-1], "".join(run)] if run else []
    return tuple(dict.fromkeys(r for r in readings if len(r) >= 3))


def japanese_names(text: str, vocabulary: SoundIndex) -> set[str]:
    """The names of ``vocabulary`` that ``text`` writes in Japanese: "関西の代表団はアルザスで…" → kansai, alsace."""
    return set().union(*(vocabulary.matches(reading) for reading in japanese_readings(text)))


def question_names(question: str, vocabulary: SoundIndex | Iterable[str]) -> set[str]:
    """``names(question)``, and the folded names of ``vocabulary`` that the question writes in Japanese,
    as the documents write them."""
    if not japanese_readings(question):
        return names(question)
    index = vocabulary if isinstance(vocabulary, SoundIndex) else SoundIndex(vocabulary)
    return names(question) | japanese_names(question, index)
