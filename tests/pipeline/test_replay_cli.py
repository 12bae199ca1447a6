"""``ioc replay`` refuses bad input with one clear line and exit code 2, before loading any model."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ioc.cli import main
from ioc.pipeline.progress import Progress
from ioc.pipeline.replay import ReplaySummary
from tests.factories import make_alert
from tests.ingest.clips import write_clip

GOOD_YAML = "cameras:\n  - id: gate\n    source: gate.mp4\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "good.yaml").write_text(GOOD_YAML, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("cameras:\n  - id: gate\n    sourze: x.mp4\n", encoding="utf-8")
    (tmp_path / "not-video.mp4").write_text("hello", encoding="utf-8")
    write_clip(tmp_path / "clip.mp4", frames=5)
    (tmp_path / "dir").mkdir()
    return {p.stem: p for p in tmp_path.iterdir()}


@pytest.mark.parametrize(
    ("config", "camera", "source", "extra", "message"),
    [
        ("missing", "gate", "clip", [], "--config"),
        ("bad", "gate", "clip", [], "sourze"),
        ("good", "nope", "clip", [], "--camera 'nope': not in"),
        ("good", "gate", "missing", [], "--source"),
        ("good", "gate", "not-video", [], "not-video.mp4: not a readable video (invalid data)\n"),
        ("good", "gate", "dir", [], "is a directory, expected a video file"),
        ("good", "gate", "clip", ["--start-time", "yesterday"], "--start-time"),
    ],
)
def test_bad_input_is_one_clear_error(
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    config: str,
    camera: str,
    source: str,
    extra: list[str],
    message: str,
) -> None:
    def path(name: str, suffix: str) -> str:
        return str(files.get(name, tmp_path / f"{name}{suffix}"))

    argv = ["replay", "--config", path(config, ".yaml"), "--camera", camera, "--source", path(source, ".mp4")]
    code = main([*argv, "--events-out", str(tmp_path / "out.jsonl"), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.startswith("ioc replay: ")
    assert "Traceback" not in err
    assert not (tmp_path / "out.jsonl").exists()


def test_summary_lists_messages_by_rule_and_state_and_crossings_by_direction() -> None:
    summary = ReplaySummary("gate", frames=50, video_seconds=4.9, wall_seconds=2.0)
    for state, direction in (("start", "in"), ("start", "in"), ("start", "out")):
        summary.count(
            make_alert(
                rule_id="count", rule_type="line_crossing", state=state, direction=direction, line_id="door"
            )
        )
    summary.count(make_alert(rule_id="enter", rule_type="intrusion", state="start"))
    summary.count(make_alert(rule_id="enter", rule_type="intrusion", state="end"))
    text = "\n".join(summary.lines(fps=10.0))
    assert "camera gate: 50 frames, 5.0 s of video in 2.0 s (25.0 fps)" in text
    assert "count (line_crossing): start 3" in text
    assert "enter (intrusion): start 1, end 1" in text
    assert "count line door: in 2, out 1" in text


@pytest.mark.parametrize(("total", "lines"), [(10, 11), (40, 11), (3, 4)])
def test_progress_prints_a_line_per_decile_when_not_a_terminal(total: int, lines: int) -> None:
    stream = io.StringIO()
    progress = Progress(total, stream, label="replay ")
    for n in range(total + 1):
        progress.update(n)
    progress.close()
    out = stream.getvalue().splitlines()
    assert len(out) == lines
    assert f"100% {total}/{total} frames" in out[-1]
