"""Pull connector: poll a source's JSON endpoint on an interval, incrementally, and store what came.

Each poll sends ``GET url?<cursor_param>=<cursor>`` (no parameter on the very first poll) with
the auth header from the environment, waits at most ``timeout_seconds``, and expects a JSON list
of records (or an object holding it under ``items_key``; with ``format: open311`` a GeoReport
v2 ``requests.json`` list). A timeout, a connection error, an HTTP status ≥ 400 or a body that is
not the expected JSON is retried ``retries`` times after ``backoff_seconds``, doubling each time;
then the poll gives up until the next interval. Nothing of a failed poll is stored and the cursor
stays where it was, so nothing is skipped.

The cursor is the newest ``updated_at`` among the records stored so far from this source; it is
kept in the store (``kpi_cursors``) only after the records are, so a restart resumes from it. A
server should return the records with ``updated_at`` ≥ the cursor, oldest first; records seen
twice are stored once (idempotent by (source, id)).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import httpx

from ioc.config.kpi_models import PullSource
from ioc.kpi.ingest import IngestResult, RecordSink, ingest
from ioc.kpi.open311 import from_open311
from ioc.metrics import KPI_POLLS
from ioc.periodic import PeriodicThread

logger = logging.getLogger(__name__)


class CursorStore(RecordSink, Protocol):
    def get_cursor(self, source: str) -> str | None: ...

    def set_cursor(self, source: str, cursor: str) -> None: ...


class PollError(Exception):
    """One attempt failed; the message says why (safe to log: no credentials)."""


class PullConnector(PeriodicThread):
    def __init__(
        self, source: PullSource, store: CursorStore, *, env: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"kpi-pull-{source.id}", source.interval_seconds)
        self.source = source
        self._store = store
        self._env = os.environ if env is None else env

    def run_once(self) -> IngestResult | None:
        return self.poll()

    def poll(self) -> IngestResult | None:
        """One poll with its retries; the result, or None when every attempt failed."""
        delay = self.source.backoff_seconds
        for attempt in range(self.source.retries + 1):
            try:
                result = self._attempt()
            except PollError as exc:
                KPI_POLLS.labels(self.source.id, "failed").inc()
                logger.warning("source %s: poll attempt %d failed: %s", self.source.id, attempt + 1, exc)
                if attempt == self.source.retries or self._stop.wait(delay):
                    return None
                delay *= 2
                continue
            KPI_POLLS.labels(self.source.id, "ok").inc()
            return result
        return None

    def _attempt(self) -> IngestResult:
        cursor = self._store.get_cursor(self.source.id)
        items = self._fetch(cursor)
        if self.source.format == "open311":
            items = [from_open311(i) for i in items]
        result = ingest(self._store, self.source.id, self.source.kind, items)
        newest = result.newest_updated_at
        if newest is not None and (cursor is None or newest > datetime.fromisoformat(cursor)):
            self._store.set_cursor(self.source.id, newest.isoformat())
        return result

    def _fetch(self, cursor: str | None) -> list[Any]:
        params = {self.source.cursor_param: cursor} if cursor else {}
        try:
            response = httpx.get(
                self.source.url, params=params, headers=self._headers(), timeout=self.source.timeout_seconds
            )
        except httpx.TimeoutException:
            raise PollError(f"no answer within {self.source.timeout_seconds} s") from None
        except httpx.HTTPError as exc:
            raise PollError(f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise PollError(f"HTTP {response.status_code} from {self.source.url}")
        try:
            body = response.json()
        except ValueError as exc:
            raise PollError(f"response is not JSON: {exc}") from None
        items = body.get(self.source.items_key) if self.source.items_key and isinstance(body, dict) else body
        if not isinstance(items, list):
            where = f"under {self.source.items_key!r}" if self.source.items_key else "at the top level"
            raise PollError(f"expected a JSON list of records {where}, got {type(items).__name__}")
        return items

    def _headers(self) -> dict[str, str]:
        if self.source.auth_env is None:
            return {}
        value = self._env.get(self.source.auth_env)
        if not value:
            raise PollError(f"environment variable {self.source.auth_env} (auth_env) is not set")
        return {self.source.auth_header: value}
