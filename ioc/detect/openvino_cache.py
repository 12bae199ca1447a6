"""The OpenVINO export cache next to the weights: ``<models>/<stem>-<imgsz>_openvino_model/`` (FP32)
and ``<models>/<stem>-<imgsz>-int8_openvino_model/`` (INT8).

An export is made once per (weights, imgsz, precision) and reused. It is written into a temporary
folder beside the cache and renamed into place only when complete, with a marker recording the
sha256 of the weights it came from, the imgsz and the precision (a marker without one is FP32), so a
crash mid-export or a replaced ``.pt`` never leaves a cache that would be trusted. The export itself
is a callable handed in by the backend (this module does not import ultralytics).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ioc.detect.base import Precision
from ioc.detect.models import OPENVINO_SUFFIX, sha256_cached

logger = logging.getLogger(__name__)

MARKER = "ioc-export.json"

# (weights .pt in a scratch folder, imgsz) -> the *_openvino_model directory it produced
Exporter = Callable[[Path, int], Path]


def cache_dir_for(weights: Path, imgsz: int, precision: Precision = Precision.FP32) -> Path:
    tag = "" if precision is Precision.FP32 else f"-{precision.value}"
    return weights.with_name(f"{weights.stem}-{imgsz}{tag}{OPENVINO_SUFFIX}")


def cached_export(weights: Path, imgsz: int, precision: Precision = Precision.FP32) -> Path | None:
    """The cache dir if it is complete and was exported from these exact weights at ``imgsz``."""
    target = cache_dir_for(weights, imgsz, precision)
    try:
        marker = json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("imgsz") != imgsz:
        return None
    if marker.get("precision", Precision.FP32.value) != precision.value:
        return None
    if marker.get("weights_sha256") != sha256_cached(weights):
        logger.info("OpenVINO cache %s is from other weights; exporting again", target)
        return None
    if not list(target.glob("*.xml")) or not list(target.glob("*.bin")):
        return None
    return target


def export_cached(
    weights: Path, imgsz: int, exporter: Exporter, precision: Precision = Precision.FP32
) -> Path:
    """Return a valid cache dir for (weights, imgsz, precision), exporting it first when needed."""
    found = cached_export(weights, imgsz, precision)
    if found is not None:
        return found
    target = cache_dir_for(weights, imgsz, precision)
    sha = sha256_cached(weights)
    scratch = Path(tempfile.mkdtemp(prefix=f".{weights.stem}-partial-", dir=weights.parent))
    try:
        local = scratch / weights.name
        try:
            os.link(weights, local)
        except OSError:
            shutil.copyfile(weights, local)
        produced = exporter(local, imgsz)
        marker = {"imgsz": imgsz, "weights_sha256": sha, "precision": precision.value}
        (produced / MARKER).write_text(json.dumps(marker), encoding="utf-8")
        _publish(produced, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    logger.info("OpenVINO export cached at %s", target)
    return target


def _publish(produced: Path, target: Path) -> None:
    """Rename the finished export into place; if another process got there first, keep theirs."""
    if target.exists() and not (target / MARKER).is_file():
        shutil.rmtree(target, ignore_errors=True)  # stale or incomplete
    elif target.exists():
        stale = target.with_name(f".{target.name}.stale-{os.getpid()}")
        os.replace(target, stale)  # a cache from other weights or imgsz: move aside, then drop
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.replace(produced, target)
    except OSError:
        if not (target / MARKER).is_file():  # not a concurrent winner: a real failure
            raise
        logger.info("another process exported %s first; using it", target)
