"""llama.cpp's server, run inside this Python process by xllamacpp, seen by Haystack as an OpenAI endpoint.

xllamacpp needs no compiler and ships llama.cpp's own C++ server (prompt cache, slots,
OpenAI-compatible routes). It always opens an HTTP port, so instead of writing a custom
generator we point Haystack's ``OpenAIChatGenerator`` at ``http://127.0.0.1:PORT/v1``.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Self


def default_n_threads() -> int:
    """Physical cores this process may run on.

    llama.cpp's token generation is memory-bound: hyper-threads add contention, not speed,
    and ``os.cpu_count()`` ignores the affinity mask a container or ``taskset`` sets.
    """
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    cores = set()
    for cpu in cpus:
        siblings = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list")
        try:
            cores.add(siblings.read_text().strip())
        except OSError:
            cores.add(str(cpu))
    return max(1, len(cores))


class LocalLlamaServer:
    """Starts llama.cpp (xllamacpp) in this process and serves an OpenAI-compatible API on 127.0.0.1.

    Usage:
    ```python
    server = LocalLlamaServer(ensure_gguf(QWEN_1_5B, default_cache_dir()))
    generator = OpenAIChatGenerator(
        api_base_url=server.start(), api_key=Secret.from_token(server.api_key), model=server.model_name
    )
    ```
    """

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        port: int | None = None,
        n_predict: int = 512,
        model_name: str | None = None,
        api_key: str | None = None,
        verbose: bool = False,
    ) -> None:
        """
        :param model_path: the GGUF file (see ``bot.llm_model.ensure_gguf``).
        :param n_ctx: context of the single slot: a RAG prompt (up to ~2k tokens) plus the answer.
        :param n_threads: threads for prompt and generation; default: physical cores we may use.
        :param port: port on 127.0.0.1; default: one the OS picks (no race with other servers).
        :param n_predict: tokens generated when a request sets no ``max_tokens`` (llama.cpp's default is
            unlimited, so a looping model would hold the CPU); a request's ``max_tokens`` overrides it.
        :param model_name: the id served by ``/v1/models``; default: the file name without ``.gguf``.
        :param api_key: bearer key every request must carry; default: a random one, so other local
            users and browser pages cannot use the server.
        :param verbose: let llama.cpp log its info lines to stderr (errors only otherwise).
        """
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_n_threads()
        self.port = port
        self.n_predict = n_predict
        self.model_name = model_name or self.model_path.stem
        self.api_key = api_key or secrets.token_urlsafe(24)
        self.verbose = verbose
        self._server: Any = None
        self._base_url: str | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str | None:
        """The OpenAI base URL (ends in ``/v1``) while the server runs, else None."""
        return self._base_url

    def start(self, timeout: float = 60.0) -> str:
        """Load the model and serve it; return the OpenAI base URL. Calling it again is a no-op."""
        with self._lock:
            if self._server is not None and self._base_url is not None:
                return self._base_url
            if not self.model_path.is_file():
                raise FileNotFoundError(f"GGUF model not found: {self.model_path}")

            import xllamacpp  # heavy native module: imported only when a server is wanted

            params = xllamacpp.CommonParams()
            params.model.path = str(self.model_path)
            params.model_alias = {self.model_name}
            params.n_ctx = self.n_ctx
            params.n_parallel = 1  # one user at a time; a second slot would halve the context
            params.n_predict = self.n_predict
            params.cache_prompt = True  # reuse the KV of the shared prefix (system prompt) across requests
            params.cache_ram_mib = 256  # host copy of older prompts' KV (~28 KB/token here), bounded
            params.cpuparams.n_threads = self.n_threads
            params.cpuparams_batch.n_threads = self.n_threads
            params.hostnames = ["127.0.0.1"]
            params.port = self.port or 0  # 0: the OS picks a free port; read back below
            params.api_keys = [self.api_key]
            params.ui = False  # the wheel has no web UI assets anyway
            params.offline = True  # never try a model hub
            params.verbosity = 3 if self.verbose else 1

            # Blocks (holding the GIL) until the model is loaded: 2-4 s for 1.5B on 2 cores.
            try:
                server = xllamacpp.Server(params)
            except RuntimeError as e:  # llama.cpp logs the cause (bad GGUF, port taken) to stderr
                where = f"port {self.port}" if self.port else "a free port"
                raise RuntimeError(f"llama.cpp could not serve {self.model_path} on {where}: {e}") from e
            root = server.listening_address.rstrip("/")
            try:
                _wait_healthy(root, timeout)
            except Exception:
                del server
                raise
            self._server = server
            self._base_url = f"{root}/v1"
            return self._base_url

    def stop(self) -> None:
        """Stop serving and free the model; ``start()`` may be called again afterwards."""
        with self._lock:
            # Dropping the last reference runs the C++ destructor: it ends the loop and closes the port.
            self._server = None
            self._base_url = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _wait_healthy(root: str, timeout: float) -> None:
    """Poll ``/health`` (public, no key needed) until llama.cpp answers ``ok``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{root}/health", timeout=5) as response:
                if json.load(response).get("status") == "ok":
                    return
        except (urllib.error.URLError, OSError, ValueError) as e:
            last_error = e
        time.sleep(0.2)
    raise RuntimeError(f"llama.cpp server at {root} not healthy after {timeout:.0f} s: {last_error}")
