"""Question → best passages: the query pipeline over the live FAISS index."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import faiss
from haystack import Document, Pipeline, component
from haystack_integrations.components.retrievers.faiss import FAISSEmbeddingRetriever
from haystack_integrations.document_stores.faiss import FAISSDocumentStore

from bot.answer import QUESTION_KINDS, STATED, TODAY, asked_facts, question_kind
from bot.chunking import passage_text
from bot.config import Settings
from bot.documents import find_date
from bot.embedders import text_embedder
from bot.names import (
    NameWeights,
    SoundIndex,
    asked_contacts,
    fold,
    japanese_names,
    name_shares,
    names,
    question_names,
    words,
)


@component
class LanguageBalancer:
    """Takes back the head start that a multilingual embedder gives passages in the question's language.

    e5 scores every Japanese passage higher for a Japanese question, whatever it says, so a Japanese
    report wins questions about French documents. Among the retrieved candidates, each language's
    mean score above the mean of all candidates is subtracted from its passages, shrunk towards zero
    when the language has few candidates (``n / (n + shrink)``) so that a lone passage keeps its
    score. The order within a language does not change. FAISS's scores (1 / (1 + L2²) of unit
    vectors) come in; cosine similarities, balanced, go out.

    Usage example:
    ```python
    LanguageBalancer().run(documents=retrieved)["documents"]
    ```
    """

    def __init__(self, strength: float = 1.0, shrink: float = 2.0) -> None:
        self.strength = strength
        self.shrink = shrink

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, list[Document]]:
        """Rescore ``documents`` (the retriever's candidates, in any order)."""
        cosines = [1 - (1 / doc.score - 1) / 2 if doc.score else 0.0 for doc in documents]
        if not documents:
            return {"documents": []}
        overall = sum(cosines) / len(cosines)
        by_language: dict[str, list[float]] = {}
        for doc, cosine in zip(documents, cosines, strict=True):
            by_language.setdefault(str(doc.meta.get("language", "")), []).append(cosine)
        offset = {
            language: len(scores) / (len(scores) + self.shrink) * (sum(scores) / len(scores) - overall)
            for language, scores in by_language.items()
        }
        balanced = [
            replace(doc, score=cosine - self.strength * offset[str(doc.meta.get("language", ""))])
            for doc, cosine in zip(documents, cosines, strict=True)
        ]
        return {"documents": sorted(balanced, key=lambda d: d.score or 0.0, reverse=True)}


#: A section heading that introduces what a press document says about one subject ("À propos du …").
ABOUT = re.compile(
    r"^\s*(?:[àa] propos (?:du|des|de la|de l['’]|de|d['’])|about(?: the)?)\b\s*|\s*(?:について|の概要)\s*$", re.I
)


def about(subject: set[str], asked: set[str]) -> bool:
    """Whether the question's words name the ``subject`` of an "About …" section: three in four of its words,
    alone or in a compound ("lifescience"; ライフ・サイエンス reads "raifu" and misses "life")."""
    held = {word for word in subject if any(word in name for name in asked)}
    return bool(subject) and len(held) >= 0.75 * len(subject)


@component
class NameMatchRanker:
    """Puts first the passages whose document names what the question names.

    Press documents about the same kinds of facts look alike to a small embedding model: "how many
    companies" finds every document that counts companies. The names in the question ("Pacific Bio
    Alliance", "Kanazawa") say which document it is about. Each passage's similarity score gets
    ``weight`` × the share of the question's names that its document (title and text) holds, each
    name weighted by how few documents hold it (a name in several words, "Kansai Bio Promotion
    Council", counts once: its four words no longer outweigh "BioJapan"), plus ``title_weight`` × the
    share that its title holds: a document titled "Kansai delegation visits Alsace BioValley" is about
    the visit, one that mentions both names in passing is not. A Japanese question's 関西 or アルザス
    counts as the documents' Kansai or Alsace. A chunk of a section "À propos du Life Science Corridor
    France" gets ``about_weight`` when the question names that subject: such a section states what the
    document holds true of it ("Une initiative soutenue par la DGE"), in bullets that never name it, and
    the embedding ranked that bullet below every passage that merely mentions the corridor.

    Usage example:
    ```python
    ranker = NameMatchRanker(store.filter_documents(), top_k=5)
    ranker.run(query="Who chairs the Pacific Bio Alliance?", documents=retrieved)["documents"]
    ```
    """

    def __init__(
        self,
        chunks: list[Document],
        weight: float = 0.1,
        title_weight: float = 0.05,
        about_weight: float = 0.05,
        top_k: int = 5,
    ) -> None:
        self.weight = weight
        self.title_weight = title_weight
        self.about_weight = about_weight
        self.top_k = top_k
        self.about_subjects = {
            chunk.id: {word for word in words(ABOUT.sub("", section)) if len(word) >= 4 or not word.isascii()}
            for chunk in chunks
            if (section := str(chunk.meta.get("section") or "")) and ABOUT.search(section)
        }
        self.document_words: dict[str, set[str]] = {}
        titles: dict[str, str] = {}
        vocabulary: set[str] = set()
        for chunk in chunks:
            name, title = str(chunk.meta.get("document", "")), str(chunk.meta.get("title", ""))
            vocabulary |= names(f"{title} {chunk.meta.get('section') or ''} {chunk.content or ''}")
            if name not in titles:
                titles[name] = title
                self.document_words[name] = words(title)
            self.document_words[name] |= words(chunk.content or "")
        self.sounds = SoundIndex(vocabulary)
        for chunk in chunks:  # a Japanese document's アルザス is the others' Alsace
            text = f"{chunk.meta.get('title', '')} {chunk.content or ''}"
            self.document_words[str(chunk.meta.get("document", ""))] |= japanese_names(text, self.sounds)
        self.title_words = {name: words(title) | japanese_names(title, self.sounds) for name, title in titles.items()}
        self.weights = NameWeights(self.document_words.values())

    def named_documents(self, query: str, most: int = 2) -> set[str]:
        """The documents that hold a name of ``query`` that at most ``most`` documents hold (金沢: Kanazawa's)."""
        asked = question_names(query, self.sounds)
        telling = {name for name in asked if 0 < self.weights.frequency.get(name, 0) <= most}
        return {document for document, held in self.document_words.items() if telling & held}

    @component.output_types(documents=list[Document])
    def run(self, query: str, documents: list[Document], top_k: int | None = None) -> dict[str, list[Document]]:
        """Add the name match to the scores of ``documents`` (cosine similarities) and keep the best ``top_k``."""
        asked, shares = question_names(query, self.sounds), name_shares(query)
        named = asked | words(query)
        rescored = []
        for doc in documents:
            name = str(doc.meta.get("document", ""))
            match = self.weight * self.weights.match(asked, self.document_words.get(name, set()), shares)
            match += self.title_weight * self.weights.match(asked, self.title_words.get(name, set()), shares)
            if about(self.about_subjects.get(doc.id, set()), named):
                match += self.about_weight
            rescored.append(replace(doc, score=(doc.score or 0.0) + match))
        rescored.sort(key=lambda d: d.score or 0.0, reverse=True)
        return {"documents": rescored[: top_k or self.top_k]}


@component
class NamedDocumentRetriever:
    """Adds the best chunks of the documents that the question names, when the nearest chunks hold none.

    A Japanese question about an English document ("金沢の研究所の開所式には何社が参加しましたか？")
    can find none of its chunks among the nearest ones, and then reads another document's count
    ("18社"). The names that tell the documents apart say which document to search as well.

    Usage example:
    ```python
    named = NamedDocumentRetriever(retriever, ranker)
    named.run(query=question, query_embedding=embedding, documents=candidates)["documents"]
    ```
    """

    def __init__(self, retriever: FAISSEmbeddingRetriever, ranker: NameMatchRanker, top_k: int = 3) -> None:
        self.retriever = retriever
        self.ranker = ranker
        self.top_k = top_k

    @component.output_types(documents=list[Document])
    def run(self, query: str, query_embedding: list[float], documents: list[Document]) -> dict[str, list[Document]]:
        """``documents`` (the nearest chunks), and the best ``top_k`` of each named document they lack."""
        found = {str(doc.meta.get("document", "")) for doc in documents}
        missing = sorted(self.ranker.named_documents(query) - found)
        if not missing:
            return {"documents": documents}
        filters = {"field": "meta.document", "operator": "in", "value": missing}
        # The store filters after its search: asked for every chunk, it searches them all.
        everything = self.retriever.document_store.count_documents()
        added = self.retriever.run(query_embedding=query_embedding, filters=filters, top_k=everything)["documents"]
        best = [doc for name in missing for doc in [d for d in added if d.meta.get("document") == name][: self.top_k]]
        return {"documents": documents + best}


#: How a passage gives the details a question can ask for besides contacts, by question kind.
DETAILS: dict[str, re.Pattern[str]] = {
    "event": re.compile(
        r"\b(salons?|rencontres|conventions?|congr[eè]s|forums?|conf[ée]rences?|s[ée]minaires?|colloques?|"
        r"symposiums?|assembl[ée]es?|expositions?|fairs?|seminars?|summits?|trade shows?)\b|"
        r"会議|セミナー|展示会|フォーラム|シンポジウム|総会|見本市",
        re.I,
    ),
    "period": re.compile(
        r"\b(?:19|20)\d{2}\s*[-–/]\s*(?:19|20)?\d{2}\b(?![-/]\d)|"
        r"\b(?:de|du|from|between|entre)\s+(?:19|20)\d{2}\s+(?:à|au|to|and|et)\s+(?:19|20)\d{2}\b|"
        r"\b(?:sur|pendant|durant|over|for)\s+(?:\w+\s+)?(?:ans|années|mois|years|months)\b|"
        r"\d{4}年.{0,6}(?:から|[〜～-]).{0,8}\d{4}年|\d\s*(?:年間|か月|ヶ月|カ月)",
        re.I,
    ),
}


@component
class AskedDetailRanker:
    """Puts first the passages that hold the kind of detail the question asks for: a contact, an event, a period,
    or one of the facts that the answer's passage must state (``STATED``: a workshop, whom a delegation met, a
    cluster's strengths).

    "What is the website of the cluster?" is close in meaning to every passage about the cluster,
    and the one line that gives its address rarely wins on similarity alone; "At which event was it
    launched?" is close to every passage that says when and where, and the one that names the event
    ("à l'occasion des Rencontres Eurorégionales") ranked fifth; "このパートナーシップの期間は？"
    found the dates of the signing before "la période 2008-2010". A passage holding a web address
    (an e-mail, a phone number), an event word (salon, congrès, セミナー) or a period ("2008-2010",
    "sur trois ans", "3年間") gets ``boost`` added to its score when the question asks for one. Asked for
    アルザス・バイオバレーの強み, the passage of its "compétences" ranked below reports of visits to Alsace.

    Usage example:
    ```python
    AskedDetailRanker().run(query="Quel est le numéro de téléphone ?", documents=retrieved)["documents"]
    ```
    """

    def __init__(self, boost: float = 0.05) -> None:
        self.boost = boost

    @component.output_types(documents=list[Document])
    def run(self, query: str, documents: list[Document]) -> dict[str, list[Document]]:
        """Rescore ``documents`` (cosine similarities) for the details ``query`` asks for, if any."""
        asked = [given for kind, given in DETAILS.items() if QUESTION_KINDS[kind].search(query)]
        held = [*asked_contacts(query).values(), *asked]
        stated = [STATED[fact] for fact in asked_facts(query)]
        if not held and not stated:
            return {"documents": documents}
        rescored = [
            replace(doc, score=(doc.score or 0.0) + self.boost)
            if any(p.search(doc.content or "") for p in held) or any(p.search(fold(passage_text(doc))) for p in stated)
            else doc
            for doc in documents
        ]
        return {"documents": sorted(rescored, key=lambda d: d.score or 0.0, reverse=True)}


def by_document(passages: list[Document]) -> list[Document]:
    """Passages grouped by document, the best document first, each document's passages in rank order.

    The answer writer then reads each document as one block under its title, as the prompt shows it.
    Within a document the best passage stays first: the small model leans on what it reads first.
    """
    best: dict[str, int] = {}
    for rank, doc in enumerate(passages):
        best.setdefault(str(doc.meta.get("document", "")), rank)
    return sorted(passages, key=lambda d: best[str(d.meta.get("document", ""))])


def focused(passages: list[Document], k: int) -> list[Document]:
    """The passages the answer writer reads: the first ``k``, or only the leading document's when the
    first ``k`` hold just one passage from another document and not among the first two (then up to
    ``k`` of the leading document's, from all retrieved).

    A neighbour's passage read beside a document that the retrieval clearly picked is where a borrowed
    name or number comes from, and the small model often answers from the passage written in the
    answer's language, whatever its document. With less agreement (two documents in the first two,
    or two passages of others) the question may be about the other document: all ``k`` are read.
    """
    top = passages[:k]
    lead = top[0].meta.get("document") if top else None
    others = [p for p in top if p.meta.get("document") != lead]
    if len(others) != 1 or top[1].meta.get("document") != lead:
        return top
    return [p for p in passages if p.meta.get("document") == lead][:k]


#: The end of a sentence: a passage that stops elsewhere was cut by the chunker's budget.
_SENTENCE_END = re.compile(r"[.!?。！？»)）」]\s*$")


def continued(passages: list[Document]) -> list[Document]:
    """The passages, each one that stops mid-sentence joined with the next chunk of its document, when that
    chunk is among them too.

    The chunker cuts a long sentence or a list where its budget ends: "Parmi les actions au programme :
    - Coordination … ;" and "- Organisation de séminaires … ;" read as two passages answered "which actions"
    with the first item alone. A joined passage takes the place of its best-ranked part; the sentence that
    the next chunk repeats from the previous one is kept once.
    """

    def key(doc: Document, step: int = 0) -> tuple[object, int]:
        return doc.meta.get("source_id"), int(doc.meta.get("chunk", -1)) + step

    held = {key(doc): doc for doc in passages}
    joined: list[Document] = []
    done: set[tuple[object, int]] = set()
    for doc in passages:
        if key(doc) in done:
            continue
        first = doc
        while (before := held.get(key(first, -1))) is not None and not _SENTENCE_END.search(before.content or ""):
            first = before
        run = [first]
        while not _SENTENCE_END.search(run[-1].content or "") and (after := held.get(key(run[-1], 1))) is not None:
            run.append(after)
        done |= {key(part) for part in run}
        joined.append(doc if len(run) == 1 else joined_chunks(run))
    return joined


def joined_chunks(run: list[Document]) -> Document:
    """Consecutive chunks of one document as one passage, the text they share kept once, with the best score."""
    text = run[0].content or ""
    for before, part in itertools.pairwise(run):
        end = int(before.meta["split_idx_start"]) + len(before.content or "")
        overlap = end - int(part.meta["split_idx_start"])
        text += (part.content or "")[overlap:] if overlap > 0 else f"\n{part.content or ''}"
    return replace(run[0], id="", content=text, score=max(part.score or 0.0 for part in run))


def dated(passages: list[Document], store: FAISSDocumentStore, question: str) -> list[Document]:
    """For a "when" question, each passage that says "today" without a date, joined with the chunk before
    it when that chunk gives the date.

    "Officialisée ce matin à 10H45 …" answers when the agreement was signed only with the sentence before
    it, "C'est aujourd'hui, 4 Février 2008 …": read alone, "à 10H45" was the answer, and no date.
    """
    if question_kind(question) != "date":
        return passages
    out = []
    for doc in passages:
        text, chunk = doc.content or "", doc.meta.get("chunk")
        if TODAY.search(text) and not find_date(text) and isinstance(chunk, int) and chunk > 0:
            filters = {
                "operator": "AND",
                "conditions": [
                    {"field": "meta.source_id", "operator": "==", "value": doc.meta.get("source_id")},
                    {"field": "meta.chunk", "operator": "==", "value": chunk - 1},
                ],
            }
            before = store.filter_documents(filters)
            if before and find_date(before[0].content or ""):
                doc = joined_chunks([replace(before[0], score=doc.score), doc])
        out.append(doc)
    return out


def query_pipeline(store: FAISSDocumentStore, settings: Settings) -> Pipeline:
    """Fetch the ``candidates`` nearest chunks in any language (and those of a document the question names,
    when none of them is from it), keep the ``top_k`` best.

    The question is embedded with e5's ``query:`` prefix into the same multilingual space as the
    chunks, so a Japanese question finds French passages; the candidates' languages are then put on
    an equal footing, passages holding the contact detail, event or period the question asks for
    move up, and the names the question holds pick the document.
    """
    pipeline = Pipeline()
    retriever = FAISSEmbeddingRetriever(document_store=store, top_k=max(settings.candidates, settings.top_k))
    ranker = NameMatchRanker(store.filter_documents(), top_k=settings.top_k)
    pipeline.add_component("embedder", text_embedder(settings))
    pipeline.add_component("retriever", retriever)
    pipeline.add_component("named", NamedDocumentRetriever(retriever, ranker))
    pipeline.add_component("balancer", LanguageBalancer())
    pipeline.add_component("details", AskedDetailRanker())
    pipeline.add_component("ranker", ranker)
    pipeline.connect("embedder.embedding", "retriever.query_embedding")
    pipeline.connect("embedder.embedding", "named.query_embedding")
    pipeline.connect("retriever.documents", "named.documents")
    pipeline.connect("named.documents", "balancer.documents")
    pipeline.connect("balancer.documents", "details.documents")
    pipeline.connect("details.documents", "ranker.documents")
    return pipeline


def retrieve(pipeline: Pipeline, question: str, top_k: int | None = None) -> list[Document]:
    """Run the query pipeline: the question's passages, best first.

    One query gains nothing from FAISS's OpenMP threads, and they stall for tens of milliseconds
    whenever another process (the language model) keeps the cores busy. The setting is per thread,
    hence here, in the thread that searches.
    """
    faiss.omp_set_num_threads(1)
    inputs: dict[str, dict] = {
        "embedder": {"text": question},
        "named": {"query": question},
        "details": {"query": question},
        "ranker": {"query": question},
    }
    if top_k is not None:
        inputs["ranker"]["top_k"] = top_k
        inputs["retriever"] = {"top_k": max(top_k, pipeline.get_component("retriever").top_k)}
    result = pipeline.run(inputs)
    return result["ranker"]["documents"]
