"""Real RTSP servers for tests: ``tests/rtsp_server.py`` (GStreamer) run as a subprocess.

Use the fixtures from any test package by importing them into its ``conftest.py``::

    from tests.rtsp_fixture import rtsp_server, rtsp_server_factory  # noqa: F401

``rtsp_server`` is one server with a live test pattern at ``/cam1``; ``rtsp_server_factory(mounts)``
starts more (one process per camera lets a test kill one camera while another keeps streaming).
``RtspServer.restart()`` brings a server back on the SAME port, ``pause()``/``resume()`` freeze it
(SIGSTOP/SIGCONT) to simulate a camera that hangs with its connection open.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"
READY_TIMEOUT_S = 20.0


class RtspServer:
    """One ``rtsp_server.py`` process; ``url(mount)`` is what a camera's ``source:`` would say."""

    def __init__(
        self, mounts: Mapping[str, str], *, port: int = 0, fps: int = 15, width: int = 320, height: int = 240
    ) -> None:
        self.mounts = dict(mounts)
        self.port = port
        self.fps, self.width, self.height = fps, width, height
        self._process: subprocess.Popen[str] | None = None

    def url(self, mount: str = "cam1") -> str:
        if mount not in self.mounts:
            raise KeyError(f"mount {mount!r} not served; mounts: {sorted(self.mounts)}")
        return f"rtsp://127.0.0.1:{self.port}/{mount}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server (on ``self.port``; a free one when 0) and wait for its READY line."""
        if self.running:
            raise RuntimeError(f"RTSP server on port {self.port} is already running")
        cmd = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port)]
        cmd += ["--fps", str(self.fps), "--width", str(self.width), "--height", str(self.height)]
        for name, spec in self.mounts.items():
            cmd += ["--mount", f"{name}={spec}"]
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:  # the old socket may linger a moment after a restart on the same port
            self._process = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
            )
            line = _read_ready(self._process, deadline)
            if line is not None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"RTSP server did not start: {' '.join(cmd)}")
            time.sleep(0.2)
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self) -> None:
        """Kill the server: its clients see the connection drop, as when a camera loses power."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a paused server must be able to die
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()

    def restart(self) -> None:
        """Stop and start again on the same port (the camera comes back at the same URL)."""
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open but no data flows (a hung camera)."""
        if self._process is None:
            raise RuntimeError("RTSP server is not running")
        os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is None:
            raise RuntimeError("RTSP server is not running")
        os.kill(self._process.pid, signal.SIGCONT)


def _read_ready(process: subprocess.Popen[str], deadline: float) -> str | None:
    """The READY line, or ``None`` when the process exited first (e.g. port still busy)."""
    assert process.stdout is not None
    output: list[str] = []
    with selectors.DefaultSelector() as sel:
        sel.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(deadline - time.monotonic(), 0.0)):
                break
            line = process.stdout.readline()
            if not line:
                process.wait(timeout=5)
                return None
            if line.startswith("READY "):
                return line.strip()
            output.append(line)
    process.kill()
    process.wait(timeout=5)
    raise RuntimeError(f"RTSP server printed no READY line in time; output: {''.join(output)[-2000:]}")


def check_gstreamer() -> None:
    """Fail with the fix when the system GStreamer RTSP server is missing."""
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.fail(
            "the GStreamer RTSP server is not installed for /usr/bin/python3 "
            f"(run scripts/setup.sh --test): {probe.stderr.strip()[-300:]}"
        )


@pytest.fixture
def rtsp_server_factory() -> Iterator[Callable[..., RtspServer]]:
    """``make(mounts={"cam1": "testsrc"}, fps=15, ...)`` starts a server; all stop at teardown."""
    check_gstreamer()
    servers: list[RtspServer] = []

    def make(mounts: Mapping[str, str] | None = None, **kwargs: int) -> RtspServer:
        server = RtspServer(mounts or {"cam1": "testsrc"}, **kwargs)
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def rtsp_server(rtsp_server_factory: Callable[..., RtspServer]) -> RtspServer:
    """One RTSP server with a live moving test pattern at ``/cam1`` (320x240, 15 fps, H.264)."""
    return rtsp_server_factory()
