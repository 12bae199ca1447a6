"""Session fixtures for scenario tests: the real model, and scripted clips written once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ioc.detect.models import resolve_model
from ioc.pipeline.footage import street_background, write_script
from tests.scenarios.scripts import CROSSING, DWELL

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def models_dir() -> Iterator[Path]:
    """The repository's models/ with the default model provisioned (fetched once if missing)."""
    directory = REPO / "models"
    resolve_model("yolov8s-world", directory, fetch=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IOC_MODELS_DIR", str(directory))
        yield directory


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The scripted scenarios as 10 fps H.264 clips over the same street background."""
    folder = tmp_path_factory.mktemp("scenarios")
    background = street_background(CROSSING.width, CROSSING.height)
    out = {}
    for name, script in (("crossing", CROSSING), ("dwell", DWELL)):
        out[name] = folder / f"{name}.mp4"
        write_script(out[name], script, background)
    return out
