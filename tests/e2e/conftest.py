"""Fixtures for the end-to-end tests: generated footage, the real model, real RTSP servers, and
the dashboard's Debian Chromium (``browser``, ``page``) for the browser test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ioc.detect.models import resolve_model
from tests.dashboard.conftest import browser, page
from tests.e2e.footage_clips import write_scripts
from tests.rtsp_fixture import rtsp_server_factory

__all__ = ["browser", "footage_clips", "models_dir", "page", "rtsp_server_factory"]

REPO = Path(__file__).resolve().parents[2]
MODEL = "yolov8s-world"
WHEELS = Path(os.environ.get("IOC_TEST_WHEELS", "/tmp/galaxy"))


@pytest.fixture(scope="session")
def footage_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"gate": …h264, "street": …h264}``: scripted walkers, 320x240, 10 fps, 8 s loops."""
    return write_scripts(tmp_path_factory.mktemp("e2e-footage"))


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The repo's models/, provisioned the way ``ioc models fetch`` does (from local wheels if any)."""
    env = {"PIP_FIND_LINKS": str(WHEELS), "PIP_NO_INDEX": "1"} if list(WHEELS.glob("*.whl")) else {}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        resolve_model(MODEL, REPO / "models", fetch=True)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return REPO / "models"
