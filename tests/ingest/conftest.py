"""Fixtures for the ingest tests: real RTSP servers and small generated clips."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ioc.ingest import CameraReader, LatestFrameSlot
from tests.factories import make_camera
from tests.ingest.clips import write_clip
from tests.ingest.helpers import ReaderFactory, Recorder
from tests.rtsp_fixture import rtsp_server, rtsp_server_factory

__all__ = ["clip_15fps", "make_reader", "rtsp_server", "rtsp_server_factory"]


@pytest.fixture(scope="session")
def clip_15fps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s, 15 fps, 320x240 H.264 MP4 (30 frames)."""
    return write_clip(tmp_path_factory.mktemp("clips") / "clip15.mp4", fps=15, frames=30)


@pytest.fixture
def make_reader() -> Iterator[ReaderFactory]:
    """``make_reader(camera_id, source, loop=..., **reader_kwargs)`` → started reader + recorder."""
    readers: list[CameraReader] = []
    stop = threading.Event()

    def make(
        camera_id: str, source: str, *, loop: bool = True, **kwargs: float
    ) -> tuple[CameraReader, Recorder]:
        camera = make_camera(id=camera_id, source=source, loop=loop)
        recorder = Recorder()
        reader = CameraReader(camera, LatestFrameSlot(camera_id), recorder, stop, **kwargs)
        readers.append(reader)
        reader.start()
        return reader, recorder

    yield make
    stop.set()
    for reader in readers:
        reader.join(timeout=3)
        assert not reader.is_alive(), f"{reader.name} did not stop"
