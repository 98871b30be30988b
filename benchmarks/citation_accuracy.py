"""How often the passage an answer cites holds the fact it states (dev set, the local language model).

Usage::

    .venv/bin/python benchmarks/citation_accuracy.py                  # as shipped
    .venv/bin/python benchmarks/citation_accuracy.py --no-repoint     # without moving citations

An answer counts when a cited source contains the item's evidence or the first spelling of one of
its ``must`` facts. Only answers written by the language model are counted.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import bot.generation  # noqa: E402
from bot import CorridorBot  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", default=str(REPO.parent / "shared" / "eval" / "qa-dev.jsonl"))
    parser.add_argument("--no-repoint", action="store_true", help="keep the model's own citations")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if args.no_repoint:
        bot.generation.repoint_citations = lambda text, question, passages: text
    corridor = CorridorBot()
    good = total = 0
    for line in Path(args.qa).read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if not item["answerable"]:
            continue
        answer = corridor.ask(item["q"])
        if not answer.answered or answer.mode != "llm":
            continue
        facts = [item["evidence"].lower(), *(group[0].lower() for group in item["must"])]
        ok = any(s.cited and any(f in " ".join(s.text.split()).lower() for f in facts) for s in answer.sources)
        total, good = total + 1, good + ok
        print(f"{item['id']:8} {'ok ' if ok else 'BAD'} {answer.text[:80]!r}", flush=True)
    print(f"cited passage holds the fact: {good} / {total}")


if __name__ == "__main__":
    main()
