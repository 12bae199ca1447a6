// Traffic flow panel: one small chart per line_crossing rule, fed by GET /api/flows at start and by
// `flow` messages on /ws. Each bar is one interval: crossings "in" above the axis, "out" below.
// Shown to traffic users, and to operators and admins once there are flow counts to show (the
// server filters the data by role as well; police never get the panel).
import { byId, h, replaceChildren, svg } from "./dom.js";
import { fmtTime, parseTime } from "./format.js";
import { label, t } from "./i18n.js";

export const MAX_BARS = 30;
export const TRAFFIC_ROLES = new Set(["admin", "operator", "traffic"]);
const WIDTH = 300;
const HEIGHT = 64;

export function lineKey(flow) {
  return `${flow.camera_id}\u0000${flow.rule_id}`;
}

/** Crossings per direction of one interval: {in, out}. */
export function totals(flow) {
  const out = { in: 0, out: 0 };
  for (const b of flow.counts ?? []) out[b.direction === "out" ? "out" : "in"] += b.count;
  return out;
}

/** Per line, intervals by start time; a message for a start already known replaces it. */
export function mergeFlow(lines, flow) {
  const key = lineKey(flow);
  const line = lines.get(key) ?? { camera_id: flow.camera_id, rule_id: flow.rule_id, line_id: flow.line_id,
    intervals: new Map() };
  line.line_id = flow.line_id;
  line.intervals.set(flow.started_at, flow);
  const starts = [...line.intervals.keys()].sort((a, b) => parseTime(a) - parseTime(b));
  for (const old of starts.slice(0, Math.max(0, starts.length - MAX_BARS))) line.intervals.delete(old);
  lines.set(key, line);
  return line;
}

/** Bar geometry (SVG units) for the last MAX_BARS intervals, oldest on the left. */
export function bars(intervals, width = WIDTH, height = HEIGHT) {
  const list = [...intervals].sort((a, b) => parseTime(a.started_at) - parseTime(b.started_at)).slice(-MAX_BARS);
  const peak = Math.max(1, ...list.map((f) => Math.max(totals(f).in, totals(f).out)));
  const slot = width / MAX_BARS;
  const half = height / 2;
  const offset = (MAX_BARS - list.length) * slot;
  return list.map((flow, i) => {
    const sum = totals(flow);
    return {
      flow,
      x: offset + i * slot + slot * 0.1,
      w: slot * 0.8,
      inHeight: (sum.in / peak) * (half - 2),
      outHeight: (sum.out / peak) * (half - 2),
    };
  });
}

export class FlowPanel {
  constructor(state, user) {
    this.state = state;
    this.lines = new Map();
    this.box = byId("flows");
    this.panel = byId("flows-panel");
    this.role = user.role;
    this.allowed = TRAFFIC_ROLES.has(user.role);
    this.visible = user.role === "traffic";
    this.panel.hidden = !this.visible;
    state.on("flow", (flow) => this.add([flow]));
    state.on("cameras", () => this.render());
  }

  updateVisibility() {
    const wanted = this.allowed && (this.role === "traffic" || this.lines.size > 0);
    this.visible = wanted;
    this.panel.hidden = !wanted;
  }

  add(flows) {
    for (const flow of flows) mergeFlow(this.lines, flow);
    this.render();
  }

  render() {
    this.updateVisibility();
    if (!this.visible) return;
    const lines = [...this.lines.values()].sort((a, b) =>
      `${a.camera_id}/${a.line_id}`.localeCompare(`${b.camera_id}/${b.line_id}`));
    if (lines.length === 0) {
      replaceChildren(this.box, [h("p", { class: "flows-none", "data-testid": "flows-none", text: t("flows.none") })]);
      return;
    }
    replaceChildren(this.box, lines.map((line) => this.lineBlock(line)));
  }

  lineBlock(line) {
    const intervals = [...line.intervals.values()];
    const latest = intervals.reduce((a, b) => (parseTime(a.started_at) > parseTime(b.started_at) ? a : b));
    const sum = totals(latest);
    const per = t("flows.per", { s: latest.interval_seconds });
    return h(
      "section",
      { class: "flow-line", "data-testid": "flow-line", "data-camera": line.camera_id, "data-line": line.line_id },
      h("div", { class: "flow-title" },
        h("span", { class: "flow-name", text: `${this.state.cameraName(line.camera_id)} · ${line.line_id}` }),
        h("span", { class: "flow-latest", "data-testid": "flow-latest", "data-in": sum.in, "data-out": sum.out,
          text: `${label("dir", "in")} ${sum.in} · ${label("dir", "out")} ${sum.out} / ${per}` })),
      chart(intervals),
    );
  }
}

function chart(intervals) {
  const half = HEIGHT / 2;
  const rects = bars(intervals).flatMap((bar) => {
    const title = barTitle(bar.flow);
    return [
      svg("rect", { class: "flow-in", x: bar.x, y: half - bar.inHeight, width: bar.w, height: bar.inHeight },
        svg("title", { text: title })),
      svg("rect", { class: "flow-out", x: bar.x, y: half, width: bar.w, height: bar.outHeight },
        svg("title", { text: title })),
    ];
  });
  return svg("svg", { class: "flow-chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none",
    "data-testid": "flow-chart", "data-bars": intervals.length },
  svg("line", { class: "flow-axis", x1: 0, x2: WIDTH, y1: half, y2: half }), ...rects);
}

function barTitle(flow) {
  const parts = (flow.counts ?? []).map((b) => `${label("dir", b.direction)} ${label("obj", b.object_class)} ${b.count}`);
  const when = `${fmtTime(flow.started_at)}–${fmtTime(flow.ended_at)}${flow.partial ? ` (${t("flows.partial")})` : ""}`;
  return [when, ...(parts.length ? parts : [t("flows.zero")])].join("\n");
}
