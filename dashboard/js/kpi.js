// KPI panel: one block per source, fed by `kpi` messages on /ws (and GET /api/kpi at start).
import { byId, h, replaceChildren } from "./dom.js";
import { fmtNumber, fmtTime } from "./format.js";
import { label, localized, t } from "./i18n.js";

export class KpiPanel {
  constructor(state) {
    this.state = state;
    this.box = byId("kpi");
    state.on("kpi", () => this.render());
  }

  render() {
    const snapshots = [...this.state.kpis.values()].sort((a, b) => a.source.localeCompare(b.source));
    if (snapshots.length === 0) {
      replaceChildren(this.box, [h("p", { class: "kpi-none", "data-testid": "kpi-none", text: t("kpi.none") })]);
      return;
    }
    replaceChildren(this.box, snapshots.map(sourceBlock));
  }
}

function sourceBlock(snap) {
  return h(
    "section",
    { class: "kpi-source", "data-testid": "kpi-source", "data-source": snap.source },
    h("div", { class: "kpi-source-title" },
      h("span", { text: label("kpisource", snap.source) }),
      h("span", { text: fmtTime(snap.at) })),
    h("div", { class: "kpi-cards" }, ...(snap.values ?? []).map(card)),
    ...(snap.warnings ?? []).map((w) => h("div", { class: "kpi-warning", "data-testid": "kpi-warning",
      text: `⚠ ${localized(w)}` })),
  );
}

/** A KPI unit in the wall's language ("min" → "phút"); others ("%", "km/h") as written. */
export function unitText(unit) {
  return t(`unit.${unit}`, {}, unit);
}

function card(value) {
  const digits = Math.abs(value.value ?? 0) >= 100 ? 0 : 1;
  return h(
    "div",
    { class: `kpi-card${value.warning ? " warn" : ""}`, "data-testid": "kpi-value", "data-key": value.key,
      "data-warning": value.warning ? "true" : "false" },
    h("div", { class: "kpi-label", text: localized(value.label) }),
    h("div", { class: "kpi-value" }, fmtNumber(value.value, digits),
      value.unit && value.value !== null && value.value !== undefined
        ? h("span", { class: "kpi-unit", text: unitText(value.unit) }) : null),
  );
}
