"""OpenVINO runtime detector: the exported YOLO model run directly, with numpy/OpenCV around it.

No torch in the hot path: ultralytics' OpenVINO wrapper does its pre- and post-processing in torch,
whose thread pool then competes with OpenVINO's on a small CPU. Here: letterbox with OpenCV, one
``CompiledModel`` call per batch, decode + class-aware NMS with numpy and ``cv2.dnn``.
The model output is ``(batch, 4 + classes, anchors)``: centre-x, centre-y, w, h in input pixels,
then one score per class.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from ruamel.yaml import YAML

from ioc import metrics
from ioc.config.coco import COCO_CLASSES
from ioc.detect.base import Backend, Precision
from ioc.detect.manifest import ModelError
from ioc.types import Detections, FloatArray

logger = logging.getLogger(__name__)

STRIDE = 32
PAD_VALUE = 114
MAX_DETECTIONS = 300


def usable_cpus() -> int:
    """CPUs this process may run on (a container's or taskset's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def inference_threads(setting: int, cpus: int) -> int:
    """``IOC_OPENVINO_THREADS``: the setting when > 0; 0 means every CPU but one (at least 1).

    The caller is synchronous and the model's parallel regions wait for their slowest thread: one
    core taken by stream decoding stalls every layer. Leaving that core to the decoders measured
    1.4-1.9x faster per frame on a busy 2-core machine (benchmarks/openvino_threads.py).
    """
    return setting if setting > 0 else max(1, cpus - 1)


def cpu_config(threads: int) -> dict[str, str]:
    """How the model is compiled for the CPU: one stream (synchronous caller), ``threads`` threads."""
    return {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": "1", "INFERENCE_NUM_THREADS": str(threads)}


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How one image was placed in the batch tensor: scale, then offset (pixels)."""

    scale: float
    left: float
    top: float
    width: int
    height: int


def _read_names(model_dir: Path) -> dict[int, str]:
    meta_path = model_dir / "metadata.yaml"
    try:
        meta = YAML(typ="safe").load(meta_path.read_text(encoding="utf-8"))
        return {int(k): str(v) for k, v in meta["names"].items()}
    except (OSError, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ModelError(f"{meta_path}: cannot read class names: {exc}") from exc


def fit_size(width: int, height: int, imgsz: int) -> tuple[int, int]:
    """(width, height) an image is resized to so that its longest side is ``imgsz``."""
    r = min(imgsz / height, imgsz / width)
    return max(round(width * r), 1), max(round(height * r), 1)


def batch_tensor(images: Sequence[npt.NDArray[np.uint8]], imgsz: int) -> tuple[FloatArray, list[Letterbox]]:
    """Letterbox every image into one (N, 3, H, W) RGB float tensor; H, W multiples of STRIDE."""
    sizes = []
    for img in images:
        h, w = img.shape[:2]
        sizes.append((min(imgsz / h, imgsz / w), *fit_size(w, h, imgsz)))
    out_w = math.ceil(max(s[1] for s in sizes) / STRIDE) * STRIDE
    out_h = math.ceil(max(s[2] for s in sizes) / STRIDE) * STRIDE
    batch = np.full((len(images), out_h, out_w, 3), PAD_VALUE, dtype=np.uint8)
    boxes: list[Letterbox] = []
    for i, (img, (r, w, h)) in enumerate(zip(images, sizes, strict=True)):
        left, top = (out_w - w) // 2, (out_h - h) // 2
        batch[i, top : top + h, left : left + w] = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
        boxes.append(Letterbox(r, left, top, img.shape[1], img.shape[0]))
    tensor = batch[..., ::-1].transpose(0, 3, 1, 2).astype(np.float32) / 255.0  # BGR→RGB, HWC→CHW
    return np.ascontiguousarray(tensor), boxes


class OpenVINODetector:
    """A ``Detector`` over an exported ``*_openvino_model`` directory, on the CPU."""

    backend = Backend.OPENVINO

    def __init__(
        self,
        name: str,
        model_dir: Path,
        iou: float,
        *,
        precision: Precision = Precision.FP32,
        threads: int = 0,
    ) -> None:
        import openvino as ov

        xml = next(iter(sorted(model_dir.glob("*.xml"))), None)
        if xml is None:
            raise ModelError(f"{model_dir}: no OpenVINO .xml model")
        core = ov.Core()
        config = cpu_config(inference_threads(threads, usable_cpus()))
        self._compiled = core.compile_model(core.read_model(xml), "CPU", config)
        self.name = name
        self.precision = precision
        self._iou = iou
        names = _read_names(model_dir)
        coco = {n: i for i, n in enumerate(COCO_CLASSES)}
        self._to_coco = np.array([coco.get(names[i], -1) for i in range(len(names))], dtype=np.int64)
        self.class_names: tuple[str, ...] = tuple(n for n in names.values() if n in coco)
        logger.info(
            "detector %s on OpenVINO runtime (CPU, %s model, computes in %s, %s threads) from %s",
            name, precision.value, self.inference_precision, config["INFERENCE_NUM_THREADS"], model_dir,
        )  # fmt: skip

    @property
    def inference_precision(self) -> str:
        """What the CPU plugin computes unquantized layers in: ``bf16`` on CPUs with AMX, else ``f32``."""
        return str(self._compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name())

    def detect(
        self,
        images: Sequence[npt.NDArray[np.uint8]],
        *,
        imgsz: int,
        confidence: float,
        classes: tuple[str, ...] | None = None,
    ) -> list[Detections]:
        if not images:
            return []
        allowed = self._allowed(classes)
        start = time.perf_counter()
        tensor, boxes = batch_tensor(images, imgsz)
        output = next(iter(self._compiled(tensor).values()))
        dets = [
            decode(
                output[i], box, confidence=confidence, iou=self._iou, allowed=allowed, to_coco=self._to_coco
            )
            for i, box in enumerate(boxes)
        ]
        metrics.INFERENCE_SECONDS.labels(model=self.name).observe(time.perf_counter() - start)
        metrics.DETECTOR_BATCH.observe(len(images))
        return dets

    def _allowed(self, classes: tuple[str, ...] | None) -> npt.NDArray[np.bool_]:
        """Mask over model classes: COCO ones, restricted to ``classes`` when given."""
        allowed = self._to_coco >= 0
        if classes is None:
            return allowed
        missing = [c for c in classes if c not in self.class_names]
        if missing:
            raise ValueError(f"detect.classes: {missing} not predicted by model {self.name!r}")
        wanted = {COCO_CLASSES.index(c) for c in classes}
        return allowed & np.isin(self._to_coco, list(wanted))


def decode(
    raw: Any,
    box: Letterbox,
    *,
    confidence: float,
    iou: float,
    allowed: npt.NDArray[np.bool_],
    to_coco: npt.NDArray[np.int64],
) -> Detections:
    """The one place this backend's output becomes ``Detections`` (normalised xyxy, COCO ids).

    ``raw`` is one image's ``(4 + classes, anchors)`` output; ``allowed`` masks model classes;
    ``to_coco`` maps a model class index to its COCO id. NMS is per class, best first.
    """
    pred = np.asarray(raw, dtype=np.float32).T  # (anchors, 4 + classes)
    scores = np.where(allowed[None, :], pred[:, 4:], 0.0)
    cls = scores.argmax(axis=1)
    conf = scores[np.arange(len(scores)), cls]
    keep = conf >= confidence
    pred, cls, conf = pred[keep], cls[keep], conf[keep]
    xywh_tl = np.concatenate([pred[:, :2] - pred[:, 2:4] / 2, pred[:, 2:4]], axis=1)
    picked = cv2.dnn.NMSBoxesBatched(xywh_tl.tolist(), conf.tolist(), cls.tolist(), confidence, iou)
    order = np.asarray(picked, dtype=np.int64).reshape(-1)
    order = order[np.argsort(-conf[order], kind="stable")][:MAX_DETECTIONS]
    xyxy = np.concatenate([xywh_tl[order, :2], xywh_tl[order, :2] + xywh_tl[order, 2:]], axis=1)
    xyxy = (xyxy - [box.left, box.top, box.left, box.top]) / box.scale
    xyxy = np.clip(xyxy / [box.width, box.height, box.width, box.height], 0.0, 1.0).astype(np.float32)
    class_id = to_coco[cls[order]]
    return Detections(
        xyxy=xyxy.reshape(-1, 4),
        confidence=conf[order].astype(np.float32),
        class_id=class_id,
        class_name=np.array([COCO_CLASSES[i] for i in class_id], dtype=object),
        tracker_id=np.full(len(order), -1, dtype=np.int64),
    )
