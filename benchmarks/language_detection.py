"""Which method reads a question's language best: French, English, Japanese, or another language.

Usage::

    .venv/bin/python benchmarks/language_detection.py                  # the table, then each method's errors
    .venv/bin/python benchmarks/language_detection.py --thresholds 0.5  # one foreign-check confidence only
    .venv/bin/python benchmarks/language_detection.py --all-languages  # also lingua over all its 75 languages

Each question of the shared dev QA set, the multi-document QA set, ``docs/eval/qa-extra.jsonl`` and
``docs/eval/language-cases.jsonl`` (short questions naming foreign organisations, one-word questions,
Japanese with Latin names, questions in other languages: ``"lang": "other"``) is read the way the bot
reads it: a question ``foreign_language`` flags is "other", any other gets ``detect_language``'s answer.

* ``langdetect (before)``: ``bot/language.py`` before lingua, kept here: script rule for Japanese,
  marker words for texts under six words, ``langdetect`` restricted to fr/en otherwise; the foreign
  check is unrestricted ``langdetect`` at 0.95 for texts of four words or more. Needs ``langdetect``.
* ``lingua, foreign common ≥ t``: the script rule, then lingua over French/English/Japanese; the foreign
  check is lingua over 21 common languages (``--all-languages``: all 75), models preloaded, flagging a
  top language outside fr/en/ja at ``t`` or more confidence (four words or more).
* ``names+markers+langdetect``: ``bot.language``'s way (names set aside, marker words for short texts,
  Hangul is Korean) with ``langdetect`` instead of lingua. Needs ``langdetect``.
* ``bot.language (now), foreign ≥ t``: ``bot/language.py`` as it is, with ``FOREIGN_CONFIDENCE = t``.

The time is per question, foreign check and detection together, models loaded: the median over the
questions of each one's best of three runs. Load time and resident memory growth are measured in a
fresh process per method (lingua keeps its models in one cache per process, whatever the detector).
Kanji-only text is Japanese by design (lingua and langdetect both call it Chinese), so the Chinese
questions are misread by every method.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from typing import Any

from common import REPO_ROOT, median, print_header, table

from bot import language

SETS = {
    "dev": REPO_ROOT.parent / "shared" / "eval" / "qa-dev.jsonl",
    "multi": REPO_ROOT.parent / "shared" / "eval" / "qa-multi.jsonl",
    "extra": REPO_ROOT / "docs" / "eval" / "qa-extra.jsonl",
    "cases": REPO_ROOT / "docs" / "eval" / "language-cases.jsonl",
}
#: Languages people might plausibly write to the bot in, besides its own three.
COMMON_LANGUAGES = (
    *("FRENCH", "ENGLISH", "JAPANESE", "GERMAN", "SPANISH", "ITALIAN", "PORTUGUESE", "DUTCH", "POLISH", "SWEDISH"),
    *("DANISH", "BOKMAL", "TURKISH", "ROMANIAN", "CZECH", "INDONESIAN", "VIETNAMESE", "RUSSIAN", "ARABIC"),
    *("CHINESE", "KOREAN"),
)
HAS_LANGDETECT = importlib.util.find_spec("langdetect") is not None

Classifier = Callable[[str], str]


def reader(detect: Callable[[str], str], foreign: Callable[[str], str | None]) -> Classifier:
    """What the bot makes of a question: "other" when flagged as foreign, else the detected language."""

    def classify(text: str) -> str:
        text = unicodedata.normalize("NFKC", text)
        return "other" if foreign(text) else detect(text)

    return classify


# --- langdetect: the baseline, and bot.language's way with langdetect -------------------------------

# The marker words and scripts are the bot's own (unchanged since the langdetect version).
FRENCH_MARKERS, ENGLISH_MARKERS = language._FRENCH_MARKERS, language._ENGLISH_MARKERS
WORD, HANGUL, LATIN = language._WORD, language._HANGUL, language._LATIN


def langdetect_fr_en(text: str, fr_hits: int, en_hits: int) -> str:
    from langdetect import LangDetectException, detect_langs

    try:
        probabilities = {p.lang: p.prob for p in detect_langs(text)}
    except LangDetectException:
        return "fr" if fr_hits > en_hits else "en"
    fr, en = probabilities.get("fr", 0.0), probabilities.get("en", 0.0)
    if fr == en:
        return "fr" if fr_hits > en_hits else "en"
    return "fr" if fr > en else "en"


def langdetect_foreign(text: str) -> str | None:
    from langdetect import LangDetectException, detect_langs

    try:
        best = detect_langs(text)[0]
    except (LangDetectException, IndexError):
        return None
    return None if best.lang in language.LANGUAGES or best.prob < 0.95 else best.lang


def baseline() -> Classifier:
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0

    def detect(text: str) -> str:
        if language.is_japanese(text):
            return "ja"
        fr_hits, en_hits = len(FRENCH_MARKERS.findall(text)), len(ENGLISH_MARKERS.findall(text))
        if len(text.split()) < 6 and fr_hits != en_hits:
            return "fr" if fr_hits > en_hits else "en"
        return langdetect_fr_en(text, fr_hits, en_hits)

    def foreign(text: str) -> str | None:
        if language.is_japanese(text) or len(WORD.findall(text)) < 4:
            return None
        return "ko" if HANGUL.search(text) else langdetect_foreign(text)

    return reader(detect, foreign)


def names_markers_langdetect() -> Classifier:
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0

    def detect(text: str) -> str:
        if language.is_japanese(text):
            return "ja"
        core = language.without_names(text)
        fr_hits, en_hits = language.marker_hits(core)
        if len(WORD.findall(core)) < 6:
            if fr_hits != en_hits:
                return "fr" if fr_hits > en_hits else "en"
            if re.search(r"\S\s+[?!:;]", core):
                return "fr"
        return langdetect_fr_en(core, fr_hits, en_hits)

    def foreign(text: str) -> str | None:
        if language.is_japanese(text):
            return None
        if len(HANGUL.findall(text)) > len(LATIN.findall(text)):
            return "ko"
        core = language.without_names(text)
        return None if len(WORD.findall(core)) < 3 else langdetect_foreign(core)

    return reader(detect, foreign)


# --- lingua ------------------------------------------------------------------------------------------


def plain_lingua(all_languages: bool, threshold: float) -> Classifier:
    from lingua import Language, LanguageDetectorBuilder

    fr_en_ja = LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH, Language.JAPANESE)
    fr_en_ja = fr_en_ja.with_preloaded_language_models().build()
    broad: Any = (
        LanguageDetectorBuilder.from_all_languages()
        if all_languages
        else LanguageDetectorBuilder.from_languages(*(getattr(Language, name) for name in COMMON_LANGUAGES))
    )
    broad = broad.with_preloaded_language_models().build()

    def detect(text: str) -> str:
        if language.is_japanese(text):
            return "ja"
        return "fr" if fr_en_ja.detect_language_of(text) == Language.FRENCH else "en"

    def foreign(text: str) -> str | None:
        if language.is_japanese(text) or len(WORD.findall(text)) < 4:
            return None
        values = broad.compute_language_confidence_values(text)
        if not values or values[0].value < threshold:
            return None
        code = values[0].language.iso_code_639_1.name.lower()
        return None if code in language.LANGUAGES else code

    return reader(detect, foreign)


def current_module(threshold: float) -> Classifier:
    language.FOREIGN_CONFIDENCE = threshold  # read at each call
    language.warm_up()
    return reader(language.detect_language, language.foreign_language)


# --- measuring ---------------------------------------------------------------------------------------


def methods(args: argparse.Namespace) -> dict[str, Callable[[], Classifier]]:
    """Method name → a function building its classifier (and loading its models)."""
    found: dict[str, Callable[[], Classifier]] = {}
    if HAS_LANGDETECT:
        found["langdetect (before)"] = baseline
    for all_languages in [False, True] if args.all_languages else [False]:
        for t in args.thresholds:
            name = f"lingua, foreign {'all' if all_languages else 'common'} ≥ {t}"
            found[name] = lambda a=all_languages, t=t: plain_lingua(a, t)
    if HAS_LANGDETECT:
        found["names+markers+langdetect"] = names_markers_langdetect
    for t in args.thresholds:
        found[f"bot.language (now), foreign ≥ {t}"] = lambda t=t: current_module(t)
    return found


def rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_load(name: str, args: argparse.Namespace) -> dict[str, float]:
    """Load time and resident memory growth of building ``name``'s classifier, in a fresh process."""
    command = [sys.executable, __file__, "--load-only", name, "--thresholds", ",".join(map(str, args.thresholds))]
    command += ["--all-languages"] * args.all_languages
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_only(name: str, args: argparse.Namespace) -> None:
    if HAS_LANGDETECT:  # its import is not what is measured
        import langdetect  # noqa: F401
    classify = methods(args)[name]
    before, start = rss_mib(), time.perf_counter()
    classify()("Qui a signé l'accord de coopération ?")
    print(json.dumps({"load_s": time.perf_counter() - start, "rss_mib": rss_mib() - before}))


def read_sets() -> dict[str, list[dict[str, str]]]:
    found = {}
    for name, path in SETS.items():
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            found[name] = [json.loads(line) for line in lines if line.strip()]
        else:
            print(f"({name}: {path} not found, skipped)")
    return found


def run_method(classify: Classifier, sets: dict[str, list[dict[str, str]]]) -> tuple[dict, list[str], float]:
    """Correct answers per set, the errors, and the median time per question."""
    correct, errors, times = {}, [], []
    for set_name, rows in sets.items():
        correct[set_name] = 0
        for row in rows:
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                got = classify(row["q"])
                best = min(best, time.perf_counter() - start)
            times.append(best)
            if got == row["lang"]:
                correct[set_name] += 1
            else:
                errors.append(f"[{set_name}] {row['lang']} → {got}: {row['q']}")
    return correct, errors, median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--thresholds", default="0.3,0.5,0.7", help="foreign-check confidences, comma-separated")
    parser.add_argument("--all-languages", action="store_true", help="also lingua over all languages (slow, ≈ 2 GB)")
    parser.add_argument("--load-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.thresholds = [float(t) for t in args.thresholds.split(",")]
    if args.load_only:
        load_only(args.load_only, args)
        return

    print_header("Language detection: correct/total per set, errors, time per question, load cost")
    if not HAS_LANGDETECT:
        print("(langdetect is not installed: its methods are skipped)\n")
    sets = read_sets()
    header = ["method", *(f"{name} ({len(rows)})" for name, rows in sets.items()), "errors", "µs/question"]
    rows, all_errors = [[*header, "load s", "RSS MiB"]], {}
    for name, build in methods(args).items():
        load = measure_load(name, args)
        correct, errors, seconds = run_method(build(), sets)
        all_errors[name] = errors
        cells = [f"{correct[s]}/{len(sets[s])}" for s in sets]
        rows.append([name, *cells, str(len(errors)), f"{seconds * 1e6:.0f}", f"{load['load_s']:.1f}"])
        rows[-1].append(f"{load['rss_mib']:.0f}")
    print(table(rows))
    for name, errors in all_errors.items():
        print(f"\n{name}: {len(errors)} errors")
        for error in errors:
            print("  " + error)


if __name__ == "__main__":
    main()
