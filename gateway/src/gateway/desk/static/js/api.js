// The public REST API through the same gateway, with the bearer token of the OAuth2 password flow.
import { fieldMessage, problemSummary } from "./errors.js";
import { t } from "./i18n.js";

const TOKEN_KEY = "bt.desk.token";
// sessionStorage: the session survives a reload of the tab but not closing it, and is not shared with other tabs
// (ADR 0032).
export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export class ApiError extends Error {
  // `detail` is the API's own (English) text; `summary` the same said in the desk's language (errors.js), and
  // `fields` the field messages in the desk's language; `code` the problem's stable code, when it has one.
  constructor({ status, title, detail, fields, code, summary }) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title || "";
    this.detail = detail || "";
    this.fields = fields || {};
    this.code = code || "";
    this.summary = summary || this.detail;
  }
}

// `body.child.iin` → `child.iin`, `query.applicant_iin` → `applicant_iin`: the name the form's input has.
export function fieldPath(path) {
  return String(path).replace(/^(body|query|path|header)\./, "");
}

async function problemOf(response) {
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  const fields = {};
  for (const e of Array.isArray(data.errors) ? data.errors : []) {
    if (e && e.path) fields[fieldPath(e.path)] = fieldMessage(e);
  }
  return new ApiError({
    status: response.status,
    title: data.title || response.statusText,
    detail: typeof data.detail === "string" ? data.detail : "",
    fields,
    code: typeof data.code === "string" ? data.code : "",
    summary: problemSummary({ ...data, status: response.status }, Object.keys(fields).length > 0),
  });
}

// Sign-out: the server ends the account's sessions, so the token is refused even if it was copied (ADR 0032).
// The tab forgets it whatever the answer: an expired or already ended token, or an unreachable gateway, must not
// keep anyone signed in here.
export async function signOutOnServer() {
  const bearer = token();
  setToken(null);
  if (!bearer) return;
  try {
    await fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${bearer}`, Accept: "application/json" } });
  } catch {
    // offline: the token ends when it expires (BT_JWT_TTL_S)
  }
}

// Sign-in: the OAuth2 password form (RFC 6749 §4.3.2).
export async function signIn(username, password) {
  const form = new URLSearchParams({ grant_type: "password", username, password });
  const response = await fetch("/api/v1/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: form,
  });
  if (!response.ok) throw await problemOf(response);
  const data = await response.json();
  setToken(data.access_token);
  return data;
}

export async function api(method, path, { body, query, idempotencyKey, accept } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const headers = { Accept: accept || "application/json" };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload });
  } catch {
    throw new ApiError({ status: 0, title: t("api.offline"), detail: t("api.offline") });
  }
  if (response.status === 401) {
    const error = await problemOf(response);
    setToken(null);
    onUnauthorized(error);
    throw error;
  }
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  if (accept && !accept.includes("json")) return await response.blob();
  return type.includes("json") ? await response.json() : await response.text();
}

// Opens a PDF (or any blob) in a new tab; a browser that blocks that downloads it instead.
export function openBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// A fresh key for one form: a double click or a retry sends the same key and gets the same receipt.
export function newIdempotencyKey() {
  // randomUUID exists only in secure contexts (https, localhost); the desk may be opened over plain http.
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
