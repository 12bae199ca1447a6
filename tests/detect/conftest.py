"""Fixtures for detect tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def offline_pip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """pip resolves only from a local folder of wheels (no index); Ultralytics stays offline."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    return wheels
