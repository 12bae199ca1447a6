"""One error body for every error the HTTP API answers, and its place in ``/openapi.json``.

Every 4xx/5xx body is an :class:`ErrorBody`: ``detail`` is one human-readable line (what was wrong
and where), ``errors`` lists each problem (``loc`` the path into the request, ``msg``, ``type``)
when there are several or they have a location (422 validation, a refused config). The input that
was refused is never echoed back (it may be megabytes, or a password).

:func:`install_errors` registers the handlers (``HTTPException`` from routes and from the router's
own 404/405, request validation) and an OpenAPI post-processing step that declares, on every
operation, the error responses it can give: 401 on operations that need a token, 404 where the
path has parameters, 413 and 422 where there is a request body or parameters, plus what each route
declares itself with :func:`error_responses` (403, 409, 429 …), all with the ``ErrorBody`` schema.
An unexpected exception answers 500 in the same shape (and is logged with its traceback). Paths
under ``/open311/`` follow Open311 GeoReport v2 instead: their errors are the standard's list of
``{"code", "description"}``, and are declared so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

ERROR_SCHEMA_REF = "#/components/schemas/ErrorBody"
OPEN311_PREFIX = "/open311/"
"""Paths that follow Open311 GeoReport v2, whose errors are the standard's own shape."""
OPEN311_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}

NO_NUL = r"^[^\x00]*$"
"""``pattern=`` for free text that reaches the store: PostgreSQL refuses NUL in text."""

DESCRIPTIONS = {
    400: "Bad request (a body that cannot be parsed, a NUL byte in the URL)",
    401: "Not authenticated: no token, or the token or its session ended",
    403: "The caller's role may not do this",
    404: "Not found (or not visible to the caller's role)",
    405: "Method not allowed on this path",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Invalid request: ``errors`` names each problem",
    429: "Too many failed logins: wait ``Retry-After`` seconds",
    500: "Server error",
    503: "Not ready",
}


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(default_factory=list, description='Where: e.g. ["body", "username"]')
    msg: str
    type: str


class ErrorBody(BaseModel):
    detail: str = Field(description="One line saying what was wrong and where")
    errors: list[ErrorItem] = Field(default_factory=list)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that can answer these error codes."""
    return {code: {"model": ErrorBody, "description": DESCRIPTIONS.get(code, "Error")} for code in codes}


def error_json(
    status_code: int,
    detail: str,
    errors: Sequence[ErrorItem] = (),
    headers: Any = None,
    path: str = "",
) -> JSONResponse:
    if path.startswith(OPEN311_PREFIX):  # the standard's list of {code, description}
        return JSONResponse([{"code": status_code, "description": detail}], status_code, headers)
    body = ErrorBody(detail=detail, errors=list(errors))
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if isinstance(detail, list):
        items = [ErrorItem(msg=str(d), type="invalid") for d in detail]
        text = "; ".join(i.msg for i in items[:5]) + (
            f" (and {len(items) - 5} more)" if len(items) > 5 else ""
        )
        return error_json(exc.status_code, text, items, exc.headers, request.url.path)
    return error_json(exc.status_code, str(detail), headers=exc.headers, path=request.url.path)


def _where(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc) or "request"


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = [
        ErrorItem(
            loc=[p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            msg=str(e.get("msg", "invalid"))[:300],
            type=str(e.get("type", "invalid")),
        )
        for e in exc.errors()
    ]
    lines = [f"{_where(i.loc)}: {i.msg}" for i in items[:5]]
    more = f" (and {len(items) - 5} more)" if len(items) > 5 else ""
    text = "; ".join(lines) + more if lines else "invalid request"
    return error_json(422, text, items, path=request.url.path)


def _server_error(request: Request, exc: Exception) -> JSONResponse:
    """An unexpected failure: the same body shape (the traceback goes to the server log)."""
    return error_json(500, "internal server error: see the server log", path=request.url.path)


def install_errors(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schemas["ErrorBody"].pop("$defs", {}))
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                _declare_errors(path, operation)
        app.openapi_schema = schema
    return app.openapi_schema


def _declare_errors(path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    codes = {int(c) for c in responses if c.isdigit() and int(c) >= 400}
    if operation.get("security"):
        codes.add(401)
    if "{" in path:
        codes.add(404)
    if operation.get("requestBody"):
        codes.update({400, 413, 422})
    if operation.get("parameters"):
        codes.add(422)
    schema = OPEN311_ERRORS if path.startswith(OPEN311_PREFIX) else {"$ref": ERROR_SCHEMA_REF}
    for code in sorted(codes - {503}):  # /readyz answers 503 with its usual body
        entry = responses.setdefault(str(code), {})
        entry["description"] = DESCRIPTIONS.get(code, entry.get("description", "Error"))
        entry["content"] = {"application/json": {"schema": schema}}
