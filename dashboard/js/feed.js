// Alert feed: newest first, severity colours, snapshot thumbnails; a click opens the detail.
import { byId, h, replaceChildren } from "./dom.js";
import { fmtAgo, fmtNumber, fmtTime, fmtValue } from "./format.js";
import { label, localized, t } from "./i18n.js";
import { openAlertCount } from "./state.js";

const SHOWN = 60;

export class AlertFeed {
  constructor(state, onOpen) {
    this.state = state;
    this.onOpen = onOpen;
    this.list = byId("feed");
    this.count = byId("feed-count");
    this.pending = false;
    this.thumbs = new Map(); // snapshot url -> <img>, reused so re-renders never reload pictures
    state.on("alert", () => this.schedule());
    state.on("cameras", () => this.schedule());
    state.on("kpi", () => this.renderCount());
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render() {
    const alerts = this.state.sortedAlerts();
    this.renderCount();
    if (alerts.length === 0) {
      replaceChildren(this.list, [h("li", { class: "feed-empty", text: t("feed.empty") })]);
      return;
    }
    const shown = alerts.slice(0, SHOWN);
    const used = new Set(shown.map((a) => a.snapshot_url).filter(Boolean));
    for (const url of this.thumbs.keys()) if (!used.has(url)) this.thumbs.delete(url);
    replaceChildren(this.list, shown.map((a) => this.item(a)));
  }

  /** All open alerts as the server counts them, not just the loaded page. */
  renderCount() {
    const open = openAlertCount(this.state.kpis);
    this.count.textContent = t("feed.count", { n: fmtNumber(open, 0) });
  }

  thumbnail(alert) {
    const url = alert.snapshot_url;
    if (!url) return h("div", { class: "thumb thumb-missing", text: t("detail.nosnapshot") });
    if (!this.thumbs.has(url)) {
      this.thumbs.set(url, h("img", {
        class: "thumb", src: url, alt: "", decoding: "async", "data-testid": "alert-thumb",
      }));
    }
    return this.thumbs.get(url);
  }

  item(alert) {
    const open = () => this.onOpen(alert.id);
    return h(
      "li",
      {
        class: "alert-item",
        tabindex: "0",
        role: "button",
        "data-testid": "alert-item",
        "data-alert-id": alert.id,
        "data-severity": alert.severity,
        "data-status": alert.status,
        onclick: open,
        onkeydown: (e) => (e.key === "Enter" || e.key === " ") && open(),
      },
      h("span", { class: "sev-bar", "aria-hidden": "true" }),
      this.thumbnail(alert),
      h(
        "div",
        { class: "alert-body" },
        h(
          "div",
          { class: "alert-head" },
          h("span", { class: "alert-type", "data-testid": "alert-type", text: label("rule", alert.rule_type) }),
          h("span", { class: "alert-time", text: fmtTime(alert.started_at) }),
        ),
        h(
          "div",
          { class: "alert-meta" },
          h("span", { class: `chip chip-${alert.severity}`, text: label("severity", alert.severity) }),
          h("span", { "data-testid": "alert-camera", text: this.state.cameraName(alert.camera_id) }),
          detailChip(alert),
          h("span", { text: fmtAgo(alert.started_at) }),
          h("span", {
            class: `chip chip-status-${alert.status}`,
            "data-testid": "alert-status",
            text: statusText(alert),
          }),
        ),
        h("div", { class: "alert-msg", text: localized(alert.message) }),
      ),
    );
  }
}

/** Direction of a line crossing, or the measured value (dwell seconds, count, km/h). */
export function detailChip(alert) {
  const parts = [];
  if (alert.direction) parts.push(`${label("dir", alert.direction)} ${alert.direction === "in" ? "→" : "←"}`);
  if (alert.value !== null && alert.value !== undefined) parts.push(fmtValue(alert.value, alert.value_unit));
  if (parts.length === 0) return null;
  return h("span", { class: "chip chip-value", "data-testid": "alert-value", text: parts.join(" · ") });
}

export function statusText(alert) {
  if (alert.status === "acknowledged" && alert.acknowledged_by) {
    return `${label("status", alert.status)} · ${alert.acknowledged_by}`;
  }
  if (alert.status === "resolved" && alert.resolved_by) {
    return `${label("status", alert.status)} · ${alert.resolved_by}`;
  }
  return label("status", alert.status);
}
