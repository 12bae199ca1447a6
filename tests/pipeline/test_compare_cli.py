"""``ioc replay --compare`` and ``--flows-out``: bad input is one clear line, before any model loads;
the flow part of the summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioc.cli import main
from ioc.pipeline.flow_report import flow_lines
from tests.factories import make_flow
from tests.ingest.clips import write_clip

GOOD_YAML = "cameras:\n  - id: gate\n    source: gate.mp4\n"
T0 = 1_767_225_600.0


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "good.yaml").write_text(GOOD_YAML, encoding="utf-8")
    (tmp_path / "other.yaml").write_text(GOOD_YAML.replace("gate", "yard"), encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("cameras:\n  - id: gate\n    sourze: x.mp4\n", encoding="utf-8")
    write_clip(tmp_path / "clip.mp4", frames=5)
    return {p.stem: p for p in tmp_path.iterdir()}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--compare", "missing", "good"], "--compare OLD "),
        (["--compare", "good", "bad"], "--compare NEW "),
        (["--compare", "good", "other"], "--camera 'gate': not in"),
        (["--compare", "good", "good", "--source-missing"], "--source"),
        (["--config", "good"], "--events-out: required"),
        (["--config", "good", "--events-out", "out.jsonl", "--flows-out", "dir"], "--flows-out"),
    ],
)
def test_bad_input_is_one_clear_error(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "dir").mkdir()

    def path(arg: str) -> str:
        return str(files[arg]) if arg in files else str(tmp_path / arg)

    source = "missing.mp4" if "--source-missing" in argv else "clip"
    args = [a for a in argv if a != "--source-missing"]
    args = [path(a) if not a.startswith("--") else a for a in args]
    code = main(["replay", "--camera", "gate", "--source", path(source), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.startswith("ioc replay: ")
    assert "Traceback" not in err


def test_flow_summary_rows_and_totals() -> None:
    flows = [
        make_flow(0, counts={("car", "in"): 2, ("bus", "out"): 1}),
        make_flow(1, counts={("car", "in"): 1}, partial=True),
        make_flow(0, rule_id="other", line_id="l2", counts={}),
    ]
    lines = flow_lines(flows, start_time=T0)
    assert lines == [
        "flows (count line l1, every 60 s):",
        "  0.0–60.0 s: in car 2 | out bus 1",
        "  60.0–120.0 s (partial): in car 1 | out —",
        "  total: in car 3 | out bus 1",
        "flows (other line l2, every 60 s):",
        "  0.0–60.0 s: in — | out —",
        "  total: in — | out —",
    ]
