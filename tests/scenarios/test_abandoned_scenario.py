"""``abandoned_object`` through ``ioc replay`` with the real model at the default detect settings, on a
scripted left-object scene (``tests/scenarios/abandoned.py``): one object left behind alerts once, on
time; one whose owner stays beside it and one fetched back before ``min_seconds`` raise nothing.

The replay test is a strict ``xfail``: with the stand-in object the model gives today it fails, for
the reason its marker states (measured, see the README's known limits). ``strict`` turns it into a
failure the day it passes, so that the marker is removed then. The ground truth it checks against is
tested on its own below (fast, no model).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ioc.cli import main
from ioc.pipeline.footage import street_background, write_script
from tests.scenarios import abandoned as A


def _truth(thing: Any, owner: Any) -> float | None:
    return A.abandoned_at(A.SCENE, thing, owner, A.OWNER_DISTANCE, A.MIN_SECONDS)


def test_the_script_leaves_exactly_one_object_behind_for_min_seconds() -> None:
    left = _truth(A.LEFT, A.LEFT_OWNER)
    assert left is not None
    ((alone_from, _),) = A.unattended_spans(A.SCENE, A.LEFT, A.LEFT_OWNER, A.OWNER_DISTANCE)
    assert alone_from > 4.0  # put down at 4 s, alone once its owner is OWNER_DISTANCE away
    assert left == pytest.approx(alone_from + A.MIN_SECONDS)
    assert _truth(A.KEPT, A.KEPT_OWNER) is None
    assert A.unattended_spans(A.SCENE, A.KEPT, A.KEPT_OWNER, A.OWNER_DISTANCE) == []
    assert _truth(A.FETCHED, A.FETCHED_OWNER) is None
    ((first, last),) = A.unattended_spans(A.SCENE, A.FETCHED, A.FETCHED_OWNER, A.OWNER_DISTANCE)
    assert 3.0 < last - first < A.MIN_SECONDS - 2.0  # clearly alone, clearly not long enough


def test_a_carried_object_is_never_still() -> None:
    assert A.still_since(A.SCENE, A.LEFT, 3.0) == 3.0  # moving: still only at that very frame
    assert A.still_since(A.SCENE, A.LEFT, 9.0) == 4.0
    assert A.still_since(A.SCENE, A.FETCHED, 21.0) == 21.0


def _replay(tmp: Path) -> list[dict[str, Any]]:
    clip = tmp / "left.mp4"
    write_script(clip, A.SCENE, street_background(A.W, A.H))
    config = tmp / "cameras.yaml"
    config.write_text(A.camera_yaml(str(clip)), encoding="utf-8")
    out = tmp / "left.jsonl"
    argv = ["replay", "--config", str(config), "--camera", "scene", "--source", str(clip)]
    argv += ["--events-out", str(out), "--no-snapshots", "--no-progress"]
    assert main(argv) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="the stand-in object is taken for a person for ~3 s after it is put down (its track's class "
    "follows the latest detection), so its still-and-alone clock starts ~2 s late (README known limits)",
)
def test_the_object_left_behind_alerts_once_on_time(models_dir: Path, tmp_path: Path) -> None:
    alerts = _replay(tmp_path)
    starts = [a for a in alerts if a["rule_id"] == "left" and a["state"] == "start"]
    assert len(starts) == 1, [(a["source_time_s"], a["bbox"]) for a in starts]
    (start,) = starts
    expected = _truth(A.LEFT, A.LEFT_OWNER)
    assert expected is not None
    assert start["source_time_s"] == pytest.approx(expected, abs=1.0)
    assert start["object_class"] == A.OBJECT_CLASS and start["value_unit"] == "s"
    x1, _, x2, y2 = start["bbox"]
    drop = A.LEFT.anchor_at(expected)
    assert drop is not None
    assert (x1 + x2) / 2 == pytest.approx(drop[0], abs=0.05) and y2 == pytest.approx(drop[1], abs=0.05)
