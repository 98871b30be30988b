"""Sentence chunking: budgets, coverage, whole words and sentences, overlap, French and Japanese."""

from __future__ import annotations

import re

import pytest
from conftest import SEED
from haystack import Document

from bot.chunking import SentenceChunker, find_headings, list_lead_in, split_sentences
from bot.documents import PressDocumentConverter, read_source

BUDGET = 420
BUDGET_JA = 200
_WORD_CHAR = re.compile(r"[\w\-'’]")
_JA_SENTENCE_END = "。！？"

JA_PARAGRAPHS = [
    "ライフサイエンス・コリドー・フランスと関西バイオ推進会議は、二〇〇八年二月四日に大阪で連携協定を締結した。"
    "調印式は大阪商工会議所の主催で行われた。フランスからは三つの競争力拠点の代表が出席した。"
    "関西側からは推進会議の会長が出席した。両者は研究、販売、資金調達の分野で協力を進める。"
    "協定の期間は二〇〇八年から二〇一〇年までの三年間である。",
    "関西地域は九つの府県にまたがる日本最大のバイオクラスターである。大阪、神戸、京都には多くの研究機関が集まる。"
    "製薬企業やバイオベンチャーも数多く立地している。推進会議はこれらの機関を結ぶ役割を担っている。"
    "フランス側の拠点はストラスブール、リヨン、トゥールーズに広がる。"
    "三つの拠点はそれぞれ化学、感染症、がんの分野に強みを持つ！",
    "協力の内容は多岐にわたる。共同研究の支援が第一の柱である。知的財産の活用も重要な課題とされた。"
    "両地域でセミナーを開催し、経験を交換する。国際的な展示会で成果を発表する計画もある。"
    "最初の機会は横浜で開かれるバイオジャパンである。会期は十月十五日から十七日までの三日間だ。"
    "会場では企業同士の商談会が予定されている。参加企業はどのように選ばれるのか？"
    "各拠点が推薦する企業の中から選ばれる見込みだ。",
    "フランス企業庁はこの取り組みを支援している。次の段階では北米との提携が計画されている。"
    "サンディエゴとボストンのクラスターとの協定は六月に予定されている。カナダとの協定も年内に結ばれる見通しだ。"
    "関係者は今回の協定を大きな一歩と評価した。今後の展開に注目が集まっている。"
    "推進会議の担当者は、日仏の協力が新しい産業を生むと期待を語った。",
    "再生医療の分野でも協力が検討されている。京都の研究所はiPS細胞の研究で知られている。"
    "フランスの研究者は細胞治療の臨床試験に関心を示した。両国の規制の違いが課題として挙げられた。"
    "専門家による作業部会を設けることで合意した。最初の会合は秋に開かれる予定だ。",
    "診断薬とワクチンの分野も重点の一つである。リヨンの拠点は感染症の研究で世界的に知られる。"
    "関西の企業は検査機器の技術に優れている。両者の技術を組み合わせれば新しい製品が生まれる。"
    "まずは小規模な共同研究から始める方針だ。成果は両地域の企業に還元される。",
    "がん治療の研究でも交流が進む。トゥールーズには大規模ながん研究の拠点がある。"
    "大阪の大学病院との間で研究者の派遣が計画されている。若手研究者の育成も目的の一つだ。"
    "派遣期間は三か月から一年とされる。費用は両地域の自治体が分担する。",
    "中小企業の海外進出を後押しすることも協定の狙いである。言葉や商習慣の違いは大きな壁になる。"
    "そこで両地域に相談窓口を設ける。窓口では通訳や法律の相談に応じる。"
    "進出を検討する企業には現地の視察も用意される。初年度は十社程度の参加を見込む。"
    "本当に成果は出るのだろうか？関係者は三年後の評価に向けて準備を進めている。",
    "人材の交流も協定の大切な柱である。両地域の大学院生が相手の研究室で学ぶ制度を作る。"
    "毎年十人程度の学生を受け入れる計画だ。奨学金は企業の寄付で賄われる。"
    "語学研修も事前に用意される。修了した学生には共同の証明書が授与される。",
    "問い合わせ先はトゥールーズの広報担当である。電話とメールで受け付けている。"
    "取材の申し込みは一週間前までに行う必要がある。資料は日本語とフランス語で用意されている。"
    "英語の資料も順次公開される予定である。詳しい日程は後日発表される。",
]
JA_TEXT = "関西バイオ推進会議との連携協定\n\n" + "\n\n".join(JA_PARAGRAPHS) + "\n"

RUN_ON_FR = (
    ", ".join(
        [
            "Le Life Science Corridor France réunit les pôles de compétitivité de Toulouse",
            "de Lyon-Grenoble et de Strasbourg",
            "organise des missions communes au Japon et en Amérique du Nord",
            "soutient les collaborations entre laboratoires académiques et industriels pharmaceutiques",
            "accompagne les entreprises de biotechnologie vers l'international",
            "prépare des accords avec les clusters de San Diego",
            "de Boston et du Canada",
            "développe des échanges d'expérience entre bioclusters européens et asiatiques",
            "anime des séminaires thématiques sur la propriété intellectuelle et le transfert de technologie",
            "et favorise la recherche translationnelle au service des patients atteints de cancer "
            "ou de maladies infectieuses humaines et animales",
        ]
    )
    + "."
)


def squash(text: str) -> str:
    return " ".join(text.split())


def spans(chunks: list[Document]) -> list[tuple[int, int]]:
    return [(c.meta["split_idx_start"], c.meta["split_idx_start"] + len(c.content)) for c in chunks]


def cuts_a_word(text: str, position: int) -> bool:
    """Whether a boundary at ``position`` falls between two characters of one word."""
    if position <= 0 or position >= len(text):
        return False
    return bool(_WORD_CHAR.match(text[position - 1]) and _WORD_CHAR.match(text[position]))


def assert_chunks_are_slices(text: str, chunks: list[Document]) -> None:
    for chunk, (start, end) in zip(chunks, spans(chunks), strict=True):
        assert text[start:end] == chunk.content


def assert_covers_text(text: str, chunks: list[Document]) -> None:
    covered = [False] * len(text)
    for start, end in spans(chunks):
        covered[start:end] = [True] * (end - start)
    missing = [i for i, char in enumerate(text) if not char.isspace() and not covered[i]]
    assert not missing, f"not in any chunk: {text[missing[0] : missing[0] + 60]!r}"


def assert_no_word_cut(text: str, chunks: list[Document]) -> None:
    for start, end in spans(chunks):
        assert not cuts_a_word(text, start), f"chunk starts mid-word: …{text[start - 15 : start + 15]!r}"
        assert not cuts_a_word(text, end), f"chunk ends mid-word: {text[end - 15 : end + 15]!r}…"


# The seed document ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_document() -> Document:
    documents = PressDocumentConverter().run(sources=[read_source(SEED, SEED.name)])["documents"]
    assert len(documents) == 1
    return documents[0]


@pytest.fixture(scope="module")
def seed_chunks(seed_document: Document) -> list[Document]:
    return SentenceChunker(max_chars=BUDGET, max_chars_ja=BUDGET_JA).run(documents=[seed_document])["documents"]


def test_seed_is_french_and_chunked(seed_document: Document, seed_chunks: list[Document]) -> None:
    assert seed_document.meta["language"] == "fr"
    assert len(seed_chunks) >= len(seed_document.content) // BUDGET
    assert [c.meta["chunk"] for c in seed_chunks] == list(range(len(seed_chunks)))
    for chunk in seed_chunks:
        assert chunk.meta["source_id"] == seed_document.id
        assert chunk.meta["document"] == SEED.name
        assert chunk.meta["title"] == seed_document.meta["title"]
        assert chunk.meta["date"] == "2008-02-04"
        assert chunk.meta["language"] == "fr"
    assert len({c.id for c in seed_chunks}) == len(seed_chunks)


def test_seed_chunk_sizes(seed_chunks: list[Document]) -> None:
    sizes = [len(c.content) for c in seed_chunks]
    assert max(sizes) <= BUDGET * 1.5, sizes
    assert min(sizes) >= 80, sizes


def test_seed_chunks_are_slices_in_order(seed_document: Document, seed_chunks: list[Document]) -> None:
    assert_chunks_are_slices(seed_document.content, seed_chunks)
    starts = [start for start, _ in spans(seed_chunks)]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for chunk in seed_chunks:
        assert chunk.content == chunk.content.strip(), "no leading or trailing whitespace"


def test_seed_chunks_cover_every_line(seed_document: Document, seed_chunks: list[Document]) -> None:
    text = seed_document.content
    assert_covers_text(text, seed_chunks)
    chunk_texts = [squash(c.content) for c in seed_chunks]
    lines = [squash(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in lines:
        if len(line) <= BUDGET // 2:
            assert any(line in chunk for chunk in chunk_texts), f"line split or lost: {line!r}"
        else:  # a long paragraph spans several chunks: its sentences follow each other in them
            pieces = [piece for piece in re.split(r"(?<=[.;:!?])\s+", line) if piece]
            for piece in pieces:
                if len(piece) <= BUDGET // 2:
                    assert any(piece in chunk for chunk in chunk_texts), f"sentence split or lost: {piece!r}"


def test_seed_sentences_are_whole(seed_document: Document, seed_chunks: list[Document]) -> None:
    """Every sentence that fits the budget lies inside one chunk."""
    text = seed_document.content
    chunk_spans = spans(seed_chunks)
    sentences = split_sentences(text, "fr", BUDGET)
    assert len(sentences) > 30
    for sentence in sentences:
        assert any(start <= sentence.start and sentence.end <= end for start, end in chunk_spans), (
            f"sentence not inside one chunk: {text[sentence.start : sentence.end]!r}"
        )


def test_seed_no_word_cut(seed_document: Document, seed_chunks: list[Document]) -> None:
    assert_no_word_cut(seed_document.content, seed_chunks)


@pytest.mark.parametrize(
    "fact",
    [
        "Masahiro Nadamoto, président du Kansai Bio Promotion Council",
        "Nicolas Carboni Directeur Général du Pôle Alsace BioValley",
        "du 15 au 17 Octobre 2008 à Yokohama",
        "Etats-Unis (San Diego et Boston) en Juin 2008",
        "Pôle Cancer-Bio-Santé (Midi-Pyrénées, Limousin): www.cancerbiosante.fr",
        "Tl/Fx: +33 (0) 5 61 14 24 54",
    ],
)
def test_seed_fact_inside_one_chunk(seed_chunks: list[Document], fact: str) -> None:
    assert any(fact in squash(c.content) for c in seed_chunks), fact


def test_seed_chunking_is_deterministic(seed_document: Document, seed_chunks: list[Document]) -> None:
    again = SentenceChunker(max_chars=BUDGET, max_chars_ja=BUDGET_JA).run(documents=[seed_document])["documents"]
    assert [c.content for c in again] == [c.content for c in seed_chunks]
    assert [c.id for c in again] == [c.id for c in seed_chunks]


def test_seed_sections_and_list_lead_ins(seed_chunks: list[Document]) -> None:
    """What is embedded with a chunk besides its text: the heading above it, the lead-in of its list."""
    by_start = {c.content.split("\n")[0][:40]: c.meta for c in seed_chunks}
    assert seed_chunks[0].meta["section"] is None, "the title at the top is the document's, not a section"
    programme = next(m for key, m in by_start.items() if key.startswith("- Coordination et soutien à la recherche"))
    assert programme["section"] == (
        "Le Programme De Cooperation Entre Le Life Science Corridor France Et Le Biomedical Cluster Kansai"
    )
    assert programme["lead_in"] == "Parmi les actions au programme de ce partenariat établi pour la période 2008-2010 :"
    about = [m for m in by_start.values() if m["section"] == "A Propos Du Life Science Corridor France"]
    assert len(about) >= 2 and all(m["lead_in"] is None for m in about), "a list under a heading has no lead-in"
    assert sum(m["lead_in"] is not None for m in by_start.values()) == 1


def test_headings_on_consecutive_lines_are_one() -> None:
    text = "# Accord\n\nIntro.\n\nLE PROGRAMME\n\nENTRE A ET B\n\nTexte.\n\nCONTACT PRESSE\nMarie"
    assert find_headings(text) == [
        (0, "Accord"),
        (text.index("LE PROGRAMME"), "Le Programme Entre A Et B"),
        (text.index("CONTACT"), "Contact Presse"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Les actions :\n- une\n- deux\n- trois", "Les actions :"),
        ("協力の内容：\n・共同研究\n・セミナー", "協力の内容："),
        ("Les actions :\n1. une\n2. deux\n3. trois", "Les actions :"),
        ("Une phrase.\n- une\n- deux", None),
        ("Les actions :\nUne phrase.\n- deux", None),
    ],
)
def test_list_lead_in_of_a_chunk_starting_at_the_last_item(text: str, expected: str | None) -> None:
    last_item = text.rindex("\n") + 1
    assert list_lead_in(text, last_item) == expected
    assert list_lead_in(text, 0) is None


@pytest.mark.parametrize("budget", [200, 300, 600])
def test_seed_other_budgets(seed_document: Document, budget: int) -> None:
    chunks = SentenceChunker(max_chars=budget).run(documents=[seed_document])["documents"]
    text = seed_document.content
    assert max(len(c.content) for c in chunks) <= budget * 1.5
    assert_chunks_are_slices(text, chunks)
    assert_covers_text(text, chunks)
    assert_no_word_cut(text, chunks)


# Japanese ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ja_chunks() -> list[Document]:
    doc = Document(content=JA_TEXT, meta={"language": "ja", "document": "ja.txt"})
    return SentenceChunker(max_chars=BUDGET, max_chars_ja=BUDGET_JA).run(documents=[doc])["documents"]


def test_japanese_text_is_long_enough() -> None:
    assert 1400 <= len(JA_TEXT) <= 1800
    assert max(len(s) for s in re.split(r"(?<=[。！？])|\n", JA_TEXT)) < BUDGET_JA // 3, "short sentences"


def test_japanese_uses_its_own_budget(ja_chunks: list[Document]) -> None:
    sizes = [len(c.content) for c in ja_chunks]
    assert len(ja_chunks) >= len(JA_TEXT) // BUDGET_JA
    assert max(sizes) <= BUDGET_JA * 1.5, sizes
    assert all(c.meta["language"] == "ja" for c in ja_chunks)


def test_japanese_chunks_cover_the_text(ja_chunks: list[Document]) -> None:
    assert_chunks_are_slices(JA_TEXT, ja_chunks)
    assert_covers_text(JA_TEXT, ja_chunks)


def test_japanese_chunks_end_on_sentence_ends(ja_chunks: list[Document]) -> None:
    for chunk in ja_chunks:
        assert chunk.content[-1] in _JA_SENTENCE_END, f"chunk ends mid-sentence: …{chunk.content[-20:]!r}"


def test_japanese_chunks_start_on_sentence_starts(ja_chunks: list[Document]) -> None:
    for start, _ in spans(ja_chunks):
        before = JA_TEXT[:start].rstrip()
        assert not before or before[-1] in _JA_SENTENCE_END, (
            f"chunk starts mid-sentence: {JA_TEXT[start : start + 20]!r}"
        )


def test_japanese_sentences_are_split_on_ja_punctuation() -> None:
    paragraph = JA_PARAGRAPHS[2]
    sentences = [paragraph[s.start : s.end] for s in split_sentences(paragraph, "ja", BUDGET_JA)]
    assert sentences == [s for s in re.split(r"(?<=[。！？])", paragraph) if s]
    assert "参加企業はどのように選ばれるのか？" in sentences


def test_japanese_consecutive_chunks_overlap_by_a_sentence(ja_chunks: list[Document]) -> None:
    assert len(ja_chunks) >= 5
    for (_, previous_end), (start, _) in zip(spans(ja_chunks), spans(ja_chunks)[1:], strict=False):
        overlap = JA_TEXT[start:previous_end]
        assert start < previous_end, "no overlap"
        assert overlap[-1] in _JA_SENTENCE_END
        assert sum(overlap.count(mark) for mark in _JA_SENTENCE_END) == 1, f"overlap is not one sentence: {overlap!r}"


def test_japanese_long_sentence_is_cut_at_commas() -> None:
    clause = "の拠点は大阪と神戸と京都の研究機関や製薬企業と共同で新しい治療法の研究を進めており"
    clauses = [f"第{n}{clause}" for n in range(1, 12)]
    sentence = "、".join(clauses) + "、今後も協力を続ける。"
    assert len(sentence) > 2 * BUDGET_JA
    text = f"{sentence}短い文が続く。"
    chunks = SentenceChunker(max_chars_ja=BUDGET_JA).run(documents=[Document(content=text, meta={"language": "ja"})])
    chunks = chunks["documents"]
    assert len(chunks) >= 2
    assert_chunks_are_slices(text, chunks)
    assert_covers_text(text, chunks)
    for chunk in chunks:
        assert len(chunk.content) <= BUDGET_JA * 1.5
        assert chunk.content[-1] in "、。", f"cut inside a clause: …{chunk.content[-20:]!r}"


# A run-on French sentence --------------------------------------------------------------------------


def test_run_on_sentence_is_long_enough() -> None:
    assert 650 <= len(RUN_ON_FR) <= 800
    assert RUN_ON_FR.count(".") == 1


@pytest.mark.parametrize("text", [RUN_ON_FR, RUN_ON_FR.replace(",", "")], ids=["commas", "no-commas"])
def test_run_on_french_sentence_is_cut_between_words(text: str) -> None:
    doc = Document(content=text, meta={"language": "fr"})
    chunks = SentenceChunker(max_chars=BUDGET).run(documents=[doc])["documents"]
    assert len(chunks) >= 2
    assert max(len(c.content) for c in chunks) <= BUDGET * 1.5
    assert_chunks_are_slices(text, chunks)
    assert_covers_text(text, chunks)
    assert_no_word_cut(text, chunks)
    words = text.split()
    for chunk in chunks:
        chunk_words = chunk.content.split()
        assert chunk_words[0] in words and chunk_words[-1] in words


def test_run_on_french_sentence_prefers_commas() -> None:
    chunks = SentenceChunker(max_chars=BUDGET).run(documents=[Document(content=RUN_ON_FR, meta={"language": "fr"})])
    chunks = chunks["documents"]
    for chunk in chunks[:-1]:
        assert chunk.content.endswith(","), f"not cut after a comma: …{chunk.content[-30:]!r}"
    assert chunks[-1].content.endswith(".")


def test_word_longer_than_budget_is_still_covered() -> None:
    """A single token longer than the budget (a URL) cannot be cut between words; nothing is lost."""
    text = "Voir " + "https://www.example.org/" + "a" * 150 + " pour les détails."
    chunks = SentenceChunker(max_chars=100).run(documents=[Document(content=text, meta={"language": "fr"})])
    chunks = chunks["documents"]
    assert_chunks_are_slices(text, chunks)
    assert_covers_text(text, chunks)


# Edge cases ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "   \n\n  ", None])
def test_empty_documents_give_no_chunks(content: str | None) -> None:
    assert SentenceChunker().run(documents=[Document(content=content, meta={"language": "fr"})]) == {"documents": []}


def test_short_document_is_one_chunk() -> None:
    text = "Un accord a été signé à Osaka. Il couvre la recherche."
    chunks = SentenceChunker().run(documents=[Document(content=text, meta={"language": "fr"})])["documents"]
    assert [c.content for c in chunks] == [text]


def test_each_document_is_chunked_on_its_own(seed_document: Document) -> None:
    ja = Document(content=JA_TEXT, meta={"language": "ja", "document": "ja.txt"})
    chunks = SentenceChunker().run(documents=[seed_document, ja])["documents"]
    by_source: dict[str, list[Document]] = {}
    for chunk in chunks:
        by_source.setdefault(chunk.meta["source_id"], []).append(chunk)
    assert set(by_source) == {seed_document.id, ja.id}
    assert max(len(c.content) for c in by_source[ja.id]) <= BUDGET_JA * 1.5
    assert [c.meta["chunk"] for c in by_source[ja.id]] == list(range(len(by_source[ja.id])))
