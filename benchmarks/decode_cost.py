"""Decode cost of N live 720p25 H.264 cameras: every frame to BGR (the old path) vs decode only.

Each camera is one thread decoding its clip with PyAV, as a ``CameraReader`` does; a quarter of
the cameras show a busy street, the rest a quiet one (``city_scenes``). All modes decode the same
clips in the same run, as fast as the CPU allows; CPU seconds (all threads) divided by the
seconds of video each camera decoded is the number of cores the N cameras would keep busy live.

Modes:

- ``old``: FFmpeg's default decoder threading (a thread per core) and every frame to BGR.
- ``decode only, <threads>``: no conversion, with 1 decoder thread per stream (ioc's choice),
  FFmpeg's automatic count, or 2 frame threads: what the threading choice costs.
- ``ioc``: 1 decoder thread, frames kept as YUV; at ``detect.fps`` the gate's grey image
  (``Frame.luma``) on every camera and BGR (``Frame.image``) on the busy ones, as the pipeline
  takes them.
- ``ioc + quiet keyframes only``: as ``ioc``, but quiet cameras decode keyframes only
  (``skip_frame="NONKEY"``). Also printed: how long motion on such a camera waits for the next
  keyframe (the reaction time this costs).

    python -m benchmarks.decode_cost --streams 16 --busy 4 --seconds 10   # from the repository root

Prints cores used per mode (the least of ``--repeat`` interleaved rounds, as the machine may be
shared) and the ratio against ``old``.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.video.frame import VideoFrame

from benchmarks.city_scenes import FPS, Scene, city_clip
from ioc.ingest.picture import AvPicture
from ioc.types import Frame

OnFrame = Callable[[VideoFrame, int, bool], None]
"""What a mode does with decoded frame ``i`` of a camera (``busy`` or not)."""


@dataclass(frozen=True, slots=True)
class Mode:
    name: str
    threads: int | None  # decoder threads per stream; None = FFmpeg's default
    thread_type: str = "SLICE"
    quiet_keyframes_only: bool = False
    on_frame: OnFrame = lambda frame, i, busy: None


@dataclass(frozen=True, slots=True)
class Result:
    mode: Mode
    cpu_s: float
    frames: int


def _to_bgr(frame: VideoFrame, i: int, busy: bool) -> None:
    frame.to_ndarray(format="bgr24")


def _as_taken(detect_every: int) -> OnFrame:
    """The pipeline's use: every ``detect_every``-th frame's luma, and its BGR on busy cameras."""

    def take(frame: VideoFrame, i: int, busy: bool) -> None:
        if i % detect_every:
            return
        lazy = Frame.lazy("bench", AvPicture(frame, "bench"), timestamp=0.0, wall_time=0.0, index=i)
        _ = lazy.luma
        if busy:
            _ = lazy.image

    return take


def _decode(path: Path, mode: Mode, busy: bool, counts: list[int]) -> None:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if mode.threads is not None:
            stream.thread_type = mode.thread_type
            stream.codec_context.thread_count = mode.threads
        if mode.quiet_keyframes_only and not busy:
            stream.codec_context.skip_frame = "NONKEY"
        n = 0
        for i, frame in enumerate(container.decode(stream)):
            mode.on_frame(frame, i, busy)
            n += 1
    counts.append(n)


def run(mode: Mode, clips: list[tuple[Path, bool]]) -> Result:
    counts: list[int] = []
    threads = [threading.Thread(target=_decode, args=(p, mode, busy, counts)) for p, busy in clips]
    cpu0 = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Result(mode, time.process_time() - cpu0, sum(counts))


def keyframe_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            i / FPS
            for i, packet in enumerate(p for p in container.demux(stream) if p.size)
            if packet.is_keyframe
        ]


def reaction_delays(keyframes: list[float], seconds: float) -> tuple[float, float]:
    """Mean and worst wait from motion starting at any frame to the next keyframe."""
    starts = np.arange(0.0, keyframes[-1], 1.0 / FPS)
    marks = np.asarray(keyframes)
    waits = marks[np.searchsorted(marks, starts - 1e-9)] - starts
    return float(waits.mean()), float(waits.max())


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--streams", type=int, default=16)
    p.add_argument("--busy", type=int, default=None, help="busy cameras (default: a quarter)")
    p.add_argument("--seconds", type=float, default=10.0, help="seconds of video per camera")
    p.add_argument("--gop", type=int, default=50, help="keyframe interval of the clips, frames")
    p.add_argument("--detect-fps", type=float, default=5.0)
    p.add_argument("--repeat", type=int, default=3, help="rounds over all modes; the least CPU counts")
    args = p.parse_args()
    busy_n = args.streams // 4 if args.busy is None else args.busy
    busy_clip = city_clip(Scene.BUSY, seconds=args.seconds, gop=args.gop)
    quiet_clip = city_clip(Scene.QUIET, seconds=args.seconds, gop=args.gop)
    clips = [(busy_clip, True)] * busy_n + [(quiet_clip, False)] * (args.streams - busy_n)
    taken = _as_taken(max(round(FPS / args.detect_fps), 1))
    modes = [
        Mode("old: default threads, every frame to BGR", None, on_frame=_to_bgr),
        Mode("decode only, default threads", None),
        Mode("decode only, 2 frame threads", 2, thread_type="FRAME"),
        Mode("decode only, 1 thread", 1),
        Mode("ioc: 1 thread, convert what is taken", 1, on_frame=taken),
        Mode("ioc + quiet keyframes only", 1, quiet_keyframes_only=True, on_frame=taken),
    ]
    run(modes[3], clips[:1])  # warm-up: libraries loaded, caches filled
    print(
        f"{args.streams} cameras ({busy_n} busy), 720p{FPS} H.264, GOP {args.gop}, {args.seconds:g} s each, "
        f"detect.fps {args.detect_fps:g}; cores = CPU seconds / video seconds"
    )
    rounds = [[run(m, clips) for m in modes] for _ in range(args.repeat)]  # interleaved: fair to all
    results = [min(same, key=lambda r: r.cpu_s) for same in zip(*rounds, strict=True)]
    base = results[0].cpu_s
    for r in results:
        cores = r.cpu_s / args.seconds
        print(f"  {r.mode.name:44s} {cores:5.2f} cores  x{r.cpu_s / base:4.2f} of old  ({r.frames} frames)")
    mean_s, worst_s = reaction_delays(keyframe_times(quiet_clip), args.seconds)
    print(f"  keyframes only: motion waits for the next keyframe: mean {mean_s:.2f} s, worst {worst_s:.2f} s")


if __name__ == "__main__":
    main()
