// REST client for the contract in docs/internals.md. The token lives in sessionStorage;
// the server also sets the HttpOnly `ioc_token` cookie so <img> tags can load frames and snapshots.

const TOKEN_KEY = "ioc.token";

export class ApiError extends Error {
  constructor(status, detail, path) {
    super(`${path}: ${status} ${detail}`);
    this.status = status;
    this.detail = detail;
    this.path = path;
  }
}

let unauthorizedHandler = () => {};

export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

/** For requests made outside request() (tile frames): a 401 means the session is over. */
export function unauthorized() {
  unauthorizedHandler();
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

async function request(method, path, body = undefined) {
  const headers = { Accept: "application/json" };
  const tok = token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (!res.ok) {
    const detail = await errorDetail(res);
    if (res.status === 401 && path !== "/api/auth/login") unauthorizedHandler();
    throw new ApiError(res.status, detail, path);
  }
  if (res.status === 204) return null;
  return res.json();
}

async function errorDetail(res) {
  try {
    const data = await res.json();
    if (typeof data.detail === "string") return data.detail;
    return JSON.stringify(data.detail ?? data);
  } catch {
    return res.statusText;
  }
}

/** Lists may come bare or as {items: [...]}; accept both. */
function items(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}

export async function login(username, password) {
  const data = await request("POST", "/api/auth/login", { username, password });
  sessionStorage.setItem(TOKEN_KEY, data.access_token);
  return { username: data.username, role: data.role };
}

export const me = () => request("GET", "/api/me");
export const cameras = async () => items(await request("GET", "/api/cameras"));
export const kpis = async () => items(await request("GET", "/api/kpi"));
export const users = async () => items(await request("GET", "/api/users"));
export const kpiAgencies = () => request("GET", "/api/kpi/public-service?period=month&by=agency");
export const kpiOverdue = (limit = 6) => request("GET", `/api/kpi/public-service/overdue?limit=${limit}`);
export const kpiIndicators = () => request("GET", "/api/kpi/indicators");
export const openReports = () => request("GET", "/api/kpi/field-reports/open?limit=500");
export const kpiReportCategories = () => request("GET", "/api/kpi/field-reports?period=month&by=category");

export async function recentAlerts(limit = 50) {
  return items(await request("GET", `/api/alerts?limit=${limit}`));
}

/** Flow counts of the last `hours` hours (the server keeps only what the role may see). */
export async function flows(hours = 2) {
  const from = new Date(Date.now() - hours * 3600 * 1000).toISOString();
  return items(await request("GET", `/api/flows?from=${encodeURIComponent(from)}`));
}

export const alertDetail = (id) => request("GET", `/api/alerts/${encodeURIComponent(id)}`);

export function alertAction(id, action, body = {}) {
  if (!["ack", "assign", "resolve"].includes(action)) throw new Error(`unknown alert action ${action}`);
  return request("POST", `/api/alerts/${encodeURIComponent(id)}/${action}`, body);
}

export function frameUrl(cameraId) {
  return `/api/cameras/${encodeURIComponent(cameraId)}/frame.jpg?t=${Date.now()}`;
}
