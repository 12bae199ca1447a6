"""Scenario tests with the real model: flow counts per interval equal the script's ground truth, and
``ioc replay --compare`` names exactly the alerts a config change adds, removes and changes."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from ioc.cli import main
from tests.scenarios.scripts import CROSSING, camera_yaml, crossings

pytestmark = pytest.mark.slow

INTERVAL = 5


def _config(tmp: Path, name: str, clip: Path, *edits: tuple[str, str]) -> Path:
    text = camera_yaml("scene", str(clip))
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def test_flow_counts_per_interval_match_the_script(
    models_dir: Path, clips: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = clips["crossing"]
    config = _config(tmp_path, "c.yaml", clip, ("line: mid}", f"line: mid, interval_seconds: {INTERVAL}}}"))
    flows_out = tmp_path / "flows.jsonl"
    argv = ["replay", "--config", str(config), "--camera", "scene", "--source", str(clip), "--no-snapshots"]
    assert main([*argv, "--events-out", str(tmp_path / "e.jsonl"), "--flows-out", str(flows_out)]) == 0
    flows = [json.loads(line) for line in flows_out.read_text(encoding="utf-8").splitlines()]
    truth: Counter[tuple[int, str]] = Counter(
        (math.floor(c.t / INTERVAL) * INTERVAL, c.direction) for c in crossings(CROSSING)
    )
    got: Counter[tuple[int, str]] = Counter()
    for flow in flows:
        start = _file_seconds(flow["started_at"])
        for bucket in flow["counts"]:
            assert bucket["object_class"] == "person"
            got[(start, bucket["direction"])] += bucket["count"]
    assert got == truth
    assert [_file_seconds(f["started_at"]) for f in flows] == [0, 5, 10]
    assert [f["partial"] for f in flows] == [False, False, True]
    summary = capsys.readouterr().out
    assert f"flows (count line mid, every {INTERVAL} s):" in summary
    assert "  total: in person 1 | out person 1" in summary


def _file_seconds(iso: str) -> int:
    """Seconds into the file: replay's default --start-time is the Unix epoch."""
    return round(datetime.fromisoformat(iso).timestamp())


def test_compare_names_what_a_change_adds_removes_and_changes(
    models_dir: Path, clips: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = clips["crossing"]
    old = _config(tmp_path, "old.yaml", clip)
    new = _config(
        tmp_path,
        "new.yaml",
        clip,
        ("line: mid}", "line: mid, directions: [out]}"),  # the "in" crossing disappears
        ("zone: plaza}", "zone: plaza, severity: critical}"),  # both intrusions change
    )
    argv = ["replay", "--compare", str(old), str(new), "--camera", "scene", "--source", str(clip)]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert "detector runs per frame: 1 (detect settings equal: shared)" in out[0]
    assert out[2] == "appear 0, disappear 1, change 2, same 1"
    removed = [line for line in out if line.startswith("- ")]
    changed = [line for line in out if line.startswith("~ ")]
    assert len(removed) == 1 and "count (line_crossing) person" in removed[0] and removed[0].endswith(" in")
    assert len(changed) == 2 and all("severity warning → critical" in line for line in changed)
