"""Small synthetic test videos written with PyAV: a bright rectangle moving over a dark ground.

Importable by any test (``from tests.ingest.clips import write_clip``).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt


def clip_image(index: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """Frame ``index`` of the synthetic scene (BGR): a 1/6-wide box sweeping left to right."""
    image = np.full((height, width, 3), 30, dtype=np.uint8)
    box_w, box_h = max(width // 6, 2), max(height // 4, 2)
    x = (index * max(width // 30, 1)) % (width - box_w)
    y = height // 2 - box_h // 2
    image[y : y + box_h, x : x + box_w] = (40, 200, 240)
    image[:4, : (index % width)] = 255  # a progress bar makes every frame distinct
    return image


def write_clip(
    path: Path,
    *,
    width: int = 320,
    height: int = 240,
    fps: int = 15,
    frames: int = 30,
    pts_ms: Sequence[int] | None = None,
    container_format: str | None = None,
) -> Path:
    """Write an H.264 (baseline, no B-frames) clip; ``pts_ms`` gives explicit presentation times.

    ``container_format="h264"`` writes a raw Annex-B stream (what the RTSP test server loops).
    """
    if pts_ms is not None and len(pts_ms) != frames:
        raise ValueError(f"pts_ms has {len(pts_ms)} entries for {frames} frames")
    with av.open(str(path), mode="w", format=container_format) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"profile": "baseline", "preset": "ultrafast", "g": str(fps), "bf": "0"}
        if pts_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(clip_image(i, width, height), format="bgr24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[i], Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
