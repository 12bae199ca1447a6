// Admin-only: list of users (GET /api/users). The button is hidden for other roles, and the
// server refuses the request anyway.
import * as api from "./api.js";
import { byId, h, replaceChildren } from "./dom.js";
import { label, t } from "./i18n.js";

export class UsersDialog {
  constructor() {
    this.dialog = byId("users-dialog");
    byId("btn-users").addEventListener("click", () => this.open());
    this.dialog.addEventListener("click", (e) => e.target === this.dialog && this.dialog.close());
  }

  async open() {
    this.render([], "");
    this.dialog.showModal();
    try {
      this.render(await api.users(), "");
    } catch (err) {
      this.render([], t("action.failed", { msg: err.detail ?? err.message }));
    }
  }

  render(users, error) {
    const head = h("header", { class: "detail-head" },
      h("h2", { text: t("admin.users") }),
      h("button", { type: "button", class: "btn", text: t("detail.close"), onclick: () => this.dialog.close() }));
    const rows = users.map((u) => h("tr", {}, h("td", { text: u.username }), h("td", { text: label("role", u.role) })));
    const table = h("table", { class: "users-table" },
      h("thead", {}, h("tr", {}, h("th", { text: t("admin.username") }), h("th", { text: t("admin.role") }))),
      h("tbody", {}, ...rows));
    const links = h("p", { class: "admin-links" },
      h("a", { class: "btn", href: "/docs", target: "_blank", rel: "noopener", text: t("admin.docs") }),
      h("a", { class: "btn", href: "/metrics", target: "_blank", rel: "noopener", text: t("admin.metrics") }));
    const body = h("div", { style: { padding: "1rem 1.2rem" } }, table,
      error ? h("p", { class: "action-error", text: error }) : null, links);
    replaceChildren(this.dialog, [head, body]);
  }
}
