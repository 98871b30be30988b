"""How fast llama.cpp reads a prompt here: the wait before an answer's first word.

Usage::

    .venv/bin/python benchmarks/prompt_reading.py                    # the shipped GGUF, a few llama.cpp settings
    .venv/bin/pip install gguf && .venv/bin/python benchmarks/prompt_reading.py --formats Q8_0,Q4_0

Each case starts xllamacpp's server on the model and sends the same ~410-token passage of the
seed document three times with the prompt cache off, asking for 16 tokens; llama.cpp reports
the prompt and generation speeds itself. ``--formats`` also measures the model requantised from
the shipped Q4_K_M (with the ``gguf`` package, not a dependency of the bot) to other formats
that llama.cpp's CPU code repacks for batched reading; the copies go to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from common import SEED, median, print_header, table, write_json

from bot import Settings
from bot.generation import gguf_path
from bot.llm_server import default_n_threads, wait_healthy

#: llama.cpp settings tried on the shipped file: its defaults, flash attention, smaller batches.
SETTINGS: dict[str, dict[str, int]] = {
    "defaults": {},
    "flash attention": {"flash_attn_type": 1},
    "n_ubatch 128": {"n_ubatch": 128},
}


def measure(model: Path, overrides: dict[str, int], runs: int = 3) -> dict[str, float]:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.n_ctx, params.n_parallel, params.verbosity, params.ui, params.offline = 2048, 1, 1, False, True
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = default_n_threads()
    params.hostnames, params.port = ["127.0.0.1"], 0
    for name, value in overrides.items():
        setattr(params, name, value)
    server = xllamacpp.Server(params)
    root = server.listening_address.rstrip("/")
    wait_healthy(root, 60)
    text = SEED.read_text(encoding="utf-8")
    prompt, generation = [], []
    for run in range(runs):
        body = {"prompt": text[run * 7 : run * 7 + 1500], "n_predict": 16, "cache_prompt": False}
        request = urllib.request.Request(
            f"{root}/completion", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            timings = json.load(response)["timings"]
        prompt.append(timings["prompt_per_second"])
        generation.append(timings["predicted_per_second"])
    del server
    return {
        "prompt_tokens_per_s": median(prompt),
        "generated_tokens_per_s": median(generation),
        "prompt_tokens": timings["prompt_n"],
    }


def requantize(source: Path, target: Path, kind: str) -> None:
    """Copy ``source`` with every quantised matrix dequantised and quantised again as ``kind``."""
    import gguf
    import numpy as np
    from gguf import GGMLQuantizationType as Q

    reader = gguf.GGUFReader(source)
    writer = gguf.GGUFWriter(target, reader.fields["general.architecture"].contents())
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name in ("general.architecture", "general.file_type"):
            continue
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, field.contents(), field.types[0], sub_type=sub_type)
    for tensor in reader.tensors:
        shape = [int(n) for n in reversed(tensor.shape.tolist())]
        if tensor.tensor_type in (Q.F32, Q.F16):
            writer.add_tensor(tensor.name, np.asarray(tensor.data).reshape(shape))
            continue
        values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).reshape(shape)
        packed = gguf.quants.quantize(values.astype(np.float32), Q[kind])
        writer.add_tensor(tensor.name, packed, raw_shape=packed.shape, raw_dtype=Q[kind])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default="", help="comma-separated GGUF types to requantise to, e.g. Q8_0,Q4_0")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    print_header("Prompt reading: llama.cpp's prompt and generation speed with the shipped model")
    import xllamacpp

    print(xllamacpp.get_system_info())
    shipped = gguf_path(Settings.from_env())
    results: dict[str, Any] = {}
    for name, overrides in SETTINGS.items():
        results[f"Q4_K_M (shipped), {name}"] = measure(shipped, overrides)
    with tempfile.TemporaryDirectory() as scratch:
        for kind in filter(None, args.formats.split(",")):
            copy = Path(scratch) / f"{kind}.gguf"
            requantize(shipped, copy, kind)
            results[f"{kind} (requantised), defaults"] = measure(copy, {})
            copy.unlink()
    rows = [["case", "prompt tokens/s", "generated tokens/s", "ms per prompt token"]]
    for name, r in results.items():
        speed = r["prompt_tokens_per_s"]
        rows.append([name, f"{speed:.1f}", f"{r['generated_tokens_per_s']:.1f}", f"{1000 / speed:.1f}"])
    print(table(rows))
    base = results["Q4_K_M (shipped), defaults"]["prompt_tokens_per_s"]
    print("\nprompt speed against the shipped defaults: " + ", ".join(
        f"{name} ×{r['prompt_tokens_per_s'] / base:.2f}" for name, r in results.items()
    ))  # fmt: skip
    write_json(args.json, {"results": results})


if __name__ == "__main__":
    main()
