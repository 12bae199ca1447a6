"""The on-device detector pipeline: frames uploaded once, everything else on the GPU.

``CudaDetector`` runs a YOLO ``torch.nn.Module`` (fused, in eval mode) behind the ``Detector``
protocol. Per batch: the uint8 frames are uploaded once (``cuda_upload``: pinned buffers,
non-blocking copies on a copy stream), letterboxed, converted and normalised for the whole batch
on the device, run through the model in FP16 (``IOC_CUDA_PRECISION=fp32`` for FP32), reduced by
class-aware NMS on the device (``torch_batch``), and only the kept rows come back to the host.
Its ``Detections`` are those of ``UltralyticsDetector`` (normalised xyxy, COCO ids, same NMS).

A call with more frames than ``chunk_frames`` (16; not yet tuned on a GPU: the benchmark's
``--chunk`` measures it) runs in chunks through ``pipelined``: chunk N+1 is uploaded while chunk N
computes. ``detect_stream`` does the same across calls, for a caller that has the next batch
ready. ``detect_regions`` runs the model on regions (``Crop``) cut on the device from the uploaded
frames; each region's boxes are normalised to the region.

It runs on any torch device; on the CPU it runs FP32 (what the tests check against Ultralytics),
and there the uploads and the pipeline degrade to plain sequential steps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import torch

from ioc import metrics
from ioc.config.coco import COCO_CLASSES
from ioc.detect.base import Backend
from ioc.detect.cuda_upload import Uploaded, Uploader, pipelined
from ioc.detect.torch_batch import Crop, HostDetections, Placed, check_crops, cut, letterbox, select, to_host
from ioc.detect.ultralytics_backend import _coco_lookup
from ioc.types import Detections

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_FRAMES = 16


class Precision(StrEnum):
    """The model's arithmetic on the device (``IOC_CUDA_PRECISION``)."""

    FP16 = "fp16"
    FP32 = "fp32"


@dataclass(frozen=True, slots=True)
class _Job:
    """One chunk on its way through the pipeline."""

    uploaded: Uploaded
    crops: tuple[Crop, ...] | None


@dataclass(frozen=True, slots=True)
class _Launched:
    raw: torch.Tensor
    placed: list[Placed]
    started: float  # perf_counter at launch


class CudaDetector:
    """A YOLO module on a torch device, with pre- and post-processing on that device too."""

    backend = Backend.PYTORCH

    def __init__(
        self,
        name: str,
        module: torch.nn.Module,
        model_names: dict[int, str],
        device: str,
        *,
        precision: Precision,
        iou: float,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    ) -> None:
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be at least 1, got {chunk_frames}")
        self.name = name
        self.device = device
        self._device = torch.device(device)
        self.precision = precision if self._device.type == "cuda" else Precision.FP32
        if self.precision is not precision:
            logger.info("detector %s: %s on %s runs fp32 (fp16 is for CUDA)", name, precision.value, device)
        self._dtype = torch.float16 if self.precision is Precision.FP16 else torch.float32
        self._module = _prepared(module, self._device, self._dtype)
        self._iou = iou
        self._chunk = chunk_frames
        self._uploader = Uploader(self._device)
        self._to_coco = _coco_lookup(name, model_names)
        self._model_index = {n: i for i, n in model_names.items()}
        self._masks: dict[tuple[str, ...] | None, torch.Tensor] = {}
        self.class_names: tuple[str, ...] = tuple(n for n in model_names.values() if n in COCO_CLASSES)
        logger.info("detector %s on-device pipeline on %s (%s)", name, device, self.precision.value)

    @property
    def module(self) -> torch.nn.Module:
        """The prepared model (fused, eval, on the device in the pipeline's dtype)."""
        return self._module

    @property
    def dtype(self) -> torch.dtype:
        return self._dtype

    def detect(
        self,
        images: Sequence[npt.NDArray[np.uint8]],
        *,
        imgsz: int,
        confidence: float,
        classes: tuple[str, ...] | None = None,
    ) -> list[Detections]:
        chunks = [images[i : i + self._chunk] for i in range(0, len(images), self._chunk)]
        out: list[Detections] = []
        for part in self.detect_stream(chunks, imgsz=imgsz, confidence=confidence, classes=classes):
            out.extend(part)
        return out

    def detect_stream(
        self,
        batches: Iterable[Sequence[npt.NDArray[np.uint8]]],
        *,
        imgsz: int,
        confidence: float,
        classes: tuple[str, ...] | None = None,
    ) -> Iterator[list[Detections]]:
        """``detect`` of each batch in turn, batch N+1 uploading while batch N computes."""
        wanted = self._wanted(classes)
        if classes is not None and not classes:
            for batch in batches:
                yield [Detections.empty() for _ in batch]
            return
        yield from pipelined(
            batches,
            stage=lambda batch: _Job(self._uploader.upload(batch), None) if batch else None,
            launch=lambda job: self._launch(job, imgsz),
            finish=lambda launched: self._finish(launched, confidence, wanted),
        )

    def detect_regions(
        self,
        images: Sequence[npt.NDArray[np.uint8]],
        crops: Sequence[Crop],
        *,
        imgsz: int,
        confidence: float,
        classes: tuple[str, ...] | None = None,
    ) -> list[Detections]:
        """One ``Detections`` per crop (boxes normalised to the crop), frames uploaded once."""
        wanted = self._wanted(classes)
        if not crops:
            return []
        if classes is not None and not classes:
            return [Detections.empty() for _ in crops]
        check_crops([image.shape for image in images], crops)
        job = _Job(self._uploader.upload(images), tuple(crops))
        return self._finish(self._launch(job, imgsz), confidence, wanted)

    def _wanted(self, classes: tuple[str, ...] | None) -> torch.Tensor:
        """Bool mask over model classes: COCO ones, restricted to ``classes`` when given."""
        if classes is not None:
            missing = [c for c in classes if c not in self._model_index or c not in self.class_names]
            if missing:
                raise ValueError(f"detect.classes: {missing} not predicted by model {self.name!r}")
        cached = self._masks.get(classes)
        if cached is None:  # one small upload per class set, not per batch
            names = self.class_names if classes is None else classes
            mask = np.zeros(len(self._to_coco), dtype=bool)
            mask[[self._model_index[n] for n in names]] = True
            cached = self._masks[classes] = torch.from_numpy(mask).to(self._device)
        return cached

    def _launch(self, job: _Job | None, imgsz: int) -> _Launched | None:
        """Queue the device work of one chunk: wait for its upload, letterbox, forward."""
        if job is None:
            return None
        start = time.perf_counter()
        frames = self._uploader.ready(job.uploaded)
        inputs = frames if job.crops is None else cut(frames, job.crops)
        batch, placed = letterbox(inputs, imgsz, self._dtype)
        with torch.inference_mode():
            out = self._module(batch)
        raw = out[0] if isinstance(out, list | tuple) else out
        return _Launched(raw, placed, start)

    def _finish(
        self, launched: _Launched | None, confidence: float, wanted: torch.Tensor
    ) -> list[Detections]:
        """NMS on the device, one copy back, ``Detections`` per input."""
        if launched is None:
            return []
        with torch.inference_mode():
            kept = select(launched.raw, confidence=confidence, iou=self._iou, wanted=wanted)
            host = to_host(kept, launched.placed)
        metrics.INFERENCE_SECONDS.labels(model=self.name).observe(time.perf_counter() - launched.started)
        metrics.DETECTOR_BATCH.observe(len(launched.placed))
        return [self._to_detections(h) for h in host]

    def _to_detections(self, host: HostDetections) -> Detections:
        class_id = self._to_coco[host.model_class]
        keep = class_id >= 0
        return Detections(
            xyxy=host.xyxy[keep].reshape(-1, 4),
            confidence=host.score[keep],
            class_id=class_id[keep],
            class_name=np.array([COCO_CLASSES[i] for i in class_id[keep]], dtype=object),
            tracker_id=np.full(int(keep.sum()), -1, dtype=np.int64),
        )


def _prepared(module: torch.nn.Module, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The module fused (when it can be), in eval mode, on ``device`` in ``dtype``."""
    fuse = getattr(module, "fuse", None)
    if callable(fuse):
        module = fuse(verbose=False)
    module = module.to(device=device, dtype=dtype).eval()
    feats = getattr(module, "txt_feats", None)  # YOLO-World: class text embeddings, not a buffer
    if isinstance(feats, torch.Tensor):
        module.txt_feats = feats.to(device=device, dtype=dtype)
    return module
