"""`ioc check` on a corpus of broken files: exit 1, the YAML path, the line, never a traceback.

Each file in ``malformed/`` has an entry in ``malformed/expected.yaml``: a fragment one output
line must contain, and the line number that same output line must name.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from ioc.cli import main

MALFORMED = Path(__file__).parent / "malformed"
EXPECTED: dict[str, list[object]] = YAML(typ="safe").load((MALFORMED / "expected.yaml").read_text())
CASES = sorted(p.name for p in MALFORMED.glob("*.yaml") if p.name != "expected.yaml")
# "path: message (line N)" or "(line N of preset-file)"; file-level errors start with the file name.
ERROR_LINE = re.compile(r"^\S.*: .+ \(line \d+(?: of \S+)?\)$")
CLI_ENV = ("YOLO_OFFLINE", "YOLO_CONFIG_DIR", "MPLCONFIGDIR", "CI", "OPENVINO_TELEMETRY_OPT_OUT")


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`ioc.cli.main` sets offline variables with setdefault; undo them after the test."""
    for name in CLI_ENV:
        monkeypatch.setenv(name, os.environ.get(name, str(tmp_path / name.lower())))


def _matching_line(output: str, fragment: str) -> str:
    hits = [line for line in output.splitlines() if fragment in line]
    assert hits, f"no line contains {fragment!r} in:\n{output}"
    return hits[0]


def test_corpus_has_an_expectation_for_every_file() -> None:
    assert sorted(EXPECTED) == CASES
    assert len(CASES) >= 24


@pytest.mark.parametrize("name", CASES)
def test_check_names_path_and_line(name: str, capsys: pytest.CaptureFixture[str], cli_env: None) -> None:
    code = main(["check", str(MALFORMED / name)])
    captured = capsys.readouterr()

    fragment, line = EXPECTED[name]
    hit = _matching_line(captured.out, str(fragment))
    assert code == 1
    assert "Traceback" not in captured.out + captured.err
    if line is None:
        assert "(line" not in hit
    else:
        assert re.search(rf"\(line {line}(?: of \S+)?\)$", hit), hit
    *errors, summary = captured.out.splitlines()
    assert summary == f"FAILED: {MALFORMED / name}: {len(errors)} error{'s' if len(errors) != 1 else ''}"


@pytest.mark.parametrize("name", [n for n in CASES if EXPECTED[n][1] is not None])
def test_every_error_line_has_the_documented_shape(
    name: str, capsys: pytest.CaptureFixture[str], cli_env: None
) -> None:
    main(["check", str(MALFORMED / name)])
    *errors, _summary = capsys.readouterr().out.splitlines()

    assert errors
    assert [e for e in errors if not ERROR_LINE.match(e)] == []


def _ioc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    ioc = Path(sys.executable).parent / "ioc"  # the console script installed next to this Python
    return subprocess.run([str(ioc), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    "name", ["self-intersecting-polygon.yaml", "yaml-syntax-error.yaml", "not-utf8.yaml", "empty.yaml"]
)
def test_installed_ioc_check_fails_cleanly(name: str, tmp_path: Path) -> None:
    fragment, line = EXPECTED[name]

    proc = _ioc("check", str(MALFORMED / name), cwd=tmp_path)

    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    hit = _matching_line(proc.stdout, str(fragment))
    assert line is None or f"(line {line})" in hit


def test_installed_ioc_check_passes_a_good_file(tmp_path: Path) -> None:
    good = tmp_path / "cameras.yaml"
    good.write_text("cameras:\n  - {id: gate-1, source: rtsp://127.0.0.1:8554/gate}\n", encoding="utf-8")

    proc = _ioc("check", str(good), cwd=tmp_path)

    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"OK: {good}: 1 cameras, 0 rules\n", "")
