// What the wall knows: alerts merged by id (the highest seq wins), cameras with their latest
// status, KPI snapshots per source. Views subscribe and re-render from here.

const MAX_ALERTS = 300;
const SEVERITY_RANK = { info: 1, warning: 2, critical: 3 };

export class WallState {
  constructor() {
    this.alerts = new Map();
    this.cameras = new Map();
    this.kpis = new Map();
    this.lastSeq = null;
    this.listeners = new Map();
  }

  on(topic, fn) {
    if (!this.listeners.has(topic)) this.listeners.set(topic, new Set());
    this.listeners.get(topic).add(fn);
  }

  emit(topic, payload) {
    for (const fn of this.listeners.get(topic) ?? []) fn(payload);
  }

  /**
   * Merge one alert record; `live` marks records that arrived over /ws rather than from a fetch.
   * Returns the change {alert, previous, isNew, live}, or null when an older seq arrived late.
   */
  mergeAlert(alert, live = false) {
    if (typeof alert.seq === "number") this.lastSeq = Math.max(this.lastSeq ?? 0, alert.seq);
    const known = this.alerts.get(alert.id);
    if (known && typeof known.seq === "number" && typeof alert.seq === "number" && known.seq >= alert.seq) {
      return null;
    }
    this.alerts.set(alert.id, alert);
    this.trim();
    const change = { alert, previous: known ?? null, isNew: !known, live };
    this.emit("alert", change);
    return change;
  }

  trim() {
    if (this.alerts.size <= MAX_ALERTS) return;
    const oldest = this.sortedAlerts().slice(MAX_ALERTS);
    for (const a of oldest) this.alerts.delete(a.id);
  }

  /** Newest first by start time; the later seq breaks ties. */
  sortedAlerts() {
    return [...this.alerts.values()].sort((a, b) => {
      const byStart = Date.parse(b.started_at) - Date.parse(a.started_at);
      return byStart !== 0 && !Number.isNaN(byStart) ? byStart : (b.seq ?? 0) - (a.seq ?? 0);
    });
  }

  setCameras(list) {
    this.cameras = new Map(list.map((cam) => [cam.id, { ...cam }]));
    this.emit("cameras", this.cameras);
  }

  mergeCameraStatus(status) {
    const cam = this.cameras.get(status.camera_id) ?? { id: status.camera_id, name: status.camera_id };
    this.cameras.set(status.camera_id, { ...cam, status });
    this.emit("camera_status", status);
  }

  mergeKpi(snapshot) {
    const known = this.kpis.get(snapshot.source);
    if (known && Date.parse(known.at) > Date.parse(snapshot.at)) return;
    this.kpis.set(snapshot.source, snapshot);
    this.emit("kpi", snapshot);
  }

  cameraName(cameraId) {
    return this.cameras.get(cameraId)?.name || cameraId;
  }

  /**
   * Cameras with an alert that still needs someone (ongoing, or not yet acknowledged), mapped to
   * the worst severity among those alerts.
   */
  camerasWithActiveAlerts() {
    const worst = new Map();
    for (const a of this.alerts.values()) {
      if (!isActive(a)) continue;
      const known = worst.get(a.camera_id);
      if (!known || SEVERITY_RANK[a.severity] > SEVERITY_RANK[known]) worst.set(a.camera_id, a.severity);
    }
    return worst;
  }
}

/**
 * "Open", the same rule as the server's `open_alerts` KPI (ioc/kpi/operations.py): not resolved,
 * and ongoing or awaiting acknowledgement; `info` alerts never await acknowledgement, so an ended
 * or instant info alert (a line crossing) is not open.
 */
export function isActive(alert) {
  if (alert.status === "resolved") return false;
  const ongoing = alert.state !== "end" && !alert.ended_at;
  return ongoing || (alert.status === "new" && alert.severity !== "info");
}

/** The server's count of open alerts (the `operations` KPI), or null before the first snapshot. */
export function openAlertCount(kpis) {
  const value = kpis.get("operations")?.values?.find((v) => v.key === "open_alerts")?.value;
  return typeof value === "number" ? value : null;
}
