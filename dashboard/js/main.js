// Bootstrap: login (or resume the session), load cameras / recent alerts / KPIs, then go live on /ws.
import * as api from "./api.js";
import { UsersDialog } from "./admin.js";
import { Alarm } from "./alarm.js";
import { CameraWall } from "./cameras.js";
import { AlertDetail } from "./detail.js";
import { byId } from "./dom.js";
import { AlertFeed } from "./feed.js";
import { Header } from "./header.js";
import { setSiteTimeZone } from "./format.js";
import { applyStatic, lang, onLangChange, setLang, t, toggleLang } from "./i18n.js";
import { FlowPanel } from "./flows.js";
import { KpiPanel } from "./kpi.js";
import { LiveSocket } from "./live.js";
import { SiteMap } from "./map.js";
import { WallState } from "./state.js";

const FEED_REFRESH_MS = 15000;

let wall = null; // the running wall, once signed in
let alarm = null;

function signOut() {
  api.clearToken();
  fetch("/api/auth/logout", { method: "POST", credentials: "same-origin" }).finally(() => location.reload());
}

function showLogin() {
  byId("wall").hidden = true;
  byId("login").hidden = false;
  byId("login-username").focus();
}

async function submitLogin(event) {
  event.preventDefault();
  const error = byId("login-error");
  error.hidden = true;
  const username = byId("login-username").value.trim();
  const password = byId("login-password").value;
  try {
    const user = await api.login(username, password);
    await startWall(user);
  } catch (err) {
    error.textContent = err.status === 401 || err.status === 422 ? t("login.failed") : t("login.error");
    error.hidden = false;
  }
}

async function loadSiteName() {
  // The API names the site in GET /api/site when it offers one; otherwise the wall shows "IOC".
  try {
    const res = await fetch("/api/site", { credentials: "same-origin" });
    if (!res.ok) return;
    const site = await res.json();
    if (site && site.timezone) setSiteTimeZone(site.timezone);
    if (site && site.name) {
      for (const el of document.querySelectorAll(".site-name")) el.textContent = site.name;
      document.title = `${site.name} — ${t("app.title")}`;
    }
  } catch {
    // keep the default name
  }
}

async function startWall(user) {
  const state = new WallState();
  const header = new Header();
  header.setUser(user);
  const detail = new AlertDetail(state, user);
  const open = (id) => detail.open(id);
  const feed = new AlertFeed(state, open);
  const cameras = new CameraWall(state);
  const map = new SiteMap(state);
  const kpi = new KpiPanel(state);
  const flows = new FlowPanel(state, user);
  alarm.onOpen = open;
  alarm.attach(state);
  if (user.role === "admin") new UsersDialog();
  wall = { state, header, detail, feed, cameras, map, kpi, flows };
  window.ioc = wall; // for the browser console and the browser test: read, don't rely on

  byId("login").hidden = true;
  byId("wall").hidden = false;
  loadSiteName();

  const [cams, alerts, kpis, flowList] = await Promise.allSettled([
    api.cameras(), api.recentAlerts(50), api.kpis(), flows.allowed ? api.flows() : Promise.resolve([]),
  ]);
  if (cams.status === "fulfilled") state.setCameras(cams.value);
  if (alerts.status === "fulfilled") for (const a of [...alerts.value].reverse()) state.mergeAlert(a, false);
  if (kpis.status === "fulfilled") for (const k of kpis.value) state.mergeKpi(k);
  feed.render();
  kpi.render();
  flows.add(flowList.status === "fulfilled" ? flowList.value : []);

  const live = new LiveSocket({
    token: api.token,
    lastSeq: () => state.lastSeq,
    onMessage: (msg) => dispatch(state, msg),
    onState: (s, info) => header.setConnection(s, info),
    onAuthFailed: signOut,
  });
  wall.live = live;
  live.start();
  setInterval(() => feed.schedule(), FEED_REFRESH_MS);
}

function dispatch(state, msg) {
  switch (msg.type) {
    case "alert":
      state.mergeAlert(msg, true);
      break;
    case "camera_status":
      state.mergeCameraStatus(msg);
      break;
    case "kpi":
      state.mergeKpi(msg);
      break;
    case "flow":
      state.emit("flow", msg);
      break;
    case "welcome":
    case "heartbeat":
      // The newest seq this connection has passed (sent, or filtered out for this role): a safe
      // resume point, so a reconnect does not replay alerts this wall may not see anyway.
      if (Number.isInteger(msg.last_seq)) state.lastSeq = Math.max(state.lastSeq ?? 0, msg.last_seq);
      break;
    default:
      console.warn("ioc: unknown /ws message type", msg.type);
  }
}

function onKey(event) {
  if (event.target instanceof HTMLInputElement || event.ctrlKey || event.metaKey || event.altKey) return;
  if (!wall) return;
  const key = event.key.toLowerCase();
  if (key === "l") toggleLang();
  else if (key === "m") byId("btn-sound").click();
  else if (key === "f") toggleFullscreen();
  else if (key === "a" && wall.detail.isOpen) byId("detail").querySelector("[data-testid=action-ack]")?.click();
  else if (key === "enter" && event.target === document.body && !wall.detail.isOpen && !byId("banner").hidden) {
    byId("banner-open").click();
  }
}

function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else document.documentElement.requestFullscreen().catch(() => {});
}

function rerenderAll() {
  if (!wall) return;
  wall.header.refresh();
  wall.feed.render();
  wall.kpi.render();
  wall.flows.render();
  wall.cameras.refresh();
  wall.map.render();
  if (wall.detail.isOpen) wall.detail.render();
  alarm.render();
  alarm.renderSound();
}

async function boot() {
  setLang(lang());
  applyStatic(document);
  onLangChange(rerenderAll);
  alarm = new Alarm();
  for (const btn of document.querySelectorAll(".lang-btn")) btn.addEventListener("click", toggleLang);
  byId("login-form").addEventListener("submit", submitLogin);
  byId("btn-logout").addEventListener("click", signOut);
  document.addEventListener("keydown", onKey);
  // Sound needs a user gesture; every click on the wall (login included) unlocks it.
  document.addEventListener("pointerdown", () => alarm.unlock(), { capture: true });
  document.addEventListener("keydown", () => alarm.unlock(), { capture: true });
  api.onUnauthorized(signOut);
  loadSiteName();
  if (api.token()) {
    try {
      await startWall(await api.me());
      return;
    } catch {
      api.clearToken();
    }
  }
  showLogin();
}

boot();
