"""Headers, cookies behind HTTPS, /ws origin and frames, size limits, paths that cannot name a
file, wrong methods, and one error body shape: each case failed on the first build."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from ioc.api.errors import OPEN311_ERRORS, ErrorBody
from ioc.api.middleware import CSP
from tests.api.conftest import PASSWORDS, Api, TestClient, build_api
from tests.factories import make_ioc_config

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
SECRET_SOURCES = [
    "rtsp://cam/stream?user=x&password=s3cret",
    "rtsp://admin:s3cret@10.0.0.5/live",
    "https://cam/x.mjpg?token=s3cret",
]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Api]:
    """The app with the dashboard mounted and cameras whose sources carry credentials."""
    cams = [
        {"id": f"c{i}", "source": s, "category": "traffic" if i % 2 else "security"}
        for i, s in enumerate(SECRET_SOURCES)
    ]
    yield from build_api(tmp_path, config=make_ioc_config(cameras=cams), dashboard_dir=_dashboard(tmp_path))


def _dashboard(tmp_path: Path) -> Path:
    d = tmp_path / "dashboard"
    d.mkdir()
    (d / "index.html").write_text("<!doctype html><title>wall</title>", encoding="utf-8")
    return d


@pytest.mark.parametrize("role", ["admin", "operator", "police", "traffic"])
def test_camera_credentials_are_never_shown(site: Api, role: str) -> None:
    r = site.client.get("/api/cameras", headers=site.auth(role))
    assert r.status_code == 200 and r.json()
    assert "s3cret" not in r.text
    for cam in r.json():
        assert "***" in cam["source"]


@pytest.mark.parametrize(
    "path", ["/", "/index.html", "/api/me", "/api/nope", "/healthz", "/docs", "/openapi.json"]
)
def test_security_headers_on_every_response(site: Api, path: str) -> None:
    r = site.client.get(path, headers=site.auth("operator"))
    assert r.headers["content-security-policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in r.headers  # plain HTTP


def _login_cookie(api: Api, headers: dict[str, str]) -> str:
    r = api.client.post(
        "/api/auth/login", json={"username": "olga", "password": PASSWORDS["olga"]}, headers=headers
    )
    assert r.status_code == 200
    return r.headers["set-cookie"]


@pytest.mark.parametrize(
    ("trusted", "headers", "secure"),
    [
        ("127.0.0.1", {}, False),
        ("127.0.0.1", {"X-Forwarded-Proto": "https"}, False),  # the test client is not a trusted proxy
        ("*", {"X-Forwarded-Proto": "https"}, True),
        ("*", {"X-Forwarded-Proto": "http"}, False),
    ],
)
def test_secure_cookie_behind_a_trusted_https_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trusted: str, headers: dict[str, str], secure: bool
) -> None:
    monkeypatch.setenv("IOC_TRUSTED_PROXIES", trusted)
    for api in build_api(tmp_path):
        cookie = _login_cookie(api, headers)
        assert ("; secure" in cookie.lower()) is secure, cookie
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        hsts = api.client.get("/healthz", headers=headers).headers.get("strict-transport-security")
        assert (hsts is not None) is secure


def test_cookie_secure_always(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_COOKIE_SECURE", "always")
    for api in build_api(tmp_path):
        assert "; secure" in _login_cookie(api, {}).lower()


@pytest.mark.parametrize(
    ("origin", "code"),
    [
        ("https://evil.example", 4403),
        ("http://testserver.evil", 4403),
        ("http://testserver", None),
        ("https://wall.example", None),
    ],
)
def test_ws_origin_must_be_the_server_or_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, origin: str, code: int | None
) -> None:
    monkeypatch.setenv("IOC_ALLOWED_ORIGINS", "https://wall.example, https://other.example/")
    for api in build_api(tmp_path):
        api.client.cookies.set("ioc_token", api.tokens["operator"])
        with api.client.websocket_connect("/ws", headers={"Origin": origin}) as ws:
            if code is None:
                assert ws.receive_json()["type"] == "welcome"
            else:
                with pytest.raises(WebSocketDisconnect) as exc:
                    ws.receive_json()
                assert exc.value.code == code


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\x00\x01binary", "binary frames"),
        ("[" * 5000 + "]" * 5000, "nested deeper"),
        ('{"type": "subscribe", "cameras": ' + "[" * 20 + "]" * 20 + "}", "nested deeper"),
        ('{"type":"subscribe","cameras":"' + "x," * 20000 + '"}', "frame too long"),
    ],
)
def test_bad_ws_frames_close_with_4400(api: Api, frame: str | bytes, reason: str) -> None:
    with api.client.websocket_connect(f"/ws?token={api.tokens['operator']}") as ws:
        ws.receive_json()
        if isinstance(frame, bytes):
            ws.send_bytes(frame)
        else:
            ws.send_text(frame)
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 4400
    assert reason in exc.value.reason


def _config_body(api: Api, **camera: Any) -> dict[str, Any]:
    body: dict[str, Any] = api.client.get("/api/config", headers=api.auth("admin")).json()
    body["cameras"][0].update(camera)
    return body


def test_config_over_the_body_limit_is_refused_before_parsing(api: Api) -> None:
    body = _config_body(api, name="x" * 2_000_000)
    r = api.client.put("/api/config", json=body, headers=api.auth("admin"))
    assert r.status_code == 413
    assert "too large" in r.json()["detail"]
    raw = b'{"cameras": [' + b"1," * 3_000_000 + b"1]}"  # invalid, 6 MB: never parsed
    r = api.client.put(
        "/api/config", content=raw, headers={**api.auth("admin"), "Content-Type": "application/json"}
    )
    assert r.status_code == 413


def test_config_strings_and_lists_have_limits(api: Api) -> None:
    before = api.settings.config_path.read_bytes() if api.settings.config_path.exists() else None
    r = api.client.put("/api/config", json=_config_body(api, name="x" * 5000), headers=api.auth("admin"))
    assert r.status_code == 422 and "at most 2048" in r.json()["detail"]
    zones = [{"id": f"z{i}", "polygon": [[0, 0], [1, 0], [1, 1]]} for i in range(300)]
    r = api.client.put("/api/config", json=_config_body(api, zones=zones), headers=api.auth("admin"))
    assert r.status_code == 422 and "zones" in r.json()["detail"]
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    r = api.client.put("/api/config", json=_config_body(api, name=deep), headers=api.auth("admin"))
    assert r.status_code == 422 and "nested deeper" in r.json()["detail"]
    after = api.settings.config_path.read_bytes() if api.settings.config_path.exists() else None
    assert after == before


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/snapshots/gate/2024-01-01/a%00.jpg", 400),
        ("/snapshots/gate/" + "a" * 5000 + ".jpg", 404),
        ("/api/alerts?camera_id=%00", 400),
    ],
)
def test_urls_that_cannot_name_anything_are_4xx(api: Api, path: str, code: int) -> None:
    r = api.client.get(path, headers=api.auth("admin"))
    assert r.status_code == code
    ErrorBody.model_validate(r.json())


def test_snapshot_resolution_refuses_nul_and_overlong_names(tmp_path: Path) -> None:
    from ioc.api.routers.snapshots import resolve_snapshot

    assert resolve_snapshot(tmp_path, "gate/2024-01-01/a\x00.jpg") is None
    assert resolve_snapshot(tmp_path, "gate/" + "a" * 5000 + ".jpg") is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/login", {"username": "a\x00b", "password": "x"}),
        ("/api/alerts/x/resolve", {"note": "a\x00b"}),
        ("/api/alerts/x/assign", {"assignee": "a\x00b"}),
    ],
)
def test_nul_in_text_bound_for_the_store_is_422(api: Api, path: str, body: dict[str, str]) -> None:
    r = api.client.post(path, json=body, headers=api.auth("operator"))
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"username": ' + b"[" * 5000 + b"]" * 5000 + b"}"])
def test_unparseable_body_is_400_in_the_error_shape(api: Api, body: bytes) -> None:
    r = api.client.post("/api/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    ErrorBody.model_validate(r.json())


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("DELETE", "/api/alerts", 405),
        ("PUT", "/api/me", 405),
        ("GET", "/api/auth/login", 405),
        ("POST", "/healthz", 405),
        ("GET", "/api/nope", 404),
        ("POST", "/api/nope", 404),
    ],
)
def test_api_paths_answer_for_themselves(site: Api, method: str, path: str, code: int) -> None:
    r = site.client.request(method, path, headers=site.auth("admin"))
    assert r.status_code == code
    ErrorBody.model_validate(r.json())
    assert site.client.get("/index.html").status_code == 200  # the dashboard is still served


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        ("GET", "/api/me", None, 401),
        ("GET", "/api/alerts?limit=0", None, 422),
        ("GET", "/api/alerts/nope", None, 404),
        ("POST", "/api/auth/login", {"username": ""}, 422),
        ("POST", "/api/auth/login", {"username": "x", "password": "wrong"}, 401),
        ("POST", "/api/users", {"username": "olga"}, 409),
        ("POST", "/api/alerts/x/ack", None, 403),
        ("DELETE", "/api/users/admin", None, 409),
    ],
)
def test_one_error_body_shape(api: Api, method: str, path: str, body: Any, code: int) -> None:
    role = "police" if path.endswith("/ack") else "admin"
    headers = api.auth(role) if path != "/api/me" else {}
    r = api.client.request(method, path, json=body, headers=headers)
    assert r.status_code == code, r.text
    parsed = ErrorBody.model_validate(r.json())
    assert isinstance(parsed.detail, str) and parsed.detail


def test_openapi_declares_the_errors_every_route_gives(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert "ErrorBody" in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            codes = set(op["responses"])
            if op.get("security"):
                assert "401" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if op.get("requestBody"):
                assert {"413", "422"} <= codes, (method, path)
            for code, response in op["responses"].items():
                if code.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    expected = OPEN311_ERRORS if path.startswith("/open311/") else ERROR_REF
                    assert schema == expected, (method, path, code)
    assert {"401", "403", "404", "409"} <= set(
        spec["paths"]["/api/alerts/{alert_id}/ack"]["post"]["responses"]
    )
    assert "429" in spec["paths"]["/api/auth/login"]["post"]["responses"]


def test_docs_pages_carry_no_inline_script(api: Api) -> None:
    for page in ("/docs", "/docs/oauth2-redirect"):
        html = api.client.get(page).text
        assert "<script>" not in html
    init = api.client.get("/docs/swagger-init.js")
    assert init.status_code == 200 and "SwaggerUIBundle" in init.text
    assert json.dumps("/openapi.json")[1:-1] in init.text


def test_an_unexpected_failure_is_500_in_the_error_shape(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api.store, "query_alerts", broken)
    with TestClient(api.app, raise_server_exceptions=False) as client:
        r = client.get("/api/alerts", headers=api.auth("admin"))
    assert r.status_code == 500
    body = ErrorBody.model_validate(r.json())
    assert "disk on fire" not in body.detail


def test_config_errors_do_not_quote_credentials(api: Api) -> None:
    body = _config_body(api, source="ftp://admin:s3cret@cam/live?password=s3cret")
    r = api.client.put("/api/config", json=body, headers=api.auth("admin"))
    assert r.status_code == 422 and "source" in r.json()["detail"]
    assert "s3cret" not in r.text


def test_serve_does_not_print_credentials_of_a_bad_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.api.test_cli import ioc

    bad = tmp_path / "cameras.yaml"
    bad.write_text("cameras:\n  - id: a\n    source: ftp://u:s3cret@cam/x?token=s3cret\n", encoding="utf-8")
    code, _, err = ioc(capsys, "serve", "--config", str(bad), "--data-dir", str(tmp_path))
    assert code == 2 and "source" in err
    assert "s3cret" not in err
