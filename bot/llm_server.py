"""llama.cpp's server, run inside this Python process by xllamacpp, seen by Haystack as an OpenAI endpoint.

xllamacpp needs no compiler and ships llama.cpp's own C++ server (prompt cache, slots,
OpenAI-compatible routes). It always opens an HTTP port, so instead of writing a custom
generator we point Haystack's ``OpenAIChatGenerator`` at ``http://127.0.0.1:PORT/v1``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
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


# The server is on this machine: a proxy from the environment (HTTP_PROXY without a no_proxy for
# localhost) would send its own requests away and never reach it.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalLlamaServer:
    """Starts llama.cpp (xllamacpp) in this process and serves an OpenAI-compatible API on 127.0.0.1.

    Usage:
    ```python
    server = LocalLlamaServer(ensure_gguf(QWEN_1_5B, default_cache_dir()))
    generator = OpenAIChatGenerator(
        api_base_url=server.start(), api_key=Secret.from_token(server.api_key), model=server.model_name,
        http_client_kwargs={"trust_env": False},  # never through a proxy from the environment
    )
    ```
    """

    def __init__(
        self,
        model_path: Path,
        *,
        slots: int = 2,
        slot_ctx: int = 2048,
        n_threads: int | None = None,
        port: int | None = None,
        n_predict: int = 512,
        model_name: str | None = None,
        api_key: str | None = None,
        verbose: bool = False,
        host: str = "127.0.0.1",
        prefix_dir: Path | None = None,
    ) -> None:
        """
        :param model_path: the GGUF file (see ``bot.llm_model.ensure_gguf``).
        :param slots: questions answered at once. On a CPU, continuous batching makes several answers
            cost little more than one while they are being written (each step reads the weights once);
            reading prompts is compute-bound and gains nothing. On two cores, where reading the prompt
            is most of an answer, 4 slots gave 0.99× the answers per minute of 1
            (``benchmarks/load_test.py --llm --compare-slots 1``): 2 let a short answer overtake a long
            one without holding memory for more.
        :param slot_ctx: context of each slot: the prompt (~700 tokens, ~1,000 with a retry's
            feedback) plus the answer.
        :param n_threads: threads for prompt and generation; default: physical cores we may use.
        :param port: port on 127.0.0.1; default: one the OS picks (no race with other servers).
        :param n_predict: tokens generated when a request sets no ``max_tokens`` (llama.cpp's default is
            unlimited, so a looping model would hold the CPU); a request's ``max_tokens`` overrides it.
        :param model_name: the id served by ``/v1/models``; default: the file name without ``.gguf``.
        :param api_key: bearer key every request must carry; default: a random one, so other local
            users and browser pages cannot use the server.
        :param prefix_dir: where ``keep_prefix`` saves the model's reading of a fixed prompt prefix, so
            that the next start restores it instead of reading it again; None: never saved.
        :param verbose: let llama.cpp log its info lines to stderr (errors only otherwise).
        :param host: the address to listen on; the default keeps the server to this machine.
        """
        self.model_path = Path(model_path)
        self.slots = slots
        self.slot_ctx = slot_ctx
        self.n_threads = n_threads or default_n_threads()
        self.port = port
        self.n_predict = n_predict
        self.model_name = model_name or self.model_path.stem
        self.api_key = api_key or secrets.token_urlsafe(24)
        self.verbose = verbose
        self.host = host
        self.prefix_dir = Path(prefix_dir) if prefix_dir else None
        self._server: Any = None
        self._base_url: str | None = None
        self._prefix_file: str | None = None
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
            params.n_ctx = self.slots * self.slot_ctx  # llama.cpp divides it among the slots
            params.n_parallel = self.slots
            params.cont_batching = True
            params.n_predict = self.n_predict
            params.cache_prompt = True  # reuse the KV of the shared prefix (system prompt) across requests
            # No host copy of older prompts' KV: every prompt starts with the system prompt, which each slot
            # keeps (see keep_prefix), and then differs. The copy cost ~250 MB under load and saved nothing.
            params.cache_ram_mib = 0
            params.cpuparams.n_threads = self.n_threads
            params.cpuparams_batch.n_threads = self.n_threads
            params.hostnames = [self.host]
            params.port = self.port or 0  # 0: the OS picks a free port; read back below
            params.api_keys = [self.api_key]
            params.ui = False  # the wheel has no web UI assets anyway
            params.offline = True  # never try a model hub
            params.verbosity = 3 if self.verbose else 1
            if self.prefix_dir is not None:
                self.prefix_dir.mkdir(parents=True, exist_ok=True)
                params.slot_save_path = f"{self.prefix_dir}{os.sep}"  # llama.cpp appends the file name as is

            # Blocks (holding the GIL) until the model is loaded: 2-4 s for 1.5B on 2 cores.
            try:
                server = xllamacpp.Server(params)
            except RuntimeError as e:  # llama.cpp logs the cause (bad GGUF, port taken) to stderr
                where = f"port {self.port}" if self.port else "a free port"
                raise RuntimeError(f"llama.cpp could not serve {self.model_path} on {where}: {e}") from e
            root = server.listening_address.rstrip("/")
            try:
                wait_healthy(root, timeout)
            except Exception:
                del server
                raise
            self._server = server
            self._base_url = f"{root}/v1"
            return self._base_url

    def keep_prefix(self, system_prompt: str) -> None:
        """Have every slot start with ``system_prompt`` already read, as each question's prompt does.

        Reading it takes ~5 s on two cores, the first question's wait after every start. The model's
        reading of it (its KV cache, ~13 MB) is saved in ``prefix_dir`` and restored into each slot in
        milliseconds by the next start. The file name holds what the reading depends on: the model file,
        the slots and their size (llama.cpp refuses a file saved with another slot count) and the prompt.
        """
        if self.prefix_dir is None or self._base_url is None:
            return
        key = f"{self.model_path.name}|{self.model_path.stat().st_size}|{self.slots}|{self.slot_ctx}|{system_prompt}"
        name = f"prefix-{hashlib.sha256(key.encode()).hexdigest()[:16]}.bin"
        root = self._base_url.removesuffix("/v1")
        if (self.prefix_dir / name).is_file():
            self._prefix_file = name
            for slot in range(self.slots):
                self.restore_prefix(slot)
            return
        messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": ""}]
        reply = self._post(f"{self._base_url}/chat/completions", {"messages": messages, "max_tokens": 1})
        read = reply["usage"]["prompt_tokens"]
        saved = {}
        for slot in range(self.slots):
            partial = f"partial-{os.getpid()}-{slot}.bin"
            saved[partial] = self._post(f"{root}/slots/{slot}?action=save", {"filename": partial}).get("n_saved", 0)
        # The slot that read the prefix, and nothing since: a question answered meanwhile on that slot
        # would be saved with it, and then served from the file to whoever asks it again.
        prefix_only = [partial for partial, n in saved.items() if read <= n <= read + 1]
        if prefix_only:
            os.replace(self.prefix_dir / prefix_only[0], self.prefix_dir / name)
            self._prefix_file = name
        for partial in saved:
            (self.prefix_dir / partial).unlink(missing_ok=True)

    def restore_prefix(self, slot: int) -> None:
        """Put ``slot`` back to the saved reading of the system prompt alone (see ``keep_prefix``).

        Otherwise llama.cpp reuses whatever the slot's previous prompt shares with the next one and reads
        only the rest; reading in other pieces rounds differently, and that flipped an answer: the seed's
        launch event was named when asked first and refused when asked after the regions of a cluster.
        Restored before each question, a slot answers it the same whatever it answered before.
        """
        if self._prefix_file is None or self._base_url is None:
            return
        root = self._base_url.removesuffix("/v1")
        with contextlib.suppress(urllib.error.HTTPError):  # a slot already answering keeps its own
            self._post(f"{root}/slots/{slot}?action=restore", {"filename": self._prefix_file})

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
        with _LOCAL.open(request, timeout=120) as response:
            return json.load(response)

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


def wait_healthy(root: str, timeout: float) -> None:
    """Poll ``/health`` (public, no key needed) until llama.cpp answers ``ok``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with _LOCAL.open(f"{root}/health", timeout=5) as response:
                if json.load(response).get("status") == "ok":
                    return
        except (urllib.error.URLError, OSError, ValueError) as e:
            last_error = e
        time.sleep(0.2)
    raise RuntimeError(f"llama.cpp server at {root} not healthy after {timeout:.0f} s: {last_error}")


def serve_until_stopped(server: LocalLlamaServer, on_ready: Callable[[str], None] | None = None) -> None:
    """Start ``server``, call ``on_ready(base_url)``, then block until SIGINT or SIGTERM and stop it.

    For a process whose only job is the model (``corridor-bot llm-server``); call it from the main thread.
    """
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        url = server.start()
        if on_ready is not None and not stopping.is_set():
            on_ready(url)
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
