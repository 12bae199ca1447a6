"""City camera footage for the decode and capacity benchmarks: busy and quiet 720p25 H.264 streams.

A *busy* camera has people (cut out of the photos bundled with Ultralytics) walking across a
real street background (``ioc.pipeline.footage``) and a bus driving through. A *quiet* camera is
the same street with a parked bus and sensor noise (Gaussian, sigma ``NOISE_SIGMA`` grey levels,
new every frame) and nothing moving. Both are encoded the way a typical IP camera sends them:
H.264 without B-frames, a keyframe every ``gop`` frames (default 50 = 2 s at 25 fps), about
2 Mbit/s, as raw Annex-B (``.h264``), which ``tests/rtsp_server.py`` loops over RTSP.

Clips are cached under ``data/cache/bench/`` by their parameters; generating one takes a while.
"""

from __future__ import annotations

import enum
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from ioc.pipeline import footage

WIDTH, HEIGHT, FPS = 1280, 720, 25
NOISE_SIGMA = 3.0
BUS_BOX = (20, 230, 805, 760)  # the bus in ultralytics/assets/bus.jpg (x1, y1, x2, y2)
CACHE = Path("data/cache/bench")
VBV = "vbv-maxrate=2000:vbv-bufsize=2000"  # kbit/s: about what a 720p camera sends


class Scene(enum.StrEnum):
    BUSY = "busy"
    QUIET = "quiet"


def _sprites() -> dict[str, footage.Image]:
    sprites = {name: footage.load_sprite(name) for name in footage.SPRITES}
    photo = cv2.imread(str(footage.ultralytics_assets() / "bus.jpg"))
    if photo is None:
        raise FileNotFoundError("cannot read ultralytics/assets/bus.jpg")
    x1, y1, x2, y2 = BUS_BOX
    sprites["bus"] = footage.u8(photo[y1:y2, x1:x2]).copy()
    return sprites


def _script(scene: Scene, seconds: float) -> footage.Script:
    s = seconds
    if scene is Scene.QUIET:
        actors: tuple[footage.Actor, ...] = (footage.walk("bus", 0.30, [(0.0, 0.75, 0.62), (s, 0.75, 0.62)]),)
    else:
        actors = (
            footage.walk("bus", 0.34, [(0.0, 1.4, 0.55), (s * 0.6, -0.4, 0.55)]),
            footage.walk("walker", 0.40, [(0.0, -0.1, 0.90), (s, 1.1, 0.85)]),
            footage.walk("suit", 0.38, [(0.0, 1.1, 0.78), (s, -0.1, 0.72)]),
            footage.walk("coach", 0.30, [(0.0, 0.2, 0.60), (s / 2, 0.45, 0.95), (s, 0.2, 0.60)]),
        )
    return footage.Script(WIDTH, HEIGHT, FPS, seconds, actors)


def _noisy(image: footage.Image, rng: np.random.Generator) -> footage.Image:
    noise = rng.normal(0.0, NOISE_SIGMA, image.shape).astype(np.int16)
    return footage.u8(np.clip(image.astype(np.int16) + noise, 0, 255))


def clip_path(scene: Scene, seconds: float, gop: int) -> Path:
    return CACHE / f"{scene.value}-{WIDTH}x{HEIGHT}-{FPS}fps-{seconds:g}s-gop{gop}.h264"


def city_clip(scene: Scene, *, seconds: float = 20.0, gop: int = 50) -> Path:
    """The cached clip for ``scene`` (written first when missing)."""
    path = clip_path(scene, seconds, gop)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    background = footage.u8(cv2.resize(footage.street_background(WIDTH, HEIGHT), (WIDTH, HEIGHT)))
    sprites, script = _sprites(), _script(scene, seconds)
    rng = np.random.default_rng(7)
    partial = path.with_suffix(".part")
    with av.open(str(partial), mode="w", format="h264") as out:
        stream = out.add_stream("libx264", rate=Fraction(FPS, 1))
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:{VBV}",
            "crf": "23",
        }
        for i, t in enumerate(script.times()):
            image = _noisy(footage.render(background, sprites, script, t), rng)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    partial.rename(path)
    return path
