"""Press files of every supported type → Documents with title, date and language."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pypdf
import pytest
from conftest import SEED
from haystack import Document

from bot.documents import (
    MIME_TYPES,
    SUPPORTED_EXTENSIONS,
    DocumentMetadata,
    PressDocumentConverter,
    find_date,
    find_title,
    month_days,
    read_source,
)

FR_TEXT = (
    "Communiqué de presse : accord signé à Osaka\n\n"
    "Le 4 Février 2008, à Osaka, le Life Science Corridor France a signé un accord de partenariat "
    "avec le Kansai Bio Promotion Council. Les pôles français étaient présents à la cérémonie.\n"
)
JA_TEXT = (
    "関西バイオ推進会議との連携協定\n\n"
    "2008年2月4日、大阪で連携協定の調印式が行われました。フランスの三つの競争力拠点の代表が出席しました。"
    "両者は研究と販売の分野で協力を進めます。\n"
)
EN_TEXT = (
    "Life Science Corridor France signs its first partnership\n\n"
    "On February 4, 2008 in Osaka, the Life Science Corridor France signed a partnership agreement with "
    "the Kansai Bio Promotion Council. The three French clusters attended the ceremony.\n"
)


@pytest.fixture(scope="module")
def converter() -> PressDocumentConverter:
    return PressDocumentConverter()


def convert(converter: PressDocumentConverter, path: Path, name: str | None = None) -> list[Document]:
    return converter.run(sources=[read_source(path, name or path.name)])["documents"]


def convert_one(converter: PressDocumentConverter, path: Path, name: str | None = None) -> Document:
    documents = convert(converter, path, name)
    assert len(documents) == 1, f"{path.name} gave {len(documents)} documents"
    return documents[0]


def squash(text: str) -> str:
    return " ".join(text.split())


# read_source ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", SUPPORTED_EXTENSIONS)
def test_read_source_mime_type_and_names(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"Press{extension.upper()}"
    path.write_bytes(b"x")
    source = read_source(path, f"sub/press{extension}")
    assert source.mime_type == MIME_TYPES[extension]
    assert source.meta["document"] == source.meta["file_path"] == f"sub/press{extension}"
    assert source.data == b"x"


def test_read_source_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "notes.rtf"
    path.write_bytes(b"{\\rtf1 x}")
    with pytest.raises(KeyError):
        read_source(path, path.name)


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("utf-8", FR_TEXT),
        ("latin-1", FR_TEXT),
        ("cp1252", FR_TEXT.replace("accord", "accord « Europe – Asie »")),
        ("shift_jis", JA_TEXT),
        ("euc_jp", JA_TEXT),
        ("iso2022_jp", JA_TEXT),
    ],
)
def test_read_source_detects_the_text_encoding(tmp_path: Path, encoding: str, text: str) -> None:
    path = tmp_path / "press.txt"
    path.write_bytes(text.encode(encoding))
    source = read_source(path, path.name)
    assert source.data.decode(source.meta["encoding"]) == text


@pytest.mark.parametrize("question", ["Qui a signé à Osaka ?", "Press release: café in Osaka."])
def test_read_source_short_latin1_text(tmp_path: Path, question: str) -> None:
    path = tmp_path / "short.txt"
    path.write_bytes(question.encode("latin-1"))
    source = read_source(path, path.name)
    assert source.data.decode(source.meta["encoding"]) == question


# Plain text ----------------------------------------------------------------------------------------


def test_txt_utf8(tmp_path: Path, converter: PressDocumentConverter) -> None:
    path = tmp_path / "communique.txt"
    path.write_text(FR_TEXT, encoding="utf-8")
    doc = convert_one(converter, path)
    assert squash(doc.content) == squash(FR_TEXT)
    assert doc.meta["title"] == "Communiqué de presse : accord signé à Osaka"
    assert doc.meta["date"] == "2008-02-04"
    assert doc.meta["language"] == "fr"
    assert doc.meta["document"] == "communique.txt"


def test_txt_utf8_with_bom(tmp_path: Path, converter: PressDocumentConverter) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(EN_TEXT.encode("utf-8-sig"))
    doc = convert_one(converter, path)
    assert not doc.content.startswith("\ufeff")
    assert doc.meta["title"] == "Life Science Corridor France signs its first partnership"


def test_txt_latin1_is_read_not_skipped(tmp_path: Path, converter: PressDocumentConverter) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(FR_TEXT.encode("latin-1"))
    doc = convert_one(converter, path)
    assert squash(doc.content) == squash(FR_TEXT)
    assert "Février" in doc.content and "présents" in doc.content
    assert doc.meta["title"] == "Communiqué de presse : accord signé à Osaka"
    assert doc.meta["date"] == "2008-02-04"
    assert doc.meta["language"] == "fr"


@pytest.mark.parametrize("encoding", ["shift_jis", "cp932", "euc_jp", "iso2022_jp"])
def test_txt_japanese_legacy_encoding_is_read_not_skipped(
    tmp_path: Path, converter: PressDocumentConverter, encoding: str
) -> None:
    path = tmp_path / "communique-ja.txt"
    path.write_bytes(JA_TEXT.encode(encoding))
    doc = convert_one(converter, path)
    assert squash(doc.content) == squash(JA_TEXT)
    assert doc.meta["title"] == "関西バイオ推進会議との連携協定"
    assert doc.meta["date"] == "2008-02-04"
    assert doc.meta["language"] == "ja"


def test_seed_document(converter: PressDocumentConverter) -> None:
    doc = convert_one(converter, SEED)
    assert doc.meta["title"].startswith("LIFESCIENCE CORRIDOR FRANCE: UN PREMIER ACCORD DE PARTENARIAT")
    assert doc.meta["date"] == "2008-02-04"
    assert doc.meta["language"] == "fr"
    assert "Masahiro Nadamoto, président du Kansai Bio Promotion Council" in doc.content


# Markdown ------------------------------------------------------------------------------------------


def test_markdown_markup_is_stripped(tmp_path: Path, converter: PressDocumentConverter) -> None:
    path = tmp_path / "news.md"
    path.write_text(
        "# Corridor **news** from _Osaka_\n\n"
        "Signed on *February 4, 2008* in [Osaka](https://www.osaka.cci.or.jp/) by the `three` clusters. "
        "The partnership covers research, marketing and seminars.\n\n"
        "## Programme\n\n"
        "- joint **research** projects\n"
        "- seminars in France and Japan\n\n"
        "> A first step towards North America.\n",
        encoding="utf-8",
    )
    doc = convert_one(converter, path)
    text = doc.content
    for markup in ("#", "**", "*", "_Osaka_", "[", "](", "https://", "`", "> "):
        assert markup not in text, f"markup {markup!r} left in {text!r}"
    for words in (
        "Corridor news from Osaka",
        "Signed on February 4, 2008 in Osaka by the three clusters",
        "joint research projects",
        "seminars in France and Japan",
        "A first step towards North America",
    ):
        assert words in squash(text)
    assert doc.meta["title"] == "Corridor news from Osaka"
    assert doc.meta["date"] == "2008-02-04"
    assert doc.meta["language"] == "en"


# HTML ----------------------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Corridor press</title>
<script>var tracker = "SCRIPT_SECRET_ONE"; function track() { return tracker; }</script>
<style>body { font-family: "STYLE_SECRET"; }</style>
</head><body>
<nav><a href="/">Home</a></nav>
<article>
<h1>Partnership signed in Osaka</h1>
<p>The Life Science Corridor France signed an agreement with the Kansai Bio Promotion Council
on February 4, 2008 in Osaka. Three French clusters attended the ceremony.</p>
<script>document.write("SCRIPT_SECRET_TWO");</script>
<h2>Programme</h2>
<p>The agreement covers research, marketing and seminars between the two regions of France and Japan.</p>
</article>
</body></html>
"""


def test_html_text_is_extracted_without_scripts(tmp_path: Path, converter: PressDocumentConverter) -> None:
    path = tmp_path / "press.html"
    path.write_text(HTML, encoding="utf-8")
    doc = convert_one(converter, path)
    text = squash(doc.content)
    assert "signed an agreement with the Kansai Bio Promotion Council on February 4, 2008 in Osaka" in text
    assert "between the two regions of France and Japan" in text
    assert "SCRIPT_SECRET" not in text and "tracker" not in text and "document.write" not in text
    assert "STYLE_SECRET" not in text
    assert "<" not in text and ">" not in text
    assert doc.meta["title"] == "Partnership signed in Osaka"
    assert doc.meta["date"] == "2008-02-04"
    assert doc.meta["language"] == "en"


@pytest.mark.parametrize(
    ("name", "html", "encoding", "expected", "language"),
    [
        (
            "ancien.htm",
            "<html><body><article><h1>Accord signé à Osaka</h1><p>Le 4 Février 2008 à Osaka, les pôles "
            "français ont signé un accord de partenariat avec le Kansai Bio Promotion Council. "
            "La cérémonie était organisée par la CCI d'Osaka.</p></article></body></html>",
            "latin-1",
            "Le 4 Février 2008 à Osaka, les pôles français ont signé",
            "fr",
        ),
        (
            "kansai.html",
            '<html><head><meta charset="shift_jis"></head><body><article><h1>関西との連携協定</h1>'
            "<p>2008年2月4日、大阪で連携協定の調印式が行われました。フランスの三つの拠点の代表が出席しました。</p>"
            "</article></body></html>",
            "shift_jis",
            "2008年2月4日、大阪で連携協定の調印式が行われました。",
            "ja",
        ),
    ],
)
def test_html_in_legacy_encoding(
    tmp_path: Path,
    converter: PressDocumentConverter,
    name: str,
    html: str,
    encoding: str,
    expected: str,
    language: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(html.encode(encoding))
    doc = convert_one(converter, path)
    assert expected in squash(doc.content)
    assert doc.meta["date"] == "2008-02-04"
    assert doc.meta["language"] == language


# DOCX ----------------------------------------------------------------------------------------------


def test_docx(tmp_path: Path, converter: PressDocumentConverter) -> None:
    path = tmp_path / "accord.docx"
    document = docx.Document()
    document.add_heading("Accord de partenariat avec le Kansai", level=1)
    document.add_paragraph(
        "Le 4 Février 2008 à Osaka, le Life Science Corridor France a signé un accord avec le "
        "Kansai Bio Promotion Council, représentant les 9 préfectures de la région."
    )
    document.add_paragraph("Masahiro Nadamoto, président du Kansai Bio Promotion Council, était présent.")
    document.save(str(path))
    doc = convert_one(converter, path)
    text = squash(doc.content)
    assert "représentant les 9 préfectures de la région" in text
    assert "Masahiro Nadamoto, président du Kansai Bio Promotion Council" in text
    assert doc.meta["title"] == "Accord de partenariat avec le Kansai"
    assert doc.meta["date"] == "2008-02-04"
    assert doc.meta["language"] == "fr"


# PDF -----------------------------------------------------------------------------------------------

PDF_LINES = [
    "Accord de partenariat avec le Kansai",
    "Le 4 Février 2008 à Osaka, le pôle Cancer-Bio-Santé a signé l'accord (première étape).",
]


def minimal_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF (Helvetica, WinAnsi) that shows ``lines``, with a correct cross-reference table."""
    operators = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
    for number, line in enumerate(lines):
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        operators.append(("T* " if number else "") + f"({escaped}) Tj")
    operators.append("ET")
    stream = "\n".join(operators).encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(pdf)


def test_minimal_pdf_is_valid(tmp_path: Path) -> None:
    data = minimal_pdf(PDF_LINES)
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF", data).group(1))
    assert data[startxref:].startswith(b"xref\n")
    entries = re.findall(rb"(\d{10}) 00000 n ", data[startxref:])
    assert len(entries) == 5
    for number, offset in enumerate(entries, start=1):
        assert data[int(offset) :].startswith(b"%d 0 obj\n" % number)
    path = tmp_path / "check.pdf"
    path.write_bytes(data)
    reader = pypdf.PdfReader(path, strict=True)  # strict: a wrong offset or length raises
    assert len(reader.pages) == 1
    assert squash(reader.pages[0].extract_text()) == squash(" ".join(PDF_LINES))


def test_pdf(tmp_path: Path, converter: PressDocumentConverter) -> None:
    path = tmp_path / "accord.pdf"
    path.write_bytes(minimal_pdf(PDF_LINES))
    doc = convert_one(converter, path)
    assert squash(doc.content) == squash(" ".join(PDF_LINES))
    assert doc.meta["title"] == "Accord de partenariat avec le Kansai"
    assert doc.meta["date"] == "2008-02-04"
    assert doc.meta["language"] == "fr"


@pytest.mark.parametrize(
    "data",
    [
        b"garbage \x00\x01\x02 this is not a PDF at all" * 50,
        b"",
        minimal_pdf(PDF_LINES)[:200],  # truncated: header but no body, xref or trailer
    ],
    ids=["garbage", "empty", "truncated"],
)
def test_corrupt_pdf_gives_no_document_and_no_error(
    tmp_path: Path, converter: PressDocumentConverter, data: bytes
) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(data)
    documents = convert(converter, path)
    assert [d for d in documents if (d.content or "").strip()] == []


def test_corrupt_pdf_does_not_stop_the_other_files(tmp_path: Path, converter: PressDocumentConverter) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"\x89garbage\xff" * 100)
    (tmp_path / "good.txt").write_text(EN_TEXT, encoding="utf-8")
    (tmp_path / "good.pdf").write_bytes(minimal_pdf(PDF_LINES))
    sources = [read_source(tmp_path / name, name) for name in ("broken.pdf", "good.txt", "good.pdf")]
    documents = converter.run(sources=sources)["documents"]
    assert sorted(d.meta["document"] for d in documents) == ["good.pdf", "good.txt"]


# Metadata ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "date"),
    [
        ("2008-02-04-accord.txt", "Accord\n\nSans date dans le texte.", "2008-02-04"),
        ("2009-11-30-accord.txt", "Accord\n\nLe 4 Février 2008 à Osaka.", "2009-11-30"),  # the file name wins
        ("accord.txt", "Accord\n\nC'est aujourd'hui, 4 Février 2008 à Osaka, qu'est signé l'accord.", "2008-02-04"),
        ("accord.txt", "Accord\n\nLe 1er mars 2010 à Lyon.", "2010-03-01"),
        ("accord.txt", "Accord\n\nLe 15 décembre 2007 à Toulouse.", "2007-12-15"),
        ("accord.txt", "Accord\n\nSigned on February 4, 2008 in Osaka.", "2008-02-04"),
        ("accord.txt", "Accord\n\nSigned on 4 February 2008 in Osaka.", "2008-02-04"),
        ("accord.txt", "Accord\n\nSigned on June 3 2008 in Boston.", "2008-06-03"),
        ("accord.txt", "協定\n\n2008年2月4日、大阪で調印式が行われた。", "2008-02-04"),
        ("accord.txt", "協定\n\n2008 年 10 月 15 日から横浜で。", "2008-10-15"),
        ("accord.txt", "Accord\n\nPublié le 2008-02-04.", "2008-02-04"),
        # the first date in the text, not the first pattern that matches
        ("accord.txt", "Accord\n\nLe 4 Février 2008, un an après le 2007-02-01.", "2008-02-04"),
        ("accord.txt", "Accord\n\nAucune date ici, seulement 2008.", None),
        ("accord.txt", "Accord\n\nLe 45 Février 2008.", None),
    ],
)
def test_date(name: str, text: str, date: str | None) -> None:
    doc = DocumentMetadata().run(documents=[Document(content=text, meta={"document": name})])["documents"][0]
    assert doc.meta["date"] == date


def test_date_from_file_name_in_subfolder(tmp_path: Path, converter: PressDocumentConverter) -> None:
    path = tmp_path / "2008-02-04-kansai.txt"
    path.write_text("Accord avec le Kansai\n\nUn accord a été signé au Japon avec le Kansai.", encoding="utf-8")
    doc = convert_one(converter, path, "archives/2008-02-04-kansai.txt")
    assert doc.meta["date"] == "2008-02-04"
    assert doc.meta["document"] == "archives/2008-02-04-kansai.txt"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("\n\n  Titre du communiqué  \n\nCorps.", "Titre du communiqué"),
        ("# **Titre** en _gras_\n\nCorps.", "Titre en gras"),
        ("> - Citation\nCorps.", "Citation"),
        ("x" * 300, "x" * 200),
    ],
)
def test_find_title(text: str, title: str) -> None:
    assert find_title(text) == title


def test_title_falls_back_to_file_name() -> None:
    doc = DocumentMetadata().run(documents=[Document(content="   \n\n", meta={"document": "dir/empty-release.txt"})])
    assert doc["documents"][0].meta["title"] == "empty-release"


def test_find_date_none_on_empty() -> None:
    assert find_date("") is None


def test_metadata_keeps_existing_meta_and_content() -> None:
    original = Document(content=EN_TEXT, meta={"document": "a.txt", "file_path": "a.txt", "custom": 1})
    doc = DocumentMetadata().run(documents=[original])["documents"][0]
    assert doc.content == EN_TEXT
    assert doc.meta["custom"] == 1 and doc.meta["document"] == "a.txt"
    assert doc.meta["language"] == "en"
    assert "title" not in original.meta  # the input is not modified


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("du 15 au 17 Octobre 2008", {(10, 15), (10, 16), (10, 17)}),
        ("on 3 and 4 November 2008", {(11, 3), (11, 4)}),
        ("November 5, 2008", {(11, 5)}),
        ("le 1er juin 2008", {(6, 1)}),
        ("2009年9月16日", {(9, 16)}),
        ("11月3日と4日", {(11, 3), (11, 4)}),
        ("2008-11-03", {(11, 3)}),
        ("début Février 2008, juin 2008", set()),  # months without a day
        ("Tél. : 05 61 14 24 54 mai", set()),  # not a day
    ],
)
def test_month_days_reads_the_days_each_language_writes(text: str, days: set[tuple[int, int]]) -> None:
    assert month_days(text) == days
