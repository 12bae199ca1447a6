"""``ioc serve --tls-cert/--tls-key``: HTTPS without a reverse proxy, Secure cookie and HSTS;
unusable flags are one clear line, never a traceback."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.api.test_cli import _start, _stop, ioc, serve_cmd  # noqa: F401  (serve_cmd: fixture)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.slow
def test_serve_over_https(serve_cmd: list[str], tmp_path: Path) -> None:  # noqa: F811
    cert, key = _self_signed(tmp_path)
    proc, lines, url = _start([*serve_cmd, "--tls-cert", str(cert), "--tls-key", str(key)])
    try:
        assert url.startswith("https://127.0.0.1:"), lines
        password = next(ln.split(": ", 2)[2] for ln in lines if "admin password:" in ln)
        with httpx.Client(verify=str(cert), timeout=10) as client:
            r = client.post(f"{url}api/auth/login", json={"username": "admin", "password": password})
            assert r.status_code == 200
            assert "; secure" in r.headers["set-cookie"].lower()
            assert r.headers["strict-transport-security"].startswith("max-age=")
    finally:
        code, rest = _stop(proc, signal.SIGTERM)
    assert code == 0, rest


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tls-cert", "CERT"], "go together"),
        (["--tls-cert", "MISSING", "--tls-key", "KEY"], "no such file"),
        (["--tls-cert", "KEY", "--tls-key", "KEY"], "not a matching PEM certificate and key"),
    ],
)
def test_bad_tls_flags_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    cert, key = _self_signed(tmp_path)
    paths = {"CERT": str(cert), "KEY": str(key), "MISSING": str(tmp_path / "nope.pem")}
    argv = [paths.get(f, f) for f in flags]
    code, _, err = ioc(capsys, "serve", "--no-engine", "--data-dir", str(tmp_path), *argv)
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
