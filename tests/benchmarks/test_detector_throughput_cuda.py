"""The CUDA throughput benchmark refuses in one line, exit status 2, on a machine without CUDA."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on machines without CUDA")
def test_refuses_without_cuda() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "detector_throughput_cuda.py")],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "CUDA_VISIBLE_DEVICES": ""},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "detector_throughput_cuda: no CUDA device visible to torch; run this on a GPU machine"
    ]
    assert done.stdout == ""
