// Site map without tiles: cameras placed by lat/lon, projected to fit their bounding box.
// Markers are coloured by camera state and pulse while the camera has an active alert.
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
    for (const topic of ["cameras", "camera_status", "alert"]) state.on(topic, () => this.schedule());
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

  render() {
    const cams = [...this.state.cameras.values()];
    const placed = cams.filter((c) => c.location && Number.isFinite(c.location.lat));
    const unplaced = cams.filter((c) => !placed.includes(c));
    const width = Math.max(this.box.clientWidth, 1);
    const height = Math.max(this.box.clientHeight, 1);
    if (placed.length === 0) {
      replaceChildren(this.box, [h("div", { class: "map-empty", text: t("map.none") })]);
      return;
    }
    const project = fitProjection(placed.map((c) => c.location), width, height);
    const alerting = this.state.camerasWithActiveAlerts();
    const fontPx = parseFloat(getComputedStyle(document.documentElement).fontSize) || 20;
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": t("panel.map") },
      graticule(width, height),
      ...placed.map((cam) => marker(cam, project(cam.location.lat, cam.location.lon), alerting.get(cam.id),
        fontPx, width)));
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

function marker(cam, [x, y], alertSeverity, fontPx, width) {
  const state = cameraState(cam);
  const r = fontPx * 0.55;
  const colour = STATE_COLOURS[state] ?? STATE_COLOURS.unknown;
  const onLeft = x > width / 2;
  const labelPx = fontPx * 0.8;
  const room = (onLeft ? x : width - x) - r * 2.5;
  return svg(
    "g",
    { class: "marker", transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})`, "data-testid": "map-marker",
      "data-camera-id": cam.id, "data-state": state, "data-alert": alertSeverity ?? "none" },
    alertSeverity ? svg("circle", { class: "pulse", r, stroke: SEVERITY_COLOURS[alertSeverity] }) : null,
    svg("circle", { class: "core", r, fill: alertSeverity ? SEVERITY_COLOURS[alertSeverity] : colour }),
    svg("circle", { r: r * 0.4, fill: colour }),
    // Labels go on the side with more room and are shortened to fit inside the map.
    svg("text", { x: onLeft ? -r * 1.5 : r * 1.5, y: r * 0.45, "text-anchor": onLeft ? "end" : "start",
      style: `font-size:${labelPx.toFixed(1)}px`, text: fit(cam.name || cam.id, room / (labelPx * 0.64)) }),
    svg("title", { text: `${cam.name || cam.id}: ${label("camstate", state)}` }),
  );
}

function fit(text, maxChars) {
  const n = Math.max(4, Math.floor(maxChars));
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}
