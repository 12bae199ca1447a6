"""The Ultralytics detector backend: the only module that imports ultralytics (trackers aside).

Device choice (``Settings.device``): ``auto`` runs PyTorch on CUDA when ``torch.cuda.is_available()``,
otherwise OpenVINO on the CPU. The OpenVINO model is exported once per (weights, imgsz) with
dynamic shapes, cached next to the weights (see ``openvino_cache``) and run by the OpenVINO
runtime directly (``openvino_runtime``: no torch in the hot path); ``Settings.precision`` picks
FP32 or the INT8 model of ``ioc models export --int8`` (see ``precision``). When the export or its
load fails, the detector falls back to PyTorch on the CPU and logs why. ``cpu`` behaves like
``auto`` without a GPU; ``cuda`` / ``cuda:N`` require one. On CUDA the model runs the on-device
pipeline (``cuda_backend``, chosen in ``cuda_select``, with this module's Ultralytics path as its
fallback) unless ``IOC_CUDA_PIPELINE=false``.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ioc import metrics
from ioc.config.coco import COCO_CLASSES
from ioc.detect.base import Backend, Detector, Precision
from ioc.detect.manifest import ModelError
from ioc.detect.models import OPENVINO_SUFFIX, looks_like_path, resolve_model
from ioc.detect.openvino_cache import cached_export, export_cached
from ioc.detect.openvino_runtime import OpenVINODetector
from ioc.detect.precision import choose, read_figures
from ioc.settings import Settings
from ioc.types import Detections

logger = logging.getLogger(__name__)

DEFAULT_IMGSZ = 320
DEFAULT_IOU = 0.5


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a model runs: which runtime, on which torch device string."""

    backend: Backend
    device: str


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def plan_placement(device: str, backend: Backend, weights: Path) -> Placement:
    """Decide runtime and device from ``Settings.device``, a requested backend and the weights."""
    if weights.is_dir():  # an OpenVINO model directory given as detect.model
        if backend is Backend.PYTORCH:
            raise ModelError(f"{weights}: an OpenVINO model cannot run on the PyTorch backend")
        return Placement(Backend.OPENVINO, "cpu")
    wanted = device.strip().lower()
    if wanted.startswith("cuda"):
        if wanted != "cuda" and not wanted.removeprefix("cuda:").isdigit():
            raise ModelError(f"IOC_DEVICE: expected auto, cpu, cuda or cuda:N, got {device!r}")
        if not _cuda_available():
            raise ModelError(f"IOC_DEVICE={device}: CUDA is not available on this machine; use auto or cpu")
        return Placement(Backend.PYTORCH, "cuda:0" if wanted == "cuda" else wanted)
    if wanted not in {"auto", "cpu"}:
        raise ModelError(f"IOC_DEVICE: expected auto, cpu, cuda or cuda:N, got {device!r}")
    if wanted == "auto" and backend is not Backend.OPENVINO and _cuda_available():
        return Placement(Backend.PYTORCH, "cuda:0")
    return Placement(Backend.PYTORCH if backend is Backend.PYTORCH else Backend.OPENVINO, "cpu")


def load_detector(
    model: str,
    settings: Settings,
    *,
    imgsz: int = DEFAULT_IMGSZ,
    iou: float = DEFAULT_IOU,
    backend: Backend = Backend.AUTO,
) -> Detector:
    """Resolve ``model`` (manifest name or path) and load it where ``settings.device`` says.

    ``imgsz`` keys the OpenVINO export (which has dynamic shapes, so other sizes still work);
    ``iou`` is the NMS threshold. Raises ``ModelError`` with a readable message.
    """
    weights = resolve_model(model, settings.models_dir)
    placement = plan_placement(settings.device, backend, weights)
    name = weights.name if looks_like_path(model) else model
    precision = Precision(settings.precision)
    if placement.backend is Backend.OPENVINO:
        try:
            return _openvino_detector(name, weights, imgsz, iou, settings)
        except Exception as exc:  # any export/load failure: the .pt still works
            if weights.is_dir():
                raise ModelError(f"{weights}: cannot load OpenVINO model: {exc}") from exc
            logger.warning("OpenVINO unavailable for %s (%s); falling back to PyTorch on CPU", name, exc)
            placement = Placement(Backend.PYTORCH, "cpu")
    if precision is Precision.INT8:
        logger.warning("IOC_PRECISION=int8 applies to OpenVINO on the CPU; %s runs on PyTorch", name)
    if placement.device.startswith("cuda") and settings.cuda_pipeline:
        from ioc.detect.cuda_select import load_pipeline  # torch-heavy; only on a GPU

        cuda = placement  # bound for the fallback below
        return load_pipeline(
            name, weights, cuda.device, settings, iou, yolo=_yolo,
            fallback=lambda: UltralyticsDetector(name, _yolo(weights), cuda, iou),
        )  # fmt: skip
    return UltralyticsDetector(name, _yolo(weights), placement, iou)


def _openvino_detector(name: str, weights: Path, imgsz: int, iou: float, settings: Settings) -> Detector:
    """The FP32 or INT8 OpenVINO model (``precision.choose``); INT8 that fails to load → FP32."""
    threads = settings.openvino_threads
    if weights.is_dir():
        return OpenVINODetector(name, weights, iou, threads=threads)
    precision = Precision(settings.precision)
    fp32_dir = openvino_fp32_dir(weights, imgsz)
    int8_dir = cached_export(weights, imgsz, Precision.INT8)
    choice = choose(precision, int8_dir, read_figures(int8_dir) if int8_dir else None)
    logger.info("%s: OpenVINO %s (%s)", name, choice.precision.value.upper(), choice.reason)
    if choice.precision is Precision.INT8 and choice.model_dir is not None:
        try:
            return OpenVINODetector(name, choice.model_dir, iou, precision=Precision.INT8, threads=threads)
        except Exception as exc:
            logger.warning("%s: INT8 model %s failed to load (%s); using FP32", name, choice.model_dir, exc)
    elif precision is Precision.INT8:
        logger.warning("%s: IOC_PRECISION=int8 but %s; using FP32", name, choice.reason)
    return OpenVINODetector(name, fp32_dir, iou, threads=threads)


def _yolo(path: Path) -> Any:
    from ultralytics import YOLO  # type: ignore[attr-defined]

    try:
        return YOLO(str(path), task="detect")
    except Exception as exc:
        raise ModelError(f"{path}: cannot load model: {exc}") from exc


def openvino_fp32_dir(weights: Path, imgsz: int) -> Path:
    """The cached FP32 OpenVINO export of ``weights`` for ``imgsz`` (exported first when missing)."""
    return export_cached(weights, imgsz, _export_openvino)


def load_ultralytics_openvino(model_dir: Path, iou: float = DEFAULT_IOU) -> UltralyticsDetector:
    """An OpenVINO model run through ultralytics' own wrapper (for comparison in benchmarks)."""
    return UltralyticsDetector(model_dir.name, _yolo(model_dir), Placement(Backend.OPENVINO, "cpu"), iou)


def _export_openvino(weights: Path, imgsz: int) -> Path:
    """Export ``weights`` to OpenVINO (FP32, dynamic batch and size) beside it; return the dir."""
    logger.info("exporting %s to OpenVINO at imgsz %d (once; cached)", weights.name, imgsz)
    model = _yolo(weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.trace deprecation noise during the export
        produced = model.export(format="openvino", imgsz=imgsz, dynamic=True, batch=1, verbose=False)
    out = Path(str(produced))
    if not out.is_dir() or not out.name.endswith(OPENVINO_SUFFIX):
        raise ModelError(f"OpenVINO export of {weights} produced {out}, not a model directory")
    return out


def download_asset(asset: str, workdir: Path) -> Path:
    """Ultralytics' release download into ``workdir`` (online only). Returns the downloaded file."""
    from ultralytics.utils.downloads import attempt_download_asset

    try:
        got = Path(attempt_download_asset(workdir / asset))
    except Exception as exc:  # ultralytics raises plain Exceptions on network failure
        raise ModelError(f"Ultralytics download of {asset} failed: {exc}") from exc
    if not got.is_file():
        raise ModelError(f"Ultralytics download of {asset} produced no file (is the network reachable?)")
    return got


def _coco_lookup(name: str, model_names: dict[int, str]) -> npt.NDArray[np.int64]:
    """Model class index -> COCO class id (-1 for names COCO does not have)."""
    coco = {n: i for i, n in enumerate(COCO_CLASSES)}
    lookup = np.full(max(model_names, default=-1) + 1, -1, dtype=np.int64)
    for i, n in model_names.items():
        lookup[i] = coco.get(n, -1)
    unknown = [n for n in model_names.values() if n not in coco]
    if unknown:
        logger.warning("%s: ignoring %d non-COCO classes: %s", name, len(unknown), unknown[:5])
    return lookup


class UltralyticsDetector:
    """A loaded YOLO model (PyTorch or OpenVINO) behind the ``Detector`` protocol."""

    def __init__(self, name: str, yolo: Any, placement: Placement, iou: float) -> None:
        self.name = name
        self.placement = placement
        self._yolo = yolo
        self._iou = iou
        model_names: dict[int, str] = dict(yolo.names)
        self._model_index = {n: i for i, n in model_names.items()}
        self._to_coco = _coco_lookup(name, model_names)
        self.class_names: tuple[str, ...] = tuple(n for n in model_names.values() if n in COCO_CLASSES)
        logger.info("detector %s on %s/%s", name, placement.backend.value, placement.device)

    @property
    def backend(self) -> Backend:
        return self.placement.backend

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
        if classes is not None and not classes:
            return [Detections.empty() for _ in images]
        wanted = self._class_ids(classes)
        start = time.perf_counter()
        results = self._yolo.predict(
            list(images), imgsz=imgsz, conf=confidence, iou=self._iou, classes=wanted,
            device=self.placement.device, verbose=False,
        )  # fmt: skip
        metrics.INFERENCE_SECONDS.labels(model=self.name).observe(time.perf_counter() - start)
        metrics.DETECTOR_BATCH.observe(len(images))
        return [self._to_detections(r) for r in results]

    def _class_ids(self, classes: tuple[str, ...] | None) -> list[int] | None:
        if classes is None:
            return [self._model_index[n] for n in self.class_names]
        missing = [c for c in classes if c not in self._model_index or c not in self.class_names]
        if missing:
            raise ValueError(f"detect.classes: {missing} not predicted by model {self.name!r}")
        return [self._model_index[c] for c in classes]

    def _to_detections(self, result: Any) -> Detections:
        """The one place model output becomes ``Detections`` (normalised xyxy, COCO class ids)."""
        boxes = result.boxes
        xyxy = np.clip(boxes.xyxyn.cpu().numpy().astype(np.float32), 0.0, 1.0)
        model_cls = boxes.cls.cpu().numpy().astype(np.int64)
        class_id = self._to_coco[model_cls]
        keep = class_id >= 0
        return Detections(
            xyxy=xyxy[keep].reshape(-1, 4),
            confidence=boxes.conf.cpu().numpy().astype(np.float32)[keep],
            class_id=class_id[keep],
            class_name=np.array([COCO_CLASSES[i] for i in class_id[keep]], dtype=object),
            tracker_id=np.full(int(keep.sum()), -1, dtype=np.int64),
        )
