"""``ioc models export --int8 [NAME]``: quantize, check, cache, report.

Steps: resolve the weights → the FP32 OpenVINO export (cached, made first when missing) → frames
from real footage (``calibration``) → NNCF quantization and the INT8-vs-FP32 check
(``int8_export``) in a scratch folder → ``int8-check.json`` written beside the INT8 model → the
folder published atomically as ``<stem>-<imgsz>-int8_openvino_model`` (``openvino_cache``). An
existing INT8 cache for the same weights and size is kept, and its stored check printed again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ioc.detect import precision as rules
from ioc.detect.base import Precision
from ioc.detect.calibration import FrameSplit, camera_sources, collect, default_sources
from ioc.detect.int8_export import CHECK_CONFIDENCE, CheckResult, check, quantize
from ioc.detect.manifest import ModelError
from ioc.detect.models import resolve_model
from ioc.detect.openvino_cache import cached_export, export_cached

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Int8Request:
    """What to quantize, at which size, and where the calibration footage comes from."""

    name: str
    models_dir: Path
    imgsz: int
    config_path: Path
    demo_dir: Path
    per_source: int


def build_int8(req: Int8Request, say: Say = print) -> Path:
    """Return the INT8 cache folder for ``req``, quantizing first when needed."""
    weights = resolve_model(req.name, req.models_dir)
    if weights.is_dir():
        raise ModelError(f"{weights}: quantize from the .pt weights, not an OpenVINO folder")
    found = cached_export(weights, req.imgsz, Precision.INT8)
    if found is not None:
        say(f"{req.name}: INT8 model for imgsz {req.imgsz} already cached at {found} (delete it to redo)")
        _print_stored(found, say)
        return found
    from ioc.detect.ultralytics_backend import openvino_fp32_dir

    fp32_dir = openvino_fp32_dir(weights, req.imgsz)
    sources = default_sources(req.demo_dir, camera_sources(req.config_path, say))
    frames = collect(sources, req.imgsz, req.per_source, say)
    if not frames.calibration or not frames.held_out:
        raise ModelError(
            "no footage to calibrate on: run `ioc demo prepare`, install opencv-doc (vtest.avi), "
            "or configure reachable cameras"
        )
    say(f"quantizing on {len(frames.calibration)} frames, checking on {len(frames.held_out)} held-out")

    def exporter(local_weights: Path, imgsz: int) -> Path:
        out = quantize(fp32_dir, local_weights.with_name(f"{weights.stem}-int8"), frames.calibration, imgsz)
        result = check(fp32_dir, out, frames.held_out, imgsz)
        report = make_report(req, frames, result)
        (out / rules.REPORT).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return out

    started = time.monotonic()
    target = export_cached(weights, req.imgsz, exporter, Precision.INT8)
    took = time.monotonic() - started
    say(f"{req.name}: INT8 model for imgsz {req.imgsz} ready at {target} ({took:.0f} s)")
    _print_stored(target, say)
    return target


def make_report(req: Int8Request, frames: FrameSplit, result: CheckResult) -> dict[str, Any]:
    """The JSON kept as ``int8-check.json`` (figures, thresholds, and what ``auto`` will do)."""
    figures = rules.CheckFigures(result.agreement.recall, result.agreement.mean_iou, result.speedup)
    failures = rules.check_failures(figures)
    return {
        "model": req.name,
        "imgsz": req.imgsz,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "calibration_frames": len(frames.calibration),
        "held_out_frames": len(frames.held_out),
        "sources": [
            {"source": s.label, "calibration": s.calibration, "held_out": s.held_out} for s in frames.sources
        ],
        "confidence": CHECK_CONFIDENCE,
        "agreement": result.agreement.as_dict(),
        "latency": {"fp32_ms": result.fp32_ms, "int8_ms": result.int8_ms, "speedup": result.speedup},
        "thresholds": {
            "min_recall": rules.MIN_RECALL,
            "min_mean_iou": rules.MIN_MEAN_IOU,
            "min_speedup": rules.MIN_SPEEDUP,
        },
        "auto_uses_int8": not failures,
        "failures": failures,
    }


def _print_stored(int8_dir: Path, say: Say) -> None:
    path = int8_dir / rules.REPORT
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        for line in summary_lines(report):
            say(line)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        say(f"no readable accuracy check in {path} ({exc}); IOC_PRECISION=auto will use FP32")
        return
    say(f"check saved in {path}")


def summary_lines(report: dict[str, Any]) -> list[str]:
    """What the export prints about its check."""
    a, lat = report["agreement"], report["latency"]
    failures = rules.check_failures(rules.CheckFigures(a["recall"], a["mean_iou"], lat["speedup"]))
    verdict = "INT8" if not failures else "FP32 (" + ", ".join(failures) + ")"
    return [
        f"INT8 vs FP32 on {a['frames']} held-out frames (confidence {report['confidence']}, "
        f"same class, IoU >= 0.5):",
        f"  recall {a['recall']:.3f} ({a['matched']} of {a['reference_boxes']} FP32 boxes), "
        f"precision {a['precision']:.3f}, mean IoU {a['mean_iou']:.3f}",
        f"  confidence drift {a['mean_confidence_drift']:+.4f} (mean |drift| "
        f"{a['mean_abs_confidence_drift']:.4f})",
        f"  latency per frame: FP32 {lat['fp32_ms']:.1f} ms, INT8 {lat['int8_ms']:.1f} ms "
        f"({lat['speedup']:.2f}x)",
        f"  IOC_PRECISION=auto uses: {verdict}",
    ]
