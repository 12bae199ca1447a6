// Alert detail (modal): large snapshot, every field, the message in the current language, history,
// and ack / assign / resolve. After an action the record the server returns is merged into the
// state, so the feed and this view show who did it and when.
import * as api from "./api.js";
import { byId, h, replaceChildren } from "./dom.js";
import { detailChip, statusText } from "./feed.js";
import { fmtDateTime, fmtNumber, fmtValue } from "./format.js";
import { label, localized, t } from "./i18n.js";

/** Roles the server lets ack / assign / resolve (ioc/api/auth.py ACTING_ROLES). */
const ACTING_ROLES = new Set(["admin", "operator"]);

export class AlertDetail {
  constructor(state, user) {
    this.state = state;
    this.user = user;
    this.dialog = byId("detail");
    this.alertId = null;
    this.history = [];
    this.error = "";
    this.busy = false;
    this.draft = { assignee: null, note: "" }; // typed text survives re-renders
    this.dialog.addEventListener("close", () => {
      this.alertId = null;
    });
    this.dialog.addEventListener("click", (e) => {
      if (e.target === this.dialog) this.dialog.close(); // click on the backdrop
    });
    state.on("alert", ({ alert }) => {
      if (alert.id === this.alertId) this.render();
    });
  }

  get isOpen() {
    return this.alertId !== null;
  }

  async open(alertId) {
    this.alertId = alertId;
    this.history = [];
    this.error = "";
    this.draft = { assignee: null, note: "" };
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
    await this.loadHistory(alertId);
  }

  async loadHistory(alertId) {
    try {
      const data = await api.alertDetail(alertId);
      if (alertId !== this.alertId) return;
      if (data.alert) this.state.mergeAlert(data.alert);
      this.history = Array.isArray(data.history) ? data.history : [];
    } catch (err) {
      if (alertId !== this.alertId) return;
      this.error = t("action.failed", { msg: err.detail ?? err.message });
    }
    this.render();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  async act(action, body = {}) {
    const id = this.alertId;
    if (!id || this.busy) return;
    this.busy = true;
    this.error = "";
    this.render();
    try {
      const result = await api.alertAction(id, action, body);
      const updated = result && result.alert ? result.alert : result;
      if (updated && updated.id === id) this.state.mergeAlert(updated);
      this.busy = false;
      await this.loadHistory(id);
    } catch (err) {
      this.busy = false;
      this.error = t("action.failed", { msg: err.detail ?? err.message });
      this.render();
    }
  }

  render() {
    const alert = this.state.alerts.get(this.alertId);
    if (!alert) return;
    const head = h(
      "header",
      { class: "detail-head" },
      h("span", { class: `chip chip-${alert.severity}`, text: label("severity", alert.severity) }),
      h("h2", { text: `${label("rule", alert.rule_type)} — ${this.state.cameraName(alert.camera_id)}` }),
      h("span", { class: `chip chip-status-${alert.status}`, "data-testid": "detail-status",
        text: statusText(alert) }),
      h("button", { type: "button", class: "btn", text: t("detail.close"), "data-testid": "detail-close",
        onclick: () => this.close() }),
    );
    const left = h(
      "div",
      {},
      snapshot(alert),
      h("p", { class: "detail-message", "data-testid": "detail-message", text: localized(alert.message) }),
      detailChip(alert),
    );
    const right = h(
      "div",
      {},
      this.actions(alert),
      fields(alert, this.state),
      h("div", { class: "section-title", text: t("detail.history") }),
      historyList(this.history),
    );
    replaceChildren(this.dialog, [head, h("div", { class: "detail-body" }, left, right)]);
  }

  actions(alert) {
    const done = [];
    const canAct = ACTING_ROLES.has(this.user.role);
    if (alert.acknowledged_by) {
      done.push(t("done.ack", { user: alert.acknowledged_by, at: fmtDateTime(alert.acknowledged_at) }));
    }
    if (alert.assigned_to) done.push(t("done.assign", { user: alert.assigned_to }));
    if (alert.resolved_by) {
      done.push(t("done.resolve", { user: alert.resolved_by, at: fmtDateTime(alert.resolved_at) }));
    }
    const resolved = alert.status === "resolved";
    if (!canAct) {
      return h("div", { class: "actions" },
        ...done.map((text) => h("div", { class: "action-done", "data-testid": "action-done", text })),
        h("div", { class: "health-reason", "data-testid": "action-readonly",
          text: t("action.readonly", { role: label("role", this.user.role) }) }));
    }
    const assignee = h("input", { placeholder: t("action.assignee"), "data-testid": "assign-input",
      oninput: (e) => { this.draft.assignee = e.target.value; } });
    assignee.value = this.draft.assignee ?? alert.assigned_to ?? "";
    const note = h("input", { placeholder: t("action.note"), "data-testid": "resolve-note",
      oninput: (e) => { this.draft.note = e.target.value; } });
    note.value = this.draft.note;
    return h(
      "div",
      { class: "actions" },
      ...done.map((text) => h("div", { class: "action-done", "data-testid": "action-done", text })),
      h("div", { class: "action-row" },
        h("button", { type: "button", class: "btn btn-primary", "data-testid": "action-ack",
          text: t("action.ack"), disabled: this.busy || alert.status !== "new",
          onclick: () => this.act("ack") })),
      h("div", { class: "action-row" }, assignee,
        h("button", { type: "button", class: "btn", "data-testid": "action-assign", text: t("action.assign"),
          disabled: this.busy || resolved,
          onclick: () => assignee.value.trim() && this.act("assign", { assignee: assignee.value.trim() }) })),
      h("div", { class: "action-row" }, note,
        h("button", { type: "button", class: "btn", "data-testid": "action-resolve", text: t("action.resolve"),
          disabled: this.busy || resolved,
          onclick: () => this.act("resolve", note.value.trim() ? { note: note.value.trim() } : {}) })),
      this.error ? h("div", { class: "action-error", "data-testid": "action-error", text: this.error }) : null,
    );
  }
}

function snapshot(alert) {
  if (!alert.snapshot_url) return h("div", { class: "detail-nosnap", text: t("detail.nosnapshot") });
  return h("img", { class: "detail-snapshot", src: alert.snapshot_url, alt: "", "data-testid": "detail-snapshot" });
}

function fields(alert, state) {
  const rows = [
    ["field.camera", `${state.cameraName(alert.camera_id)} (${alert.camera_id})`],
    ["field.rule", alert.rule_id],
    ["field.rule_type", label("rule", alert.rule_type)],
    ["field.severity", label("severity", alert.severity)],
    ["field.category", label("category", alert.category)],
    ["field.state", label("state", alert.state)],
    ["field.status", label("status", alert.status)],
    ["field.started_at", fmtDateTime(alert.started_at)],
    ["field.updated_at", fmtDateTime(alert.updated_at)],
    ["field.ended_at", alert.ended_at ? fmtDateTime(alert.ended_at) : null],
    ["field.object_class", alert.object_class ? label("obj", alert.object_class) : null],
    ["field.confidence", alert.confidence != null ? `${fmtNumber(alert.confidence * 100, 0)} %` : null],
    ["field.track_id", alert.track_id],
    ["field.zone_id", alert.zone_id],
    ["field.line_id", alert.line_id],
    ["field.direction", alert.direction ? label("dir", alert.direction) : null],
    ["field.value", alert.value != null ? fmtValue(alert.value, alert.value_unit) : null],
    ["field.id", alert.id],
    ["field.seq", alert.seq],
  ];
  const items = [];
  for (const [key, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    items.push(h("dt", { text: t(key) }), h("dd", { text: String(value) }));
  }
  return h("dl", { class: "fields", "data-testid": "detail-fields" }, ...items);
}

/**
 * Oldest first. An ack / assign / resolve re-publishes the alert's record, which the store also
 * files as a "message" row with the same state and time as the one before; show that event once.
 */
export function dedupeHistory(rows) {
  const sorted = [...rows].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || (a.seq ?? 0) - (b.seq ?? 0));
  const seen = new Set();
  return sorted.filter((row) => {
    if (row.action !== "message") return true;
    const key = `${row.detail?.state}|${row.at}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** History rows from the store: {action: message|ack|assign|resolve, at, seq, actor, detail}. */
function historyList(rows) {
  const history = dedupeHistory(rows);
  if (history.length === 0) return h("p", { class: "health-reason", text: t("detail.nohistory") });
  return h(
    "ol",
    { class: "history", "data-testid": "detail-history" },
    ...history.map((entry) => {
      const detail = entry.detail ?? {};
      const parts = [label("hist", entry.action)];
      if (detail.state) parts.push(label("state", detail.state));
      if (entry.actor) parts.push(entry.actor);
      if (detail.assignee) parts.push(`→ ${detail.assignee}`);
      if (detail.note) parts.push(`“${detail.note}”`);
      return h("li", { "data-action": entry.action },
        h("time", { text: fmtDateTime(entry.at) }), h("span", { text: parts.join(" · ") }));
    }),
  );
}
