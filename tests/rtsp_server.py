#!/usr/bin/python3
"""A real RTSP server for tests and demos, built on Debian's GStreamer RTSP server.

Run it with the SYSTEM python (it has ``gi``; the venv does not)::

    /usr/bin/python3 tests/rtsp_server.py --port 8554 --mount cam1=testsrc --mount cam2=clip.h264

Each ``--mount NAME=SPEC`` serves ``rtsp://HOST:PORT/NAME`` as H.264 (RTP), shared between clients:
``testsrc`` is a live moving test pattern encoded with x264 at ``--width``x``--height`` and
``--fps``; any other SPEC is a raw H.264 Annex-B file (``.h264``) looped forever and paced at
``--fps``. Prints ``READY rtsp://HOST:PORT`` once it listens (``--port 0`` picks a free port).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PAY = "rtph264pay name=pay0 pt=96 config-interval=1"


def launch_line(spec: str, *, width: int, height: int, fps: int) -> str:
    """The gst-launch description of one mount point."""
    if spec == "testsrc":
        return (
            f"( videotestsrc is-live=true pattern=ball "
            f"! video/x-raw,width={width},height={height},framerate={fps}/1 "
            f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} bitrate=400 "
            f"! video/x-h264,profile=constrained-baseline ! {PAY} )"
        )
    path = Path(spec).resolve()
    if not path.is_file():
        raise SystemExit(f"rtsp_server: mount file not found: {path}")
    caps = f"video/x-h264,stream-format=byte-stream,framerate={fps}/1"
    return f'( multifilesrc location="{path}" loop=true caps="{caps}" ! h264parse ! {PAY} )'


def parse_mount(text: str) -> tuple[str, str]:
    name, sep, spec = text.partition("=")
    if not sep or not name or not spec:
        raise argparse.ArgumentTypeError(f"expected NAME=SPEC, got {text!r}")
    return name.strip("/"), spec


def build_server(args: argparse.Namespace) -> GstRtspServer.RTSPServer:
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    # The default pool serves clients one at a time; tests connect several readers at once.
    server.get_thread_pool().set_max_threads(64)
    mounts = server.get_mount_points()
    for name, spec in args.mount:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_line(spec, width=args.width, height=args.height, fps=args.fps))
        factory.set_shared(True)
        mounts.add_factory(f"/{name}", factory)
    return server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8554, help="0 = any free port")
    p.add_argument("--mount", type=parse_mount, action="append", required=True, help="NAME=testsrc|FILE.h264")
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--fps", type=int, default=15)
    args = p.parse_args(argv)

    Gst.init(None)
    server = build_server(args)
    if server.attach(None) == 0:
        print(f"rtsp_server: cannot listen on {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 2
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, loop.quit)
    print(f"READY rtsp://{args.host}:{server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
