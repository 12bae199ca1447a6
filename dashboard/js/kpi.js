// KPI panel: one block per source, fed by `kpi` messages on /ws (and GET /api/kpi at start).
// Each card keeps a sparkline of its values over the session. Public-service and field-report
// blocks add their tables (REST, refreshed when their snapshot arrives, at most every 15 s):
// on-time rate per agency worst first, the overdue list, field reports by category, and each
// indicator against its target with its trend over the latest periods.
// Per-category operations snapshots ("operations.traffic") are shown only when the all-category
// "operations" one is not (a role that sees everything gets one block, a traffic user theirs).
import * as api from "./api.js";
import { byId, h, replaceChildren, svg } from "./dom.js";
import { fmtNumber, fmtTime } from "./format.js";
import { label, localized, t } from "./i18n.js";

const DETAIL_REFRESH_MS = 15_000;
const SPARK_POINTS = 30;
const DETAILS = {
  public_service: async () => ({ agencies: await api.kpiAgencies(), overdue: await api.kpiOverdue() }),
  field_report: async () => ({ categories: await api.kpiReportCategories() }),
  indicators: async () => ({ indicators: await api.kpiIndicators() }),
};

export class KpiPanel {
  constructor(state) {
    this.state = state;
    this.box = byId("kpi");
    this.history = new Map();
    this.details = new Map();
    this.fetchedAt = new Map();
    state.on("kpi", (snap) => {
      this.remember(snap);
      this.refreshDetails(snap.source);
      this.render();
    });
  }

  remember(snap) {
    for (const v of snap.values ?? []) {
      const key = `${snap.source}/${v.key}`;
      const points = this.history.get(key) ?? [];
      if (typeof v.value === "number") points.push(v.value);
      this.history.set(key, points.slice(-SPARK_POINTS));
    }
  }

  async refreshDetails(source) {
    const fetcher = DETAILS[source];
    if (!fetcher || Date.now() - (this.fetchedAt.get(source) ?? 0) < DETAIL_REFRESH_MS) return;
    this.fetchedAt.set(source, Date.now());
    try {
      this.details.set(source, await fetcher());
      this.render();
    } catch (err) {
      console.warn(`ioc: KPI details for ${source}:`, err.message);
    }
  }

  render() {
    const all = [...this.state.kpis.values()];
    for (const snap of all) if (!this.fetchedAt.has(snap.source)) this.refreshDetails(snap.source);
    const hasTotal = all.some((s) => s.source === "operations");
    const snapshots = all
      .filter((s) => !(hasTotal && s.source.startsWith("operations.")))
      .sort((a, b) => a.source.localeCompare(b.source));
    if (snapshots.length === 0) {
      replaceChildren(this.box, [h("p", { class: "kpi-none", "data-testid": "kpi-none", text: t("kpi.none") })]);
      return;
    }
    replaceChildren(this.box, snapshots.map((s) => this.sourceBlock(s)));
  }

  sourceBlock(snap) {
    return h(
      "section",
      { class: "kpi-source", "data-testid": "kpi-source", "data-source": snap.source },
      h("div", { class: "kpi-source-title" },
        h("span", { text: sourceTitle(snap.source) }),
        snap.demo ? h("span", { class: "kpi-demo", "data-testid": "kpi-demo", text: t("kpi.demo") }) : null,
        h("span", { text: fmtTime(snap.at) })),
      h("div", { class: "kpi-cards" }, ...(snap.values ?? []).map((v) => card(v, this.history.get(`${snap.source}/${v.key}`)))),
      ...(snap.warnings ?? []).map((w) => h("div", { class: "kpi-warning", "data-testid": "kpi-warning",
        text: `⚠ ${localized(w)}` })),
      ...detailBlocks(snap.source, this.details.get(snap.source)),
    );
  }
}

function sourceTitle(source) {
  const [base, category] = source.split(".");
  return category ? `${label("kpisource", base)} — ${label("category", category)}` : label("kpisource", source);
}

/** A KPI unit in the wall's language ("min" → "phút"); others ("%", "km/h") as written. */
export function unitText(unit) {
  return t(`unit.${unit}`, {}, unit);
}

function card(value, points) {
  const digits = Math.abs(value.value ?? 0) >= 100 ? 0 : 1;
  return h(
    "div",
    { class: `kpi-card${value.warning ? " warn" : ""}`, "data-testid": "kpi-value", "data-key": value.key,
      "data-warning": value.warning ? "true" : "false" },
    h("div", { class: "kpi-label", text: localized(value.label) }),
    h("div", { class: "kpi-value" }, fmtNumber(value.value, digits),
      value.unit && value.value !== null && value.value !== undefined
        ? h("span", { class: "kpi-unit", text: unitText(value.unit) }) : null),
    sparkline(points),
  );
}

/** A small trend line of the values seen this session (nothing until there are two). */
export function sparkline(points) {
  if (!points || points.length < 2) return null;
  const lo = Math.min(...points);
  const span = Math.max(...points) - lo || 1;
  const xy = points.map((p, i) => `${(i / (points.length - 1)) * 100},${22 - ((p - lo) / span) * 20}`);
  return svg("svg", { class: "kpi-spark", "data-testid": "kpi-spark", viewBox: "0 0 100 24",
    preserveAspectRatio: "none" }, svg("polyline", { points: xy.join(" ") }));
}

function detailBlocks(source, details) {
  if (!details) return [];
  if (source === "public_service") return [agencyList(details.agencies), overdueList(details.overdue)];
  if (source === "field_report") return [categoryList(details.categories)];
  if (source === "indicators") return [indicatorList(details.indicators)];
  return [];
}

/** Agencies by on-time rate this month, worst first (agencies with nothing settled last). */
export function worstFirst(groups) {
  return Object.entries(groups ?? {})
    .map(([agency, k]) => ({ agency, rate: k.on_time_rate, overdue: k.open_overdue }))
    .sort((a, b) => (a.rate ?? 101) - (b.rate ?? 101) || b.overdue - a.overdue || a.agency.localeCompare(b.agency));
}

function agencyList(data) {
  const rows = worstFirst(data?.groups).slice(0, 6);
  if (rows.length === 0) return null;
  return h("div", { class: "kpi-table", "data-testid": "kpi-agencies" },
    h("div", { class: "kpi-table-title", text: t("kpi.agencies") }),
    ...rows.map((r) => h("div", { class: "kpi-row", "data-testid": "kpi-agency", "data-agency": r.agency },
      h("span", { class: "kpi-row-name", text: r.agency }),
      h("span", { class: `kpi-row-value${r.rate !== null && r.rate < 90 ? " warn" : ""}`,
        text: r.rate === null ? "—" : `${fmtNumber(r.rate, 1)}%` }))));
}

function overdueList(rows) {
  if (!rows || rows.length === 0) return null;
  return h("div", { class: "kpi-table", "data-testid": "kpi-overdue" },
    h("div", { class: "kpi-table-title", text: t("kpi.overdue") }),
    ...rows.map((r) => h("div", { class: "kpi-row", "data-testid": "kpi-overdue-row" },
      h("span", { class: "kpi-row-name", text: `${r.id} · ${r.agency}` }),
      h("span", { class: "kpi-row-value warn", text: t("kpi.overdue_hours", { hours: fmtNumber(r.overdue_hours, 1) }) }))));
}

function categoryList(data) {
  const rows = Object.entries(data?.groups ?? {}).sort((a, b) => b[1].backlog - a[1].backlog).slice(0, 6);
  if (rows.length === 0) return null;
  return h("div", { class: "kpi-table", "data-testid": "kpi-report-categories" },
    h("div", { class: "kpi-table-title", text: t("kpi.report_categories") }),
    ...rows.map(([code, k]) => h("div", { class: "kpi-row", "data-testid": "kpi-report-category" },
      h("span", { class: "kpi-row-name", text: code }),
      h("span", { class: `kpi-row-value${k.overdue_open ? " warn" : ""}`,
        text: t("kpi.backlog_overdue", { backlog: k.backlog, overdue: k.overdue_open }) }))));
}

function indicatorList(rows) {
  if (!rows || rows.length === 0) return null;
  return h("div", { class: "kpi-table", "data-testid": "kpi-indicators" },
    h("div", { class: "kpi-table-title", text: t("kpi.indicators") }),
    ...rows.map((r) => h("div", { class: "kpi-row kpi-indicator", "data-testid": "kpi-indicator",
      "data-indicator": r.indicator },
      h("span", { class: "kpi-row-name", text: `${r.name || r.indicator} (${r.period})` }),
      h("span", { class: `kpi-row-value${r.target !== null && r.value < r.target ? " warn" : ""}`,
        text: `${fmtNumber(r.value, 1)} / ${fmtNumber(r.target, 1)} ${unitText(r.unit)}` }),
      sparkline(r.trend))));
}
