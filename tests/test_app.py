"""The web chat: what it renders, the read-only document route, feedback, uploads and the admin panel,
and the chat served for real on 127.0.0.1 and called through gradio_client, as a script would."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app import build_demo, serve
from bot import Answer, CorridorBot, ReindexReport, Settings, Source
from bot.bot import MAX_QUESTION_CHARS
from bot.feedback import FeedbackLog, feedback_file
from bot.index import ReindexBusy
from bot.support import supporting_spans
from bot.uploads import UploadError, safe_filename, store_upload, token_ok
from bot.web.admin import admin_reindex, admin_upload
from bot.web.render import answer_messages, as_text, history_turns, sources_markdown, turn_at
from bot.web.routes import document_route, resolve_document
from bot.web.text import TEXTS, pick_language, text

SEED_NAME = "2008-02-04-lifescience-corridor-france-kansai.txt"
PASSAGE = (
    "Officialisée ce matin à 10H45, la signature a eu lieu en présence des représentants des 3 pôles. "
    "Masahiro Nadamoto, président du Kansai Bio Promotion Council, était présent. "
    "Le programme couvre la période 2008-2010."
)


def _marked(markdown: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", markdown)


# Rendering ---------------------------------------------------------------------------------------


def test_history_turns_skip_source_panels_and_read_escaped_text():
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Qui dirige BioValley &#63; &#60;b&#62;"}]},
        {"role": "assistant", "content": "Nicolas Carboni &#91;1&#93;"},
        {"role": "assistant", "content": "…", "metadata": {"title": "Sources"}},
        {"role": "user", "content": "Et Lyonbiopôle ?"},
    ]
    assert history_turns(history) == [("Qui dirige BioValley ? <b>", "Nicolas Carboni [1]")]
    assert turn_at(history, 2) == ("Qui dirige BioValley ? <b>", "Nicolas Carboni &#91;1&#93;")


def test_document_html_and_markdown_are_shown_as_text_not_run():
    source = Source(
        1, "evil.html", "<b>Titre</b>", '<script>alert("x")</script> **gras** [lien](javascript:x) $$x$$', 0.9
    )
    source.cited = True
    markdown = sources_markdown(Answer('x <img src=x onerror="alert(1)"> [1]', "fr", True, [source]))
    assert "<script>" not in markdown and "<b>" not in markdown and "**gras**" not in markdown
    assert "javascript:" not in markdown and "$$" not in markdown
    assert "&#60;script&#62;" in markdown
    shown = answer_messages(Answer('x <img src=x onerror="alert(1)"> [1]', "fr", True, [source]))[0]["content"]
    assert "<img" not in shown and "&#60;img" in shown
    assert as_text("a*b_c[d](e)") == "a&#42;b&#95;c&#91;d&#93;&#40;e&#41;"


def test_supporting_sentence_is_marked_for_a_japanese_answer_about_a_french_passage():
    answer = "関西バイオ推進会議の会長はMasahiro Nadamoto氏です[1]。"
    spans = supporting_spans(PASSAGE, answer, 1)
    assert [PASSAGE[a:b] for a, b in spans] == [
        "Masahiro Nadamoto, président du Kansai Bio Promotion Council, était présent."
    ]
    source = Source(1, SEED_NAME, "LIFESCIENCE CORRIDOR FRANCE", PASSAGE, 0.9, "2008-02-04", True, spans)
    markdown = sources_markdown(Answer(answer, "ja", True, [source]))
    assert len(_marked(markdown)) == 1 and "Nadamoto" in _marked(markdown)[0]
    assert "2008&#45;02&#45;04" in markdown and f"(corpus/{SEED_NAME})" in markdown
    assert "出典" in answer_messages(Answer(answer, "ja", True, [source]))[1]["metadata"]["title"]


def test_highlight_follows_numbers_and_the_citation_it_belongs_to():
    other = Source(2, "b.txt", "B", "Une autre phrase sans rapport.", 0.5, cited=True)
    answer = "Le programme couvre 2008-2010 [1]. Nadamoto est ailleurs [2]."
    assert [PASSAGE[a:b] for a, b in supporting_spans(PASSAGE, answer, 1)] == [
        "Le programme couvre la période 2008-2010."
    ]
    assert supporting_spans(other.text, answer, 2) == []  # nothing shared: nothing marked
    extractive = "D'après les documents :\n« Masahiro Nadamoto, président du Kansai Bio Promotion Council » [1]"
    assert "Nadamoto" in PASSAGE[slice(*supporting_spans(PASSAGE, extractive, 1)[0])]


def test_refusals_have_no_sources_panel_and_uncited_passages_are_listed_by_title():
    refusal = Answer("Les documents ne contiennent pas la réponse à cette question.", "fr", False, [])
    assert [m["content"] for m in answer_messages(refusal)] == [as_text(refusal.text)]
    cited = Source(1, "a.txt", "Cité", "Texte cité.", 0.9, cited=True)
    other = Source(2, "dossier/b é.txt", "Autre", "Texte.", 0.5)
    markdown = sources_markdown(Answer("Texte cité [1].", "fr", True, [cited, other]), "fr")
    assert "Autres passages consultés" in markdown and "(corpus/dossier/b%20%C3%A9.txt)" in markdown


def test_every_ui_text_exists_in_three_languages_with_the_same_placeholders():
    for key, texts in TEXTS.items():
        assert set(texts) == {"fr", "en", "ja"}, key
        fields = {frozenset(re.findall(r"{(\w+)}", sentence)) for sentence in texts.values()}
        assert len(fields) == 1, key
    assert text("admin_files", "ja", extensions=".txt", limit=20) == "追加する文書（.txt、1ファイル最大20 MB）"


@pytest.mark.parametrize(
    ("wishes", "expected"),
    [
        ((None, None, "ja-JP,ja;q=0.9,en;q=0.8"), "ja"),
        ((None, None, "de-DE,de;q=0.9,fr;q=0.5,en;q=0.4"), "fr"),
        (("en", "fr", "ja"), "en"),
        ((None, "fr", "ja"), "fr"),
        (("xx", None, "en-US;q=0.1,ja;q=0.8"), "ja"),
        ((None, None, None), "en"),
    ],
)
def test_interface_language_from_query_saved_choice_then_browser(wishes, expected):
    assert pick_language(*wishes) == expected


# Whole documents, read-only -----------------------------------------------------------------------


def test_document_route_serves_corpus_files_as_plain_text_and_nothing_else(tmp_path: Path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "evil.html").write_text("<script>alert(1)</script><p>Texte</p>", encoding="utf-8")
    (corpus / "sub" / "note é.md").write_bytes("Café crème".encode("latin-1"))
    (corpus / ".upload-123.txt").write_text("staging", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (corpus / "link.txt").symlink_to(tmp_path / "secret.txt")
    client = TestClient(Starlette(routes=[document_route(corpus)]))

    page = client.get("/corpus/evil.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    assert page.headers["x-content-type-options"] == "nosniff" and "sandbox" in page.headers["content-security-policy"]
    assert page.text.startswith("<script>")  # shown as source text, never as a page
    assert client.get("/corpus/sub/note%20%C3%A9.md").text == "Café crème"
    for path in ["/corpus/../secret.txt", "/corpus/%2e%2e/secret.txt", "/corpus/link.txt", "/corpus/.upload-123.txt",
                 "/corpus/sub", "/corpus/missing.txt", "/corpus//etc/passwd"]:  # fmt: skip
        assert client.get(path).status_code == 404, path
    assert resolve_document(corpus, "/etc/passwd") is None
    assert resolve_document(corpus, "sub/../evil.html") == (corpus / "evil.html").resolve()


# Feedback ---------------------------------------------------------------------------------------------


def test_feedback_is_appended_as_json_lines_safely_from_many_threads(tmp_path: Path):
    log = FeedbackLog(tmp_path / "feedback" / "feedback.jsonl")
    vote = log.add(helpful=False, question="Qui ?", answer="Réponse [1]", language="fr", sources=[{"document": "a"}])
    log.add(helpful=False, question="Qui ?", answer="Réponse [1]", comment="Incomplet", feedback_id=vote["id"])

    def many(n: int) -> None:
        for i in range(25):
            log.add(helpful=True, question=f"q{n}-{i}", answer="a" * 3000)

    threads = [threading.Thread(target=many, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = log.read()
    assert len(records) == 102
    assert records[0]["rating"] == "not_helpful" and records[1]["comment"] == "Incomplet"
    assert records[0]["id"] == records[1]["id"] and records[0]["sources"] == [{"document": "a"}]
    with log.path.open("a", encoding="utf-8") as f:
        f.write('{"cut short by a crash"')
    log.add(helpful=True, question="après", answer="ok")
    assert log.read()[-1]["question"] == "après" and len(log.read()) == 103


def test_feedback_file_is_beside_the_index_unless_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CORRIDOR_FEEDBACK_FILE", raising=False)
    settings = Settings.from_env(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "data" / "index")
    assert feedback_file(settings) == tmp_path / "data" / "feedback" / "feedback.jsonl"
    monkeypatch.setenv("CORRIDOR_FEEDBACK_FILE", str(tmp_path / "elsewhere.jsonl"))
    assert feedback_file(Settings.from_env()) == (tmp_path / "elsewhere.jsonl").resolve()


# Uploads and the admin panel ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\moi\\Communiqué.TXT", "Communiqué.txt"),
        ("/abs/path/関西バイオ 2008.pdf", "関西バイオ 2008.pdf"),
        ("Cafe\u0301 <b>&.md", "Café _b.md"),
        (".hidden.html", "hidden.html"),
        ("..txt", "document.txt"),
        ("a\x00b\x1f\u202ec.docx", "abc.docx"),
        ("nul.txt", "document_nul.txt"),
        ("x" * 400 + ".txt", "x" * 176 + ".txt"),
    ],
)
def test_upload_names_stay_inside_the_corpus(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["script.sh", "page.php", "noextension", "archive.txt.zip"])
def test_unsupported_upload_types_are_refused(name):
    with pytest.raises(UploadError) as error:
        safe_filename(name)
    assert error.value.reason == "unsupported"


def test_uploads_are_checked_before_they_reach_the_corpus(tmp_path: Path):
    corpus, incoming = tmp_path / "corpus", tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "Communiqué.txt"
    good.write_text("Titre\n\nLe 5 mars 2009, un accord est signé à Lyon.", encoding="utf-8")
    first = store_upload(good, good.name, corpus, 10_000)
    second = store_upload(good, good.name, corpus, 10_000)
    assert (first.name, second.name) == ("Communiqué.txt", "Communiqué-2.txt")  # never overwritten
    assert first.read_bytes() == good.read_bytes()

    broken = incoming / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not a pdf")
    empty = incoming / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    binary = incoming / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    big = incoming / "big.txt"
    big.write_text("mot " * 5000, encoding="utf-8")
    for path, reason, limit in [(broken, "unreadable", 10_000), (empty, "empty", 10_000),
                                (binary, "unreadable", 10_000), (big, "too_large", 10_000)]:  # fmt: skip
        with pytest.raises(UploadError) as error:
            store_upload(path, path.name, corpus, limit)
        assert error.value.reason == reason, path.name
    assert sorted(p.name for p in corpus.iterdir()) == ["Communiqué-2.txt", "Communiqué.txt"]  # no leftovers


def test_admin_token_is_required_and_compared_safely():
    assert token_ok("s3cret", "s3cret") and token_ok(" s3cret ", "s3cret")
    assert not token_ok("s3cre", "s3cret") and not token_ok("", "") and not token_ok("x", "")


class _AdminBot:
    """Just what the admin panel uses: settings and reindex."""

    def __init__(self, settings: Settings, busy: bool = False) -> None:
        self.settings, self.busy, self.calls = settings, busy, 0

    def reindex(self, *, wait: bool = True, progress=None) -> ReindexReport:
        self.calls += 1
        if self.busy:
            raise ReindexBusy("busy")
        assert wait is False and progress is not None
        progress("embedding 1 file", 0.5)
        return ReindexReport(added=sorted(p.name for p in self.settings.corpus_dir.iterdir()), skipped={"x.pdf": "?"})


def test_admin_panel_stores_good_files_refuses_bad_ones_and_reports_the_reindex(settings: Settings, tmp_path: Path):
    admin = _AdminBot(settings)
    good, bad = tmp_path / "Nouveau.md", tmp_path / "image.png"
    good.write_text("# Nouveau\n\nUn accord.", encoding="utf-8")
    bad.write_bytes(b"\x89PNG")
    assert admin_upload(admin, "wrong", "s3cret", [str(good)], "fr") == text("admin_bad_token", "fr")
    assert admin.calls == 0 and not list(settings.corpus_dir.iterdir())

    steps: list[tuple[float, str]] = []
    report = admin_upload(
        admin, "s3cret", "s3cret", [str(good), str(bad)], "ja", lambda f, desc: steps.append((f, desc))
    )
    assert as_text("Nouveau.md") in report and as_text("image.png") in report and "対応していない" in report
    assert "追加 1" in report and "スキップ" in report
    assert steps == [(0.5, "再インデックス中: embedding 1 file")]
    assert [p.name for p in settings.corpus_dir.iterdir()] == ["Nouveau.md"]
    assert admin_reindex(_AdminBot(settings, busy=True), "s3cret", "s3cret", "en") == text("reindex_busy", "en")


def _elem_ids(demo) -> set[str]:
    return {block.elem_id for block in demo.blocks.values() if getattr(block, "elem_id", None)}


def test_no_admin_token_means_no_admin_panel(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CORRIDOR_ADMIN_TOKEN", raising=False)
    bot = CorridorBot(settings=settings)
    assert "admin-panel" not in _elem_ids(build_demo(bot))
    assert "admin-panel" in _elem_ids(build_demo(bot, admin_secret="s3cret"))


# Served for real -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(seed_bot: CorridorBot) -> Iterator[str]:
    demo = serve(build_demo(seed_bot, admin_secret=""), seed_bot, server_name="127.0.0.1",
                 server_port=_free_port(), prevent_thread_lock=True, quiet=True)  # fmt: skip
    try:
        yield demo.local_url
    finally:
        demo.close()


class _StreamingBot:
    """Streams like the language model does, and fails on demand, without loading any model."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def stream(self, question: str, history=(), language=None):
        if "boom" in question:
            raise RuntimeError("the model server went away")
        yield "Masahiro "
        yield "Nadamoto <b>[1]</b>"
        source = Source(1, "a.txt", "A", "Masahiro Nadamoto, président du conseil. Autre phrase.", 0.9, cited=True)
        source.support = supporting_spans(source.text, "Masahiro Nadamoto <b>[1]</b>", 1)  # as CorridorBot does
        yield Answer("Masahiro Nadamoto <b>[1]</b>", "fr", True, [source], question=question)


def test_answers_stream_in_as_text_and_a_failure_gets_a_message(settings: Settings):
    bot = _StreamingBot(settings)
    demo = serve(build_demo(bot, admin_secret=""), bot, server_name="127.0.0.1",  # type: ignore[arg-type]
                 server_port=_free_port(), prevent_thread_lock=True, quiet=True)  # fmt: skip
    try:
        client = Client(demo.local_url, verbose=False)
        job = client.submit("Qui préside le conseil ?", api_name="/chat")
        messages, answer = job.result()
        shown = [output[0] for output in job.outputs()]
        assert shown[:2] == ["Masahiro ", "Masahiro Nadamoto &#60;b&#62;&#91;1&#93;&#60;/b&#62;"]
        assert messages[0]["content"] == shown[1] and "<mark>" in messages[1]["content"]
        assert answer["text"] == "Masahiro Nadamoto <b>[1]</b>"
        failed, nothing = client.predict("boom", api_name="/chat")
        assert failed[0]["content"].startswith("Sorry, the answer could not be prepared") and nothing is None
    finally:
        demo.close()


@pytest.mark.e2e
def test_chat_api_answers_japanese_from_french_document_with_its_sources(server_url: str):
    client = Client(server_url, verbose=False)
    messages, answer = client.predict("関西バイオ推進会議の会長は誰ですか？", api_name="/chat")
    assert messages[0]["content"].startswith("資料") and "Kansai Bio Promotion Council" in messages[0]["content"]
    assert messages[1]["metadata"]["title"] == "出典" and "Nadamoto" in messages[1]["content"]  # the French passage
    assert "Kansai Bio Promotion Council" in re.findall(r"<mark>(.*?)</mark>", messages[1]["content"])[0]
    assert answer["language"] == "ja" and answer["answered"]
    assert any(s["cited"] and s["document"] == SEED_NAME and s["date"] == "2008-02-04" for s in answer["sources"])

    # The same client keeps its conversation: a follow-up is searched with the previous question.
    _, follow_up = client.predict("その協定はどこで署名されましたか？", api_name="/chat")
    assert follow_up["language"] == "ja" and follow_up["search_query"].startswith("関西バイオ推進会議の会長は誰")


@pytest.mark.e2e
def test_chat_api_forced_language_and_input_messages(server_url: str):
    _, forced = Client(server_url, verbose=False).predict("Who chairs the Kansai Bio Promotion Council?", "fr",
                                                          api_name="/chat")  # fmt: skip
    assert forced["language"] == "fr" and forced["text"].startswith("D'après les documents")

    messages, _ = Client(server_url, verbose=False).predict("   ", "ja", api_name="/chat")
    assert messages[0]["content"] == "質問を入力してください。"
    messages, _ = Client(server_url, verbose=False).predict("Qui dirige le pôle ? " * 200, api_name="/chat")
    assert messages[0]["content"].startswith("Cette question est trop longue")
    assert str(MAX_QUESTION_CHARS) in messages[0]["content"]


@pytest.mark.e2e
def test_whole_document_is_served_read_only(server_url: str):
    page = httpx.get(f"{server_url}corpus/{SEED_NAME}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    assert "Nadamoto" in page.text
    assert httpx.get(f"{server_url}corpus/%2e%2e/%2e%2e/etc/passwd").status_code == 404
