// Catalog: toolkits and tools; a tool's versions, schema, descriptions, insights; enable/disable.
import { api, attempt, badge, fill, formValues, h, json, page, pct, query } from "./api.js";

const FORMATS = ["openai", "anthropic", "mcp", "text"];

async function loadToolkits() {
  const toolkits = await api("/api/v1/toolkits");
  const select = document.getElementById("toolkit");
  const chosen = select.value;
  fill(
    select,
    h("option", { value: "" }, "all toolkits"),
    toolkits.map((t) => h("option", { value: t.name }, `${t.name} (${t.tool_count})`)),
  );
  select.value = chosen;
}

async function loadTools() {
  const filters = formValues(document.getElementById("tool-filter"));
  const tools = await api(`/api/v1/tools${query(filters)}`);
  fill(
    "#tools tbody",
    tools.map((tool) =>
      h(
        "tr",
        { dataset: { tool: tool.id }, class: tool.enabled ? "" : "off", onclick: () => attempt(() => showTool(tool.id)) },
        h("td", {}, h("a", { href: `#${tool.id}` }, tool.id), h("div", { class: "muted" }, tool.description.split("\n")[0])),
        h("td", {}, tool.kind),
        h("td", {}, tool.version),
        h("td", {}, tool.usage_count),
        h("td", {}, pct(tool.success_rate)),
        h("td", {}, tool.enabled ? badge("enabled", "ok") : badge("disabled", "bad")),
      ),
    ),
  );
  if (!tools.length) fill("#tools tbody", h("tr", {}, h("td", { colspan: 6 }, "No tools match.")));
}

async function setEnabled(ref, enabled) {
  await api(`/api/v1/tools/${encodeURIComponent(ref)}`, { method: "PATCH", body: { enabled } });
  await Promise.all([loadTools(), showTool(ref.split("@")[0])]);
}

async function describe(ref, format, target) {
  const described = await api(`/api/v1/tools/${encodeURIComponent(ref)}/describe?format=${format}&learned=true`);
  fill(target, typeof described === "string" ? h("pre", { class: "json" }, described) : json(described));
}

async function showTool(id) {
  const [tool, insights] = await Promise.all([
    api(`/api/v1/tools/${encodeURIComponent(id)}`),
    api(`/api/v1/tools/${encodeURIComponent(id)}/insights`).catch(() => null),
  ]);
  const described = h("div", { id: "described" });
  fill(
    "#tool-detail",
    h("h2", {}, tool.id, " ", tool.enabled ? badge("enabled", "ok") : badge("disabled", "bad")),
    h("p", {}, tool.description),
    h(
      "div",
      { class: "actions" },
      h("button", { id: "toggle-tool", onclick: () => attempt(() => setEnabled(tool.id, !tool.enabled)) }, tool.enabled ? "Disable" : "Enable"),
    ),
    h("h3", {}, "Versions"),
    h(
      "table",
      { class: "list", id: "versions" },
      h("thead", {}, h("tr", {}, h("th", {}, "Version"), h("th", {}, "State"), h("th", {}, "Created"), h("th", {}))),
      h(
        "tbody",
        {},
        tool.versions.map((v) =>
          h(
            "tr",
            {},
            h("td", {}, v.version),
            h("td", {}, v.enabled ? "enabled" : "disabled", v.deprecated ? ", deprecated" : ""),
            h("td", {}, new Date(v.created_at).toLocaleDateString()),
            h("td", {}, h("button", { class: "link", onclick: () => attempt(() => setEnabled(`${tool.id}@${v.version}`, !v.enabled)) }, v.enabled ? "disable" : "enable")),
          ),
        ),
      ),
    ),
    h("h3", {}, "Input schema"),
    json(tool.input_schema),
    tool.output_schema ? [h("h3", {}, "Output schema"), json(tool.output_schema)] : null,
    h("h3", {}, "Described for a model"),
    h(
      "div",
      { class: "tabs" },
      FORMATS.map((format) => h("button", { class: "tab", dataset: { format }, onclick: () => attempt(() => describe(tool.id, format, described)) }, format)),
    ),
    described,
    h("h3", {}, "Insights"),
    insights ? renderInsights(insights) : h("p", { class: "muted" }, "No insights."),
  );
  await describe(tool.id, "openai", described);
}

function renderInsights(insights) {
  const rows = Object.entries(insights).filter(([key]) => key !== "tool_id");
  return h(
    "dl",
    { class: "insights" },
    rows.map(([key, value]) => [
      h("dt", {}, key.replaceAll("_", " ")),
      h("dd", {}, Array.isArray(value) && !value.length ? "–" : typeof value === "object" && value !== null ? json(value) : String(value ?? "–")),
    ]),
  );
}

page(() => {
  document.getElementById("tool-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(loadTools);
  });
  document.getElementById("toolkit").addEventListener("change", () => attempt(loadTools));
  attempt(async () => {
    await Promise.all([loadToolkits(), loadTools()]);
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (wanted) await showTool(wanted);
  });
});
