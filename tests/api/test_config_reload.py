"""``PUT /api/config`` with hot reload: saved, applied at once with the admin's name, or refused
with the loader's errors while the running config stays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ioc.config.models import IocConfig
from ioc.config.reload import ConfigReloader
from tests.api.conftest import Api, build_api
from tests.factories import make_ioc_config


class Applied:
    """The reloader's ``apply`` (what ``ioc serve`` wires to the engine): records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = False

    def __call__(self, config: IocConfig, who: str) -> list[str]:
        if self.fail:
            raise RuntimeError("detector for model 'nope' could not be loaded")
        self.calls.append((config.site.name, who))
        return [f"site {config.site.name}"]


@pytest.fixture
def applied() -> Applied:
    return Applied()


@pytest.fixture
def api(tmp_path: Path, applied: Applied) -> Iterator[Api]:
    reloader = ConfigReloader(tmp_path / "cameras.yaml", applied, poll_seconds=0)
    yield from build_api(tmp_path, reloader=reloader)


def body(name: str) -> dict[str, Any]:
    return make_ioc_config(site={"name": name}).model_dump(mode="json")


def test_an_admin_change_is_saved_applied_and_served(api: Api, applied: Applied, tmp_path: Path) -> None:
    r = api.client.put("/api/config", json=body("Huế IOC"), headers=api.auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["restart_required"] is False
    assert r.json()["changes"] == ["site Huế IOC"]
    assert applied.calls == [("Huế IOC", "admin")]
    assert "Huế IOC" in (tmp_path / "cameras.yaml").read_text(encoding="utf-8")
    assert api.client.get("/api/config", headers=api.auth("admin")).json()["site"]["name"] == "Huế IOC"


def test_an_invalid_config_is_refused_and_nothing_changes(api: Api, applied: Applied, tmp_path: Path) -> None:
    bad = body("x")
    bad["cameras"][0]["rules"] = [{"id": "r", "type": "intrusion", "zone": "nowhere"}]
    r = api.client.put("/api/config", json=bad, headers=api.auth("admin"))
    assert r.status_code == 422
    assert any("unknown zone 'nowhere'" in e["msg"] for e in r.json()["errors"])
    assert applied.calls == []
    assert not (tmp_path / "cameras.yaml").exists()


def test_a_config_that_cannot_be_applied_says_so(api: Api, applied: Applied, tmp_path: Path) -> None:
    saved = tmp_path / "cameras.yaml"
    saved.write_text("cameras:\n  - id: street\n    source: street.mp4\n", encoding="utf-8")
    before = api.client.get("/api/config", headers=api.auth("admin")).json()
    applied.fail = True
    r = api.client.put("/api/config", json=body("Huế IOC"), headers=api.auth("admin"))
    assert r.status_code == 500
    assert "could not be loaded" in r.json()["detail"] and "running config stays" in r.json()["detail"]
    assert api.client.get("/api/config", headers=api.auth("admin")).json() == before
    assert saved.read_text(encoding="utf-8") == "cameras:\n  - id: street\n    source: street.mp4\n"


@pytest.mark.parametrize("role", ["operator", "police", "traffic"])
def test_only_admins_change_the_config(api: Api, applied: Applied, role: str) -> None:
    assert api.client.put("/api/config", json=body("x"), headers=api.auth(role)).status_code == 403
    assert applied.calls == []
