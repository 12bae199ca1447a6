// Header: site clock (Asia/Ho_Chi_Minh), connection indicator, signed-in user and role.
import { byId } from "./dom.js";
import { fmtDate, fmtTime } from "./format.js";
import { label, t } from "./i18n.js";
import { ConnState } from "./live.js";

export class Header {
  constructor() {
    this.time = byId("clock-time");
    this.date = byId("clock-date");
    this.conn = byId("conn");
    this.connText = byId("conn-text");
    this.connState = ConnState.CONNECTING;
    this.retryAt = 0;
    this.user = null;
    this.timer = setInterval(() => this.tick(), 1000);
    this.tick();
  }

  tick() {
    const now = new Date();
    this.time.textContent = fmtTime(now);
    this.date.textContent = fmtDate(now);
    if (this.connState === ConnState.RECONNECTING) this.renderConn();
  }

  setConnection(state, info = {}) {
    this.connState = state;
    this.retryAt = info.retryAt ?? 0;
    this.renderConn();
  }

  renderConn() {
    this.conn.dataset.state = this.connState;
    const text = {
      [ConnState.CONNECTING]: () => t("conn.connecting"),
      [ConnState.LIVE]: () => t("conn.live"),
      [ConnState.RECONNECTING]: () =>
        t("conn.reconnecting", { s: Math.max(0, Math.ceil((this.retryAt - Date.now()) / 1000)) }),
      [ConnState.CLOSED]: () => t("conn.offline"),
    }[this.connState];
    this.connText.textContent = text();
  }

  setUser(user) {
    this.user = user;
    this.renderUser();
  }

  renderUser() {
    byId("user-name").textContent = this.user?.username ?? "";
    const role = byId("user-role");
    role.textContent = this.user ? label("role", this.user.role) : "";
    role.dataset.role = this.user?.role ?? "";
    for (const el of document.querySelectorAll("[data-role]")) {
      if (el === role) continue;
      const allowed = el.dataset.role.split(/\s+/);
      el.hidden = !this.user || !allowed.includes(this.user.role);
    }
  }

  refresh() {
    this.tick();
    this.renderConn();
    this.renderUser();
  }
}
