// MCP servers: live state, breaker, latency, tools; refresh a server's tools.
import { api, attempt, badge, fill, h, json, ms, page, when } from "./api.js";

const STATE_KIND = { connected: "ok", connecting: "warn", unhealthy: "bad", stopped: "muted" };

async function loadServers() {
  const servers = await api("/api/v1/mcp-servers");
  fill(
    "#servers tbody",
    servers.length
      ? servers.map((server) => {
          const status = server.status ?? {};
          return h(
            "tr",
            { dataset: { server: server.name } },
            h("td", {}, h("a", { href: "#", onclick: (e) => { e.preventDefault(); attempt(() => showServer(server.name)); } }, server.name)),
            h("td", {}, server.transport),
            h("td", {}, status.state ? badge(status.state, STATE_KIND[status.state] ?? "") : "–"),
            h("td", {}, status.breaker ? badge(status.breaker, status.breaker === "closed" ? "ok" : "bad") : "–"),
            h("td", {}, ms(status.latency_ms)),
            h("td", {}, server.tools.length),
            h("td", { class: "muted" }, status.last_error ?? ""),
            h(
              "td",
              { class: "actions" },
              h("button", { class: "refresh", onclick: () => attempt(() => refresh(server.name)) }, "Refresh tools"),
              " ",
              h("button", { class: "restart", onclick: () => attempt(() => refresh(server.name, "restart")) }, "Restart"),
            ),
          );
        })
      : h("tr", {}, h("td", { colspan: 8 }, "No MCP servers registered. Add one with `toolfoundry mcp add` or POST /api/v1/mcp-servers.")),
  );
}

async function refresh(name, action = "refresh") {
  await api(`/api/v1/mcp-servers/${encodeURIComponent(name)}/${action}`, { method: "POST" });
  await Promise.all([loadServers(), showServer(name)]);
}

async function showServer(name) {
  const server = await api(`/api/v1/mcp-servers/${encodeURIComponent(name)}`);
  const status = server.status ?? {};
  fill(
    "#server-detail",
    h("h2", {}, server.name),
    h(
      "dl",
      { class: "insights" },
      [
        ["toolkit", server.toolkit],
        ["state", status.state],
        ["breaker", status.breaker],
        ["latency", ms(status.latency_ms)],
        ["connected since", when(status.connected_since)],
        ["consecutive failures", status.consecutive_failures],
        ["endpoint", status.endpoint],
        ["last error", status.last_error],
      ].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")]),
    ),
    h("h3", {}, "Tools"),
    h("ul", { id: "server-tools" }, server.tools.map((id) => h("li", {}, h("a", { href: `/#${id}` }, id)))),
    h("h3", {}, "Configuration"),
    json(server.config),
  );
}

page(() => {
  attempt(loadServers);
  setInterval(() => attempt(loadServers), 10000);
});
