"""Indexing throughput (chunks/s) against the embedding model's own encode speed on the same chunks.

Usage::

    .venv/bin/python benchmarks/indexing_throughput.py                  # about 400 chunks, 3 repeats
    .venv/bin/python benchmarks/indexing_throughput.py --chunks 100 --repeats 1   # a quick look

A corpus of real-ish press notes (variants of the seed document with shuffled paragraphs, plus short
English and Japanese notes) is indexed from scratch by ``CorpusIndex.reindex()``, the real pipeline
(scan, convert, chunk, embed, write the generation), into a fresh index folder each time. The same
chunks, with the same text the document embedder sends the model (``passage:`` prefix, section
heading), are then encoded by the model alone (``SentenceTransformer.encode``, same batch size, one
call: the model's limit on this machine). Runs alternate so that drift in the machine's load hits
both. The ratio says how close indexing gets to that limit.

Where the rest goes, as parts: convert + chunk alone on the same files, and the model encoding the
chunks in the groups the index embeds at a time (fewer chunks per call sort less well by length, so
batches carry more padding).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from common import SEED, median, print_header, seed_settings, table, write_json
from haystack import Document

from bot import Settings
from bot.chunking import SentenceChunker
from bot.documents import PressDocumentConverter, read_source
from bot.embedders import document_embedder
from bot.index import CorpusIndex

#: Bytes of corpus text per chunk, roughly (the seed: 6.6 kB, 19 chunks); used to size the corpus.
BYTES_PER_CHUNK = 340
EN_NOTE = """Kyoto Cellomics opens a laboratory in {city} (press release {n})

Kyoto Cellomics, a Japanese company specialised in stem cells, opened a laboratory in {city} in March {year}. \
It will work with local academic teams and with the companies of the competitiveness cluster on new toxicity tests.

The laboratory will employ about {staff} French and Japanese researchers. It builds on the partnership \
agreement signed in February 2008 between the LifeScience Corridor France and the Kansai Bio Promotion Council.

"This shows that the corridor produces concrete results," said the cluster's director, who expects further \
announcements during the next mission to Japan. Contact: press office, +33 4 {phone}.
"""
JA_NOTE = """{city}に新研究所を開設（プレスリリース{n}）

京都セロミクス社は{year}年3月、{city}に幹細胞研究の新しい研究所を開設した。地元の大学や競争力拠点の企業と協力し、\
新しい毒性試験の開発に取り組む。研究所では日仏の研究者約{staff}名が働く予定である。

今回の開設は、2008年2月に大阪で署名されたライフサイエンス・コリドー・フランスと関西バイオ推進会議の提携協定に基づく。\
拠点の代表は「コリドーが具体的な成果を生んでいることを示している」と述べ、次回の訪日ミッションでのさらなる発表に期待を示した。
"""


def write_corpus(folder: Path, chunks: int, rng: random.Random) -> int:
    """Write press notes worth about ``chunks`` chunks into ``folder``; returns the number of files."""
    paragraphs = [p for p in SEED.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    cities = ["Lyon", "Grenoble", "Strasbourg", "Toulouse", "Marseille", "Nantes", "Osaka", "Kobe"]
    written = n = 0
    while written < chunks * BYTES_PER_CHUNK:
        n += 1
        values = {"city": rng.choice(cities), "n": n, "year": 2008 + n % 3, "staff": 10 + n % 40,
                  "phone": f"{rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}"}  # fmt: skip
        if n % 5 == 0:
            name, text = f"note-{n:04d}-en.txt", EN_NOTE.format(**values)
        elif n % 5 == 1:
            name, text = f"note-{n:04d}-ja.txt", JA_NOTE.format(**values)
        else:
            body = paragraphs[1:]
            rng.shuffle(body)
            name, text = f"seed-variant-{n:04d}.txt", "\n\n".join([f"{paragraphs[0]} ({n})", *body])
        (folder / name).write_text(text, encoding="utf-8")
        written += len(text.encode())
    return n


def chunk_texts(settings: Settings) -> tuple[list[str], list[str]]:
    """The indexed chunks as the document embedder sends them to the model, and their document names."""
    live = CorpusIndex(settings).load()
    assert live is not None
    embedder = document_embedder(settings, progress_bar=False)
    docs = sorted(live.store.filter_documents(), key=lambda d: (d.meta.get("document", ""), d.meta.get("chunk", 0)))
    texts = []
    for doc in docs:
        meta = [str(doc.meta[k]) for k in embedder.meta_fields_to_embed if doc.meta.get(k) is not None]
        texts.append(embedder.prefix + embedder.embedding_separator.join([*meta, doc.content or ""]) + embedder.suffix)
    return texts, [str(d.meta.get("document", "")) for d in docs]


def index_groups(names: list[str], corpus: Path) -> list[list[int]]:
    """Chunk positions grouped as ``CorpusIndex`` embeds them (files in name order, ~24 kB or 16 files a group)."""
    import bot.index as index_module

    group_bytes = getattr(index_module, "EMBED_GROUP_BYTES", 24_000)
    group_files = getattr(index_module, "EMBED_GROUP_FILES", 16)
    by_file: dict[str, list[int]] = {}
    for position, name in enumerate(names):
        by_file.setdefault(name, []).append(position)
    groups: list[list[int]] = [[]]
    size = files = 0
    for name in sorted(by_file):
        if groups[-1] and (size >= group_bytes or files >= group_files):
            groups.append([])
            size = files = 0
        groups[-1].extend(by_file[name])
        size += (corpus / name).stat().st_size
        files += 1
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=400, help="about this many chunks to index")
    parser.add_argument("--repeats", type=int, default=3, help="full reindexes (and encodes) to take the median of")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()

    print_header("Indexing throughput vs the embedding model's own encode speed")
    runs: dict[str, list[float]] = {"pipeline": [], "encode": [], "encode_groups": [], "convert_chunk": []}
    timings: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="corridor-indexing-") as tmp:
        root = Path(tmp)
        warm = seed_settings(root / "warm")
        CorpusIndex(warm).reindex()  # loads the model once (Haystack caches it per process): not timed
        settings = replace(warm, corpus_dir=root / "corpus", index_dir=root / "index-0")
        settings.corpus_dir.mkdir()
        files = write_corpus(settings.corpus_dir, args.chunks, random.Random(0))
        embedder = document_embedder(settings, progress_bar=False)
        embedder.warm_up()
        model = embedder.embedding_backend.model
        texts: list[str] = []
        groups: list[list[int]] = []
        chunks = 0

        def pipeline(repeat: int) -> None:
            nonlocal texts, groups, chunks
            report = CorpusIndex(replace(settings, index_dir=root / f"index-{repeat}")).reindex()
            assert not report.skipped, report.skipped
            runs["pipeline"].append(report.seconds)
            for phase, seconds in report.timings.items():
                timings.setdefault(phase, []).append(seconds)
            if not texts:
                texts, names = chunk_texts(replace(settings, index_dir=root / f"index-{repeat}"))
                groups = index_groups(names, settings.corpus_dir)
                chunks = report.chunks

        def encode(_repeat: int) -> None:
            began = time.perf_counter()
            model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True, show_progress_bar=False)
            runs["encode"].append(time.perf_counter() - began)
            began = time.perf_counter()
            for group in groups:
                model.encode([texts[i] for i in group], batch_size=embedder.batch_size, normalize_embeddings=True,
                             show_progress_bar=False)  # fmt: skip
            runs["encode_groups"].append(time.perf_counter() - began)

        def convert_chunk(_repeat: int) -> None:
            converter = PressDocumentConverter()
            chunker = SentenceChunker(settings.chunk_chars, settings.chunk_chars_ja)
            began = time.perf_counter()
            sources = [read_source(p, p.name) for p in sorted(settings.corpus_dir.iterdir())]
            docs: list[Document] = converter.run(sources=sources)["documents"]
            chunker.run(documents=docs)
            runs["convert_chunk"].append(time.perf_counter() - began)

        for repeat in range(args.repeats):
            # The first run indexes first (it learns the chunks); later runs alternate the order.
            steps = [pipeline, encode, convert_chunk] if repeat % 2 == 0 else [encode, pipeline, convert_chunk]
            for step in steps:
                step(repeat)
            print(f"  run {repeat + 1}: reindex {runs['pipeline'][-1]:.1f} s, encode {runs['encode'][-1]:.1f} s, "
                  f"encode in index groups {runs['encode_groups'][-1]:.1f} s", flush=True)  # fmt: skip

    results = summarise(runs, timings, chunks, files, texts, model, len(groups), embedder.batch_size)
    write_json(args.json, {"benchmark": "indexing_throughput", **results})
    return 0


def summarise(
    runs: dict[str, list[float]], timings: dict[str, list[float]], chunks: int, files: int, texts: list[str],
    model: Any, groups: int, batch_size: int,
) -> dict[str, Any]:  # fmt: skip
    """Print the table and the ratios; return them."""
    tokens = sorted(len(ids) for ids in model.tokenizer(texts)["input_ids"])
    pipeline, encode, grouped = (median(runs[k]) for k in ("pipeline", "encode", "encode_groups"))
    phases = {phase: median(values) for phase, values in timings.items()}
    print(f"\n{chunks} chunks from {files} files; {len(runs['pipeline'])} runs; batch size {batch_size}; "
          f"tokens per chunk: median {tokens[len(tokens) // 2]}, max {tokens[-1]}\n")  # fmt: skip
    rows = [["", "seconds (median)", "chunks/s"]]
    rows.append(["reindex (the real pipeline)", f"{pipeline:.2f}", f"{chunks / pipeline:.1f}"])
    rows.append(["model.encode, one call", f"{encode:.2f}", f"{chunks / encode:.1f}"])
    rows.append([f"model.encode, in the index's {groups} groups", f"{grouped:.2f}", f"{chunks / grouped:.1f}"])
    rows.append(["convert + chunk alone", f"{median(runs['convert_chunk']):.2f}", ""])
    rows += [[f"reindex phase: {phase}", f"{seconds:.2f}", ""] for phase, seconds in phases.items()]
    print(table(rows))
    ratio = encode / pipeline
    print(f"\nindexing speed / raw encode speed: {ratio:.0%} (target ≥ 80%)")
    if "embed" in phases:
        print(f"raw encode / embed phase: {encode / phases['embed']:.0%}; "
              f"grouping cost: {grouped / encode - 1:+.0%} encode time")  # fmt: skip
    return {
        "chunks": chunks, "files": files, "runs": runs, "phases": phases, "batch_size": batch_size,
        "pipeline_chunks_per_s": chunks / pipeline, "encode_chunks_per_s": chunks / encode,
        "encode_groups_chunks_per_s": chunks / grouped, "ratio": ratio,
        "tokens_median": tokens[len(tokens) // 2], "tokens_max": tokens[-1],
    }  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
