"""Scripted street footage with exact ground truth, for the demo and the scenario tests.

Real people and a real bus, cut out of the photos bundled with Ultralytics (boxes found by the real model),
and toys cut out of pictures in OpenCV's documentation (Debian ``opencv-doc``; stand-ins for a bag: no
bag in the pictures available offline is found by the default model), move along scripted paths over
a real street background: the temporal median of OpenCV's ``vtest.avi`` (``opencv-doc``), which
removes its walking pedestrians, or a blurred street photo when that file is not installed. Because
every position is scripted, tests know exactly when an anchor enters a zone or crosses a line.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from ioc.geometry import Point

Image = npt.NDArray[np.uint8]

OPENCV_DOC = Path("/usr/share/doc/opencv-doc")
VTEST = OPENCV_DOC / "examples/data/vtest.avi"


def u8(image: object) -> Image:
    """``image`` as a uint8 array (no copy when it already is one); types cv2's return values."""
    return np.asarray(image, dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class SpriteSource:
    """Where a cut-out comes from: a photo and an object's box in its pixels.

    ``folder`` is where the photo lies; None means the photos shipped in ``ultralytics/assets``.
    """

    photo: str
    box: tuple[int, int, int, int]  # x1, y1, x2, y2
    folder: Path | None = None


SPRITES: dict[str, SpriteSource] = {
    # Boxes from yolov8s-world (imgsz 640) on the photos shipped in ultralytics/assets.
    "walker": SpriteSource("bus.jpg", (223, 405, 344, 859)),
    "suit": SpriteSource("bus.jpg", (50, 401, 249, 903)),
    "coach": SpriteSource("zidane.jpg", (745, 37, 1131, 720)),
    "bus": SpriteSource("bus.jpg", (3, 227, 806, 739)),  # a bus, 0.88 at imgsz 640
    # A plush donkey (the figure of OpenCV's alpha-matting tutorial, its original photo), a "teddy bear"
    # at 0.49 (imgsz 640, box 59, 339, 162, 463); cut with about 10 px of its backdrop, with which the
    # model finds it more steadily on the street: 0.5 to 0.87 in a 320 crop at 0.2 to 0.24 of a 576 px
    # frame's height, not at all below 0.16; but a whole-frame pass at 320 takes it for a person (0.35-0.66).
    "plush": SpriteSource("matting_results.jpg", (50, 330, 175, 464), OPENCV_DOC / "opencv4/html"),
}


@dataclass(frozen=True, slots=True)
class Waypoint:
    """At stream time ``t`` the actor's anchor (bottom-centre, normalised) is at (x, y)."""

    t: float
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Actor:
    sprite: str
    height: float  # normalised sprite height
    path: tuple[Waypoint, ...]  # at least one point, times increasing

    def anchor_at(self, t: float) -> Point | None:
        """Anchor position at ``t`` (linear between waypoints); None outside the path's time span."""
        path = self.path
        if not path or t < path[0].t or t > path[-1].t:
            return None
        for a, b in itertools.pairwise(path):
            if a.t <= t <= b.t:
                u = 0.0 if b.t == a.t else (t - a.t) / (b.t - a.t)
                return (a.x + u * (b.x - a.x), a.y + u * (b.y - a.y))
        return (path[-1].x, path[-1].y)


@dataclass(frozen=True, slots=True)
class Script:
    width: int
    height: int
    fps: int
    duration_seconds: float
    actors: tuple[Actor, ...]

    @property
    def frame_count(self) -> int:
        return round(self.duration_seconds * self.fps)

    def times(self) -> list[float]:
        """Stream time of every frame: frame i is at i / fps."""
        return [i / self.fps for i in range(self.frame_count)]


def ultralytics_assets() -> Path:
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the ultralytics package is not installed; its bundled photos are needed")
    return Path(next(iter(spec.submodule_search_locations))) / "assets"


def load_sprite(name: str) -> Image:
    source = SPRITES[name]
    path = (ultralytics_assets() if source.folder is None else source.folder) / source.photo
    photo = cv2.imread(str(path))
    if photo is None:
        hint = "" if source.folder is None else " (Debian package opencv-doc)"
        raise FileNotFoundError(f"cannot read photo {path} for sprite {name!r}{hint}")
    x1, y1, x2, y2 = source.box
    return u8(photo[y1:y2, x1:x2]).copy()


def vtest_background(width: int, height: int, samples: int = 48) -> Image:
    """Temporal median of ``vtest.avi``: the street without its (moving) pedestrians."""
    frames: list[Image] = []
    with av.open(str(VTEST)) as container:
        stream = container.streams.video[0]
        total = stream.frames or 795
        wanted = set(np.linspace(0, total - 1, samples).astype(int).tolist())
        for i, frame in enumerate(container.decode(stream)):
            if i in wanted:
                frames.append(u8(frame.to_ndarray(format="bgr24")))
    median = np.median(np.stack(frames), axis=0).astype(np.uint8)
    return u8(cv2.resize(median, (width, height), interpolation=cv2.INTER_AREA))


def photo_background(width: int, height: int) -> Image:
    """A street-like backdrop from the bus photo's upper rows, blurred so nothing is detectable."""
    photo = cv2.imread(str(ultralytics_assets() / "bus.jpg"))
    if photo is None:
        raise FileNotFoundError("cannot read ultralytics/assets/bus.jpg")
    band = cv2.resize(photo[0:230], (width, height), interpolation=cv2.INTER_AREA)
    return u8(cv2.GaussianBlur(band, (0, 0), 9))


def street_background(width: int, height: int) -> Image:
    return vtest_background(width, height) if VTEST.is_file() else photo_background(width, height)


def render(background: Image, sprites: dict[str, Image], script: Script, t: float) -> Image:
    """The frame at stream time ``t``: actors pasted bottom-centre at their anchors, in order."""
    canvas = background.copy()
    h, w = canvas.shape[:2]
    for actor in script.actors:
        anchor = actor.anchor_at(t)
        if anchor is None:
            continue
        sprite = sprites[actor.sprite]
        sh = max(round(actor.height * h), 2)
        sw = max(round(sprite.shape[1] * sh / sprite.shape[0]), 2)
        scaled = u8(cv2.resize(sprite, (sw, sh), interpolation=cv2.INTER_AREA))
        x0 = round(anchor[0] * w - sw / 2)
        y0 = round(anchor[1] * h - sh)
        _paste(canvas, scaled, x0, y0)
    return canvas


def _paste(canvas: Image, sprite: Image, x0: int, y0: int) -> None:
    h, w = canvas.shape[:2]
    cx1, cy1 = max(x0, 0), max(y0, 0)
    cx2, cy2 = min(x0 + sprite.shape[1], w), min(y0 + sprite.shape[0], h)
    if cx1 >= cx2 or cy1 >= cy2:
        return
    canvas[cy1:cy2, cx1:cx2] = sprite[cy1 - y0 : cy2 - y0, cx1 - x0 : cx2 - x0]


def frames(script: Script, background: Image | None = None) -> Iterator[Image]:
    bg = background if background is not None else street_background(script.width, script.height)
    bg = u8(cv2.resize(bg, (script.width, script.height), interpolation=cv2.INTER_AREA))
    sprites = {a.sprite: load_sprite(a.sprite) for a in script.actors}
    for t in script.times():
        yield render(bg, sprites, script, t)


def write_video(path: Path, images: Iterator[Image] | Sequence[Image], fps: int) -> int:
    """Encode BGR images as H.264 MP4 at ``fps`` (pts = index / fps). Returns the frame count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps, 1))
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for image in images:
            if count == 0:
                stream.width, stream.height = image.shape[1], image.shape[0]
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = count
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
            count += 1
        for packet in stream.encode():
            container.mux(packet)
    return count


def write_script(path: Path, script: Script, background: Image | None = None) -> int:
    return write_video(path, frames(script, background), script.fps)


def walk(sprite: str, height: float, points: Sequence[tuple[float, float, float]]) -> Actor:
    """An actor from (t, x, y) tuples."""
    return Actor(sprite, height, tuple(Waypoint(t, x, y) for t, x, y in points))
