"""The OpenVINO export cache: reuse, invalidation, atomicity (the exporter is the product's seam)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ioc.detect.base import Precision
from ioc.detect.openvino_cache import MARKER, cache_dir_for, cached_export, export_cached


class RecordingExporter:
    """Writes an IR pair the way ultralytics lays it out: ``<stem>_openvino_model/<stem>.xml|.bin``."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[Path, int]] = []
        self.fail = fail

    def __call__(self, weights: Path, imgsz: int) -> Path:
        self.calls.append((weights, imgsz))
        out = weights.with_name(f"{weights.stem}_openvino_model")
        out.mkdir()
        (out / f"{weights.stem}.xml").write_text("<net/>")
        if self.fail:
            raise RuntimeError("conversion crashed half way")
        (out / f"{weights.stem}.bin").write_bytes(weights.read_bytes())
        return out


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    w = tmp_path / "m.pt"
    w.write_bytes(b"weights v1")
    return w


def test_exports_once_per_imgsz_and_reuses(weights: Path) -> None:
    exporter = RecordingExporter()
    first = export_cached(weights, 320, exporter)
    again = export_cached(weights, 320, exporter)
    other = export_cached(weights, 640, exporter)
    assert first == again == cache_dir_for(weights, 320) == weights.parent / "m-320_openvino_model"
    assert other == weights.parent / "m-640_openvino_model"
    assert [imgsz for _, imgsz in exporter.calls] == [320, 640]
    assert exporter.calls[0][0] != weights  # exported from a scratch copy, never beside the real file
    assert json.loads((first / MARKER).read_text())["imgsz"] == 320
    assert sorted(p.name for p in weights.parent.iterdir()) == [
        "m-320_openvino_model", "m-640_openvino_model", "m.pt", "m.pt.sha256",
    ]  # fmt: skip


def test_changed_weights_invalidate_the_cache(weights: Path) -> None:
    exporter = RecordingExporter()
    export_cached(weights, 320, exporter)
    weights.write_bytes(b"weights v2, longer")
    assert cached_export(weights, 320) is None
    out = export_cached(weights, 320, exporter)
    assert len(exporter.calls) == 2
    assert (out / "m.bin").read_bytes() == b"weights v2, longer"


def test_crash_mid_export_leaves_no_cache_and_no_scratch(weights: Path) -> None:
    with pytest.raises(RuntimeError, match="half way"):
        export_cached(weights, 320, RecordingExporter(fail=True))
    assert cached_export(weights, 320) is None
    assert sorted(p.name for p in weights.parent.iterdir()) == ["m.pt", "m.pt.sha256"]


@pytest.mark.parametrize("damage", ["no_marker", "no_bin", "wrong_imgsz"])
def test_incomplete_cache_is_not_trusted(weights: Path, damage: str) -> None:
    out = export_cached(weights, 320, RecordingExporter())
    if damage == "no_marker":
        (out / MARKER).unlink()
    elif damage == "no_bin":
        (out / "m.bin").unlink()
    else:
        (out / MARKER).write_text(json.dumps({**json.loads((out / MARKER).read_text()), "imgsz": 640}))
    assert cached_export(weights, 320) is None
    exporter = RecordingExporter()
    assert export_cached(weights, 320, exporter) == out
    assert len(exporter.calls) == 1 and (out / "m.bin").is_file()


def test_int8_is_cached_apart_from_fp32(weights: Path) -> None:
    """Keyed by weights + imgsz + precision: neither export is taken for the other."""
    fp32_exporter, int8_exporter = RecordingExporter(), RecordingExporter()
    fp32 = export_cached(weights, 320, fp32_exporter)
    assert cached_export(weights, 320, Precision.INT8) is None
    int8 = export_cached(weights, 320, int8_exporter, Precision.INT8)
    assert export_cached(weights, 320, RecordingExporter(), Precision.INT8) == int8  # reused
    assert int8 == cache_dir_for(weights, 320, Precision.INT8) == weights.parent / "m-320-int8_openvino_model"
    assert fp32 == cache_dir_for(weights, 320) != int8
    assert json.loads((int8 / MARKER).read_text())["precision"] == "int8"
    assert (len(fp32_exporter.calls), len(int8_exporter.calls)) == (1, 1)
    assert cached_export(weights, 640, Precision.INT8) is None


@pytest.mark.parametrize(
    ("marker_precision", "fp32_ok", "int8_ok"),
    [
        (None, True, False),  # caches written before INT8 existed are FP32
        ("fp32", True, False),
        ("int8", False, True),
    ],
)
def test_marker_precision_decides(
    weights: Path, marker_precision: str | None, fp32_ok: bool, int8_ok: bool
) -> None:
    for precision in (Precision.FP32, Precision.INT8):
        out = export_cached(weights, 320, RecordingExporter(), precision)
        marker = json.loads((out / MARKER).read_text())
        marker.pop("precision")
        if marker_precision is not None:
            marker["precision"] = marker_precision
        (out / MARKER).write_text(json.dumps(marker))
    assert (cached_export(weights, 320) is not None) == fp32_ok
    assert (cached_export(weights, 320, Precision.INT8) is not None) == int8_ok


def test_changed_weights_invalidate_the_int8_cache(weights: Path) -> None:
    export_cached(weights, 320, RecordingExporter(), Precision.INT8)
    weights.write_bytes(b"weights v2, longer")
    assert cached_export(weights, 320, Precision.INT8) is None
