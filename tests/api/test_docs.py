"""/docs works on a closed network: every asset they load comes from this server."""

from __future__ import annotations

import re

from tests.api.conftest import Api

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


def _referenced(html: str) -> list[str]:
    return [a or b for a, b in ASSET.findall(html)]


def test_docs_load_nothing_from_other_hosts(api: Api) -> None:
    page = "/docs"
    r = api.client.get(page)
    assert r.status_code == 200
    urls = _referenced(r.text)
    assert len(urls) >= 2  # the script and the favicon at least
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url} from elsewhere"
        assert api.client.get(url).status_code == 200, f"{page} references {url}, which is missing"
    assert "googleapis" not in r.text and "jsdelivr" not in r.text


def test_swagger_oauth2_redirect_is_served(api: Api) -> None:
    r = api.client.get("/docs/oauth2-redirect")
    assert r.status_code == 200 and "oauth2" in r.text.lower()


def test_redoc_is_not_served(api: Api) -> None:
    """ReDoc's bundle loads its logo from cdn.redoc.ly, so it is left out rather than half offline."""
    assert api.client.get("/redoc").status_code == 404
