"""``CorridorBot``: the one facade that the CLI, the web UI and Python callers use."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from queue import Queue
from typing import Any

from haystack import Document, Pipeline

from bot.answer import Answer, ExtractiveAnswerWriter, Pending, Source, cited_numbers
from bot.config import Settings
from bot.context import SentenceSelector
from bot.embedders import document_embedder, text_embedder
from bot.generation import LLMAnswerWriter, chat_generator, local_server
from bot.index import CorpusIndex, IndexUnavailable, LoadedIndex, Progress, ReindexReport
from bot.language import LANGUAGES, detect_language, foreign_language, message
from bot.language import warm_up as warm_up_language_detection
from bot.retrieval import by_document, continued, dated, focused, query_pipeline, retrieve
from bot.slots import Cancelled, SlotQueue
from bot.support import supporting_spans

logger = logging.getLogger(__name__)

History = Sequence[tuple[str, str]]
MAX_QUESTION_CHARS = 2000


@dataclass
class Draft:
    """A question on its way to an answer: as asked, as searched, the answer language, the passages found,
    and the sentences of them that the writer reads (``excerpts[i]`` is part of ``passages[i]``)."""

    question: str
    search_query: str
    language: str
    passages: list[Document]
    excerpts: list[Document]


def clean_question(text: str | None) -> str:
    """Printable text on one line: control characters and broken Unicode (lone surrogates) become spaces."""
    text = (text or "").encode("utf-8", "replace").decode("utf-8", "replace")
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


class CorridorBot:
    """Answers questions about the press documents in ``corpus/``, in French, English or Japanese.

    Usage example:
    ```python
    bot = CorridorBot()                       # the repo's corpus/ and index/; builds the index if missing
    ans = bot.ask("Quand l'accord a-t-il été signé ?")
    ans.text, ans.language, ans.answered, ans.sources
    for part in bot.stream("その会議はどこで？", history=[("…", "…")]):
        ...                                   # Pending (the sources, the queue), str pieces, the final Answer
    bot.reindex()                             # after documents were added, changed or removed
    ```
    """

    def __init__(
        self,
        corpus_dir: str | Path | None = None,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = settings or Settings.from_env(corpus_dir=corpus_dir, index_dir=index_dir, **overrides)
        self.index = CorpusIndex(self.settings)
        self._live: LoadedIndex | None = None
        self._query: Pipeline | None = None
        self._refresh_lock = threading.Lock()
        self._extractive: ExtractiveAnswerWriter | None = None
        self._selector: SentenceSelector | None = None
        self._llm: LLMAnswerWriter | None = None
        self.llm_error: str | None = None
        self.slots = SlotQueue(self.settings.llm_slots)

    # Loading -----------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the models and the index (building it on first use). Called by the first question."""
        if self._extractive is None:
            question, sentences = text_embedder(self.settings), document_embedder(self.settings, False, batch_size=4)
            self._extractive = ExtractiveAnswerWriter(question, sentences)
            self._extractive.warm_up()
            self._selector = SentenceSelector(question, sentences, self.settings.context_tokens)
            warm_up_language_detection()
        self._refresh()
        if self._llm is None and self.llm_error is None:
            self._start_llm()

    def _start_llm(self) -> None:
        if self.settings.llm == "none" and not self.settings.llm_url:
            self.llm_error = "disabled (CORRIDOR_LLM=none)"
            return
        try:
            generator = chat_generator(self.settings)
            self._llm = LLMAnswerWriter(generator, local_server(generator))
        except Exception as e:  # a missing or broken model must not stop the bot from answering
            self.llm_error = str(e)
            logger.warning("No language model, answering with quoted passages: %s", e)

    @property
    def uses_llm(self) -> bool:
        return self._llm is not None

    def _refresh(self) -> LoadedIndex:
        """Pick up a generation written by any process since the last question (live reload)."""
        with self._refresh_lock:
            live = self._live
            if live is None or self.index.current_generation() != live.generation:
                loaded = self.index.load()
                if loaded is None:
                    self.index.reindex()
                    loaded = self.index.load()
                if loaded is None:
                    raise IndexUnavailable(f"The index in {self.settings.index_dir} could not be built.")
                self._live, self._query = loaded, query_pipeline(loaded.store, self.settings)
            assert self._live is not None
            return self._live

    def reindex(self, *, wait: bool = True, progress: Progress | None = None) -> ReindexReport:
        """Index new and changed documents, drop deleted ones; questions keep being answered meanwhile."""
        report = self.index.reindex(wait=wait, progress=progress)
        if self._live is not None:
            self._refresh()
        return report

    # Asking ------------------------------------------------------------------------------------

    def retrieve(self, question: str, top_k: int | None = None) -> tuple[str, list[Document]]:
        """The question's language and the best passages for it."""
        return detect_language(question), self._search(question, top_k)

    def _search(self, query: str, top_k: int | None = None) -> list[Document]:
        self.warm_up()
        assert self._query is not None
        return retrieve(self._query, query, top_k)

    def ask(self, question: str, history: History = (), language: str | None = None) -> Answer:
        """Answer ``question`` (a follow-up when ``history`` holds earlier ``(question, answer)`` turns)."""
        answer = None
        for part in self.stream(question, history, language):
            if isinstance(part, Answer):
                answer = part
        assert answer is not None
        return answer

    def stream(
        self, question: str, history: History = (), language: str | None = None
    ) -> Iterator[str | Pending | Answer]:
        """Yield the sources as soon as they are found (``Pending``, again whenever the question's place in
        the model's queue changes), the answer text piece by piece as it is written, then the final,
        checked ``Answer``.

        The final text may differ from the streamed pieces when a check rejected the first draft.
        Closing the iterator early (the asker left) gives up the question's place in the queue.
        """
        question = clean_question(question)
        foreign = None if language in LANGUAGES else foreign_language(question[:MAX_QUESTION_CHARS])
        if language not in LANGUAGES:
            language = "en" if foreign or not question else detect_language(question[:MAX_QUESTION_CHARS])
        if not question or len(question) > MAX_QUESTION_CHARS:
            key = "too_long" if question else "empty_question"
            text = message(key, language, limit=MAX_QUESTION_CHARS)
            yield Answer(text=text, language=language, answered=False, question=question[:200], mode="refusal")
            return
        prefix = message("other_language", language, code=foreign) + "\n" if foreign else ""
        if prefix:
            yield prefix
        for part in self._stream_answer(question, history, language):
            if isinstance(part, Answer) and prefix:
                part.text = prefix + part.text
            yield part

    def _stream_answer(self, question: str, history: History, language: str) -> Iterator[str | Pending | Answer]:
        self.warm_up()
        search_query = self._standalone(question, history)
        passages = self._search(search_query)
        assert self._live is not None
        read = dated(focused(passages, self.settings.context_k), self._live.store, search_query)
        context = continued(by_document(read))
        if self._llm is None:
            draft = Draft(question, search_query, language, context, context)
        else:
            assert self._selector is not None
            selected = self._selector.run(question=search_query, passages=context)
            draft = Draft(question, search_query, language, selected["passages"], selected["excerpts"])
        sources = [Source.from_document(n, doc) for n, doc in enumerate(draft.passages, start=1)]
        yield Pending(sources, language)
        if self._llm is None:
            yield self._extract(draft, [], notice=message("no_llm", language))
            return
        result: dict[str, Any] = {}
        yield from self._write(draft, sources, result)
        if "error" in result or result.get("answered") is None:
            notes = [
                *result.get("notes", []),
                *([f"language model error: {result['error']}"] if "error" in result else []),
            ]
            yield self._extract(draft, notes, only=result.get("cited"))
            return
        yield self._answer(draft, result["text"], result["answered"], "llm", result["notes"])

    def _write(self, draft: Draft, sources: list[Source], result: dict[str, Any]) -> Iterator[str | Pending]:
        """Write the answer into ``result`` once a model slot is free; meanwhile yield the question's place
        in the queue, then the text as the model writes it."""
        queue: Queue[str | Pending | None] = Queue()
        left = threading.Event()
        waited = False

        def on_wait(ahead: int) -> None:
            nonlocal waited
            waited = True
            queue.put(Pending(sources, draft.language, True, ahead))

        def on_text(piece: str) -> None:
            if left.is_set():
                raise Cancelled  # ends the model's stream: llama.cpp frees the slot
            queue.put(piece)

        def write() -> None:
            try:
                assert self._llm is not None
                with self.slots.turn(on_wait, left) as slot:
                    if waited:
                        queue.put(Pending(sources, draft.language))  # out of the queue: the answer is being written
                    question, language = draft.search_query, draft.language
                    result.update(self._llm.run(question, language, draft.excerpts, on_text=on_text, slot=slot))
            except Exception as e:  # the server died or timed out: fall back, never crash the chat
                if not left.is_set():
                    logger.exception("Language model failed")
                result["error"] = str(e)
            finally:
                queue.put(None)

        threading.Thread(target=write, daemon=True).start()
        try:
            while (piece := queue.get()) is not None:
                yield piece
        finally:
            left.set()

    def _extract(self, draft: Draft, notes: list[str], notice: str = "", only: list[int] | None = None) -> Answer:
        """Quote the passages (of numbers ``only``, when given) instead of a language model's answer."""
        assert self._extractive is not None
        out = self._extractive.run(
            question=draft.search_query, language=draft.language, passages=draft.passages, only=only
        )
        text = f"{out['text']}\n{notice}" if notice else out["text"]
        return self._answer(draft, text, out["answered"], "extractive", notes)

    def _answer(self, draft: Draft, text: str, answered: bool, mode: str, notes: list[str]) -> Answer:
        cited = set(cited_numbers(text, len(draft.passages))) if answered else set()
        sources = [Source.from_document(n, doc, cited=n in cited) for n, doc in enumerate(draft.passages, start=1)]
        for source in sources:
            source.support = supporting_spans(source.text, text, source.number) if source.cited else []
        return Answer(
            text=text, language=draft.language, answered=answered, sources=sources, question=draft.question,
            search_query=draft.search_query, mode=mode if answered else "refusal", notes=notes,
        )  # fmt: skip

    def _standalone(self, question: str, history: History) -> str:
        """A follow-up is rewritten by the language model, or else prefixed with the previous question."""
        if not history:
            return question
        if self._llm is not None:
            try:
                with self.slots.turn() as slot:
                    return self._llm.rewrite(question, list(history), slot)
            except Exception:
                logger.exception("Could not rewrite the follow-up question")
        return f"{history[-1][0]} {question}"
