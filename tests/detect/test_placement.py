"""Where a model runs, from IOC_DEVICE, a requested backend and the weights (no model loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ioc.detect.base import Backend
from ioc.detect.manifest import ModelError
from ioc.detect.ultralytics_backend import Placement, plan_placement

CUDA = torch.cuda.is_available()


@pytest.mark.parametrize(
    ("device", "backend", "expected"),
    [
        (
            "auto",
            Backend.AUTO,
            Placement(Backend.PYTORCH, "cuda:0") if CUDA else Placement(Backend.OPENVINO, "cpu"),
        ),
        ("auto", Backend.OPENVINO, Placement(Backend.OPENVINO, "cpu")),
        ("auto", Backend.PYTORCH, Placement(Backend.PYTORCH, "cuda:0" if CUDA else "cpu")),
        ("cpu", Backend.AUTO, Placement(Backend.OPENVINO, "cpu")),
        ("CPU", Backend.PYTORCH, Placement(Backend.PYTORCH, "cpu")),
    ],
)
def test_placement(tmp_path: Path, device: str, backend: Backend, expected: Placement) -> None:
    assert plan_placement(device, backend, tmp_path / "m.pt") == expected


@pytest.mark.parametrize(
    ("device", "error"),
    [
        ("tpu", "expected auto, cpu, cuda or cuda:N, got 'tpu'"),
        ("cuda:x", "expected auto, cpu, cuda or cuda:N"),
    ],
)
def test_bad_device_is_refused(tmp_path: Path, device: str, error: str) -> None:
    with pytest.raises(ModelError, match=error):
        plan_placement(device, Backend.AUTO, tmp_path / "m.pt")


@pytest.mark.skipif(CUDA, reason="checks the message on machines without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_cuda_without_gpu_is_refused(tmp_path: Path, device: str) -> None:
    with pytest.raises(ModelError, match="CUDA is not available"):
        plan_placement(device, Backend.AUTO, tmp_path / "m.pt")


def test_openvino_dir_runs_on_openvino_only(tmp_path: Path) -> None:
    ov = tmp_path / "m_openvino_model"
    ov.mkdir()
    assert plan_placement("auto", Backend.AUTO, ov) == Placement(Backend.OPENVINO, "cpu")
    with pytest.raises(ModelError, match="cannot run on the PyTorch backend"):
        plan_placement("auto", Backend.PYTORCH, ov)
