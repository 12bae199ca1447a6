"""``ioc demo prepare``: demo footage under ``<data dir>/demo`` for the default ``cameras.yaml``.

``street.mp4``: real pedestrians, OpenCV's ``vtest.avi`` (PETS 2009, Debian ``opencv-doc``)
re-encoded as H.264, or scripted walkers when that file is not installed. ``gate.mp4``: scripted
walkers (people cut out of the photos bundled with Ultralytics) over the same street, crossing
the gate line both ways and one lingering in the forecourt. Existing files are kept.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import av

from ioc.pipeline import footage
from ioc.pipeline.footage import Script, walk
from ioc.settings import load_settings

logger = logging.getLogger(__name__)

DEMO_FPS = 10

# Scripted walkers over a 640x480 street: (t seconds, x, y) of each anchor (feet), normalised.
GATE_SCRIPT = Script(
    width=640,
    height=480,
    fps=DEMO_FPS,
    duration_seconds=40.0,
    actors=(
        walk("walker", 0.36, [(0.0, -0.08, 0.86), (9.0, 1.08, 0.86)]),
        walk("coach", 0.38, [(10.0, 1.1, 0.8), (19.0, -0.1, 0.8)]),
        walk("suit", 0.36, [(20.0, -0.08, 0.9), (24.0, 0.45, 0.9), (33.0, 0.55, 0.88), (38.0, 1.08, 0.9)]),
    ),
)
STREET_SCRIPT = Script(
    width=640,
    height=480,
    fps=DEMO_FPS,
    duration_seconds=40.0,
    actors=(
        walk("walker", 0.3, [(0.0, 1.08, 0.62), (12.0, -0.08, 0.7)]),
        walk("suit", 0.32, [(8.0, -0.08, 0.75), (16.0, 0.6, 0.6), (30.0, 0.62, 0.58), (36.0, 1.08, 0.5)]),
    ),
)


def demo_command(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir if args.data_dir is not None else load_settings().data_dir
    try:
        made = prepare_demo(data_dir / "demo")
    except (OSError, av.FFmpegError) as exc:
        where = data_dir / "demo"
        print(f"ioc demo prepare: cannot write demo footage under {where}: {exc}", file=sys.stderr)
        return 1
    for path, created in made:
        print(f"{'created' if created else 'kept   '} {path}")
    if data_dir.resolve() != Path("data").resolve():
        print(
            f"note: the default cameras.yaml reads data/demo/*.mp4 relative to the working folder; "
            f"point its sources at {data_dir / 'demo'}",
        )
    return 0


def prepare_demo(demo_dir: Path) -> list[tuple[Path, bool]]:
    """Create the demo clips that are missing; returns (path, created) for each."""
    demo_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for name, make in (("street.mp4", _make_street), ("gate.mp4", _make_gate)):
        path = demo_dir / name
        if path.is_file() and path.stat().st_size > 0:
            results.append((path, False))
            continue
        tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
        logger.info("demo: writing %s", path)
        make(tmp)
        tmp.replace(path)
        results.append((path, True))
    return results


def _make_street(path: Path) -> None:
    if footage.VTEST.is_file():
        footage.write_video(path, _decode(footage.VTEST), DEMO_FPS)
    else:
        footage.write_script(path, STREET_SCRIPT)


def _make_gate(path: Path) -> None:
    footage.write_script(path, GATE_SCRIPT)


def _decode(path: Path) -> Iterator[footage.Image]:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield footage.u8(frame.to_ndarray(format="bgr24"))
