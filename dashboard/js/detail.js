// Alert detail (modal): large snapshot, every field, the message in the current language, history,
// and ack / assign / resolve. After an action the record the server returns is merged into the
// state, so the feed and this view show who did it and when.
import * as api from "./api.js";
import { byId, h, replaceChildren } from "./dom.js";
import { detailChip, statusText } from "./feed.js";
import { fmtDateTime, fmtNumber, fmtValue, parseTime } from "./format.js";
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
    this.snapshotUrl = null;
    this.build();
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

  /**
   * The modal's elements are made once; render() only changes their text and state, so live
   * updates never wipe what an operator is typing or move the focus.
   */
  build() {
    const e = {};
    e.severity = h("span", { class: "chip" });
    e.title = h("h2", {});
    e.status = h("span", { class: "chip", "data-testid": "detail-status" });
    e.close = h("button", { type: "button", class: "btn", "data-testid": "detail-close", onclick: () => this.close() });
    e.snapshot = h("div", {});
    e.message = h("p", { class: "detail-message", "data-testid": "detail-message" });
    e.chip = h("div", {});
    e.done = h("div", {});
    e.ack = h("button", { type: "button", class: "btn btn-primary", "data-testid": "action-ack",
      onclick: () => this.act("ack") });
    e.assignee = h("input", { "data-testid": "assign-input" });
    e.assign = h("button", { type: "button", class: "btn", "data-testid": "action-assign",
      onclick: () => e.assignee.value.trim() && this.act("assign", { assignee: e.assignee.value.trim() }) });
    e.note = h("input", { "data-testid": "resolve-note" });
    e.resolve = h("button", { type: "button", class: "btn", "data-testid": "action-resolve",
      onclick: () => this.act("resolve", e.note.value.trim() ? { note: e.note.value.trim() } : {}) });
    const canAct = ACTING_ROLES.has(this.user.role);
    e.form = canAct
      ? h("div", { class: "actions" }, h("div", { class: "action-row" }, e.ack),
        h("div", { class: "action-row" }, e.assignee, e.assign), h("div", { class: "action-row" }, e.note, e.resolve))
      : h("div", { class: "health-reason", "data-testid": "action-readonly" });
    e.error = h("div", { class: "action-error", "data-testid": "action-error" });
    e.fields = h("div", {});
    e.historyTitle = h("div", { class: "section-title" });
    e.history = h("div", {});
    this.el = e;
    const head = h("header", { class: "detail-head" }, e.severity, e.title, e.status, e.close);
    const left = h("div", {}, e.snapshot, e.message, e.chip);
    const right = h("div", {}, e.done, e.form, e.error, e.fields, e.historyTitle, e.history);
    replaceChildren(this.dialog, [head, h("div", { class: "detail-body" }, left, right)]);
  }

  get isOpen() {
    return this.alertId !== null;
  }

  async open(alertId) {
    const alert = this.state.alerts.get(alertId);
    this.alertId = alertId;
    this.history = [];
    this.error = "";
    this.el.assignee.value = alert?.assigned_to ?? "";
    this.el.note.value = "";
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
      if (action === "resolve") this.el.note.value = "";
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
    const e = this.el;
    e.severity.className = `chip chip-${alert.severity}`;
    e.severity.textContent = label("severity", alert.severity);
    e.title.textContent = `${label("rule", alert.rule_type)} — ${this.state.cameraName(alert.camera_id)}`;
    e.status.className = `chip chip-status-${alert.status}`;
    e.status.textContent = statusText(alert);
    e.close.textContent = t("detail.close");
    if (alert.snapshot_url !== this.snapshotUrl || !e.snapshot.firstChild) {
      this.snapshotUrl = alert.snapshot_url;
      replaceChildren(e.snapshot, [snapshot(alert)]);
    }
    e.message.textContent = localized(alert.message);
    replaceChildren(e.chip, [detailChip(alert)]);
    replaceChildren(e.done, doneLines(alert).map((text) => h("div", { class: "action-done", "data-testid": "action-done", text })));
    this.renderForm(alert);
    e.error.textContent = this.error;
    e.error.hidden = !this.error;
    replaceChildren(e.fields, [fields(alert, this.state)]);
    e.historyTitle.textContent = t("detail.history");
    replaceChildren(e.history, [historyList(this.history)]);
  }

  renderForm(alert) {
    const e = this.el;
    if (!ACTING_ROLES.has(this.user.role)) {
      e.form.textContent = t("action.readonly", { role: label("role", this.user.role) });
      return;
    }
    const resolved = alert.status === "resolved";
    e.ack.textContent = t("action.ack");
    e.ack.disabled = this.busy || alert.status !== "new";
    e.assign.textContent = t("action.assign");
    e.assign.disabled = this.busy || resolved;
    e.assignee.placeholder = t("action.assignee");
    e.resolve.textContent = t("action.resolve");
    e.resolve.disabled = this.busy || resolved;
    e.note.placeholder = t("action.note");
  }
}

function doneLines(alert) {
  const done = [];
  if (alert.acknowledged_by) {
    done.push(t("done.ack", { user: alert.acknowledged_by, at: fmtDateTime(alert.acknowledged_at) }));
  }
  if (alert.assigned_to) done.push(t("done.assign", { user: alert.assigned_to }));
  if (alert.resolved_by) {
    done.push(t("done.resolve", { user: alert.resolved_by, at: fmtDateTime(alert.resolved_at) }));
  }
  return done;
}

function snapshot(alert) {
  if (!alert.snapshot_url) return h("div", { class: "detail-nosnap", text: t("detail.nosnapshot") });
  return h("img", { class: "detail-snapshot", src: alert.snapshot_url, alt: "", "data-testid": "detail-snapshot" });
}

/** A line crossing and the like: a single message whose ended_at is its started_at. */
export function isInstant(alert) {
  if (!alert.ended_at) return false;
  const started = parseTime(alert.started_at);
  const ended = parseTime(alert.ended_at);
  return started !== null && ended !== null && started.getTime() === ended.getTime();
}

/** "Sự kiện" for an instant event, else the state ("Bắt đầu", "Đang diễn ra", "Đã kết thúc"). */
export function stateText(alert) {
  return isInstant(alert) ? t("state.event") : label("state", alert.state);
}

function fields(alert, state) {
  const rows = [
    ["field.camera", `${state.cameraName(alert.camera_id)} (${alert.camera_id})`],
    ["field.rule", alert.rule_id],
    ["field.rule_type", label("rule", alert.rule_type)],
    ["field.severity", label("severity", alert.severity)],
    ["field.category", label("category", alert.category)],
    ["field.state", stateText(alert)],
    ["field.status", label("status", alert.status)],
    [isInstant(alert) ? "field.at" : "field.started_at", fmtDateTime(alert.started_at)],
    ["field.updated_at", fmtDateTime(alert.updated_at)],
    ["field.ended_at", alert.ended_at && !isInstant(alert) ? fmtDateTime(alert.ended_at) : null],
    ["field.object_class", alert.object_class ? label("obj", alert.object_class) : null],
    ["field.confidence", alert.confidence != null ? `${fmtNumber(alert.confidence * 100, 0)} %` : null],
    ["field.track_id", alert.track_id],
    ["field.zone_id", placeName(state, alert.camera_id, "zones", alert.zone_id)],
    ["field.line_id", placeName(state, alert.camera_id, "lines", alert.line_id)],
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

/** "Khu vực cấm (restricted)": the zone's or line's display name from the camera config. */
function placeName(state, cameraId, kind, id) {
  if (!id) return null;
  const found = (state.cameras.get(cameraId)?.[kind] ?? []).find((p) => p.id === id);
  return found?.name ? `${found.name} (${id})` : id;
}

/**
 * Oldest first. The store leaves out the record an ack / assign / resolve re-publishes; a
 * "message" row with the same state and time as one before (history written by older servers) shows once.
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
