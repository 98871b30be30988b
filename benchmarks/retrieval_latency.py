"""Question → sources latency (p50, p95) at 1k, 10k and 100k chunks, and where the time goes.

Usage::

    .venv/bin/python benchmarks/retrieval_latency.py                       # 1,000 / 10,000 / 100,000 chunks
    .venv/bin/python benchmarks/retrieval_latency.py --sizes 1000 --queries 30   # a quick look
    .venv/bin/python benchmarks/retrieval_latency.py --faiss-threads 1 --torch-threads 1
    .venv/bin/python benchmarks/retrieval_latency.py --background-load 2   # as while the LLM writes an answer

The seed document is indexed for real (``CorpusIndex.reindex()``, then ``load()``: the store the bot
searches), then grown in memory with synthetic filler chunks carrying random unit vectors up to each
size (embedding 100,000 texts would take hours on 2 cores, and a flat FAISS search costs the same
whatever the vectors hold). Each question goes through the bot's real query pipeline
(``bot.retrieval.query_pipeline``: language detection, e5 question embedding, FAISS retriever);
the same question is then timed part by part to show where the time goes: language detection,
embedding, the Haystack FAISS retriever, and the bare ``faiss`` search inside it.

``--background-load N`` keeps N other processes spinning on the CPU meanwhile, as the language
model does when it writes another answer: OpenMP thread pools (torch's and FAISS's) sized for every
core then wait for each other, and the thread options show how much that costs.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from itertools import cycle
from pathlib import Path

import numpy as np
from common import filler_text, median, percentile, print_header, questions, seed_settings, table, write_json
from haystack import Document, Pipeline
from haystack_integrations.document_stores.faiss import FAISSDocumentStore

from bot.index import CorpusIndex
from bot.language import detect_language
from bot.retrieval import query_pipeline, retrieve

TARGET_MS = 150.0


def grow(store: FAISSDocumentStore, size: int, rng: random.Random, vectors_rng: np.random.Generator) -> None:
    """Add filler chunks with random unit vectors until ``store`` holds ``size`` chunks."""
    missing = size - store.count_documents()
    start = store.count_documents()
    batch = 10_000
    for first in range(0, max(0, missing), batch):
        n = min(batch, missing - first)
        docs = [
            Document(
                content=filler_text(rng, start + first + i),
                meta={"document": f"filler/{(start + first + i) // 10:06d}.txt", "language": "fr", "title": "Filler"},
            )
            for i in range(n)
        ]
        vectors = vectors_rng.standard_normal((n, store.embedding_dim), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        if hasattr(store, "add_embedded"):  # the bot's own store: vectors straight into FAISS
            store.add_embedded(docs, vectors)
        else:  # a stock FAISSDocumentStore
            store.write_documents([Document(content=d.content, meta=d.meta, embedding=v.tolist())
                                   for d, v in zip(docs, vectors, strict=True)])  # fmt: skip


def measure(
    pipeline: Pipeline, store: FAISSDocumentStore, qs: list[str], queries: int, top_k: int
) -> dict[str, list[float]]:
    """Per query: the whole pipeline, then each part alone on the same question."""
    embedder = pipeline.get_component("embedder")
    retriever = pipeline.get_component("retriever")
    times: dict[str, list[float]] = {k: [] for k in ("total", "language", "embed", "retriever", "faiss")}
    for question in qs[:5]:  # warm-up: caches, allocator, thread pools
        retrieve(pipeline, question)
    for _, question in zip(range(queries), cycle(qs), strict=False):
        t0 = time.perf_counter()
        retrieve(pipeline, question)
        t1 = time.perf_counter()
        detect_language(question)
        t2 = time.perf_counter()
        embedding = embedder.run(text=question)["embedding"]
        t3 = time.perf_counter()
        retriever.run(query_embedding=embedding, top_k=top_k)
        t4 = time.perf_counter()
        store.index.search(np.array([embedding], dtype="float32"), top_k)
        t5 = time.perf_counter()
        for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            times[key].append(value)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000], help="chunk counts")
    parser.add_argument("--queries", type=int, default=100, help="timed questions per size (cycling FR/EN/JA)")
    parser.add_argument("--faiss-threads", type=int, help="faiss.omp_set_num_threads (default: FAISS's own)")
    parser.add_argument("--torch-threads", type=int, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--background-load", type=int, default=0, metavar="N", help="N busy processes meanwhile")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()

    if args.faiss_threads:
        import faiss

        faiss.omp_set_num_threads(args.faiss_threads)
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    print_header("Question → sources latency (the bot's query pipeline over a FAISS store)")
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.background_load)]
    try:
        results = run(args)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    report(args, results)
    return 0 if all(r["p50_ms"] < TARGET_MS for r in results) else 1


def run(args: argparse.Namespace) -> list[dict[str, float]]:
    """Index the seed, then for each size: grow the store, time the questions."""
    qs = [q for _, q in questions()]
    results = []
    with tempfile.TemporaryDirectory(prefix="corridor-retrieval-") as tmp:
        settings = seed_settings(Path(tmp))
        index = CorpusIndex(settings)
        index.reindex()
        live = index.load()
        assert live is not None, "the seed index could not be loaded"
        store, real = live.store, live.store.count_documents()
        pipeline = query_pipeline(store, settings)
        rng, vectors_rng = random.Random(0), np.random.default_rng(0)
        print(f"{real} real chunks from the seed document + synthetic filler; {len(qs)} questions, "
              f"{args.queries} timed per size; top_k {settings.top_k}; {type(store).__name__}, "
              f"FAISS {store.index_string} (exact search)\n")  # fmt: skip
        for size in sorted(args.sizes):
            began = time.perf_counter()
            grow(store, size, rng, vectors_rng)
            built = time.perf_counter() - began
            times = measure(pipeline, store, qs, args.queries, settings.top_k)
            parts = sum(median(times[k]) for k in ("language", "embed", "retriever"))
            results.append({
                "chunks": store.count_documents(),
                "p50_ms": median(times["total"]) * 1000, "p95_ms": percentile(times["total"], 95) * 1000,
                **{f"{k}_p50_ms": median(v) * 1000 for k, v in times.items() if k != "total"},
                "faiss_p95_ms": percentile(times["faiss"], 95) * 1000,
                "overhead_p50_ms": (median(times["total"]) - parts) * 1000,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "build_s": built,
            })  # fmt: skip
            r = results[-1]
            print(f"  {r['chunks']:>7} chunks: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms "
                  f"(filler added in {built:.1f} s)", flush=True)  # fmt: skip
    return results


def report(args: argparse.Namespace, results: list[dict[str, float]]) -> None:
    load = f", {args.background_load} busy background process(es)" if args.background_load else ""
    print(f"\nthreads: faiss {args.faiss_threads or 'default'}, torch {args.torch_threads or 'default'}{load}")
    rows = [["chunks", "p50 ms", "p95 ms", "language", "embed", "retriever", "(faiss)", "faiss p95", "other",
             "peak RSS MiB", f"p50 < {TARGET_MS:.0f} ms"]]  # fmt: skip
    for r in results:
        rows.append([
            f"{r['chunks']:,}", f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}", f"{r['language_p50_ms']:.1f}",
            f"{r['embed_p50_ms']:.1f}", f"{r['retriever_p50_ms']:.1f}", f"{r['faiss_p50_ms']:.1f}",
            f"{r['faiss_p95_ms']:.1f}", f"{r['overhead_p50_ms']:.1f}", f"{r['peak_rss_mib']:.0f}",
            "yes" if r["p50_ms"] < TARGET_MS else "NO",
        ])  # fmt: skip
    print()
    print(table(rows))
    print(
        "\nlanguage / embed / retriever / (faiss): medians of each part alone on the same questions; the retriever"
        " includes its faiss search; other = p50 − (language + embed + retriever): the pipeline's own overhead."
    )
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"ratios {last['chunks']:,} / {first['chunks']:,} chunks: p50 ×{last['p50_ms'] / first['p50_ms']:.2f}, "
              f"faiss ×{last['faiss_p50_ms'] / max(first['faiss_p50_ms'], 1e-9):.1f}; "
              f"embedding share of p50 at {last['chunks']:,}: {last['embed_p50_ms'] / last['p50_ms']:.0%}")  # fmt: skip
    options = {k: getattr(args, k) for k in ("queries", "faiss_threads", "torch_threads", "background_load")}
    write_json(args.json, {"benchmark": "retrieval_latency", **options, "results": results})


if __name__ == "__main__":
    sys.exit(main())
