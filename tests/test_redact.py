"""One redaction rule for URLs and for text that quotes them."""

from __future__ import annotations

import pytest

from ioc.redact import is_sensitive, redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/live", "rtsp://admin:***@10.0.0.5:554/live"),
        ("rtsp://cam/stream?user=x&password=s3cret", "rtsp://cam/stream?user=x&password=***"),
        ("rtsp://cam/s?PWD=s3cret&channel=1", "rtsp://cam/s?PWD=***&channel=1"),
        ("http://cam/x.mjpg?passwd=s3cret;pass=s3cret", "http://cam/x.mjpg?passwd=***;pass=***"),
        ("https://h/v?api_key=s3cret&X-Amz-Signature=s3cret", "https://h/v?api_key=***&X-Amz-Signature=***"),
        ("https://h/v?token=s3cret#auth=s3cret", "https://h/v?token=***#auth=***"),
        ("https://h/v?secret=s3cret&key=s3cret&apikey=s3cret", "https://h/v?secret=***&key=***&apikey=***"),
        ("rtsp://u:p%40ss@[fe80::1]:554/a?x=1", "rtsp://u:***@[fe80::1]:554/a?x=1"),
        ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
        ("http://viewer@cam/x.mjpg", "http://viewer@cam/x.mjpg"),
        ("http://cam/x?monkey=1&passage=2&password=", "http://cam/x?monkey=1&passage=2&password="),
        ("/videos/a@b.mp4", "/videos/a@b.mp4"),
        ("data/demo/intersection.mp4", "data/demo/intersection.mp4"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact_url(shown) == shown  # idempotent


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "camera gate: rtsp://cam/s?user=a&password=s3cret: connection refused",
            "camera gate: rtsp://cam/s?user=a&password=***: connection refused",
        ),
        ('"GET /ws?token=abc.def&last_seq=3 HTTP/1.1"', '"GET /ws?token=***&last_seq=3 HTTP/1.1"'),
        ("no url here", "no url here"),
    ],
)
def test_redact_text(text: str, shown: str) -> None:
    assert redact_text(text) == shown


@pytest.mark.parametrize(
    ("name", "sensitive"),
    [
        ("password", True),
        ("Passwd", True),
        ("access_token", True),
        ("sessionToken", True),
        ("user", False),
        ("channel", False),
        ("keyframe", False),
    ],
)
def test_is_sensitive(name: str, sensitive: bool) -> None:
    assert is_sensitive(name) is sensitive
