"""INT8 post-training quantization of the OpenVINO FP32 export (NNCF), and its accuracy check.

``quantize`` reads the FP32 IR, feeds NNCF the calibration frames through the runtime's own
preprocessing (``openvino_runtime.batch_tensor``: letterbox, BGR→RGB, 0..1 floats), and writes the
INT8 IR with the FP32 model's ``metadata.yaml``. Quantized: the backbone, neck and the heads'
convolutions. Kept in floating point: the detect head's box decoding (the DFL soft-argmax and the
anchor arithmetic, where an 8-bit error moves every box) and the YOLO-World contrastive head
(normalised embeddings matched against the class texts, where a small error reorders classes).

``check`` runs both models on the held-out frames through ``OpenVINODetector`` (what ``ioc``
runs) and compares them with ``accuracy.compare``: FP32 is the reference. It also times both,
interleaved, since whether INT8 pays depends on the CPU.
"""

from __future__ import annotations

import logging
import re
import shutil
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ioc.detect.accuracy import Agreement, compare
from ioc.detect.base import Precision
from ioc.detect.manifest import ModelError
from ioc.detect.openvino_runtime import OpenVINODetector, batch_tensor
from ioc.types import Detections

logger = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]

CHECK_CONFIDENCE = 0.35  # the default detect.confidence: what a user sees
CHECK_IOU = 0.5  # NMS IoU, the default detect.iou
LATENCY_ROUNDS = 2
_HEAD = re.compile(r"__module\.model\.(\d+)[./]")


def head_prefix(op_names: Sequence[str]) -> str:
    """``__module.model.N``: the module with the highest index (Ultralytics puts the head last)."""
    indices = [int(m.group(1)) for name in op_names if (m := _HEAD.match(name))]
    if not indices:
        raise ModelError("cannot find the detect head in the OpenVINO model (no __module.model.N ops)")
    return f"__module.model.{max(indices)}"


def ignored_patterns(head: str) -> list[str]:
    """Regexes of the ops left in floating point (see the module docstring)."""
    escaped = re.escape(head)
    return [
        rf"{escaped}/.*",  # anchors, DFL decoding, concat of boxes and scores, sigmoid
        rf"{escaped}\.dfl.*",
        rf"{escaped}\.cv4.*",  # contrastive head (YOLO-World)
    ]


def _xml(model_dir: Path) -> Path:
    xml = next(iter(sorted(model_dir.glob("*.xml"))), None)
    if xml is None:
        raise ModelError(f"{model_dir}: no OpenVINO .xml model")
    return xml


def quantize(fp32_dir: Path, out_dir: Path, calibration: Sequence[Image], imgsz: int) -> Path:
    """Write the INT8 IR of ``fp32_dir`` into ``out_dir`` (created); returns ``out_dir``."""
    if not calibration:
        raise ModelError("no calibration frames: none of the footage sources could be read")
    try:
        import nncf
    except ImportError as exc:
        raise ModelError(f"INT8 needs the nncf package ({exc}); reinstall ioc (scripts/setup.sh)") from exc
    import openvino as ov

    xml = _xml(fp32_dir)
    model = ov.Core().read_model(xml)
    head = head_prefix([op.get_friendly_name() for op in model.get_ordered_ops()])
    dataset = nncf.Dataset(list(calibration), lambda image: _one_tensor(image, imgsz))
    logging.getLogger("nncf").setLevel(logging.WARNING)  # one INFO line per op otherwise
    try:
        quantized: Any = nncf.quantize(
            model,
            dataset,
            preset=nncf.QuantizationPreset.MIXED,
            subset_size=len(calibration),
            ignored_scope=nncf.IgnoredScope(patterns=ignored_patterns(head), validate=False),
        )
    except Exception as exc:  # nncf raises many kinds; the message is what the user needs
        raise ModelError(f"NNCF quantization of {xml} failed: {type(exc).__name__}: {exc}") from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, out_dir / xml.name, compress_to_fp16=False)
    shutil.copyfile(fp32_dir / "metadata.yaml", out_dir / "metadata.yaml")
    return out_dir


def _one_tensor(image: Image, imgsz: int) -> npt.NDArray[np.float32]:
    tensor, _ = batch_tensor([image], imgsz)
    return tensor


@dataclass(frozen=True, slots=True)
class CheckResult:
    """INT8 vs FP32 on the held-out frames: agreement, and median latency per frame (batch 1)."""

    agreement: Agreement
    fp32_ms: float
    int8_ms: float

    @property
    def speedup(self) -> float:
        return self.fp32_ms / self.int8_ms if self.int8_ms > 0 else 0.0


def check(fp32_dir: Path, int8_dir: Path, held_out: Sequence[Image], imgsz: int) -> CheckResult:
    """INT8 vs FP32 on ``held_out``, both through the runtime ``ioc`` uses.

    Each frame runs on both models back to back (order alternating), ``LATENCY_ROUNDS`` times
    over, so both see the same machine load; latency is the median per frame.
    """
    models = {
        Precision.FP32: OpenVINODetector("fp32", fp32_dir, CHECK_IOU),
        Precision.INT8: OpenVINODetector("int8", int8_dir, CHECK_IOU, precision=Precision.INT8),
    }
    dets: dict[Precision, list[Detections]] = {p: [] for p in models}
    times: dict[Precision, list[float]] = {p: [] for p in models}
    for round_no in range(LATENCY_ROUNDS):
        for i, image in enumerate(held_out):
            order = list(models) if (i + round_no) % 2 == 0 else list(reversed(models))
            for precision in order:
                start = time.perf_counter()
                found = models[precision].detect([image], imgsz=imgsz, confidence=CHECK_CONFIDENCE)[0]
                times[precision].append(time.perf_counter() - start)
                if round_no == 0:
                    dets[precision].append(found)
    return CheckResult(
        agreement=compare(dets[Precision.FP32], dets[Precision.INT8]),
        fp32_ms=1000.0 * statistics.median(times[Precision.FP32]),
        int8_ms=1000.0 * statistics.median(times[Precision.INT8]),
    )
