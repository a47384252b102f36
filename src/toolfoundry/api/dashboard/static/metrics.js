// Metrics overview: readiness, and small inline-SVG charts from /metrics (no chart library).
import { api, attempt, badge, fill, h, page, token } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";
const history = []; // [{t, calls, discoveries}] sampled each refresh, for the sparklines
const HISTORY = 60;

// Prometheus text format → [{name, labels, value}]; comments and blank lines skipped.
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/);
    if (!match) continue;
    const labels = {};
    for (const [, k, v] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

const sum = (samples, name, where = () => true) =>
  samples.filter((s) => s.name === name && where(s.labels)).reduce((acc, s) => acc + s.value, 0);

function grouped(samples, name, label) {
  const out = {};
  for (const s of samples.filter((x) => x.name === name)) out[s.labels[label] ?? ""] = (out[s.labels[label] ?? ""] ?? 0) + s.value;
  return out;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

function bars(title, data) {
  const entries = Object.entries(data);
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const width = 260;
  const row = 18;
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${width} ${Math.max(row, entries.length * row)}`, class: "chart", role: "img", "aria-label": title },
    ...entries.map(([label, value], i) => {
      const w = (value / max) * (width - 120);
      return svg(
        "g",
        { transform: `translate(0 ${i * row})` },
        svg("text", { x: 0, y: 13, class: "label" }, label || "(none)"),
        svg("rect", { x: 90, y: 3, width: Math.max(1, w), height: 12, class: "bar" }),
        svg("text", { x: 94 + w, y: 13, class: "value" }, Number.isInteger(value) ? value : value.toFixed(3)),
      );
    }),
  );
  return h("section", { class: "card" }, h("h2", {}, title), entries.length ? chart : h("p", { class: "muted" }, "No data yet."));
}

function sparkline(title, values, unit) {
  const width = 260;
  const height = 60;
  const max = Math.max(1e-9, ...values);
  const points = values.map((v, i) => `${(i / Math.max(1, HISTORY - 1)) * width},${height - (v / max) * (height - 4) - 2}`).join(" ");
  const last = values.at(-1);
  return h(
    "section",
    { class: "card" },
    h("h2", {}, title),
    h("div", { class: "big" }, last === undefined ? "–" : `${last.toFixed(unit === "ms" ? 1 : 2)} ${unit}`),
    svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart spark", role: "img", "aria-label": title }, svg("polyline", { points, class: "line" })),
  );
}

function histogram(samples, name) {
  // Cumulative buckets → per-bucket counts.
  const buckets = samples.filter((s) => s.name === `${name}_bucket`);
  const byLe = {};
  for (const s of buckets) byLe[s.labels.le] = (byLe[s.labels.le] ?? 0) + s.value;
  const les = Object.keys(byLe).sort((a, b) => Number(a === "+Inf" ? Infinity : a) - Number(b === "+Inf" ? Infinity : b));
  const out = {};
  let previous = 0;
  for (const le of les) {
    out[`≤ ${le} s`] = byLe[le] - previous;
    previous = byLe[le];
  }
  return out;
}

function readiness(ready) {
  return h(
    "section",
    { class: "card wide", id: "ready" },
    h("h2", {}, "Readiness ", badge(ready.status, ready.status === "ready" ? "ok" : "bad")),
    h("dl", { class: "insights" }, Object.entries(ready.checks ?? {}).map(([k, v]) => [h("dt", {}, k), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))])),
  );
}

async function refresh() {
  const [text, ready] = await Promise.all([
    api("/metrics", { raw: true }),
    // 503 (not ready) still has a body worth showing, so not through api().
    fetch("/ready", { headers: { Authorization: `Bearer ${token()}` } }).then((r) => r.json()),
  ]);
  const samples = parseMetrics(text);
  const calls = sum(samples, "toolfoundry_tool_calls_total");
  const discoveries = sum(samples, "tool_discovery_latency_count");
  const discoverySeconds = sum(samples, "tool_discovery_latency_sum");
  const previous = history.at(-1);
  const now = Date.now();
  const sample = { t: now, calls, discoveries, discoverySeconds };
  history.push(sample);
  if (history.length > HISTORY) history.shift();
  const rates = history.slice(1).map((s, i) => ((s.calls - history[i].calls) / Math.max(1e-3, (s.t - history[i].t) / 1000)));
  const latencies = history.slice(1).map((s, i) => {
    const n = s.discoveries - history[i].discoveries;
    return n > 0 ? ((s.discoverySeconds - history[i].discoverySeconds) / n) * 1000 : 0;
  });
  fill("#readiness", readiness(ready));
  fill(
    "#charts",
    sparkline("Tool calls per second", previous ? rates : [], "/s"),
    sparkline("Mean discovery latency", previous ? latencies : [], "ms"),
    bars("Tool calls by status", grouped(samples, "toolfoundry_tool_calls_total", "status")),
    bars("Discovery latency", histogram(samples, "tool_discovery_latency")),
    bars("Builds by status", grouped(samples, "mcp_build_requests_total", "status")),
    bars("Runs by outcome", grouped(samples, "toolfoundry_trajectories_total", "outcome")),
  );
}

page(() => {
  attempt(refresh);
  setInterval(() => attempt(refresh), 5000);
});
