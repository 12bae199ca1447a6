"""Choosing FP32 or INT8 (IOC_PRECISION) from the INT8 cache and its stored check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from ioc.app.settings_check import settings_error_lines
from ioc.detect.base import Precision
from ioc.detect.precision import REPORT, CheckFigures, check_failures, choose, read_figures
from ioc.settings import Settings

GOOD = CheckFigures(recall=0.99, mean_iou=0.97, speedup=1.6)
INT8_DIR = Path("/models/m-320-int8_openvino_model")


@pytest.mark.parametrize(
    ("setting", "int8_dir", "figures", "expected", "reason"),
    [
        (Precision.FP32, INT8_DIR, GOOD, Precision.FP32, "IOC_PRECISION=fp32"),
        (Precision.AUTO, None, None, Precision.FP32, "ioc models export --int8"),
        (Precision.INT8, None, None, Precision.FP32, "ioc models export --int8"),
        (Precision.AUTO, INT8_DIR, GOOD, Precision.INT8, "check passed"),
        (Precision.AUTO, INT8_DIR, None, Precision.FP32, "missing or unreadable"),
        (Precision.AUTO, INT8_DIR, CheckFigures(0.90, 0.97, 1.6), Precision.FP32, "recall 0.900 < 0.95"),
        (Precision.AUTO, INT8_DIR, CheckFigures(0.99, 0.85, 1.6), Precision.FP32, "mean IoU 0.850 < 0.9"),
        (Precision.AUTO, INT8_DIR, CheckFigures(0.99, 0.97, 0.8), Precision.FP32, "speed-up 0.80x < 1.1x"),
        (Precision.INT8, INT8_DIR, CheckFigures(0.5, 0.5, 0.5), Precision.INT8, "IOC_PRECISION=int8"),
    ],
)
def test_choice(
    setting: Precision, int8_dir: Path | None, figures: CheckFigures | None, expected: Precision, reason: str
) -> None:
    got = choose(setting, int8_dir, figures)
    assert got.precision is expected
    assert reason in got.reason
    assert got.model_dir == (int8_dir if expected is Precision.INT8 else None)


def test_every_failure_is_named() -> None:
    assert check_failures(CheckFigures(0.5, 0.5, 0.5)) == [
        "recall 0.500 < 0.95", "mean IoU 0.500 < 0.9", "speed-up 0.50x < 1.1x",
    ]  # fmt: skip
    assert check_failures(GOOD) == []


def _report(recall: object = 0.99, mean_iou: object = 0.97, speedup: object = 1.5) -> dict[str, object]:
    return {"agreement": {"recall": recall, "mean_iou": mean_iou}, "latency": {"speedup": speedup}}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (json.dumps(_report()), CheckFigures(0.99, 0.97, 1.5)),
        (None, None),  # no file
        ("{not json", None),
        (json.dumps({"agreement": {"recall": 1.0}}), None),  # fields missing
        (json.dumps(_report(recall="high")), None),
        (json.dumps([1, 2]), None),
    ],
)
def test_read_figures(tmp_path: Path, content: str | None, expected: CheckFigures | None) -> None:
    if content is not None:
        (tmp_path / REPORT).write_text(content, encoding="utf-8")
    assert read_figures(tmp_path) == expected


@pytest.mark.parametrize(("env", "expected"), [("auto", "auto"), ("fp32", "fp32"), ("int8", "int8")])
def test_setting_from_environment(monkeypatch: pytest.MonkeyPatch, env: str, expected: str) -> None:
    monkeypatch.setenv("IOC_PRECISION", env)
    assert Settings().precision == expected


def test_bad_setting_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_PRECISION", "int4")
    with pytest.raises(ValidationError) as info:
        Settings()
    (line,) = settings_error_lines(info.value)
    assert line.startswith("setting precision (IOC_PRECISION):") and "'int8'" in line and "'int4'" in line
