// Times are shown in the site's zone (site.timezone from GET /api/site; Asia/Ho_Chi_Minh until it
// answers) whatever the browser's zone is.
import { lang, t } from "./i18n.js";

let siteTz = "Asia/Ho_Chi_Minh";

const formatters = new Map();

/** Use the site's IANA time zone for every time on the wall. */
export function setSiteTimeZone(zone) {
  if (!zone || zone === siteTz) return;
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: zone });
  } catch {
    return; // a zone this browser does not know: keep the current one
  }
  siteTz = zone;
  formatters.clear();
}

function formatter(kind) {
  const key = `${lang()}:${kind}`;
  if (!formatters.has(key)) {
    const locale = lang() === "vi" ? "vi-VN" : "en-GB";
    const options = {
      time: { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" },
      date: { weekday: "long", day: "2-digit", month: "2-digit", year: "numeric" },
      datetime: {
        day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
        hourCycle: "h23",
      },
    }[kind];
    formatters.set(key, new Intl.DateTimeFormat(locale, { ...options, timeZone: siteTz }));
  }
  return formatters.get(key);
}

/** Parse an ISO datetime from the wire; a value without a zone is UTC (pydantic naive datetimes). */
export function parseTime(value) {
  if (!value) return null;
  const text = String(value);
  const hasZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(text);
  const date = new Date(hasZone ? text : `${text}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function fmtTime(value) {
  const date = value instanceof Date ? value : parseTime(value);
  return date ? formatter("time").format(date) : "—";
}

/** "24/11 11:30:39" in the site's zone, the same shape in both languages. */
export function fmtDateTime(value) {
  const date = value instanceof Date ? value : parseTime(value);
  if (!date) return "—";
  const part = Object.fromEntries(formatter("datetime").formatToParts(date).map((p) => [p.type, p.value]));
  return `${part.day}/${part.month} ${part.hour}:${part.minute}:${part.second}`;
}

export function fmtDate(date) {
  return formatter("date").format(date);
}

export function fmtAgo(value, now = Date.now()) {
  const date = value instanceof Date ? value : parseTime(value);
  if (!date) return "";
  const s = Math.max(0, Math.round((now - date.getTime()) / 1000));
  if (s < 60) return t("ago.s", { n: s });
  if (s < 3600) return t("ago.m", { n: Math.floor(s / 60) });
  return t("ago.h", { n: Math.floor(s / 3600) });
}

export function fmtNumber(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  const locale = lang() === "vi" ? "vi-VN" : "en-GB";
  return Number(value).toLocaleString(locale, { maximumFractionDigits: digits });
}

/** "12,5 km/h", "37 s", "4" (unit "count" is implied by the rule). */
export function fmtValue(value, unit) {
  if (value === null || value === undefined) return "";
  const number = fmtNumber(value, 1);
  if (!unit || unit === "count") return number;
  return `${number} ${unit}`;
}
