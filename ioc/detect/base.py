"""The Detector protocol: the pipeline's only view of a model."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ioc.types import Detections


class Backend(enum.StrEnum):
    """Which runtime runs a model: ``auto`` picks (CUDA → PyTorch, CPU → OpenVINO)."""

    AUTO = "auto"
    PYTORCH = "pytorch"
    OPENVINO = "openvino"


class Precision(enum.StrEnum):
    """Numeric precision of the OpenVINO model on the CPU (``IOC_PRECISION``); ``auto`` picks."""

    AUTO = "auto"
    FP32 = "fp32"
    INT8 = "int8"


class Detector(Protocol):
    """Runs a model on a batch of BGR images; returns one ``Detections`` per image.

    ``classes`` restricts output to those class names (None: all). Boxes come back normalised.
    Implementations are used from one thread (the worker's detector loop).
    """

    name: str
    class_names: tuple[str, ...]

    def detect(
        self,
        images: Sequence[npt.NDArray[np.uint8]],
        *,
        imgsz: int,
        confidence: float,
        classes: tuple[str, ...] | None = None,
    ) -> list[Detections]: ...
