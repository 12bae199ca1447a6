"""Builders for model-resolution tests: a small manifest, a real package folder, a real wheel."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

PAYLOAD = b"not really weights, but bytes with a known sha256\n" * 64
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
PACKAGE = "ioc_test_weights_pkg"
MEMBER = f"{PACKAGE}/models/tiny.pt"
DIST = "ioc-test-weights-pkg"
VERSION = "0.0.1"


def write_manifest(models_dir: Path, sha: str = PAYLOAD_SHA, *, with_ultralytics: bool = False) -> None:
    models_dir.mkdir(parents=True, exist_ok=True)
    extra = "      - type: ultralytics\n        asset: tiny.pt\n" if with_ultralytics else ""
    (models_dir / "models.yaml").write_text(
        "models:\n"
        "  - name: tiny\n"
        "    file: tiny.pt\n"
        f"    sha256: {sha}\n"
        "    classes: coco\n"
        "    sources:\n"
        "      - type: models_dir\n"
        "      - type: package\n"
        f"        package: {PACKAGE}\n"
        f"        member: {MEMBER}\n"
        f"        pip: {DIST}=={VERSION}\n" + extra,
        encoding="utf-8",
    )


def write_installed_package(site: Path, payload: bytes = PAYLOAD) -> Path:
    """A package folder laid out as pip installs it (``site`` goes on sys.path)."""
    pkg = site / PACKAGE
    (pkg / "models").mkdir(parents=True, exist_ok=True)
    # importing this package would fail: resolution must never run its code
    (pkg / "__init__.py").write_text("raise RuntimeError('must not be imported')\n", encoding="utf-8")
    (pkg / "models" / "tiny.pt").write_bytes(payload)
    return pkg / "models" / "tiny.pt"


def write_wheel(folder: Path, payload: bytes = PAYLOAD) -> Path:
    """A minimal valid wheel that pip can download from a find-links folder."""
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{DIST.replace('-', '_')}-{VERSION}-py3-none-any.whl"
    info = f"{DIST.replace('-', '_')}-{VERSION}.dist-info"
    files = {
        f"{PACKAGE}/__init__.py": b"",
        MEMBER: payload,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {DIST}\nVersion: {VERSION}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: ioc-tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(f"{info}/RECORD", record)
    return wheel
