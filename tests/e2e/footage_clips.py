"""Scripted footage as raw H.264 (Annex-B), the format the test RTSP server loops.

The pictures come from ``ioc.pipeline.footage`` (real people cut from Ultralytics' photos over a
real street); only the encoding differs from ``footage.write_video``: one keyframe a second and no
B-frames, so a reader that joins or rejoins a looping stream decodes within a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av

from ioc.pipeline import footage
from ioc.pipeline.footage import Script, walk

CLIP_FPS = 10
WIDTH, HEIGHT = 320, 240

# A person walks in from the left and stops inside the right half (the gate's forecourt zone).
GATE_SCRIPT = Script(
    width=WIDTH,
    height=HEIGHT,
    fps=CLIP_FPS,
    duration_seconds=8.0,
    actors=(walk("walker", 0.6, [(0.0, 0.12, 0.92), (3.5, 0.72, 0.92), (8.0, 0.8, 0.92)]),),
)
GATE_ZONE = ((0.5, 0.45), (0.98, 0.45), (0.98, 0.98), (0.5, 0.98))
GATE_ENTERS_ZONE_S = 2.2  # the walker's anchor crosses x = 0.5 here (0.12 + 0.6 · t / 3.5)

# A person strolls across the street and back, so the street camera always has motion.
STREET_SCRIPT = Script(
    width=WIDTH,
    height=HEIGHT,
    fps=CLIP_FPS,
    duration_seconds=8.0,
    actors=(walk("suit", 0.55, [(0.0, 0.15, 0.9), (4.0, 0.85, 0.9), (8.0, 0.15, 0.9)]),),
)


def write_h264(path: Path, images: Iterable[footage.Image], fps: int) -> Path:
    """Encode BGR images as a raw H.264 stream: baseline, a keyframe every second, no B-frames."""
    with av.open(str(path), mode="w", format="h264") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps, 1))
        stream.pix_fmt = "yuv420p"
        stream.options = {"profile": "baseline", "preset": "veryfast", "g": str(fps), "bf": "0", "crf": "20"}
        # One slice per frame: the test server sends the file without timestamps, so FFmpeg's RTSP
        # reader cannot join a frame's slices and decodes each alone (the rest of the frame green).
        stream.options["x264-params"] = "slices=1:sliced-threads=0"
        for count, image in enumerate(images):
            if count == 0:
                stream.width, stream.height = image.shape[1], image.shape[0]
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def write_scripts(folder: Path) -> dict[str, Path]:
    """``gate.h264`` and ``street.h264`` in ``folder`` over one shared street background."""
    background = footage.street_background(WIDTH, HEIGHT)
    clips = {"gate": GATE_SCRIPT, "street": STREET_SCRIPT}
    return {
        name: write_h264(folder / f"{name}.h264", footage.frames(script, background), script.fps)
        for name, script in clips.items()
    }
