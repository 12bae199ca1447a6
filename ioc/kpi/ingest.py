"""Take a batch of raw records from a source: validate each one, keep the valid, refuse the rest.

One invalid record never costs the others: each is validated on its own, the valid ones are
stored in one transaction (idempotent by (source, id)), and each refusal is reported with the
record's position, its id when it has one, and every reason. ``ioc_kpi_records_total`` counts
``accepted`` and ``refused`` records per source.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from ioc.config.kpi_models import RecordKind
from ioc.kpi.records import Record, raw_id, validate_record
from ioc.messages import WireModel
from ioc.metrics import KPI_RECORDS

logger = logging.getLogger(__name__)
MAX_BATCH = 5000


class RecordSink(Protocol):
    """Where records are kept (the SQL store implements it)."""

    def upsert_records(self, source: str, kind: RecordKind, records: Sequence[Record]) -> int: ...


class Refusal(WireModel):
    index: int
    id: str | None
    reasons: tuple[str, ...]


class IngestResult(WireModel):
    source: str
    accepted: int
    refused: tuple[Refusal, ...]
    newest_updated_at: datetime | None = None


def ingest(sink: RecordSink, source: str, kind: RecordKind, raw: Sequence[Any]) -> IngestResult:
    """Validate and store ``raw``; the result lists what was refused and why."""
    good: list[Record] = []
    refused: list[Refusal] = []
    for index, item in enumerate(raw):
        checked = validate_record(kind, item)
        if isinstance(checked, Record):
            good.append(checked)
        else:
            refused.append(Refusal(index=index, id=raw_id(item), reasons=tuple(checked)))
    if good:
        sink.upsert_records(source, kind, good)
    KPI_RECORDS.labels(source, "accepted").inc(len(good))
    KPI_RECORDS.labels(source, "refused").inc(len(refused))
    if refused:
        first = refused[0]
        logger.warning(
            "source %s: %d of %d records refused; first (#%d): %s",
            source,
            len(refused),
            len(raw),
            first.index,
            "; ".join(first.reasons),
        )
    newest = max((r.updated_at for r in good), default=None)
    return IngestResult(source=source, accepted=len(good), refused=tuple(refused), newest_updated_at=newest)
