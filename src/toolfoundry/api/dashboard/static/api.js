// Shared by every page: the operator's token, API calls with it, and small DOM helpers.
// The pages are shells; all data comes from the REST API with `Authorization: Bearer`.

const KEY = "toolfoundry.token";

export function token() {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
}

export function saveToken(value, remember) {
  sessionStorage.setItem(KEY, value);
  if (remember) localStorage.setItem(KEY, value);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
  location.assign("/ui/login");
}

function toLogin(reason) {
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/ui/login?next=${next}${reason ? `&reason=${encodeURIComponent(reason)}` : ""}`);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// Fetch `path` with the token; JSON in and out. 401 sends the operator back to the login page.
export async function api(path, { method = "GET", body, raw = false, auth = token() } = {}) {
  const headers = { Accept: raw ? "text/plain" : "application/json" };
  if (auth) headers.Authorization = `Bearer ${auth}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && auth === token()) {
    toLogin("Your token was not accepted; sign in again.");
    throw new ApiError(401, { title: "Unauthorized" });
  }
  if (!response.ok) {
    let problem;
    try {
      problem = await response.json();
    } catch {
      problem = { title: response.statusText };
    }
    throw new ApiError(response.status, problem);
  }
  return raw ? response.text() : response.json();
}

// The builds WebSocket: browsers cannot set headers there, so the token rides in the query.
export function socket(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = token() ? `?token=${encodeURIComponent(token())}` : "";
  return new WebSocket(`${scheme}://${location.host}${path}${query}`);
}

// h("tr", {class: "x", onclick: fn}, child, ...) -> an element; strings become text nodes.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function fill(target, ...children) {
  const el = typeof target === "string" ? document.querySelector(target) : target;
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
  return el;
}

export function showError(error) {
  const box = document.getElementById("error");
  if (!box) return;
  if (!error) {
    box.hidden = true;
    return;
  }
  const p = error.problem ?? {};
  box.hidden = false;
  fill(box, h("strong", {}, p.title || "Error"), " ", error.message, p.hint ? h("div", {}, p.hint) : null);
}

// Run an action, showing its problem (if any) in the page's error box.
export async function attempt(action) {
  showError(null);
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError)) console.warn(error);
    showError(error);
    return undefined;
  }
}

export const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
export const ms = (x) => (x === null || x === undefined ? "–" : `${x.toFixed(1)} ms`);
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");
export const json = (value) => h("pre", { class: "json" }, JSON.stringify(value, null, 2));
export const badge = (text, kind = text) => h("span", { class: `badge ${kind}` }, text);

export function formValues(form) {
  const values = {};
  for (const [name, value] of new FormData(form)) if (value !== "") values[name] = value;
  return values;
}

export function query(values) {
  const params = new URLSearchParams(values).toString();
  return params ? `?${params}` : "";
}

// Every page but the login page: no token, no page.
export function page(start) {
  if (!token()) {
    toLogin();
    return;
  }
  document.getElementById("sign-out")?.addEventListener("click", signOut);
  start();
}
