"""KPI records and pull cursors in the SQL store (both engines, same SQL).

``kpi_records`` holds the latest version of each record, keyed by (source, id): storing a record
again replaces it unless the stored one is newer (by ``updated_at``), so a retried or replayed
batch never duplicates or rolls back anything. A dossier's row also carries the columns its KPIs
are counted from (:mod:`ioc.store.kpi_dossiers`). ``kpi_cursors`` keeps each pull source's
updated-since cursor, so a restart resumes where the last successful poll ended.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ioc.config.kpi_models import RecordKind
from ioc.kpi.records import MODELS, Dossier, Record
from ioc.store.kpi_dossiers import DOSSIER_COLUMNS, DossierQueries, fact_values


@dataclass(frozen=True, slots=True)
class StoredRecord:
    source: str
    kind: RecordKind
    record: Record


def kpi_schema() -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS kpi_records (
            source TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL,
            updated_ts DOUBLE PRECISION NOT NULL, body TEXT NOT NULL, PRIMARY KEY (source, id))""",
        "CREATE INDEX IF NOT EXISTS kpi_records_kind ON kpi_records (kind, updated_ts)",
        """CREATE TABLE IF NOT EXISTS kpi_cursors (
            source TEXT PRIMARY KEY, cursor TEXT NOT NULL, updated_ts DOUBLE PRECISION NOT NULL)""",
    ]


_D_NAMES = ", ".join(n for n, _ in DOSSIER_COLUMNS)
_UPSERT = f"""INSERT INTO kpi_records (source, id, kind, updated_ts, body, {_D_NAMES})
    VALUES (?, ?, ?, ?, ?, {", ".join("?" for _ in DOSSIER_COLUMNS)})
    ON CONFLICT (source, id) DO UPDATE SET kind = excluded.kind, updated_ts = excluded.updated_ts,
        body = excluded.body, {", ".join(f"{n} = excluded.{n}" for n, _ in DOSSIER_COLUMNS)}
    WHERE kpi_records.updated_ts <= excluded.updated_ts"""


class KpiTables(DossierQueries):
    """Mixed into ``SqlStore``, which provides ``_q``, ``_many``, ``_tx`` and ``_lock``."""

    _lock: threading.RLock

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def upsert_records(self, source: str, kind: RecordKind, records: Sequence[Record]) -> int:
        """Store ``records`` in one transaction; returns how many were new or newer (a record
        older than the stored version of its (source, id) is skipped, an equal one replaces it)."""
        rows = [
            (
                source,
                r.id,
                kind.value,
                r.updated_at.timestamp(),
                r.model_dump_json(),
                *fact_values(self._facts(r) if isinstance(r, Dossier) else None),
            )
            for r in records
        ]
        with self._tx():
            return self._many(_UPSERT, rows) if rows else 0

    def kpi_records(self, kind: RecordKind, source: str | None = None) -> list[StoredRecord]:
        """Every stored record of ``kind`` (of one source when given), oldest update first."""
        sql = "SELECT source, body FROM kpi_records WHERE kind = ?"
        params: list[Any] = [kind.value]
        if source is not None:
            sql += " AND source = ?"
            params.append(source)
        with self._lock:
            rows = self._q(sql + " ORDER BY updated_ts, source, id", params)
        model = MODELS[kind]
        return [StoredRecord(r[0], kind, model.model_validate_json(r[1])) for r in rows]

    def iter_kpi_records(self, kind: RecordKind) -> Iterator[StoredRecord]:
        yield from self.kpi_records(kind)

    def has_source_records(self, kind: RecordKind, source: str) -> bool:
        """Whether ``source`` has a record of ``kind`` (through the (source, id) key: ``kind || ''``
        keeps SQLite off the kind index, which would walk every record of the kind)."""
        with self._lock:
            return bool(
                self._q(
                    "SELECT 1 FROM kpi_records WHERE source = ? AND kind || '' = ? LIMIT 1",
                    (source, kind.value),
                )
            )

    def count_kpi_records(self, kind: RecordKind) -> int:
        with self._lock:
            rows = self._q("SELECT COUNT(*) FROM kpi_records WHERE kind = ?", (kind.value,))
        return int(rows[0][0])

    def get_cursor(self, source: str) -> str | None:
        with self._lock:
            rows = self._q("SELECT cursor FROM kpi_cursors WHERE source = ?", (source,))
        return str(rows[0][0]) if rows else None

    def set_cursor(self, source: str, cursor: str) -> None:
        with self._tx():
            self._q(
                """INSERT INTO kpi_cursors (source, cursor, updated_ts) VALUES (?, ?, ?)
                   ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor,
                       updated_ts = excluded.updated_ts""",
                (source, cursor, datetime.now(UTC).timestamp()),
            )
