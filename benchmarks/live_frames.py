"""What a worker's live-picture publisher costs per tick, against a private ``redis-server``.

N cameras (real ``CameraWorker``s with a zone, a line and a few tracked people, fed one 1280×720
frame of the demo footage), one ``LiveFramePublisher`` tick at a time, in three situations:

- **unwatched**: no wall asks for these cameras (one ``MGET``, nothing else) — the baseline;
- **watched, unchanged**: a wall watches, no camera processed a new frame (expiry extended only);
- **watched, new frames**: every camera processed a new frame before each tick (annotate, encode,
  send: what publishing every camera always would cost at every tick). Ticks are 0.5 s apart, as
  in a worker (a live tile is re-encoded at most that often).

Prints milliseconds of wall and CPU time per tick, per camera, the picture size, and each
situation's CPU time as a ratio of the last one's.

    .venv/bin/python -m benchmarks.live_frames --cameras 16 --ticks 40 --clip data/demo/street.mp4
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ioc.cluster.frame_publisher import LiveFramePublisher
from ioc.cluster.frames import LiveFrames
from ioc.cluster.leases import CameraLeases
from ioc.cluster.node import HeldCamera
from ioc.pipeline.worker import TILE_INTERVAL_SECONDS, CameraWorker
from ioc.types import Frame, LiveTile
from tests.cluster.conftest import RedisServer
from tests.factories import make_camera, make_detections


class _Runner:
    def __init__(self, worker: CameraWorker) -> None:
        self.worker = worker

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def live_tile(self, camera_id: str, after_index: int | None = None) -> LiveTile | None:
        return self.worker.live_tile(after_index)


def _picture(clip: Path) -> np.ndarray:
    capture = cv2.VideoCapture(str(clip))
    ok, image = capture.read()
    capture.release()
    if not ok:
        raise SystemExit(f"cannot read a frame from {clip}")
    return cv2.resize(image, (1280, 720))


def _workers(count: int, image: np.ndarray) -> list[CameraWorker]:
    zone = {"id": "yard", "polygon": [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]}
    workers = []
    for n in range(count):
        camera = make_camera(
            id=f"cam{n:02d}",
            zones=[zone],
            lines=[{"id": "mid", "points": [[0.5, 0.0], [0.5, 1.0]]}],
            rules=[{"id": "enter", "type": "intrusion", "zone": "yard", "classes": ["person"]}],
        )
        workers.append(CameraWorker.build(camera, publish=lambda _m: None, snapshots=None, frame_rate=5))
    _feed(workers, image, 0)
    return workers


def _feed(workers: list[CameraWorker], image: np.ndarray, index: int) -> None:
    dets = make_detections(anchors=[(0.3, 0.8), (0.6, 0.7), (0.7, 0.9)], size=(0.05, 0.2))
    for w in workers:
        w.process(Frame(w.camera_id, image, index * 0.2, 1.767e9 + index * 0.2, index), dets)


def _timed(ticks: int, before: Callable[[int], None], tick: Callable[[], object]) -> tuple[float, float]:
    wall = cpu = 0.0
    for i in range(ticks):
        before(i)
        w0, c0 = time.perf_counter(), time.process_time()
        tick()
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
    return wall / ticks * 1000, cpu / ticks * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cameras", type=int, default=16)
    parser.add_argument("--ticks", type=int, default=40)
    parser.add_argument("--clip", type=Path, default=Path("data/demo/street.mp4"))
    args = parser.parse_args()
    image = _picture(args.clip)
    workers = _workers(args.cameras, image)
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        try:
            leases = CameraLeases(server.client(), "bench", 300)
            held = [HeldCamera(w.camera_id, leases.acquire(w.camera_id) or 0, _Runner(w)) for w in workers]
            publisher = LiveFramePublisher(server.client(), "bench", lambda: held, interval_seconds=0.5)
            reader = LiveFrames(server.url, first_wait_seconds=0)
            rows = [("unwatched", *_timed(args.ticks, lambda _i: None, publisher.tick))]

            def watch(_i: int) -> None:  # a wall asks (not timed): the cameras stay watched
                for w in workers:
                    reader.latest_frame_jpeg(w.camera_id)

            watch(0)
            publisher.tick()
            rows.append(("watched, unchanged", *_timed(args.ticks, watch, publisher.tick)))

            def fresh(i: int) -> None:  # not timed; a tile is re-encoded at most every 0.5 s
                watch(i)
                _feed(workers, image, i + 1)
                time.sleep(TILE_INTERVAL_SECONDS)

            rows.append(("watched, new frames", *_timed(args.ticks, fresh, publisher.tick)))
            size = len(reader.latest_frame_jpeg(workers[0].camera_id) or b"")
        finally:
            server.stop()
    busy_cpu = rows[-1][2]
    print(f"{args.cameras} cameras, 1280x720 pictures of {size / 1000:.0f} kB, {args.ticks} ticks each")
    header = ("situation", "wall ms/tick", "cpu ms/tick", "cpu ms/camera", "cpu vs new")
    print(f"{header[0]:22} {header[1]:>13} {header[2]:>12} {header[3]:>14} {header[4]:>11}")
    for name, wall_ms, cpu_ms in rows:
        print(f"{name:22} {wall_ms:13.2f} {cpu_ms:12.2f} {cpu_ms / args.cameras:14.3f} "
              f"{cpu_ms / busy_cpu:11.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
