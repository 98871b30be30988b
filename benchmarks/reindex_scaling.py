"""How long adding one document takes as the index grows, compared with a full rebuild.

Usage::

    .venv/bin/python benchmarks/reindex_scaling.py                     # N = 100, 1,000, 10,000, 30,000
    .venv/bin/python benchmarks/reindex_scaling.py --sizes 100 10000 --repeats 5

For each N, a temporary corpus holds the real seed document plus synthetic filler notes of ten
chunks each, and its index is written straight as a committed generation: the seed's real chunks
and embeddings, and the filler chunks with random unit vectors (embedding 30,000 chunks takes hours
on a laptop CPU, and the vectors' values do not change the cost of reindexing). The filler files
get an mtime an hour back, as files indexed long ago have. Then a real press note is added and
``CorpusIndex.reindex()`` timed, ``--repeats`` times with a different note each time. A full
rebuild is timed for real at N up to ``--measured-rebuild-max`` and extrapolated above that from the
embedding throughput it measured (stated in the table).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from haystack import Document  # noqa: E402

from bot import Settings  # noqa: E402
from bot.documents import read_source  # noqa: E402
from bot.index import CorpusIndex, _Embedded  # noqa: E402

SEED = REPO_ROOT / "corpus" / "2008-02-04-lifescience-corridor-france-kansai.txt"
CHUNKS_PER_FILLER = 10
WORDS = SEED.read_text(encoding="utf-8").split()  # filler text drawn from the real document's vocabulary


def note(number: int) -> str:
    """A real-looking press note of a few chunks: the document that gets added."""
    city = ["Lyon", "Grenoble", "Strasbourg", "Marseille", "Nantes"][number % 5]
    return (
        f"Kyoto Cellomics ouvre un laboratoire à {city} (communiqué {number})\n\n"
        f"La société japonaise Kyoto Cellomics a ouvert un laboratoire à {city} en mars 2009. "
        "Spécialisée dans les cellules souches, elle travaillera avec les équipes académiques locales "
        "et les entreprises du pôle de compétitivité sur de nouveaux tests de toxicité.\n\n"
        "Le laboratoire emploiera une vingtaine de chercheurs français et japonais. Il s'appuie sur "
        "l'accord de partenariat signé en février 2008 entre le LifeScience Corridor France et le "
        "Kansai Bio Promotion Council, qui prévoit des échanges de chercheurs et des projets communs.\n\n"
        "« Cette implantation montre que le corridor produit des résultats concrets », a déclaré le "
        "directeur du pôle, qui attend d'autres annonces lors de la prochaine mission au Japon. "
        "Les premiers résultats des travaux communs seront présentés lors du congrès BioJapan à Yokohama."
    )


def filler_chunk(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(55)]
    return " ".join(words).capitalize() + "."


def build(root: Path, n_chunks: int, seed_chunks: _Embedded, dim: int) -> tuple[Settings, int]:
    """A corpus of the seed plus filler files, and a committed generation of about ``n_chunks`` chunks."""
    settings = Settings.from_env(corpus_dir=root / "corpus", index_dir=root / "index", llm="none")
    settings.corpus_dir.mkdir(parents=True)
    shutil.copy2(SEED, settings.corpus_dir / SEED.name)
    index = CorpusIndex(settings)
    rng, vectors_rng = random.Random(n_chunks), np.random.default_rng(n_chunks)
    documents = list(seed_chunks.documents)
    names = {SEED.name: list(seed_chunks.documents)}
    filler = max(0, n_chunks - len(documents))
    (settings.corpus_dir / "filler").mkdir()
    hour_ago = time.time_ns() - 3600 * 10**9
    for number in range((filler + CHUNKS_PER_FILLER - 1) // CHUNKS_PER_FILLER):
        name = f"filler/note-{number:05d}.txt"
        texts = [filler_chunk(rng) for _ in range(min(CHUNKS_PER_FILLER, filler - number * CHUNKS_PER_FILLER))]
        path = settings.corpus_dir / name
        path.write_text("\n\n".join(texts), encoding="utf-8")
        meta = {"document": name, "file_path": name, "title": f"Note {number}", "date": None, "language": "fr"}
        chunks = [Document(content=text, meta={**meta, "chunk": i}) for i, text in enumerate(texts)]
        names[name] = chunks
        documents += chunks
    vectors = vectors_rng.standard_normal((len(documents) - len(seed_chunks.documents), dim)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    all_vectors = np.concatenate([seed_chunks.vectors, vectors])
    files = {}
    for name, chunks in names.items():
        path = settings.corpus_dir / name
        if name != SEED.name:
            os.utime(path, ns=(hour_ago, hour_ago))
        stat = path.stat()
        files[name] = {
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "segment": None,
            "chunk_ids": [doc.id for doc in chunks],
            **{k: chunks[0].meta.get(k) for k in ("title", "date", "language")},
        }
    settings.index_dir.mkdir()
    index._commit(None, [], files, [_Embedded(documents, all_vectors)], dim, time.time_ns())
    return settings, len(documents)


def embed_seed(settings: Settings) -> tuple[_Embedded, float]:
    """The seed document's real chunks and vectors, and the embedding throughput in chunks per second."""
    pipeline = CorpusIndex(settings).indexing_pipeline()
    pipeline.warm_up()
    pipeline.run({"converter": {"sources": [read_source(SEED, SEED.name)]}})  # first call pays one-off costs
    started = time.perf_counter()
    docs = pipeline.run({"converter": {"sources": [read_source(SEED, SEED.name)]}})["embedder"]["documents"]
    seconds = time.perf_counter() - started
    vectors = np.array([d.embedding for d in docs], dtype="float32")
    return _Embedded([Document(content=d.content, meta=d.meta) for d in docs], vectors), len(docs) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000, 30_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--measured-rebuild-max", type=int, default=100, help="time real full rebuilds up to this N")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="reindex-scaling-"))
    try:
        seed_chunks, throughput = embed_seed(Settings.from_env(llm="none"))
        dim = seed_chunks.vectors.shape[1]
        print(f"embedding throughput (seed document, warm model): {throughput:.1f} chunks/s", file=sys.stderr)
        rows = []
        for size in args.sizes:
            settings, chunks = build(scratch / f"n{size}", size, seed_chunks, dim)
            index = CorpusIndex(settings)
            index.indexing_pipeline().warm_up()
            reports = []
            for repeat in range(args.repeats):
                (settings.corpus_dir / f"added-{repeat}.txt").write_text(note(repeat), encoding="utf-8")
                reports.append(index.reindex())
                assert reports[-1].added == [f"added-{repeat}.txt"] and not reports[-1].full_rebuild
            started = time.perf_counter()
            live = index.load()
            load = time.perf_counter() - started
            assert live is not None and live.store.index.ntotal == reports[-1].chunks
            rebuild, measured = None, size <= args.measured_rebuild_max
            if measured:
                fresh = CorpusIndex(replace(settings, index_dir=scratch / f"r{size}"))
                fresh.indexing_pipeline().warm_up()
                report = fresh.reindex()
                rebuild = report.seconds
                throughput = report.chunks / report.timings["embed"]
            else:
                rebuild = chunks / throughput
            rows.append((size, chunks, reports, load, rebuild, measured))
            print(f"N={size}: done", file=sys.stderr)
            shutil.rmtree(scratch / f"n{size}", ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    base = statistics.median(r.seconds for r in rows[0][2])
    base_rest = statistics.median(r.seconds - r.timings["embed"] for r in rows[0][2])
    header = (
        f"{'N':>7} {'chunks':>7} | {'add 1 doc':>9} {'ratio':>6} | {'embed':>6} {'scan':>7} {'save':>7} "
        f"{'not embed':>9} {'ratio':>6} | {'load':>6} | {'full rebuild':>22}"
    )
    print(f"Adding one document (median of {args.repeats}, seconds) vs a full rebuild; ratio = value(N) / value(N0)")
    print(header)
    print("-" * len(header))
    for size, chunks, reports, load, rebuild, measured in rows:
        add = statistics.median(r.seconds for r in reports)
        embed, scan, save = (statistics.median(r.timings[k] for r in reports) for k in ("embed", "scan", "save"))
        rest = statistics.median(r.seconds - r.timings["embed"] for r in reports)
        how = "measured" if measured else "extrapolated"
        print(
            f"{size:>7} {chunks:>7} | {add:>9.3f} {add / base:>6.2f} | {embed:>6.3f} {scan:>7.4f} {save:>7.4f} "
            f"{rest:>9.4f} {rest / base_rest:>6.2f} | {load:>6.3f} | {rebuild:>9.1f} ({how:>12})"
        )
    print(
        f"\nadd 1 doc: CorpusIndex.reindex() after writing one new {len(note(0))}-character note; "
        "embed/scan/save: its parts (ReindexReport.timings); not embed: add minus embed, the part that "
        "could grow with N; load: CorpusIndex.load() of the result (what a running bot pays to switch); "
        "full rebuild: measured = a real reindex into an empty index folder, extrapolated = "
        f"chunks / {throughput:.1f} chunks/s (the embedding throughput of the last measured rebuild; "
        "scanning and saving excluded)."
    )


if __name__ == "__main__":
    main()
