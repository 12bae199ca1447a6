"""``ioc models fetch|list|export [name] [--models-dir DIR]``: provision and inspect models.

``export`` makes the FP32 OpenVINO model; ``export --int8`` also quantizes it (``int8_build``).

Prints what it did; exit status 0 on success, 1 with a one-line error otherwise (no traceback).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ioc.detect.manifest import ModelError, load_manifest
from ioc.detect.models import OPENVINO_SUFFIX, looks_like_path, resolve_model, sha256_cached
from ioc.settings import load_settings

logger = logging.getLogger(__name__)

DEFAULT_EXPORT_IMGSZ = 320


def models_command(args: argparse.Namespace) -> int:
    models_dir: Path = args.models_dir or load_settings().models_dir
    try:
        if args.action == "fetch":
            return _fetch(args.name, models_dir)
        if args.action == "list":
            return _list(models_dir)
        if args.action == "export":
            imgsz = int(getattr(args, "imgsz", None) or DEFAULT_EXPORT_IMGSZ)
            if getattr(args, "int8", False):
                return _export_int8(args, models_dir, imgsz)
            return _export(args.name, models_dir, imgsz)
    except (ModelError, OSError) as exc:
        print(f"error: {exc}")
        return 1
    print(f"error: unknown action {args.action!r}: expected fetch, list or export")
    return 1


def _fetch(name: str, models_dir: Path) -> int:
    path = resolve_model(name, models_dir, fetch=True)
    print(f"{name}: {path} (sha256 verified)")
    return 0


def _list(models_dir: Path) -> int:
    manifest = load_manifest(models_dir)
    print(f"models dir: {models_dir.resolve()}")
    for spec in manifest.models:
        path = models_dir / spec.file
        if not path.is_file():
            state = "missing (run `ioc models fetch " + spec.name + "`)"
        elif sha256_cached(path) != spec.sha256:
            state = "sha256 MISMATCH (delete it and fetch again)"
        else:
            state = "ok"
        exports = sorted(p.name for p in models_dir.glob(f"{Path(spec.file).stem}-*{OPENVINO_SUFFIX}"))
        print(f"  {spec.name:<20} {spec.file:<24} {state}")
        if spec.license:
            print(f"  {'':<20} license: {spec.license}")
        for export in exports:
            print(f"  {'':<20} openvino: {export}")
    return 0


def _export(name: str, models_dir: Path, imgsz: int) -> int:
    from ioc.detect.base import Backend
    from ioc.detect.ultralytics_backend import load_detector

    if looks_like_path(name) and name.rstrip("/").endswith(OPENVINO_SUFFIX):
        print(f"error: {name} is already an OpenVINO model")
        return 1
    settings = load_settings(models_dir=models_dir, device="cpu")
    detector = load_detector(name, settings, imgsz=imgsz, backend=Backend.OPENVINO)
    if getattr(detector, "backend", None) is not Backend.OPENVINO:
        print(f"error: OpenVINO export of {name} failed; see the warning above")
        return 1
    print(f"{name}: OpenVINO model for imgsz {imgsz} ready in {models_dir}")
    return 0


def _export_int8(args: argparse.Namespace, models_dir: Path, imgsz: int) -> int:
    from ioc.detect.calibration import DEFAULT_PER_SOURCE
    from ioc.detect.int8_build import Int8Request, build_int8

    settings = load_settings(models_dir=models_dir)
    given = getattr(args, "calibration_frames", None)
    per_source = DEFAULT_PER_SOURCE if given is None else int(given)
    if per_source < 2:
        print(f"error: --calibration-frames: expected at least 2 frames per source, got {per_source}")
        return 1
    request = Int8Request(
        name=args.name,
        models_dir=models_dir,
        imgsz=imgsz,
        config_path=getattr(args, "config", None) or settings.config_path,
        demo_dir=(getattr(args, "data_dir", None) or settings.data_dir) / "demo",
        per_source=per_source,
    )
    build_int8(request)
    return 0
