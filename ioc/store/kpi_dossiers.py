"""Dossier KPIs counted by SQL (both engines, same SQL), exactly as :mod:`ioc.kpi.dossiers` defines them.

Each dossier row of ``kpi_records`` carries its :class:`~ioc.kpi.facts.DossierFacts` in ``d_*``
columns, written with the record. The working-hours part is settled before any query runs:

- early / on time / late is the stored ``d_outcome``, computed with the rules named in
  ``d_rules``; :meth:`DossierQueries.ensure_dossier_facts` recomputes the rows written under other
  rules or none (an older database, a changed calendar) before it counts;
- overdue and near due compare ``d_due_ts`` with the two instants of
  :func:`~ioc.kpi.facts.bounds_at`, computed once per call.

Every count walks an index range (received in the period, settled in the period, open now), not
the whole table: a refresh costs what happened in the period plus what is open, not the history.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, cast

from ioc.kpi.dossiers import DossierKpis, DossierRules, GroupBy, Period
from ioc.kpi.facts import DossierFacts, Phase, bounds_at, facts_of, rules_key
from ioc.kpi.records import Dossier

DOSSIER_COLUMNS = (
    ("d_status", "INTEGER"),
    ("d_phase", "TEXT"),
    ("d_agency", "TEXT"),
    ("d_field", "TEXT"),
    ("d_procedure", "TEXT"),
    ("d_channel", "TEXT"),
    ("d_received_ts", "DOUBLE PRECISION"),
    ("d_due_ts", "DOUBLE PRECISION"),
    ("d_finished_ts", "DOUBLE PRECISION"),
    ("d_outcome", "TEXT"),
    ("d_rules", "TEXT"),
)
GROUP_COLUMNS: dict[GroupBy, str] = {"agency": "d_agency", "field": "d_field", "procedure": "d_procedure"}
BACKFILL_BATCH = 5000


def dossier_indexes() -> list[str]:
    """Created after the columns exist (an older database gets them by ``ALTER TABLE`` first). The
    three range indexes also carry what the per-agency counts read (covering: no table lookups)."""
    return [
        "CREATE INDEX IF NOT EXISTS kpi_d_received ON kpi_records (d_received_ts, d_agency, d_channel)",
        """CREATE INDEX IF NOT EXISTS kpi_d_finished
           ON kpi_records (d_phase, d_finished_ts, d_received_ts, d_agency, d_outcome)""",
        """CREATE INDEX IF NOT EXISTS kpi_d_due
           ON kpi_records (d_phase, d_due_ts, d_agency, d_finished_ts, d_received_ts)""",
        "CREATE INDEX IF NOT EXISTS kpi_d_rules ON kpi_records (kind, d_rules)",
        "CREATE INDEX IF NOT EXISTS kpi_d_agency ON kpi_records (d_agency)",
        "CREATE INDEX IF NOT EXISTS kpi_d_field ON kpi_records (d_field)",
        "CREATE INDEX IF NOT EXISTS kpi_d_procedure ON kpi_records (d_procedure)",
    ]


def fact_values(f: DossierFacts | None) -> tuple[Any, ...]:
    """The ``d_*`` column values, in ``DOSSIER_COLUMNS`` order (all NULL for other kinds)."""
    if f is None:
        return (None,) * len(DOSSIER_COLUMNS)
    return (
        f.status,
        f.phase.value,
        f.agency,
        f.field,
        f.procedure,
        f.channel,
        f.received_ts,
        f.due_ts,
        f.finished_ts,
        f.outcome,
        f.rules_key,
    )


class DossierQueries:
    """Mixed into ``SqlStore``, which provides ``_q``, ``_many``, ``_tx`` and ``_lock``."""

    _lock: threading.RLock
    _dossier_rules: tuple[DossierRules, str] | None = None

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        raise NotImplementedError

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _facts(self, d: Dossier) -> DossierFacts:
        rules = self._dossier_rules
        return facts_of(d, rules[0], rules[1]) if rules else facts_of(d, None)

    def use_dossier_rules(self, rules: DossierRules) -> None:
        """Compute the outcome of every dossier stored from now on with ``rules``."""
        with self._lock:
            self._dossier_rules = (rules, rules_key(rules))

    def ensure_dossier_facts(self, rules: DossierRules) -> int:
        """Use ``rules`` for the dossiers stored from now on, and recompute the facts of those
        stored under other rules or none. Returns how many rows were recomputed."""
        key = rules_key(rules)
        with self._lock:
            self._dossier_rules = (rules, key)
        done = 0
        sets = ", ".join(f"{name} = ?" for name, _ in DOSSIER_COLUMNS)
        stale = (("d_rules IS NULL", ()), ("d_rules < ?", (key,)), ("d_rules > ?", (key,)))
        for clause, params in stale:  # each one range of the (kind, d_rules) index
            while True:
                with self._lock:
                    rows = self._q(
                        f"SELECT source, id, updated_ts, body FROM kpi_records WHERE kind = 'dossier' "
                        f"AND {clause} LIMIT ?",
                        (*params, BACKFILL_BATCH),
                    )
                    if not rows:
                        break
                    updates = [
                        (*fact_values(facts_of(Dossier.model_validate_json(b), rules, key)), source, rid, upd)
                        for source, rid, upd, b in rows
                    ]
                    with self._tx():  # only the version read: a newer one written meanwhile has its own
                        self._many(
                            f"UPDATE kpi_records SET {sets} WHERE source = ? AND id = ? AND updated_ts = ?",
                            updates,
                        )
                done += len(rows)
        return done

    def dossier_kpi_groups(
        self,
        period: Period,
        now: datetime,
        rules: DossierRules,
        by: GroupBy | None = None,
        agency: str | None = None,
    ) -> dict[str, DossierKpis]:
        """The KPIs per ``by`` group (one group ``""`` without ``by``), of ``agency``'s dossiers
        when given: what :func:`~ioc.kpi.dossiers.compute_by` / ``compute`` give for the same
        dossiers, every group that has a dossier included."""
        self.ensure_dossier_facts(rules)
        col = GROUP_COLUMNS[by] if by else None
        where, params = (" AND d_agency = ?", [agency]) if agency is not None else ("", [])
        start, end = period.start.timestamp(), period.end.timestamp()
        with self._lock:
            groups = {k: DossierKpis() for k in self._group_names(col, agency)}
            for k, channel, n in self._grouped(
                col, "d_channel", f"d_received_ts >= ? AND d_received_ts < ?{where}", [start, end, *params]
            ):
                groups[k].received += n
                groups[k].received_by_channel[channel] += n
            for k, outcome, n in self._grouped(
                col,
                "d_outcome",
                f"d_phase = 'finished' AND d_finished_ts >= ? AND d_finished_ts < ?{where}",
                [start, end, *params],
            ):
                setattr(groups[k], outcome, getattr(groups[k], outcome) + n)
            for k, n in self._carried_over(col, start, where, params):
                groups[k].carried_over += n
            self._count_open(groups, col, now, rules, where, params)
        return dict(sorted(groups.items()))

    def _group_names(self, col: str | None, agency: str | None) -> list[str]:
        if col is None:
            return [""]
        if agency is not None:
            rows = self._q(f"SELECT DISTINCT {col} FROM kpi_records WHERE d_agency = ?", (agency,))
        else:  # a loose index scan: one index probe per group instead of reading every row
            rows = self._q(
                f"""WITH RECURSIVE g(v) AS (
                        SELECT MIN({col}) FROM kpi_records
                        UNION ALL
                        SELECT (SELECT MIN({col}) FROM kpi_records WHERE {col} > g.v) FROM g
                        WHERE g.v IS NOT NULL)
                    SELECT v FROM g WHERE v IS NOT NULL"""
            )
        return [str(r[0]) for r in rows]

    def _grouped(
        self, col: str | None, second: str, where: str, params: Sequence[Any]
    ) -> list[tuple[str, str, int]]:
        """``(group, second, count)`` rows (group ``""`` without ``col``)."""
        keys = f"{col}, {second}" if col else second
        rows = self._q(f"SELECT {keys}, COUNT(*) FROM kpi_records WHERE {where} GROUP BY {keys}", params)
        if col is None:
            return [("", str(r[0]), int(r[1])) for r in rows]
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    def _carried_over(
        self, col: str | None, start: float, where: str, params: list[Any]
    ) -> list[tuple[str, int]]:
        """Received before ``start``, not dropped, not settled before ``start``: those with no
        ``finished_at`` (open or paused) plus those with ``finished_at >= start``."""
        head = f"SELECT {col}, COUNT(*)" if col else "SELECT '', COUNT(*)"
        tail = f" GROUP BY {col}" if col else ""
        unfinished = self._q(
            f"{head} FROM kpi_records WHERE d_phase IN ('open', 'paused') AND d_finished_ts IS NULL "
            f"AND d_received_ts < ?{where}{tail}",
            [start, *params],
        )
        later = self._q(
            f"{head} FROM kpi_records WHERE d_phase IN ('open', 'paused', 'finished') "
            f"AND d_finished_ts >= ? AND d_received_ts < ?{where}{tail}",
            [start, start, *params],
        )
        return [(str(r[0]), int(r[1])) for r in [*unfinished, *later]]

    def _count_open(
        self,
        groups: dict[str, DossierKpis],
        col: str | None,
        now: datetime,
        rules: DossierRules,
        where: str,
        params: list[Any],
    ) -> None:
        b = bounds_at(now, rules)
        keys = f"{col}, d_phase" if col else "d_phase"
        rows = self._q(
            f"""SELECT {keys}, COUNT(*),
                   SUM(CASE WHEN d_due_ts < ? THEN 1 ELSE 0 END),
                   SUM(CASE WHEN d_due_ts >= ? AND d_due_ts <= ? THEN 1 ELSE 0 END)
                FROM kpi_records WHERE d_phase IN ('open', 'paused'){where} GROUP BY {keys}""",
            [b.overdue_before, b.overdue_before, b.near_due_until, *params],
        )
        for row in rows:
            k, ph, n, overdue, near = ("", *row) if col is None else row
            g = groups[str(k)]
            if ph == Phase.PAUSED.value:
                g.paused += int(n)
                continue
            g.open_overdue += int(overdue or 0)
            g.open_within_deadline += int(n) - int(overdue or 0)
            g.near_due += int(near or 0)

    def overdue_dossier_rows(
        self, now: datetime, rules: DossierRules, agency: str | None = None, limit: int | None = None
    ) -> list[tuple[str, str]]:
        """``(source, body)`` of the open overdue dossiers (of ``agency``), most overdue first
        (earliest due: working time past due never grows with a later due), then by source, id."""
        self.ensure_dossier_facts(rules)
        cutoff = bounds_at(now, rules).overdue_before
        where, params = (" AND d_agency = ?", [agency]) if agency is not None else ("", [])
        params_: list[Any] = [cutoff, *params]
        sql = (
            "SELECT source, body FROM kpi_records WHERE d_phase = 'open' AND d_due_ts < ?"
            f"{where} ORDER BY d_due_ts, source, id"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params_.append(limit)
        with self._lock:
            rows = self._q(sql, params_)
        return [(str(r[0]), str(r[1])) for r in rows]

    def flagged_dossier_rows(self, now: datetime, rules: DossierRules) -> list[tuple[str, str, bool, str]]:
        """``(source, id, overdue, body)`` of every open dossier overdue or near due at ``now``
        (``overdue`` False: near due)."""
        self.ensure_dossier_facts(rules)
        b = bounds_at(now, rules)
        with self._lock:
            rows = self._q(
                "SELECT source, id, d_due_ts, body FROM kpi_records WHERE d_phase = 'open' AND d_due_ts <= ?",
                (b.near_due_until,),
            )
        return [(str(r[0]), str(r[1]), cast(float, r[2]) < b.overdue_before, str(r[3])) for r in rows]
