// Live camera tiles (latest annotated JPEG, polled ~1.5×/s each) and the camera health strip.
import * as api from "./api.js";
import { byId, h, replaceChildren } from "./dom.js";
import { fmtNumber } from "./format.js";
import { label, reasonText, t } from "./i18n.js";

const FRAME_INTERVAL_MS = 650;
const RETRY_INTERVAL_MS = 3000;

export function cameraState(cam) {
  return cam.status?.state ?? "unknown";
}

/** Columns that make 16:9 tiles as large as possible in a width×height panel. */
export function bestColumns(count, width, height) {
  let best = 1;
  let bestArea = -1;
  for (let cols = 1; cols <= Math.max(1, count); cols += 1) {
    const rows = Math.ceil(count / cols);
    const w = width / cols;
    const hgt = height / rows;
    const tileW = Math.min(w, (hgt * 16) / 9);
    const area = tileW * ((tileW * 9) / 16);
    if (area > bestArea + 1) {
      best = cols;
      bestArea = area;
    }
  }
  return best;
}

class Tile {
  constructor(cam) {
    this.id = cam.id;
    this.img = h("img", { alt: "", "data-testid": "tile-frame" });
    this.empty = h("div", { class: "tile-empty", text: t("tile.nosignal") });
    this.name = h("span", { class: "tile-name", "data-testid": "tile-name" });
    this.fps = h("span", { class: "tile-fps", "data-testid": "tile-fps" });
    this.bar = h("div", { class: "tile-bar" }, h("span", { class: "state-dot" }), this.name, this.fps);
    this.stateLabel = h("span", { class: "tile-state", "data-testid": "tile-state" });
    this.el = h("div", { class: "tile", "data-testid": "camera-tile", "data-camera-id": cam.id },
      this.img, this.empty, this.bar, this.stateLabel);
    this.objectUrl = null;
    this.timer = null;
    this.stopped = false;
    this.update(cam, undefined);
  }

  update(cam, alertSeverity) {
    const state = cameraState(cam);
    this.name.textContent = cam.name || cam.id;
    this.bar.dataset.state = state;
    this.el.dataset.state = state;
    const fps = cam.status?.fps;
    this.fps.textContent = fps != null && state === "online" ? `${fmtNumber(fps, 1)} fps` : "";
    this.stateLabel.textContent = state === "online" ? "" : label("camstate", state);
    this.stateLabel.hidden = state === "online";
    this.empty.textContent = t("tile.nosignal");
    this.el.classList.toggle("has-alert", Boolean(alertSeverity));
    if (alertSeverity) this.el.dataset.alert = alertSeverity;
    else delete this.el.dataset.alert;
  }

  start() {
    this.poll();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
  }

  async poll() {
    if (this.stopped) return;
    if (document.hidden) {
      this.timer = setTimeout(() => this.poll(), RETRY_INTERVAL_MS);
      return;
    }
    const began = performance.now();
    let wait = RETRY_INTERVAL_MS;
    try {
      const res = await fetch(api.frameUrl(this.id), {
        headers: api.token() ? { Authorization: `Bearer ${api.token()}` } : {},
        credentials: "same-origin",
        cache: "no-store",
      });
      if (res.ok) {
        this.show(await res.blob());
        wait = Math.max(0, FRAME_INTERVAL_MS - (performance.now() - began));
      } else {
        if (res.status === 401) api.unauthorized();
        this.showEmpty();
      }
    } catch {
      this.showEmpty();
    }
    if (!this.stopped) this.timer = setTimeout(() => this.poll(), wait);
  }

  show(blob) {
    const previous = this.objectUrl;
    this.objectUrl = URL.createObjectURL(blob);
    this.img.src = this.objectUrl;
    this.img.hidden = false;
    this.empty.hidden = true;
    if (previous) this.img.addEventListener("load", () => URL.revokeObjectURL(previous), { once: true });
  }

  showEmpty() {
    this.img.hidden = true;
    this.empty.hidden = false;
  }
}

export class CameraWall {
  constructor(state) {
    this.state = state;
    this.grid = byId("camera-grid");
    this.health = byId("health");
    this.tiles = new Map();
    state.on("cameras", () => this.rebuild());
    state.on("camera_status", () => this.refresh());
    state.on("alert", () => this.refresh());
    new ResizeObserver(() => this.layout()).observe(this.grid);
  }

  rebuild() {
    for (const tile of this.tiles.values()) tile.stop();
    this.tiles = new Map();
    for (const cam of this.state.cameras.values()) {
      const tile = new Tile(cam);
      this.tiles.set(cam.id, tile);
      tile.start();
    }
    replaceChildren(this.grid, [...this.tiles.values()].map((tile) => tile.el));
    this.layout();
    this.refresh();
  }

  stop() {
    for (const tile of this.tiles.values()) tile.stop();
    this.tiles = new Map();
  }

  layout() {
    const cols = bestColumns(this.tiles.size, this.grid.clientWidth, this.grid.clientHeight);
    this.grid.style.setProperty("--cols", String(cols));
  }

  refresh() {
    const alerting = this.state.camerasWithActiveAlerts();
    for (const cam of this.state.cameras.values()) {
      const tile = this.tiles.get(cam.id);
      if (!tile) {
        this.rebuild();
        return;
      }
      tile.update(cam, alerting.get(cam.id));
    }
    const cams = [...this.state.cameras.values()].sort(byTrouble);
    const online = cams.filter((c) => cameraState(c) === "online").length;
    const summary = h("span", { class: "health-summary", "data-testid": "health-summary",
      "data-all-online": online === cams.length ? "true" : "false",
      text: t("health.summary", { n: online, total: cams.length }) });
    // Many cameras: online ones shrink to dot + name so the ones in trouble stay in view.
    this.health.classList.toggle("compact", cams.length > 8);
    replaceChildren(this.health, [summary, ...cams.map(healthItem)]);
  }
}

const TROUBLE_ORDER = ["error", "offline", "stalled", "connecting", "unknown", "online"];

/** Cameras in trouble first, so a long strip still shows what needs attention. */
function byTrouble(a, b) {
  return TROUBLE_ORDER.indexOf(cameraState(a)) - TROUBLE_ORDER.indexOf(cameraState(b));
}

function healthItem(cam) {
  const state = cameraState(cam);
  const status = cam.status ?? {};
  const notes = [];
  if (status.reason_code || status.reason) notes.push(reasonText(status));
  if (state === "stalled" && status.last_frame_age_s != null) {
    notes.push(t("health.age", { n: fmtNumber(status.last_frame_age_s, 0) }));
  }
  if (state !== "online" && status.reconnects) notes.push(t("health.reconnects", { n: status.reconnects }));
  return h(
    "div",
    { class: "health-item", "data-state": state, "data-testid": "health-item", "data-camera-id": cam.id,
      title: notes.join(" · ") },
    h("span", { class: "state-dot" }),
    h("span", { class: "health-name", text: cam.name || cam.id }),
    h("span", { "data-testid": "health-state", text: label("camstate", state) }),
    notes.length ? h("span", { class: "health-reason", "data-testid": "health-reason", text: notes.join(" · ") })
      : null,
  );
}
