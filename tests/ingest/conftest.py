"""Fixtures for the ingest tests: real RTSP servers and small generated clips."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ingest.clips import write_clip
from tests.rtsp_fixture import rtsp_server, rtsp_server_factory

__all__ = ["clip_15fps", "rtsp_server", "rtsp_server_factory"]


@pytest.fixture(scope="session")
def clip_15fps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s, 15 fps, 320x240 H.264 MP4 (30 frames)."""
    return write_clip(tmp_path_factory.mktemp("clips") / "clip15.mp4", fps=15, frames=30)
