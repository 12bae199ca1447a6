"""Authentication and roles on every route: anonymous refused, cookie and Bearer accepted, only
admin changes config or users, a removed user's token stops working."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute, RouteContext, iter_route_contexts
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from ioc.api.app import PUBLIC_PATHS
from ioc.config.loader import load_config
from tests.api.conftest import PASSWORDS, Api
from tests.factories import make_ioc_config


def _routes(api: Api) -> list[RouteContext]:
    """Every route with its full path (FastAPI ≥0.16x nests included routers)."""
    return list(iter_route_contexts(api.app.routes))


def _protected_routes(api: Api) -> list[tuple[str, str]]:
    out = []
    for route in _routes(api):
        if isinstance(route.original_route, APIRoute) and route.path not in PUBLIC_PATHS:
            path = re.sub(r"\{[^}]+\}", "x", route.path or "")
            out.extend((method, path) for method in sorted(route.methods or ()))
    return out


@pytest.mark.parametrize("token", [None, "not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"])
def test_every_non_public_route_refuses_anonymous(api: Api, token: str | None) -> None:
    routes = _protected_routes(api)
    assert {"/api/alerts", "/api/cameras", "/api/config", "/api/users", "/api/me", "/snapshots/x"} <= {
        p for _, p in routes
    }
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for method, path in routes:
        r = api.client.request(method, path, headers=headers)
        assert r.status_code == 401, (method, path, r.status_code)
    ws_routes = [r for r in _routes(api) if isinstance(r.original_route, APIWebSocketRoute | WebSocketRoute)]
    assert [r.path for r in ws_routes] == ["/ws"]
    url = "/ws" + (f"?token={token}" if token else "")
    with api.client.websocket_connect(url) as ws, pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_json()
    assert exc.value.code == 4401


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"])
def test_public_routes_answer_anonymous(api: Api, path: str) -> None:
    assert api.client.get(path).status_code == 200


def test_login_sets_a_strict_httponly_cookie_that_authenticates(api: Api) -> None:
    r = api.client.post("/api/auth/login", json={"username": "pol", "password": PASSWORDS["pol"]})
    assert r.status_code == 200
    body = r.json()
    assert (body["token_type"], body["username"], body["role"]) == ("bearer", "pol", "police")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("ioc_token=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert api.client.get("/api/me").json() == {"username": "pol", "role": "police"}  # cookie only
    api.client.post("/api/auth/logout")
    assert api.client.get("/api/me").status_code == 401


@pytest.mark.parametrize(
    ("username", "password"), [("pol", "wrong-password"), ("nobody", "whatever-1"), ("pol", "POL-PASS-1")]
)
def test_bad_credentials(api: Api, username: str, password: str) -> None:
    r = api.client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 401
    assert r.json()["detail"] == "wrong username or password"
    assert "set-cookie" not in r.headers


def _config_body() -> dict[str, Any]:
    return make_ioc_config(site={"name": "Đà Nẵng IOC"}).model_dump(mode="json")


ADMIN_CALLS: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("GET", "/api/config", None, 200),
    ("PUT", "/api/config", _config_body(), 200),
    ("GET", "/api/users", None, 200),
    ("POST", "/api/users", {"username": "newbie", "role": "operator"}, 201),
    ("DELETE", "/api/users/tra", None, 204),
]


@pytest.mark.parametrize(("method", "path", "body", "admin_status"), ADMIN_CALLS)
@pytest.mark.parametrize("role", ["operator", "police", "traffic", "admin"])
def test_only_admin_changes_config_and_users(
    api: Api, role: str, method: str, path: str, body: dict[str, Any] | None, admin_status: int
) -> None:
    r = api.client.request(method, path, json=body, headers=api.auth(role))
    assert r.status_code == (admin_status if role == "admin" else 403), r.text


def test_admin_saves_config_and_it_is_served(api: Api) -> None:
    r = api.client.put("/api/config", json=_config_body(), headers=api.auth("admin"))
    assert r.json()["path"] == str(api.settings.config_path)
    assert "Đà Nẵng IOC" in api.settings.config_path.read_text(encoding="utf-8")
    assert api.client.get("/api/config", headers=api.auth("admin")).json()["site"]["name"] == "Đà Nẵng IOC"


def test_invalid_config_is_refused_with_paths(api: Api) -> None:
    before = api.client.get("/api/config", headers=api.auth("admin")).json()
    body = _config_body()
    body["cameras"][0]["detect"] = {"fps": -1}
    r = api.client.put("/api/config", json=body, headers=api.auth("admin"))
    assert r.status_code == 422
    # the loader's paths, as `ioc check` prints them
    assert any(e["msg"].startswith("cameras[0].detect.fps: ") for e in r.json()["errors"]), r.json()
    assert not api.settings.config_path.exists()
    assert api.client.get("/api/config", headers=api.auth("admin")).json() == before


def test_config_put_takes_defaults_like_the_file_and_saves_what_reloads(api: Api) -> None:
    body = {
        "site": {"name": "Huế IOC"},
        "defaults": {"detect": {"fps": 3}},
        "cameras": [{"id": "cam-a", "name": "Cổng A", "source": "a.mp4"}],
    }
    r = api.client.put("/api/config", json=body, headers=api.auth("admin"))
    assert r.status_code == 200, r.text
    served = api.client.get("/api/config", headers=api.auth("admin")).json()
    assert served["cameras"][0]["detect"]["fps"] == 3
    assert load_config(api.settings.config_path).model_dump(mode="json") == served
    body["site"]["name"] = "Huế IOC 2"
    assert api.client.put("/api/config", json=body, headers=api.auth("admin")).status_code == 200
    backup = api.settings.config_path.with_name("cameras.yaml.bak")
    assert "Huế IOC" in backup.read_text(encoding="utf-8")
    assert "Huế IOC 2" not in backup.read_text(encoding="utf-8")


def test_config_that_cannot_be_saved_leaves_the_running_one(api: Api) -> None:
    before = api.client.get("/api/config", headers=api.auth("admin")).json()
    api.settings.config_path.mkdir(parents=True)  # a folder where the file should go
    r = api.client.put("/api/config", json=_config_body(), headers=api.auth("admin"))
    assert r.status_code == 500
    assert r.json()["detail"].startswith(f"cannot save {api.settings.config_path}")
    assert api.client.get("/api/config", headers=api.auth("admin")).json() == before
    assert not list(api.settings.config_path.parent.glob(".*.tmp"))


def test_admin_adds_user_with_generated_password_who_can_log_in(api: Api) -> None:
    r = api.client.post("/api/users", json={"username": "lan", "role": "traffic"}, headers=api.auth("admin"))
    password = r.json()["password"]
    login = api.client.post("/api/auth/login", json={"username": "lan", "password": password})
    assert login.json()["role"] == "traffic"
    again = api.client.post("/api/users", json={"username": "lan"}, headers=api.auth("admin"))
    assert again.status_code == 409


def test_the_last_admin_cannot_be_removed(api: Api) -> None:
    r = api.client.delete("/api/users/admin", headers=api.auth("admin"))
    assert r.status_code == 409
    assert "last admin" in r.json()["detail"]
    assert api.client.get("/api/users", headers=api.auth("admin")).status_code == 200
    added = api.client.post(
        "/api/users", json={"username": "root2", "role": "admin"}, headers=api.auth("admin")
    )
    assert added.status_code == 201
    assert api.client.delete("/api/users/admin", headers=api.auth("admin")).status_code == 204


def test_removed_user_token_stops_working(api: Api) -> None:
    assert api.client.get("/api/me", headers=api.auth("traffic")).status_code == 200
    api.client.delete("/api/users/tra", headers=api.auth("admin"))
    assert api.client.get("/api/me", headers=api.auth("traffic")).status_code == 401
