"""Interactive API docs served from this server only: a command centre runs on a closed network.

FastAPI's own /docs and /redoc load Swagger UI, ReDoc and fonts from CDNs (cdn.jsdelivr.net,
fonts.googleapis.com), so they are blank offline. Here /docs points at the Swagger UI files shipped
in the ``fastapi-offline`` wheel (Swagger UI 5, which renders OpenAPI 3.1), mounted under
``ASSETS_URL``. There is no /redoc: ReDoc's bundle still fetches its logo from cdn.redoc.ly.

The pages run under the same Content-Security-Policy as the dashboard (no inline script): the
inline ``<script>`` blocks of FastAPI's pages are served as files (``/docs/swagger-init.js``,
``/docs/oauth2-redirect.js``) and the pages load them by ``src``.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"


def assets_dir() -> Path:
    """The folder of Swagger UI files (swagger-ui-bundle.js, swagger-ui.css, favicon.png)."""
    return Path(str(files("fastapi_offline") / "static"))


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def externalize_scripts(html: str, script_url: str) -> tuple[str, str]:
    """``html`` with its inline scripts replaced by one ``<script src=script_url>``, and their code."""
    code = "\n".join(m.strip() for m in _INLINE_SCRIPT.findall(html))
    tag = f'<script src="{script_url}"></script>'
    first = True

    def replace(_: re.Match[str]) -> str:
        nonlocal first
        out, first = (tag if first else ""), False
        return out

    return _INLINE_SCRIPT.sub(replace, html), code


def install_docs(app: FastAPI) -> None:
    """Add /docs and /docs/oauth2-redirect to ``app`` (created with docs_url=None, redoc_url=None)."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title
    ui_html = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{title} — API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        oauth2_redirect_url=OAUTH2_REDIRECT_URL,
    )
    ui_page, ui_code = externalize_scripts(bytes(ui_html.body).decode(), f"{DOCS_URL}/swagger-init.js")
    redirect_page, redirect_code = externalize_scripts(
        bytes(get_swagger_ui_oauth2_redirect_html().body).decode(), f"{DOCS_URL}/oauth2-redirect.js"
    )

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(ui_page)

    @app.get(f"{DOCS_URL}/swagger-init.js", include_in_schema=False)
    def swagger_init() -> Response:
        return Response(ui_code, media_type="text/javascript")

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return HTMLResponse(redirect_page)

    @app.get(f"{DOCS_URL}/oauth2-redirect.js", include_in_schema=False)
    def swagger_redirect_script() -> Response:
        return Response(redirect_code, media_type="text/javascript")
