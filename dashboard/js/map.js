// Site map without tiles: cameras placed by lat/lon, projected to fit their bounding box.
// Markers are coloured by camera state and pulse while the camera has an active alert.
// Open field reports (GET /api/kpi/field-reports/open, for roles that see field reports) are a
// second layer of small diamonds, amber once past their expected time.
import * as api from "./api.js";
import { byId, h, replaceChildren, svg } from "./dom.js";
import { label, t } from "./i18n.js";
import { cameraState } from "./cameras.js";

const STATE_COLOURS = {
  online: "#2ecc71", stalled: "#ffb020", offline: "#ff4d4f", error: "#ff4d9a",
  connecting: "#7d8ca5", unknown: "#7d8ca5",
};
const SEVERITY_COLOURS = { critical: "#ff4d4f", warning: "#ffb020", info: "#3d8bff" };
const PAD = 0.14; // fraction of the view kept free around the cameras
const MIN_SPAN_M = 300; // one camera, or cameras on one spot, still get a sensible scale
const REPORTS_REFRESH_MS = 15_000;

/**
 * Equirectangular projection around the cameras' mean latitude (exact enough for a city),
 * scaled uniformly so the bounding box fits `width`×`height` with padding.
 * Returns a function (lat, lon) -> [x, y] in view pixels.
 */
export function fitProjection(points, width, height) {
  const lat0 = points.reduce((s, p) => s + p.lat, 0) / points.length;
  const kx = 111320 * Math.cos((lat0 * Math.PI) / 180); // metres per degree of longitude
  const ky = 110540; // metres per degree of latitude
  const xs = points.map((p) => p.lon * kx);
  const ys = points.map((p) => p.lat * ky);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const spanX = Math.max(maxX - minX, MIN_SPAN_M);
  const spanY = Math.max(maxY - minY, MIN_SPAN_M);
  const scale = Math.min((width * (1 - 2 * PAD)) / spanX, (height * (1 - 2 * PAD)) / spanY);
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  return (lat, lon) => [width / 2 + (lon * kx - cx) * scale, height / 2 - (lat * ky - cy) * scale];
}

export class SiteMap {
  constructor(state) {
    this.state = state;
    this.box = byId("map");
    this.pending = false;
    this.reports = [];
    this.reportsAt = 0;
    for (const topic of ["cameras", "camera_status", "alert"]) state.on(topic, () => this.schedule());
    state.on("kpi", (snap) => { if (snap.source === "field_report") this.loadReports(); });
    new ResizeObserver(() => this.schedule()).observe(this.box);
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  async loadReports() {
    if (Date.now() - this.reportsAt < REPORTS_REFRESH_MS) return;
    this.reportsAt = Date.now();
    try {
      this.reports = (await api.openReports()).filter((r) => Number.isFinite(r.lat) && Number.isFinite(r.long));
      this.schedule();
    } catch (err) {
      console.warn("ioc: open field reports:", err.message);
    }
  }

  render() {
    const cams = [...this.state.cameras.values()];
    const placed = cams.filter((c) => c.location && Number.isFinite(c.location.lat));
    const unplaced = cams.filter((c) => !placed.includes(c));
    const width = Math.max(this.box.clientWidth, 1);
    const height = Math.max(this.box.clientHeight, 1);
    const reports = this.reports;
    if (placed.length === 0 && reports.length === 0) {
      replaceChildren(this.box, [h("div", { class: "map-empty", text: t("map.none") })]);
      return;
    }
    const points = [...placed.map((c) => c.location), ...reports.map((r) => ({ lat: r.lat, lon: r.long }))];
    const project = fitProjection(points, width, height);
    const alerting = this.state.camerasWithActiveAlerts();
    const fontPx = parseFloat(getComputedStyle(document.documentElement).fontSize) || 20;
    const spots = placed.map((cam) => ({
      cam,
      xy: project(cam.location.lat, cam.location.lon),
      state: cameraState(cam),
      alert: alerting.get(cam.id),
    }));
    const r = fontPx * 0.55;
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": t("panel.map") },
      graticule(width, height),
      ...reports.map((rep) => reportMarker(rep, project(rep.lat, rep.long), r * 0.6)),
      ...spots.map((spot) => marker(spot, r)),
      ...placeLabels(spots, r, fontPx * 0.8, width, height));
    const note = unplaced.length
      ? h("div", { class: "map-note", text: t("map.unplaced", { names: unplaced.map((c) => c.name || c.id)
        .join(", ") }) })
      : null;
    replaceChildren(this.box, [root, note]);
  }
}

function graticule(width, height) {
  const step = Math.max(width, height) / 8;
  const lines = [];
  for (let x = step / 2; x < width; x += step) lines.push(svg("line", { x1: x, y1: 0, x2: x, y2: height }));
  for (let y = step / 2; y < height; y += step) lines.push(svg("line", { x1: 0, y1: y, x2: width, y2: y }));
  return svg("g", { class: "graticule" }, ...lines);
}

function marker({ cam, xy: [x, y], state, alert }, r) {
  const colour = STATE_COLOURS[state] ?? STATE_COLOURS.unknown;
  return svg(
    "g",
    { class: "marker", transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})`, "data-testid": "map-marker",
      "data-camera-id": cam.id, "data-state": state, "data-alert": alert ?? "none" },
    alert ? svg("circle", { class: "pulse", r, stroke: SEVERITY_COLOURS[alert] }) : null,
    svg("circle", { class: "core", r, fill: alert ? SEVERITY_COLOURS[alert] : colour }),
    svg("circle", { r: r * 0.4, fill: colour }),
    svg("title", { text: `${cam.name || cam.id}: ${label("camstate", state)}` }),
  );
}

function reportMarker(report, [x, y], r) {
  const expected = report.expected_datetime ? Date.parse(report.expected_datetime) : NaN;
  const overdue = Number.isFinite(expected) && expected < Date.now();
  return svg(
    "g",
    { class: `report-marker${overdue ? " overdue" : ""}`, transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})`,
      "data-testid": "map-report", "data-report-id": report.service_request_id,
      "data-overdue": overdue ? "true" : "false" },
    svg("rect", { x: -r, y: -r, width: 2 * r, height: 2 * r, transform: "rotate(45)" }),
    svg("title", { text: `${report.service_name || report.service_code}: ${report.description ?? ""}` }),
  );
}

const STATE_PRIORITY = { error: 4, offline: 4, stalled: 3, connecting: 1, unknown: 1, online: 0 };
const ALERT_PRIORITY = { critical: 30, warning: 20, info: 10 };

/**
 * Names next to markers, most urgent cameras first; a label that would cover another label or a
 * marker is tried on the other side, then left out (the marker keeps its tooltip).
 */
function placeLabels(spots, r, labelPx, width, height) {
  const urgency = (s) => (ALERT_PRIORITY[s.alert] ?? 0) + (STATE_PRIORITY[s.state] ?? 0);
  const ordered = [...spots].sort((a, b) => urgency(b) - urgency(a));
  const taken = spots.map(({ xy: [x, y] }) => ({ x0: x - r, x1: x + r, y0: y - r, y1: y + r }));
  const labels = [];
  for (const spot of ordered) {
    const [x, y] = spot.xy;
    const name = spot.cam.name || spot.cam.id;
    const sides = x > width / 2 ? [-1, 1] : [1, -1];
    for (const side of sides) {
      const room = (side < 0 ? x : width - x) - r * 2;
      const text = fit(name, room / (labelPx * 0.62));
      const w = text.length * labelPx * 0.62;
      const x0 = side < 0 ? x - r * 1.5 - w : x + r * 1.5;
      const box = { x0, x1: x0 + w, y0: y - labelPx * 0.7, y1: y + labelPx * 0.7 };
      // A camera in trouble or with an open alert may cover plain markers, never another label.
      const blockers = urgency(spot) > 0 ? taken.filter((b) => b.label) : taken.filter((b) => b.x0 !== x - r
        || b.y0 !== y - r);
      if (box.y0 < 0 || box.y1 > height || blockers.some((b) => overlaps(b, box))) continue;
      taken.push({ ...box, label: true });
      if (urgency(spot) > 0) {
        labels.push(svg("rect", { x: box.x0 - 3, y: box.y0, width: w + 6, height: box.y1 - box.y0, rx: 4,
          class: "label-bg" }));
      }
      labels.push(svg("text", { x: side < 0 ? x - r * 1.5 : x + r * 1.5, y: y + labelPx * 0.35,
        "text-anchor": side < 0 ? "end" : "start", style: { fontSize: `${labelPx.toFixed(1)}px` },
        class: "marker-label", "data-testid": "map-label", text }));
      break;
    }
  }
  return labels;
}

function overlaps(a, b) {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

function fit(text, maxChars) {
  const n = Math.max(4, Math.floor(maxChars));
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}
