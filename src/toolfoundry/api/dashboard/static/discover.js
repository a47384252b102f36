// Discovery playground: a request → analysis, toolkits, tools with signals, plan, gaps.
import { api, attempt, badge, fill, h, page, pct } from "./api.js";

function section(title, ...content) {
  return h("section", { class: "card wide" }, h("h2", {}, title), ...content);
}

function renderResult(result) {
  const a = result.analysis;
  const f = result.tool_filtering;
  fill(
    "#result",
    h(
      "p",
      { id: "discover-summary" },
      badge(result.mode, "ok"),
      ` coverage ${pct(result.coverage)} · ${result.latency_ms.toFixed(1)} ms · catalog v${result.catalog_version}`,
      result.fallback_reason ? h("span", { class: "warn" }, ` · fell back: ${result.fallback_reason}`) : null,
    ),
    section(
      "Analysis",
      h("p", {}, h("strong", {}, a.core_intent), ` — scenario ${a.scenario_classification}, ${a.complexity_level}, confidence ${pct(a.confidence_score)}`),
      a.subtasks.length ? h("ol", { start: 0 }, a.subtasks.map((s) => h("li", {}, s))) : null,
      a.reasoning ? h("p", { class: "muted" }, a.reasoning) : null,
    ),
    section(
      "Toolkits",
      h("ul", {}, result.toolkit_selection.toolkits.map((t) => h("li", {}, h("strong", {}, t.id), ` ${t.score.toFixed(3)} — ${t.description}`))),
      result.toolkit_selection.selection_reasoning ? h("p", { class: "muted" }, result.toolkit_selection.selection_reasoning) : null,
    ),
    section(
      "Tools",
      h(
        "table",
        { class: "list", id: "ranked-tools" },
        h("thead", {}, h("tr", {}, h("th", {}, "Tool"), h("th", {}, "Score"), h("th", {}, "Signals"), h("th", {}, "Covers"))),
        h(
          "tbody",
          {},
          f.tools.map((t) =>
            h(
              "tr",
              {},
              h("td", {}, h("a", { href: `/#${t.id}` }, t.id), h("div", { class: "muted" }, t.description.split("\n")[0])),
              h("td", {}, t.score.toFixed(3)),
              h("td", {}, Object.entries(t.signals).map(([k, v]) => h("span", { class: "signal" }, `${k} ${v === null ? "–" : v.toFixed(3)}`))),
              h("td", {}, t.covers.join(", ")),
            ),
          ),
        ),
      ),
    ),
    section(
      `Plan (${f.execution_plan.strategy})`,
      f.execution_plan.steps.length
        ? h("ol", { id: "plan" }, f.execution_plan.steps.map((s) => h("li", {}, h("code", {}, s.tool), ` — ${s.purpose}`, s.depends_on.length ? ` (after ${s.depends_on.join(", ")})` : "")))
        : h("p", { class: "muted", id: "plan" }, "No step: no part of the request is covered well enough (see the gaps)."),
    ),
    section(
      "Gaps",
      result.gaps.length
        ? h("ul", { id: "gaps" }, result.gaps.map((g) => h("li", {}, badge(g.priority, g.priority === "high" ? "bad" : "warn"), ` ${g.description} (coverage ${pct(g.coverage)})`)))
        : h("p", { class: "muted", id: "gaps" }, "None: the catalog covers the request."),
    ),
  );
}

page(() => {
  document.getElementById("discover-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    fill("#result", h("p", { class: "muted" }, "Discovering…"));
    attempt(async () => {
      const result = await api("/api/v1/discover", {
        method: "POST",
        body: { query: form.query.value, mode: form.mode.value, top_k: Number(form.top_k.value) },
      });
      renderResult(result);
      return true;
    }).then((r) => r === undefined && fill("#result"));
  });
});
