"""The proper names a text holds (Latin script), folded so that "Générale" matches "generale".

Press documents about the same kinds of facts differ mostly by whom and what they name: the
retriever uses a question's names to favour the document about them, and the answer checks use
them to catch a fact borrowed from a neighbouring document.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

#: A capitalised Latin word; the look-behind lets "のBioJapan" count (Japanese has no spaces).
_NAME = re.compile(r"(?<![A-Za-zÀ-ÿ])[A-ZÀ-Ý][A-Za-zÀ-ÿ0-9'’-]+")
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
    "council", "conseil", "president", "presidente", "director", "directeur", "directrice", "region", "university",
    "universite", "centre", "center", "pole", "institut", "institute", "societe", "company", "agence", "agency",
    "ministere", "ministry", "commission", "fondation", "foundation", "laboratoire", "laboratory", "association",
    "alliance", "cluster", "prefecture", "prefect", "department", "departement", "government", "gouvernement",
})  # fmt: skip


def fold(text: str) -> str:
    """Lower case without accents (NFKD, combining marks dropped), so "Generale" matches "Générale"."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


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


def names(text: str) -> set[str]:
    """The folded parts (≥ 3 letters) of the capitalised Latin words in ``text``, question words excepted."""
    found = set()
    for match in _NAME.finditer(text):
        for part in re.split(r"[-'’]", fold(match.group())):
            if len(part) >= 3 and part not in _NOT_NAMES:
                found.add(part)
    return found


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

    def match(self, question_names: set[str], document_words: set[str]) -> float:
        """The weighted share of ``question_names`` that a document holds, 0 to 1 (0 with no names)."""
        weights = {name: max(self.weight(name), 0.0) for name in question_names}
        total = sum(weights.values())
        return sum(w for name, w in weights.items() if name in document_words) / total if total else 0.0
