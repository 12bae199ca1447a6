"""Choosing the on-device CUDA pipeline, and falling back to Ultralytics' CUDA path when it fails.

``load_pipeline`` builds a ``CudaDetector`` from the YOLO checkpoint and runs it once on a blank
frame, so that a device that cannot run it (a missing FP16 kernel, an unsupported module) fails at
start-up rather than on the first camera frame. On any such failure it logs why and returns the
fallback (``UltralyticsDetector`` on the same CUDA device, today's path). Otherwise it returns a
``FallbackDetector``: the pipeline until its first failure at run time, after which that failure
is logged, the fallback is built, the failed batch is run again on it and every later batch goes
to it. A ``ValueError`` (a wrong class name or frame from the caller) is not a backend failure and
is raised as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ioc.detect.base import Detector
from ioc.detect.cuda_backend import CudaDetector, Precision
from ioc.detect.manifest import ModelError
from ioc.detect.torch_batch import Crop, cut_host
from ioc.settings import Settings
from ioc.types import Detections

logger = logging.getLogger(__name__)

WARM_UP_SIZE = 64


def load_pipeline(
    name: str,
    weights: Path,
    device: str,
    settings: Settings,
    iou: float,
    *,
    yolo: Callable[[Path], Any],
    fallback: Callable[[], Detector],
) -> Detector:
    """The pipeline on ``device`` behind a ``FallbackDetector``, or ``fallback()`` if it cannot start."""
    try:
        model = yolo(weights)
        detector = CudaDetector(
            name,
            model.model,
            dict(model.names),
            device,
            precision=Precision(settings.cuda_precision),
            iou=iou,
        )
        blank = np.zeros((WARM_UP_SIZE, WARM_UP_SIZE, 3), dtype=np.uint8)
        detector.detect([blank], imgsz=WARM_UP_SIZE, confidence=0.5)
    except ModelError:
        raise  # unreadable weights: the fallback could not load them either
    except Exception as exc:
        logger.warning(
            "on-device pipeline unavailable for %s on %s (%s); falling back to Ultralytics on the GPU",
            name, device, exc,
        )  # fmt: skip
        return fallback()
    return FallbackDetector(detector, fallback)


class FallbackDetector:
    """``primary`` until it fails once, then ``fallback()`` for good (built on first need)."""

    def __init__(self, primary: CudaDetector, fallback: Callable[[], Detector]) -> None:
        self.name = primary.name
        self.class_names = primary.class_names
        self.backend = primary.backend
        self.device = primary.device
        self._primary = primary
        self._make_fallback = fallback
        self._fallback: Detector | None = None

    @property
    def active(self) -> Detector:
        """The detector that runs the next batch."""
        return self._primary if self._fallback is None else self._fallback

    def detect(
        self,
        images: Sequence[npt.NDArray[np.uint8]],
        *,
        imgsz: int,
        confidence: float,
        classes: tuple[str, ...] | None = None,
    ) -> list[Detections]:
        if self._fallback is None:
            try:
                return self._primary.detect(images, imgsz=imgsz, confidence=confidence, classes=classes)
            except ValueError:
                raise
            except Exception:
                self._fall_back()
        assert self._fallback is not None
        return self._fallback.detect(images, imgsz=imgsz, confidence=confidence, classes=classes)

    def detect_regions(
        self,
        images: Sequence[npt.NDArray[np.uint8]],
        crops: Sequence[Crop],
        *,
        imgsz: int,
        confidence: float,
        classes: tuple[str, ...] | None = None,
    ) -> list[Detections]:
        """One ``Detections`` per crop; after a fallback the crops are cut on the host."""
        if self._fallback is None:
            try:
                return self._primary.detect_regions(
                    images, crops, imgsz=imgsz, confidence=confidence, classes=classes
                )
            except ValueError:
                raise
            except Exception:
                self._fall_back()
        assert self._fallback is not None
        return self._fallback.detect(
            cut_host(images, crops), imgsz=imgsz, confidence=confidence, classes=classes
        )

    def _fall_back(self) -> None:
        logger.exception(
            "detector %s: on-device pipeline failed; switching to Ultralytics on %s for good",
            self.name, self._primary.device,
        )  # fmt: skip
        self._fallback = self._make_fallback()
