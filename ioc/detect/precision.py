"""Which OpenVINO model runs on the CPU: FP32 or INT8 (``IOC_PRECISION=auto|fp32|int8``).

``ioc models export --int8`` writes, inside the INT8 cache folder, ``int8-check.json``: the
accuracy check (INT8 vs FP32 on held-out frames, see ``accuracy``) and the latency of both
models measured on this machine in the same run. The choice:

- ``fp32``: FP32.
- ``int8``: INT8 when its cache exists (whatever the check said); otherwise FP32, with a warning.
- ``auto`` (default): INT8 only when its cache exists and its check passes: recall of FP32's
  boxes ≥ ``MIN_RECALL``, mean IoU of matched boxes ≥ ``MIN_MEAN_IOU``, and INT8 at least
  ``MIN_SPEEDUP`` times as fast as FP32 (on a CPU with AMX, OpenVINO already runs the "FP32" model
  in bfloat16, and INT8 may not be faster there). Otherwise FP32, with the reason logged.

Thresholds are applied here, to the stored figures, so changing them needs no new export.
A precision that cannot be loaded falls back to FP32 in the backend (logged).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ioc.detect.base import Precision

REPORT = "int8-check.json"
MIN_RECALL = 0.95
MIN_MEAN_IOU = 0.90
MIN_SPEEDUP = 1.10


@dataclass(frozen=True, slots=True)
class CheckFigures:
    """The figures of an INT8 check that the choice depends on."""

    recall: float
    mean_iou: float
    speedup: float  # FP32 latency / INT8 latency, same frames, same run


@dataclass(frozen=True, slots=True)
class Choice:
    """The precision to load, the INT8 folder when that is INT8, and why (for the log)."""

    precision: Precision
    model_dir: Path | None
    reason: str


def check_failures(figures: CheckFigures) -> list[str]:
    """What keeps ``auto`` from choosing INT8 (empty: nothing)."""
    failures = []
    if figures.recall < MIN_RECALL:
        failures.append(f"recall {figures.recall:.3f} < {MIN_RECALL}")
    if figures.mean_iou < MIN_MEAN_IOU:
        failures.append(f"mean IoU {figures.mean_iou:.3f} < {MIN_MEAN_IOU}")
    if figures.speedup < MIN_SPEEDUP:
        failures.append(f"speed-up {figures.speedup:.2f}x < {MIN_SPEEDUP}x")
    return failures


def read_figures(int8_dir: Path) -> CheckFigures | None:
    """The figures stored with an INT8 model; None when missing or unreadable."""
    try:
        data: Any = json.loads((int8_dir / REPORT).read_text(encoding="utf-8"))
        return CheckFigures(
            recall=float(data["agreement"]["recall"]),
            mean_iou=float(data["agreement"]["mean_iou"]),
            speedup=float(data["latency"]["speedup"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def choose(setting: Precision, int8_dir: Path | None, figures: CheckFigures | None) -> Choice:
    """Apply the rules of the module docstring."""
    if setting is Precision.FP32:
        return Choice(Precision.FP32, None, "IOC_PRECISION=fp32")
    if int8_dir is None:
        return Choice(Precision.FP32, None, "no INT8 model for this size (run `ioc models export --int8`)")
    if setting is Precision.INT8:
        return Choice(Precision.INT8, int8_dir, "IOC_PRECISION=int8")
    if figures is None:
        return Choice(Precision.FP32, None, f"{int8_dir / REPORT} missing or unreadable")
    failures = check_failures(figures)
    if failures:
        return Choice(Precision.FP32, None, "INT8 check: " + ", ".join(failures))
    return Choice(
        Precision.INT8,
        int8_dir,
        f"INT8 check passed (recall {figures.recall:.3f}, mean IoU {figures.mean_iou:.3f}, "
        f"{figures.speedup:.2f}x FP32 speed)",
    )
