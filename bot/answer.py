"""Passages → an answer in the asker's language that cites them, or a plain "not in the documents".

Two writers share one contract (``run(question, language, passages) -> {"text", "answered"}``):
``LLMAnswerWriter`` (a local or remote chat model, in ``bot/generation.py``) and
``ExtractiveAnswerWriter`` here, which quotes the best supporting sentences and needs no
language model. Every answer is checked by ``check_grounding`` before it reaches the user.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from anyascii import anyascii
from haystack import Document, component
from haystack_integrations.components.embedders.sentence_transformers import (
    SentenceTransformersDocumentEmbedder,
    SentenceTransformersTextEmbedder,
)

from bot.chunking import passage_text, split_sentences
from bot.documents import DATELINE, MONTH_NAMES, MONTH_NUMBERS, month_days
from bot.language import LANGUAGE_NAMES, common_words, detect_language, is_japanese, message
from bot.names import (
    ADDRESS,
    GENERIC_WORDS,
    KATAKANA,
    SoundIndex,
    asked_contacts,
    facts,
    fold,
    japanese_names,
    names,
    question_names,
    words,
)

CITATION = re.compile(r"\[(\d+)\]")
#: "The website is [2].": the citation stands where the fact should be.
_CITATION_AS_FACT = re.compile(
    r"(?:\b(?:is|are|was|were|at|est|sont|était|sera)|[:：は])\s*\[\d+\]\s*[.。]?\s*$", re.IGNORECASE
)
#: "It is mentioned in passage [3]": the answer points at a passage instead of stating the fact.
_POINTS_AT_PASSAGE = re.compile(
    r"\b(?:in|dans|from|du|de la|de) (?:the |le |la |les )?(?:passages?|documents?|extraits?) ?\[\d+\]", re.IGNORECASE
)
#: Katakana words joined by "・": how a foreign person's name is transliterated (マサヒロ・ナダモト).
_KATAKANA_NAME = re.compile(r"[ァ-ヺー]+(?:・[ァ-ヺー]+)+")
#: Each month's names, January first ("juin", "june"): ``documents.MONTH_NUMBERS`` by month.
_MONTHS = [tuple(name for name, number in MONTH_NUMBERS.items() if number == month) for month in range(1, 13)]


@dataclass
class Source:
    """A passage the answer was written from; ``number`` is its [n] in the answer text."""

    number: int
    document: str
    title: str
    text: str
    score: float
    date: str | None = None
    cited: bool = False
    #: The (start, end) character spans of ``text`` that support what the answer says at [number].
    support: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def from_document(cls, number: int, doc: Document, cited: bool = False) -> Source:
        return cls(
            number=number,
            document=str(doc.meta.get("document", "")),
            title=str(doc.meta.get("title", "")),
            text=doc.content or "",
            score=round(float(doc.score or 0.0), 4),
            date=doc.meta.get("date"),
            cited=cited,
        )


@dataclass
class Pending:
    """An answer on its way, in ``language``: the passages it is written from, and whether it still
    ``waiting`` for the model behind ``ahead`` other questions."""

    sources: list[Source]
    language: str
    waiting: bool = False
    ahead: int = 0


@dataclass
class Answer:
    """What the bot says: ``text`` in ``language``, whether the documents ``answered`` it, and its sources."""

    text: str
    language: str
    answered: bool
    sources: list[Source] = field(default_factory=list)
    question: str = ""
    #: The question actually searched (a follow-up rewritten to stand alone).
    search_query: str = ""
    #: Which writer produced the text ("llm", "extractive", "refusal") and any notes from the checks.
    mode: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def cited_numbers(text: str, passage_count: int) -> list[int]:
    """The [n] markers of ``text`` that point to one of the passages, in order of first use."""
    seen: list[int] = []
    for match in CITATION.finditer(text):
        n = int(match.group(1))
        if 1 <= n <= passage_count and n not in seen:
            seen.append(n)
    return seen


#: A capitalised word in Latin letters: how an answer writes a name ("Japan's": the name is "Japan").
_CAPITALISED = re.compile(r"(?<![A-Za-zÀ-ÿ])[A-ZÀ-Ý](?:[A-Za-zÀ-ÿ-]|['’](?!s\b))+")


def _written_in_japanese(latin: list[str], text: str) -> set[str]:
    """The folded ``latin`` words that ``text`` writes in Japanese: Kanazawa for 金沢, Yokohama for 横浜."""
    return japanese_names(text, SoundIndex(fold(w) for w in latin)) if latin else set()


def unsupported_names(text: str, question: str, passages: list[Document]) -> list[str]:
    """Capitalised Latin-script words inside sentences that neither the passages nor the question contain
    as whole words ("Mai" is not in "maintenant").

    A small model that "knows" the answer from training names people the documents never mention;
    this catches that without a second model. Month names count as present when the passages name
    the same month in any language ("June" for "Juin" or "6月"), and a name as present when the
    passages write it in Japanese ("Yokohama" for 横浜).
    """
    held = question + " " + " ".join(passage_text(doc) for doc in passages)
    known = fold(held).replace("-", " ")
    months = {name for month in _months(held) for name in _MONTHS[month - 1]}
    read = _written_in_japanese(_CAPITALISED.findall(text), held)
    known_words = words(known)
    names = []
    for sentence in re.split(r"(?<=[.!?。！？:])\s+|\n", CITATION.sub("", text)):
        sentence = sentence.strip()
        for match in _CAPITALISED.finditer(sentence):
            if len(match.group()) < 3:
                continue
            folded = fold(match.group())
            word = folded.replace("-", " ")
            held_whole = re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", known)
            if not match.start() or held_whole or word in months or word in GENERIC_WORDS or folded in read:
                continue
            if not (len(word) >= 5 and any(_one_edit(word, token) for token in known_words)):
                names.append(match.group())
    return names


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one letter: "Japan" for "Japon", not a new name."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _with_month_numbers(held: set[str]) -> set[str]:
    """``held`` plus the number of each month it names: "6月" in an answer comes from "juin"."""
    return held | {str(m) for m, names in enumerate(_MONTHS, start=1) if any(fold(n) in held for n in names)}


def repoint_citations(text: str, question: str, passages: list[Document]) -> str:
    """Point each single-cited sentence at the passage that holds most of its names and numbers.

    A small model often cites the passage after the one it read (the next "[n]" follows the fact in
    its prompt). Names and numbers it copied (in digits or as words: "six companies"), and the question
    did not give, show where they came from; the citation moves only when another passage holds strictly
    more of them, or as many and more of the answer's other long words: "Lyonbiopôle est spécialisé dans
    la lutte contre les maladies infectieuses … [2]" has no name to tell, and cited the list after the
    sentence it copied.
    """
    asked = words(question) | _numbers(question)
    texts = [_with_month_numbers(words(text)) | _numbers(text) for text in map(passage_text, passages)]

    def fix(sentence: str) -> str:
        cited = CITATION.findall(sentence)
        if len(cited) != 1 or not 1 <= int(cited[0]) <= len(passages):
            return sentence
        own = own_words(sentence)
        copied = (facts(own) | _numbers(own)) - asked
        long = {w for w in words(own) if len(w) > 3 and w.isalpha() and w.isascii()} - asked - copied
        counts = [(sum(w in held for w in copied), len(long & held)) for held in texts]
        best = counts.index(max(counts)) + 1
        return CITATION.sub(f"[{best}]", sentence) if counts[best - 1] > counts[int(cited[0]) - 1] else sentence

    return "".join(fix(part) for part in answer_sentences(text))


#: The Japanese form the prompt adds after a French or English date ("（2008年10月15日から17日）"): copied into an
#: answer, it does not make the passage text around it Japanese.
DATE_GLOSS = re.compile(r"（\d{4}年(?:\d{1,2}月(?:\d{1,2}日(?:[からと]+\d{1,2}日)?)?|中|初め|末|半ば|から\d{4}年)）")


def own_words(text: str) -> str:
    """The answer without its citations and «quoted» passages: what the bot itself wrote."""
    return re.sub(r"«[^»]*»", " ", CITATION.sub(" ", text))


def written_in(text: str, language: str) -> bool:
    """Whether the answer's own words (not citations, «quotes» or names) are in ``language``.

    A short answer counts too ("22 representatives" to a French question), unless it is only names
    and numbers.
    """
    body = own_words(text)
    if language == "ja":
        return is_japanese(DATE_GLOSS.sub(" ", body))
    if re.search(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]", body):  # kana or kanji ("140件")
        return False
    words = common_words(body)
    return not any(len(w) >= 4 for w in words) or detect_language(" ".join(words)) == language


#: A sentence's last clause after a comma, and the citations and full stop that end the sentence.
_LAST_CLAUSE = re.compile(r"\s*[,，、](?P<clause>[^,，、]*?)(?P<end>(?:\s*\[\d+\])*\s*[.。!?！？]?(?:\s*\[\d+\])*\s*)$")


def without_unsupported_apposition(text: str, question: str, passages: list[Document]) -> str:
    """A "who" answer without its closing clauses that hold names the cited passage lacks: "… conduite
    par Hiroshi Tanabe, directeur de la Confédération Kansai [1]." → "… conduite par Hiroshi Tanabe [1]."

    The small model translates a person's title into names the passage never uses ("Council" became
    "Confédération"); the person, who answers the question, is still checked like any answer. Only
    for "who": elsewhere the last clause may be the answer's own last item ("Midi-Pyrénées, Limousin,
    Alsace"), and cutting it would leave a partial answer that passes.
    """
    if question_kind(question) != "person":
        return text
    for sentence, cited in cited_support(text, passages):
        shorter = sentence
        while (last := _LAST_CLAUSE.search(shorter)) and any(
            name in last["clause"] for name in unsupported_names(shorter, question, cited)
        ):
            stop = re.search(r"[.。!?！？]", last["end"])
            citations = "".join(f" [{n}]" for n in CITATION.findall(last["end"]))
            shorter = shorter[: last.start()] + citations + (stop.group() if stop else "")
        text = text.replace(sentence, shorter)
    return text


#: A date, with what joins it to the sentence: "4月4日（2008年2月4日）に", ", on 5 November 2008", "le 4 février 2008".
_DATE_PHRASE = re.compile(
    r"(?:\d{4}年)?\d{1,2}月(?:\d{1,2}日)?(?:[（(][^）)]*[）)])?(?:に|、)?|"
    rf"(?:,\s*)?\b(?:(?i:on|in|le|en|du)\s+)?(?:\d{{1,2}}(?:er)?\s+)?(?i:{MONTH_NAMES})\s+\d{{4}}"
)


def without_unasked_dates(text: str, question: str, passages: list[Document]) -> str:
    """A "where" answer without the dates it was not asked for: "この会議は、4月4日（2008年2月4日）に大阪で
    行われました" → "この会議は、大阪で行われました". The small model garbles dates it copies across
    languages; the place, which answers the question, is still checked like any answer."""
    if question_kind(question) != "place" or QUESTION_KINDS["date"].search(question):
        return text
    return re.sub(r"[ \t]+(?=[ \t.。])", "", _DATE_PHRASE.sub("", text))


def worth_quoting(problems: list[str], question: str = "") -> bool:
    """True when the draft's facts held and only its words failed: the language, a currency changed
    in translation ("38百万円" for "38 millions d'euros"), a contact detail asked for and left out
    ("The website is [2]."; the quote is then the line that gives it), or, when the question does not
    ask for a person or a name, a name the passages do not use ("Japan" added to "Kobe") or spell
    otherwise (in katakana). Such a draft is replaced by a quote of the passage it cited, not by a
    refusal; an unsupported number, another document, the wrong kind of answer, or the name asked
    for that no passage writes so, is refused.
    """
    wording = ["not written in", "instead of the fact", "does not give it"]
    if question_kind(question) not in ("person", "name"):
        wording += ["is not in the passage", "transliterated"]
    return bool(problems) and all(
        any(marker in p for marker in wording) and not p.startswith("number") for p in problems
    )


def answer_sentences(text: str) -> list[str]:
    """The answer's sentences, each with the citations that follow it ("… 2008 [1]. Next …")."""
    return re.split(r"(?<=[.!?])(?=\s)(?!\s*\[)|(?<=[。！？])(?!\s*\[)", text)


#: A number as written: "450 000", "450,000", "3,2", "3.2", "2008".
_NUMBER_AS_WRITTEN = re.compile(r"(?<![\d.,])\d+(?:[ .,\u202f\u00a0]\d{3}(?!\d))*(?:[.,]\d{1,2}(?!\d))?")


def _value(number: str) -> str:
    """A number as written, as a value: thousands separators dropped, a decimal comma made a point ("3,2" → "3.2")."""
    whole, decimals = re.fullmatch(r"(.*?)(?:[.,](\d{1,2}))?", number).groups()  # type: ignore[union-attr]
    return (re.sub(r"\D", "", whole).lstrip("0") or "0") + (f".{decimals}" if decimals else "")


#: Numbers written as words, 2 to 20: "six companies" is "6社". Not one, un or une (also "a", "someone"),
#: nor sept (also September).
_SPELLED = {
    word: str(value)
    for words_ in (
        "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
        "eighteen nineteen twenty",
        "deux trois quatre cinq six - huit neuf dix onze douze treize quatorze quinze seize dix-sept dix-huit "
        "dix-neuf vingt",
    )
    for value, word in enumerate(words_.split(), start=2)
    if word != "-"
}
_SPELLED_NUMBER = re.compile(rf"\b({'|'.join(sorted(_SPELLED, key=len, reverse=True))})\b", re.IGNORECASE)


def _numbers(text: str) -> set[str]:
    """The values of the numbers ``text`` writes, in digits or as words."""
    spelled = {_SPELLED[word.lower()] for word in _SPELLED_NUMBER.findall(text)}
    return {_value(match.group()) for match in _NUMBER_AS_WRITTEN.finditer(normalise(text))} | spelled


_MONTH_NUMBER = re.compile(r"(?<!\d)(\d{1,2})\s*月")
#: A month written as a number: "6月", "16/06/2008", "2008-06-16", "06/2008".
_MONTH_AS_NUMBER = re.compile(
    rf"{_MONTH_NUMBER.pattern}|\b\d{{1,2}}/(\d{{1,2}})/\d{{4}}\b|\b\d{{4}}-(\d{{1,2}})-\d{{1,2}}\b|\b(\d{{1,2}})/\d{{4}}\b"
)


def _unsupported_numbers(text: str, support: str, question: str = "") -> list[str]:
    """Numbers of ``text`` that neither ``support`` (the cited passages) nor the question state. A month the
    passages name supports its number only where the answer writes a month ("6月" from "juin"): "Octobre"
    does not make "10 personnes"."""
    own = own_words(text)
    as_months = {_value(n) for found in _MONTH_AS_NUMBER.findall(normalise(own)) for n in found if n}
    supported = _numbers(support) | _numbers(question) | ({str(m) for m in _months(support)} & as_months)
    return sorted(n for n in _numbers(own) if n not in supported)


#: Currencies as the three languages write them: "38 millions d'euros" is not "38億円".
CURRENCIES: dict[str, re.Pattern[str]] = {
    "euro": re.compile(r"€|\beuros?\b|ユーロ", re.I),
    "yen": re.compile(r"円|¥|\byens?\b", re.I),
    "dollar": re.compile(r"\$|\bdollars?\b|ドル", re.I),
    "franc": re.compile(r"\bfrancs?\b|\bCHF\b|フラン(?!ス)", re.I),
}


def _months(text: str) -> set[int]:
    """The months ``text`` names, in any of the three languages ("juin", "June", "6月")."""
    folded = fold(text)
    named = {m for m, names in enumerate(_MONTHS, start=1) if any(re.search(rf"\b{fold(n)}\b", folded) for n in names)}
    return named | {int(n) for n in _MONTH_NUMBER.findall(normalise(text))}


def _unsupported_months(text: str, support: str) -> list[str]:
    """Months written "N月" in a Japanese answer that ``support`` (the cited passages and the question)
    does not name: "4月4日" read from "4 Février" holds only numbers the passage has, but not its month."""
    written = {int(n) for n in _MONTH_NUMBER.findall(normalise(own_words(text)))}
    held = _months(support)
    return [f"month {m}月 is not in the passage it cites" for m in sorted(written - held)]


def _unsupported_days(text: str, support: str) -> list[tuple[int, int]]:
    """Days of a month that the answer gives and no date of ``support`` (the cited passages and the question)
    states as such: "2008年2月4日" put together from "4 Décembre 2007" and "début Février 2008" holds only
    their numbers."""
    return sorted(month_days(own_words(text)) - month_days(support))


#: Words that make a release's own date the day of what it reports ("today opened a laboratory").
TODAY = re.compile(r"\b(?:today|this morning|aujourd'hui|ce jour|ce matin)\b|本日|今日|今朝", re.IGNORECASE)
#: Questions about the release itself, or about what it announces: its date is the answer.
_ASKS_RELEASE = re.compile(r"publi|annon|announc|communiqu|press release|\bissued\b|発表|公表|発行|掲載", re.IGNORECASE)


def asks_reported_date(question: str) -> bool:
    """A "when" question about what a release reports, not about the release itself."""
    return question_kind(question) == "date" and not _ASKS_RELEASE.search(question)


def undated_documents(question: str, passages: list[Document]) -> set[str]:
    """The documents whose dateline the writer should not read for ``question``: a "when" question about
    what they report, where none of their passages says it happened "today". Read, the dateline's day is
    the small model's favourite answer ("2009年9月18日" for a seminar held on the 16th)."""
    if not asks_reported_date(question):
        return set()
    documents = {str(doc.meta.get("document", "")) for doc in passages}
    return documents - {str(doc.meta.get("document", "")) for doc in passages if TODAY.search(passage_text(doc))}


def dateline_dates(text: str, question: str, passages: list[Document]) -> list[str]:
    """Days that a "when" answer takes from a dateline: "Strasbourg, 5 November 2008" says when the release
    was written, not when the visit it reports took place ("on 3 and 4 November"). The dateline's day is
    an answer only where the passage also gives it in its text, says the event happened "today", or the
    question asks when something was published or announced."""
    if not asks_reported_date(question):
        return []
    problems = []
    for sentence, cited in cited_support(text, passages):
        support = " ".join(passage_text(doc) for doc in cited)
        if TODAY.search(support):
            continue
        released = month_days(" ".join(line["date"] for line in DATELINE.finditer(support)))
        reported = month_days(DATELINE.sub(" ", support))
        problems += [
            f"day {d} of month {m} is the date of the press release (its dateline), not of what the question asks"
            for m, d in sorted((month_days(own_words(sentence)) & released) - reported)
        ]
    return list(dict.fromkeys(problems))


def cited_support(text: str, passages: list[Document]) -> list[tuple[str, list[Document]]]:
    """Each sentence of the answer with the passages it cites (an uncited sentence: all that the answer cites)."""
    everything = [passages[n - 1] for n in cited_numbers(text, len(passages))] or passages
    return [
        (sentence, [passages[n - 1] for n in cited_numbers(sentence, len(passages))] or everything)
        for sentence in answer_sentences(text)
        if sentence.strip()
    ]


def borrowed_facts(text: str, question: str, passages: list[Document]) -> list[str]:
    """Numbers and names of the answer that the passages it cites for them do not hold.

    A fact that is in some passage, but not in the one cited for it, is how an answer borrows a
    number from a neighbouring document ("18 companies" from another visit).
    """
    problems = []
    for sentence, cited in cited_support(text, passages):
        where = "the passage it cites" if len(cited) == 1 else "the passages it cites"
        support = " ".join(passage_text(doc) for doc in cited)
        problems += [f"number {n} is not in {where}" for n in _unsupported_numbers(sentence, support, question)]
        problems += _unsupported_months(sentence, f"{support} {question}")
        days = _unsupported_days(sentence, f"{support} {question}")
        problems += [f"day {d} of month {m} is not a date in {where}" for m, d in days]
        problems += [f"name {n} is not in {where}" for n in unsupported_names(sentence, question, cited)]
        held = fold(support)
        problems += [f"address {a} is not in {where}" for a in ADDRESS.findall(sentence) if fold(a) not in held]
        problems += [
            f"currency {currency} is not in {where}"
            for currency, pattern in CURRENCIES.items()
            if pattern.search(own_words(sentence)) and not pattern.search(held + " " + question)
        ]
    return list(dict.fromkeys(problems))


def document_words(doc: Document) -> set[str]:
    """What a passage and its document's title name: the title says which document it is."""
    return words(f"{doc.meta.get('title', '')} {passage_text(doc)}")


def _names_in(passages: list[Document]) -> SoundIndex:
    """The Latin names of the passages and their titles, for what a Japanese text names (関西: Kansai)."""
    return SoundIndex(names(" ".join(f"{doc.meta.get('title', '')} {passage_text(doc)}" for doc in passages)))


def wrong_document(text: str, question: str, passages: list[Document]) -> list[str]:
    """Cited passages whose document names none of the question's names that tell the documents apart.

    "How many companies did the Kansai delegation meet in Strasbourg?" answered from the BioJapan
    report: that document names neither Kansai nor Strasbourg, while another one does. Each document
    is known by its title and its passages here; names that every document holds (or none) tell
    nothing and are not checked, and passages from a single document are never checked. Names written
    in Japanese, in the question or a passage, count as the Latin names they read as (関西: Kansai).
    """
    vocabulary = _names_in(passages)
    held: dict[str, set[str]] = {}
    for doc in passages:
        name = str(doc.meta.get("document", ""))
        held[name] = held.get(name, set()) | document_words(doc) | japanese_names(passage_text(doc), vocabulary)
    documents = list(held.values())
    asked = question_names(question, vocabulary)
    telling = {n for n in asked if any(n in w for w in documents) and not all(n in w for w in documents)}
    if not telling:
        return []
    return [
        f"passage [{n}] is from «{passages[n - 1].meta.get('title', '')}», which does not name "
        f"{', '.join(sorted(telling))}: answer from the document the question is about"
        for n in cited_numbers(text, len(passages))
        if not telling & held[str(passages[n - 1].meta.get("document", ""))]
    ]


#: What a question asks for, by its question words (French, English, Japanese).
QUESTION_KINDS: dict[str, re.Pattern[str]] = {
    "amount": re.compile(r"\b(how much|budget|costs?|coûte?|montant|amount|price|prix)\b|いくら|予算|費用|金額", re.I),
    "number": re.compile(
        r"\b(how many|combien)\b|何(人|社|件|名|歳|か所|カ所|回|本|つ|個|年間|カ国|か国)|いくつ", re.I
    ),
    "date": re.compile(r"\b(when|quand|what year|which year|quelle année|quelle date)\b|いつ|何年|何月|何日", re.I),
    "place": re.compile(r"\b(where|où)\b|どこ|どの(都市|国|町|場所)", re.I),
    "event": re.compile(
        r"\b(quel(le)?s? (événement|évènement|salon|manifestation|occasion)|(which|what) (event|occasion|fair))\b|"
        r"どの(イベント|催し|行事|展示会)|何の(イベント|催し)",
        re.I,
    ),
    "person": re.compile(r"\b(who|qui)\b|誰|だれ|どなた", re.I),
    "name": re.compile(r"\b(what is the name|what's the name|quel est le nom)\b|名前|名称", re.I),
    "period": re.compile(r"\b(p[ée]riode|period|dur[ée]e|how long|combien de temps)\b|期間|何年間", re.I),
}
_NUMBER_WORDS = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred|thousand|million|dozens?|un|une|deux|trois|quatre|cinq|sept|huit|neuf|dix|"
    r"onze|douze|treize|quatorze|quinze|seize|vingt|trente|quarante|cinquante|soixante|cent|mille|douzaines?)\b|"
    r"[一二三四五六七八九十百千万億]",
    re.I,
)
#: How an amount is written without its currency: "3,2 millions", "38 billion", "3800万".
_SCALE = re.compile(r"\b(millions?|milliards?|billions?|thousands?|milliers?)\b|\d\s*[kKM]\b|[万億]", re.I)
_YEAR_OR_MONTH = re.compile(
    r"\b(1[89]|20)\d{2}\b|\d\s*[年月日]|" + "|".join(n for names in _MONTHS for n in names), re.I
)
#: A length of time: "three years", "sur 3 ans", "18 mois", "3年間".
_DURATION = re.compile(
    rf"(?:\d+|{_NUMBER_WORDS.pattern})\s*(?:years?|ans|années|months?|mois|weeks?|semaines?|年間|か月|ヶ月|カ月|週間)",
    re.I,
)
_CJK_RUN = re.compile(r"[\u3400-\u9fff\u30a1-\u30fa\u30fc]{2,}")
#: The で after a Japanese place ("大阪で"), not the で of です / でした / でしょう.
_AT_JA = "で(?![すしょ])"
#: A name written as the place where something happened: "à Toulouse", "in Osaka", "大阪で" (not "大阪です").
_AT_PLACE = re.compile(rf"\b(?i:à|in|en|au|aux)\s+({_CAPITALISED.pattern})|({_CJK_RUN.pattern})(?={_AT_JA}|にて)")


def question_kind(question: str) -> str | None:
    """ "amount", "number", "date", "place", "event", "person", "name" or "period" when the question asks for one,
    else None (the first that fits: "combien de temps" asks for a number)."""
    return next((kind for kind, pattern in QUESTION_KINDS.items() if pattern.search(question)), None)


#: Words that open a sentence with a capital without being names.
_OPENERS = frozenset({
    "a", "an", "the", "it", "its", "he", "she", "they", "this", "on", "in", "at", "by", "from", "since",
    "le", "la", "les", "il", "elle", "ils", "ce", "cette", "son", "sa", "ses", "au", "aux", "en", "du", "des", "de",
    "un", "une", "depuis",
})  # fmt: skip


def _new_names(text: str, question: str) -> list[str]:
    """Capitalised Latin words (not months) and runs of kanji or katakana that the question does not hold,
    in its own script or in Japanese ("Kanazawa" is no new name for 金沢のワクチン研究所はどこ)."""
    ordinary = _OPENERS | {n for names in _MONTHS for n in names}
    latin = [w for w in _CAPITALISED.findall(text) if fold(w) not in ordinary]
    asked, read = fold(question), _written_in_japanese(latin, question)
    return [w for w in latin + _CJK_RUN.findall(text) if fold(w) not in asked and fold(w) not in read]


#: "How many X", "combien de X", "何社": what is counted. An answer in the question's language repeats it.
_COUNTED = re.compile(r"\b(?:how many|combien d(?:e\s+|['’]))\s*((?:[\w-]+\s+){0,2}[\w-]+)", re.IGNORECASE)
#: Where the counted noun phrase ends: the verb or article that follows it.
_AFTER_COUNTED = frozenset({
    "are", "is", "were", "was", "will", "did", "does", "do", "have", "has", "had", "took", "take", "the", "a", "in",
    "at", "of", "compte", "comptait", "comptent", "ont", "sont", "y", "le", "la", "les", "de", "du", "des", "en",
})  # fmt: skip
_COUNTERS = {"人": "人名", "名": "人名", "社": "社", "件": "件", "歳": "歳"}
#: Words for people in general stand for each other ("combien de personnes" → "150 participants").
_PEOPLE = ("perso", "peopl", "parti", "atten", "visit", "guest", "invit")
#: Nouns that make a number in a French or English passage a count of people, as 人 or 名 do in Japanese.
_PEOPLE_COUNTED = (
    *_PEOPLE, "repre", "deleg", "membe", "execu", "resea", "cherc", "exper", "emplo", "salar", "staff", "stagi",
    "train", "scien", "stude", "etudi", "dirig", "leade", "direc", "manag", "docto", "medec", "patie", "speak",
    "inter", "profe", "indus", "congr",
)  # fmt: skip


def _counted_stems(question: str) -> list[str]:
    """The first five letters of the words that "how many" / "combien de" counts, up to the verb or article
    after them ("How many B2B meetings took place?" → "meeti")."""
    counted = _COUNTED.search(question)
    phrase = itertools.takewhile(lambda w: fold(w) not in _AFTER_COUNTED, counted.group(1).split()) if counted else []
    return [fold(w)[:5] for w in phrase if len(w) >= 3]


def wrong_count(text: str, question: str) -> list[str]:
    """A "how many X" answered with a number of something else ("140 companies" for "how many employees").

    English and French answers must name one of the (up to three) words after "how many" /
    "combien de", as their first five letters; Japanese answers must use the question's counter.
    """
    body = fold(own_words(text))
    if counter := re.search(r"何([人名社件歳])", question):
        wanted = _COUNTERS[counter.group(1)]
        ok = any(c in body for c in wanted) or not re.search(r"[\u3040-\u30ff]", body)
        return [] if ok else [f"the question counts {counter.group(0)}, and the answer counts something else"]
    counted = _COUNTED.search(question)
    if not counted or written_in(text, "ja"):
        return []
    stems = _counted_stems(question)
    if any(stem in _PEOPLE for stem in stems):
        stems += _PEOPLE
    if not stems or any(stem in body for stem in stems):
        return []
    return [f"the question counts {counted.group(1)}, and the answer counts something else"]


#: What a number in a passage counts, by the word after it: time ("3日間", "35 ans", the "4日" of a date) or,
#: in Japanese, companies, people or items ("18社", "90名", "140件").
_UNIT_AFTER = re.compile(
    r"\s*(?:(?P<time>日|年間|か月|ヶ月|カ月|週間|時間|歳|才|(?:days?|jours?|weeks?|semaines?|months?|mois|years?|ans|"
    r"années?|hours?|heures?)(?!\w))|(?P<counter>[人名社件]))",
    re.IGNORECASE,
)
#: Money after a number: a currency or a scale ("450 000 euros", "3,2 millions", "3800万", "30 k€").
_MONEY_AFTER = re.compile(
    r"\s*[kM]?(?:" + "|".join(p.pattern for p in (*CURRENCIES.values(), _SCALE)) + ")", re.IGNORECASE
)
#: Questions that count time (a duration, an age), not things.
_ASKS_TIME = re.compile(
    r"何(?:日|年間|歳|才|か月|ヶ月|カ月|週間|時間)|\bhow (?:old|long)\b|\bhow many (?:days|weeks|months|years|hours)\b|"
    r"\bquel âge\b|\bcombien (?:de temps|de jours|de semaines|de mois|d'années|d'ans|d'heures)\b",
    re.IGNORECASE,
)
_COMPANIES = ("compa", "entre", "socie", "firms")


def _counted_class(question: str) -> str | None:
    """The Japanese counter of what the question counts: 社 for companies, 人名 for people, 件 for items."""
    if counter := re.search(r"何([人名社件])", question):
        return _COUNTERS[counter.group(1)]
    stems = set(_counted_stems(question))
    classes = {"人名"} if stems & set(_PEOPLE) else set()
    classes |= {"社"} if stems & set(_COMPANIES) else set()
    return classes.pop() if len(classes) == 1 else None


#: Words that may follow a number without saying what it counts ("14 de ses membres", "22 in all").
_NOT_COUNTED = frozenset({
    "de", "des", "du", "d", "au", "aux", "et", "en", "sur", "pour", "par", "dont", "les", "la", "le", "plus",
    "of", "and", "to", "in", "for", "from", "on", "by", "the", "more", "new", "nouveaux", "nouvelles", "jeunes",
})  # fmt: skip


def _counted_noun(text: str, end: int) -> str | None:
    """What the French or English noun after a number counts: people ("22 representatives"), companies,
    or "other" things ("14 projets"); None when no noun follows."""
    noun = re.match(r"\s*([^\W\d_]+)", text[end:])
    word = fold(noun.group(1)) if noun else ""
    if word in _NOT_COUNTED or len(word) < 3:
        return None
    return "人名" if word[:5] in _PEOPLE_COUNTED else "社" if word[:5] in _COMPANIES else "other"


def counted_elsewhere(text: str, question: str, passages: list[Document]) -> list[str]:
    """A "how many" or "how much" answered with a number that the passage it cites gives as a count of
    something else: "3" from "3日間" (a duration) for "combien d'entreprises", "35" from "35 researchers"
    for "何歳", "140" from "140件の商談" (meetings) for "how many visitors", "15" from "15 Japanese executives"
    for a budget, "22" from "22 representatives" for "何社". A number counts the right thing if one of its
    places in the passage does; a number the passage does not write as such is left to the fact checks."""
    kind = question_kind(question)
    if kind not in ("number", "amount"):
        return []
    time, wanted = bool(_ASKS_TIME.search(question)), _counted_class(question)

    def fits(counted: str | None) -> bool:
        if kind == "amount":
            return counted == "money"
        if time:
            return counted == "time"
        if counted == "other":  # "14 projets" counts no people and no companies, but may count meetings
            return wanted not in ("人名", "社")
        return counted not in ("time", "money") and (wanted is None or counted in (None, wanted))

    problems = []
    for sentence, cited in cited_support(text, passages):
        units = _counts(" ".join(passage_text(doc) for doc in cited))
        for number, said in _counts(own_words(sentence)).items():
            fitting = [fits(counted) for counted in units.get(number, [])]
            restated = set(said) & set(units.get(number, [])) - {None}  # "450 000 euros sur trois ans"
            if fitting and not any(fitting) and not restated and not re.fullmatch(r"(?:19|20)\d\d", number):
                problems.append(f"number {number} counts something else in the passage it cites")
    return problems


def _counts(text: str) -> dict[str, list[str | None]]:
    """What each number of ``text`` counts at each of its places (in digits or as words): "time", "money",
    a Japanese counter class, "other", or None where nothing says."""
    held = normalise(text)
    units: dict[str, list[str | None]] = {}
    for place in itertools.chain(_NUMBER_AS_WRITTEN.finditer(held), _SPELLED_NUMBER.finditer(held)):
        unit = _UNIT_AFTER.match(held, place.end())
        money = held[place.start() - 1 : place.start()] in ("€", "$", "¥") or _MONEY_AFTER.match(held, place.end())
        counted = "money" if money else None if not unit else "time" if unit["time"] else _COUNTERS[unit["counter"]]
        value = _SPELLED.get(place.group()) or _value(place.group())
        units.setdefault(value, []).append(counted or _counted_noun(held, place.end()))
    return units


#: Nationalities as the three languages write them before or after what they qualify ("entreprises
#: japonaises", "Japanese executives", "日本企業"): not country names, which may say where, not whose, nor
#: the end of a name ("コリドー・フランスの").
_NATIONALITIES: dict[str, re.Pattern[str]] = {
    nation: re.compile(rf"\b(?:{latin})\b|(?<!・)(?:{kanji})(?=企業|人|系|の|勢)", re.IGNORECASE)
    for nation, latin, kanji in (
        ("japanese", r"japonais(?:es?)?|japanese", "日本"),
        ("french", r"français(?:es?)?|french", "フランス|仏"),
        ("danish", r"danois(?:es?)?|danish", "デンマーク"),
        ("swedish", r"suédois(?:es?)?|swedish", "スウェーデン"),
        ("american", r"américain(?:e?s?)|american", "米国|アメリカ"),
        ("canadian", r"canadien(?:nes?|s)?|canadian", "カナダ"),
        ("german", r"allemand(?:e?s?)|german", "ドイツ"),
        ("british", r"britanniques?|british", "英国|イギリス"),
        ("swiss", r"suisses?|swiss", "スイス"),
        ("chinese", r"chinois(?:es?)?|chinese", "中国"),
        ("korean", r"coréen(?:nes?|s)?|korean", "韓国"),
    )
}


def _nationalities(text: str) -> set[str]:
    return {nation for nation, pattern in _NATIONALITIES.items() if pattern.search(text)}


def _around(text: str, start: int, end: int) -> str:
    """The few words around ``text[start:end]`` within its sentence."""
    before = re.split(r"[.。!?！？]", text[max(0, start - 8) : start])[-1]
    return before + re.split(r"[。！？]|[.!?](?:\s|$)", text[start : end + 40])[0]


def counted_nationality(text: str, question: str, passages: list[Document]) -> list[str]:
    """A count of Japanese companies answered with a number that the passage it cites gives only for
    companies of another nationality: "25" from "25 entreprises danoises et suédoises" for
    "招かれる日本企業は何社ですか？". What follows a number in the passage (and, in Japanese, what
    just precedes it: "フランス企業18社") says whose it is."""
    asked = _nationalities(question)
    if question_kind(question) != "number" or not asked:
        return []
    problems = []
    for sentence, cited in cited_support(text, passages):
        held = normalise(" ".join(passage_text(doc) for doc in cited))
        for number in sorted(_numbers(own_words(sentence))):
            places = [m for m in _NUMBER_AS_WRITTEN.finditer(held) if _value(m.group()) == number]
            whose = [_nationalities(_around(held, m.start(), m.end())) for m in places]
            if whose and all(nations and not nations & asked for nations in whose):
                problems.append(f"number {number} counts {' and '.join(sorted(set().union(*whose)))} ones, "
                                f"not the {' and '.join(sorted(asked))} ones the question asks about")
    return problems


#: A question that asks for the name of a place ("le nom de la ville"): a place is then its answer.
_NAMES_A_PLACE = re.compile(
    r"\b(villes?|city|cities|town|régions?|regions?|pays|country|lieu|place|site)\b|都市|町|地域|国|県|場所", re.I
)


#: Where a Japanese answer puts what was asked about: "金沢に設置されています", "大阪で行われました".
_PUT_AT = re.compile(rf"({_CJK_RUN.pattern})(?=に(?:設置|あり|ある|置か|開設|位置|建設)|{_AT_JA})")


def _places(text: str) -> set[str]:
    """The folded names that ``text`` writes as places: after à / in / en / au / aux, or before で."""
    return {fold(w) for found in _AT_PLACE.findall(text) for w in found if w}


def _is_place(word: str, places: set[str], sounds: SoundIndex) -> bool:
    """``word`` is one of ``places``, or their katakana transliteration (トゥールーズ for Toulouse)."""
    return fold(word) in places or bool(KATAKANA.fullmatch(word) and sounds.matches(anyascii(word).lower()))


def wrong_kind(text: str, question: str, passages: Sequence[Document] = ()) -> list[str]:
    """The answer does not give what the question asks: a "where" answered with dates, a "how many" without one,
    a "who" or "what name" with only places that the answer or the ``passages`` write as places."""
    kind = question_kind(question)
    body = own_words(text)
    if kind == "place":  # _new_names reads the answer with janome: only when asked
        put = {fold(w) for w in _PUT_AT.findall(body)}  # "…研究所は金沢に設置": where the question said it is
        ok = bool(_new_names(body, question)) and not (put and all(w in fold(question) for w in put))
    elif kind in ("person", "name"):  # "研究機関の名前はトゥールーズです" names a city, not an institute
        places = set() if _NAMES_A_PLACE.search(question) else _places(" ".join([*map(passage_text, passages), body]))
        sounds = SoundIndex(places)
        ok = any(not _is_place(w, places, sounds) for w in _new_names(body, question))
    elif kind == "event":  # "lancé le 4 décembre 2007 à Toulouse" says when and where, not at what event
        places = _places(" ".join([*map(passage_text, passages), body]))  # "launched … at Toulouse" too
        ok = any(fold(w) not in places for w in _new_names(body, question))
    else:
        ok = {
            None: True,
            "amount": any(p.search(body) for p in CURRENCIES.values()) or bool(_SCALE.search(body)),
            "number": bool(re.search(r"\d", body) or _NUMBER_WORDS.search(body)),
            "date": bool(_YEAR_OR_MONTH.search(body)),
            "period": bool(_YEAR_OR_MONTH.search(body) or _DURATION.search(body)),
        }[kind]
    if not ok:
        return [f"the question asks for {'an' if kind[0] in 'aeiou' else 'a'} {kind}, and the answer gives none"]
    return [
        f"the question asks for a {contact}, and the answer does not give it"
        for contact, given in asked_contacts(question).items()
        if not given.search(body)
    ]


#: Roles that a "who" question asks about, in the three languages: the passage cited for the answer
#: must state the same role ("the president of X" is not X's director general). Heading something
#: covers chairing it too ("Qui dirige X ?" / "X, présidé par Y").
ROLES: dict[str, re.Pattern[str]] = {
    "president": re.compile(r"(?<!vice-)(?<!vice )presiden|\bchair|(?<!副)(?:会長|社長|理事長)|議長|総裁"),
    "head": re.compile(
        r"\bdirig|\bdirect|\bhead|\blead|\bled\b|\bchef\b|\bcondu[ci]|a la tete|(?<!vice-)(?<!vice )\bpresid|\bchair|"
        r"率い|所長|ディレクター|(?<!副)(?:会長|社長|理事長)|トップ"
    ),
    "vice-president": re.compile(r"\bvice[- ]?presiden|副会長|副社長|副理事長"),
    "secretary general": re.compile(r"secretaire general|secretary[- ]general|general secretary|事務局長|事務総長"),
    "negotiator": re.compile(r"\bnegoci|\bnegotiat|交渉"),
}
#: How far from the name a role may stand, where ``wrong_role``'s default is too short: a deed stands after
#: the person's title ("Hélène Castagnet, chargée des affaires internationales du pôle …, qui a négocié").
_ROLE_REACH = {"negotiator": 80}


#: What follows a role word when it says whose role it is, to the end of the clause: "président de
#: bioMerieux Japon", "Directeur Général du Pôle Alsace BioValley", "chef de bureau … à la DGE".
_ROLE_OF = re.compile(
    r"\w*(?:\s+(?:general|adjoint|delegue|executi)\w*)?\s*(?:de la|de l'|de|du|des|d'|of the|of)\s*([^,;()]{1,60})"
)


def _role_of_another(held: str, end: int, asked: set[str]) -> bool:
    """The role word ending near ``end`` in ``held`` (folded) is said of something other than the ``asked`` names."""
    whose = _ROLE_OF.match(held, end)
    return bool(asked and whose and not words(whose.group(1)) & asked)


#: What a role can be held in, by kind, in the three languages (folded): "Son président" after "Le pôle a
#: accueilli …" is the cluster's president, "It is directed by" after "The laboratory will …" the laboratory's head.
_HOLDERS: dict[str, re.Pattern[str]] = {
    "cluster": re.compile(r"\bpoles?\b|cluster|クラスター"),
    "laboratory": re.compile(r"\blaborato|\blabs?\b|研究所|ラボ"),
    "delegation": re.compile(r"\bdelegation|\bmissions?\b|代表団|使節団|ミッション"),
    "council": re.compile(r"\bconseil|\bcouncil|協議会|推進会議"),
    "company": re.compile(r"\bsociete|\bentreprise|\bcompan|\bfirms?\b|会社|企業"),
    "university": re.compile(r"\buniversit|大学"),
}
#: A role said with a pronoun: "son président", "its director", "it is directed by", "その会長".
_PRONOUN_BEFORE = re.compile(r"(?:\b(?:son|sa|ses|leur|its|their|it is|it was|il est|elle est)\s+|その)$")
_SENTENCE_BREAK = re.compile(r"[.!?。！？]\s*")


def _holder_kinds(text: str) -> set[str]:
    """The kinds of role holders (``_HOLDERS``) that ``text`` speaks of."""
    folded = fold(text)
    return {kind for kind, pattern in _HOLDERS.items() if pattern.search(folded)}


def _role_of_antecedent(held: str, start: int, asked: set[str]) -> bool:
    """The role word at ``start`` in ``held`` (folded) is said with a pronoun of something of another kind than
    the ``asked`` kinds (``_holder_kinds`` of the question): the subject that opens the sentence before it (its
    first three words) is a cluster, a laboratory, a delegation …, and the question speaks of other kinds only.

    "Who leads the Hokuriku BioCluster?" is not answered by "The laboratory will work on vaccines. It is
    directed by Dr Aiko Fujimura", nor "Qui présidait la délégation japonaise ?" by "Le pôle a accueilli trois
    délégations. Son président, le professeur Bernard Lamothe". Without a kind in the question (Cancer-Bio-
    Santéの会長) or in the subject (a name opens the sentence), the role stands.
    """
    if not _PRONOUN_BEFORE.search(held[max(0, start - 12) : start]):
        return False
    breaks = [m.end() for m in _SENTENCE_BREAK.finditer(held, 0, start)]
    if not breaks:
        return False
    before = held[breaks[-2] if len(breaks) > 1 else 0 : breaks[-1]]
    kinds = _holder_kinds(" ".join(before.split()[:3]))
    return bool(kinds and asked and not kinds & asked)


def _names_and_cited(text: str, question: str, passages: list[Document]) -> Iterator[tuple[list[str], str]]:
    """For each sentence of the answer that names someone the question does not: those names, and the text
    of the passages it cites (folded)."""
    for sentence, cited in cited_support(text, passages):
        if given := [n for n in _new_names(own_words(sentence), question) if fold(n) not in GENERIC_WORDS]:
            yield given, fold(" ".join(passage_text(doc) for doc in cited))


def wrong_role(text: str, question: str, passages: list[Document], reach: int = 30) -> list[str]:
    """The question asks for a role, and the passage cited for the answer does not give it to the answer's names.

    "Who chairs the council?" answered with a name from a list of attendees: the role must stand
    within ``reach`` characters of the name ("Masahiro Nadamoto, président du …", "Son président,
    le professeur Bernard Lamothe"), not several names away, and be the role of what the question
    names: "Bruno Bombarde (président de bioMerieux Japon)" does not chair Lyonbiopôle.
    """
    asked = [role for role, pattern in ROLES.items() if pattern.search(fold(question))]
    if question_kind(question) != "person":  # "direct", "lead" are common words in other questions
        asked = [role for role in asked if role == "president"]
    of_whom, kinds = question_names(question, _names_in(passages)), _holder_kinds(question)
    problems = []
    for given, held in _names_and_cited(text, question, passages):
        for role in asked:
            roles = [
                m.span()
                for m in ROLES[role].finditer(held)
                if not _role_of_another(held, m.end(), of_whom) and not _role_of_antecedent(held, m.start(), kinds)
            ]
            names_at = [m.span() for n in given for m in re.finditer(re.escape(fold(n)), held)]
            near = _ROLE_REACH.get(role, reach)
            if not any(max(a[0], b[0]) - min(a[1], b[1]) <= near for a in roles for b in names_at):
                problems.append(f"the question asks for the {role}, and the passage it cites does not name "
                                f"{' '.join(given)} as {role}")  # fmt: skip
    return problems


#: A "who" question about whom someone acted for: "on behalf of X", "pour le compte de X", "Xを代表して".
_ON_BEHALF = re.compile(r"\bon behalf of\b|\brepresent|\bpour le compte d|\bau nom d|代表し")
#: A person's title in apposition: ", vice-président d'Alsace BioValley", " (président de bioMerieux Japon)".
_TITLE_OF = re.compile(r"\W{0,3}(?:[\w-]+\s+){0,3}?[\w-]+\s*(?:de la\s|de l'|de\s|du\s|des\s|d'|of the\s|of\s)")
#: Where what a passage says of a person ends: the next person of a list, or the sentence.
_CLAUSE_END = re.compile(r"\s(?:et|and)\s|[;.]")


def wrong_affiliation(text: str, question: str, passages: list[Document]) -> list[str]:
    """A "who … on behalf of X" answered with someone whom the cited passage gives only a title of something
    else: "Thomas Riedinger, vice-président d'Alsace BioValley, et …" did not sign for the Medicon Valley
    Alliance, while "Bruno Bombarde (président de bioMerieux Japon) représentant Lyonbiopole" did represent it."""
    if question_kind(question) != "person" or not _ON_BEHALF.search(fold(question)):
        return []
    of_whom = question_names(question, _names_in(passages))
    problems = []
    for given, held in _names_and_cited(text, question, passages):
        for name in given:
            for at in re.finditer(re.escape(fold(name)), held):
                said = held[at.end() : at.end() + 100]
                said = said[: end.start()] if (end := _CLAUSE_END.search(said)) else said
                if of_whom and _TITLE_OF.match(said) and not words(said) & of_whom:
                    problems.append(f"the passage it cites gives {name} a title of something the question does not ask")
    return list(dict.fromkeys(problems))


#: Facts that a passage states in so many words, in any of the three languages (folded: no accents).
#: Asked when something was founded or where a mission stayed, a passage that never says so gives
#: another date or place of the same document: the year a partnership was signed, the site visited.
#: Asked about a workshop, a seminar or whom a delegation met, it gives the numbers and dates of another
#: event: the pavilion's 18 companies for the seminar, a return visit's month for the workshop. Asked
#: what a cluster is strong in, it gives what else the passage says ("癌と生物科学" for Lyonbiopôle).
STATED: dict[str, re.Pattern[str]] = {
    "founding": re.compile(
        r"\bfound(ed|ing)\b|\bfond(e|ee|es|ees|ation|ateurs?)\b|\bcre{2,3}s?\b|\bcreation\b|\bestablish|"
        r"\blanc(e|ee|ement)\b|\blaunch|設立|創設|創立|発足"
    ),
    "lodging": re.compile(r"\bhotels?\b|\bstay(ed|ing)? at\b|\blodg|\bloge|\bheberg|宿泊|ホテル"),
    "workshop": re.compile(r"\bateliers?\b|\bworkshops?\b|ワークショップ"),
    "seminar": re.compile(r"\bseminai?r|セミナー"),
    "meeting": re.compile(r"\bmet\b|\bmeet(s|ing)?\b|\brencontr|会い|会っ|面会|会談"),
    "speciality": re.compile(
        r"\bstrengths?\b|\bforces?\b|\bpoints? forts?\b|\bcompeten|\bexpert|\bspeciali[sz]|\bspecialt|強み|専門|得意"
    ),
}


def asked_facts(question: str) -> list[str]:
    """The ``STATED`` facts that ``question`` asks about."""
    return [fact for fact, pattern in STATED.items() if pattern.search(fold(question))]


def unstated(text: str, question: str, passages: list[Document]) -> list[str]:
    """The question asks about one of the ``STATED`` facts, and no passage the answer cites speaks of one."""
    asked = asked_facts(question)
    if not asked:
        return []
    held = fold(" ".join(passage_text(passages[n - 1]) for n in cited_numbers(text, len(passages))))
    return [f"the question asks about a {fact}, and the passage it cites does not speak of one"
            for fact in asked if held and not STATED[fact].search(held)]  # fmt: skip


def check_grounding(text: str, language: str, passages: list[Document], question: str = "") -> list[str]:
    """Problems found in an answer: bad citations, wrong language, facts not in the passages it cites,
    a passage from another document than the one asked about, or not the kind of answer asked for."""
    problems = []
    numbers = cited_numbers(text, len(passages))
    if not numbers:
        problems.append("no valid citation")
    if any(not 1 <= int(n) <= len(passages) for n in CITATION.findall(text)):
        problems.append("citation of a passage that does not exist")
    body = CITATION.sub("", text)
    if not written_in(text, language):
        problems.append(f"not written in {LANGUAGE_NAMES.get(language, language)}")
    if _CITATION_AS_FACT.search(text.strip()):
        problems.append("a citation stands instead of the fact: write the fact itself, then cite")
    if _POINTS_AT_PASSAGE.search(text):
        problems.append("the answer points at a passage instead of stating what it says")
    problems += borrowed_facts(text, question, passages)
    if question:
        problems += wrong_document(text, question, passages) + wrong_kind(text, question, passages)
        problems += wrong_count(text, question) + counted_elsewhere(text, question, passages)
        problems += counted_nationality(text, question, passages)
        problems += dateline_dates(text, question, passages)
        problems += list(dict.fromkeys(wrong_role(text, question, passages))) + unstated(text, question, passages)
        problems += wrong_affiliation(text, question, passages)
    if language == "ja":
        problems.extend(
            f"the name {name} is transliterated: copy names in Latin letters exactly as in the passages"
            for name in _KATAKANA_NAME.findall(body)
            if name not in question
        )
    return problems


@component
class ExtractiveAnswerWriter:
    """Answers with the passage sentences closest to the question, quoted with their [n].

    It needs no language model, so it is the fallback when none is available, and it cannot state
    a fact that is not in a passage. The quotes stay in the documents' language; the framing
    sentence is in the asker's. Below ``min_score`` cosine similarity it declines to answer.

    Usage example:
    ```python
    writer = ExtractiveAnswerWriter(text_embedder(settings), document_embedder(settings, progress_bar=False))
    writer.warm_up()
    writer.run(question="Qui dirige le pôle ?", language="fr", passages=docs)  # {"text": "…", "answered": True}
    ```
    """

    def __init__(
        self,
        question_embedder: SentenceTransformersTextEmbedder,
        sentence_embedder: SentenceTransformersDocumentEmbedder,
        min_score: float = 0.80,
        max_sentences: int = 2,
    ) -> None:
        self.question_embedder = question_embedder
        self.sentence_embedder = sentence_embedder
        self.min_score = min_score
        self.max_sentences = max_sentences

    def warm_up(self) -> None:
        """Load the embedding model (shared with retrieval and indexing)."""
        self.question_embedder.warm_up()
        self.sentence_embedder.warm_up()

    @component.output_types(text=str, answered=bool)
    def run(
        self, question: str, language: str, passages: list[Document], only: list[int] | None = None
    ) -> dict[str, Any]:
        """Quote the best sentences of ``passages`` (of passages number ``only``, when given), or say the
        documents do not hold the answer. A quote without the kind of fact asked ("when" and no date) is
        not an answer either. A contact detail is looked for in every passage, on a line that names
        what the question names: a model that wrote "The website is [2]." often cited the wrong one."""
        candidates: list[tuple[int, str]] = []
        wanted = list(asked_contacts(question).values())
        for number, doc in enumerate(passages, start=1):
            if only and number not in only and not wanted:
                continue
            text = doc.content or ""
            doc_language = str(doc.meta.get("language", "en"))
            for sentence in split_sentences(text, doc_language, 400):
                candidates.append((number, text[sentence.start : sentence.end].strip()))
        if wanted:  # a web address, e-mail or phone number: the line that gives it, and names what is asked
            asked = names(question)
            candidates = [
                (n, s) for n, s in candidates
                if any(p.search(s) for p in wanted) and (not asked or asked & words(s))
            ]  # fmt: skip
        if not candidates:
            return {"text": message("not_found", language), "answered": False}
        query = np.array(self.question_embedder.run(text=question)["embedding"], dtype=np.float32)
        embedded = self.sentence_embedder.run(documents=[Document(content=s) for _, s in candidates])["documents"]
        scores = np.array([d.embedding for d in embedded], dtype=np.float32) @ query
        best = np.argsort(-scores)[: self.max_sentences]
        if scores[best[0]] < self.min_score:
            return {"text": message("not_found", language), "answered": False}
        kept = [i for i in sorted(best) if scores[i] >= self.min_score]
        quotes = []
        for i in kept:
            number, sentence = candidates[i]
            if len(sentence) < 100 and i > 0 and candidates[i - 1][0] == number and i - 1 not in kept:
                sentence = f"{candidates[i - 1][1]} {sentence}"  # a fragment cut from a long sentence
            quotes.append(f"« {sentence} » [{number}]")
        if wrong_kind(" ".join(quotes).replace("«", "").replace("»", ""), question):
            return {"text": message("not_found", language), "answered": False}
        return {"text": message("extractive_lead", language) + "\n" + "\n".join(quotes), "answered": True}
