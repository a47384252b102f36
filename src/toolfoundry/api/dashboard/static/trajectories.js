// Trajectories: recorded runs with filters, and one run's steps as a timeline.
import { api, attempt, badge, fill, formValues, h, json, page, query, when } from "./api.js";

const outcome = (t) =>
  t.status === "running" ? badge("running", "warn") : t.final_success ? badge("succeeded", "ok") : badge("failed", "bad");
const secs = (s) => (s === null || s === undefined ? "–" : `${s.toFixed(2)} s`);

async function loadRuns() {
  const filters = formValues(document.getElementById("trajectory-filter"));
  const runs = await api(`/api/v1/trajectories${query(filters)}`);
  fill(
    "#trajectories tbody",
    runs.length
      ? runs.map((t) =>
          h(
            "tr",
            { dataset: { trajectory: t.trajectory_id }, onclick: () => attempt(() => showRun(t.trajectory_id)) },
            h("td", {}, h("a", { href: `#${t.trajectory_id}` }, t.trajectory_id.slice(0, 8))),
            h("td", {}, t.identified_scenario ?? "–"),
            h("td", {}, t.user_query),
            h("td", {}, outcome(t)),
            h("td", {}, when(t.start_time)),
            h("td", {}, secs(t.total_execution_time)),
          ),
        )
      : h("tr", {}, h("td", { colspan: 6 }, "No runs match.")),
  );
}

// The timeline: one bar per step, placed by its timestamp and sized by its execution time.
function timeline(run) {
  const steps = run.steps ?? [];
  const start = new Date(run.start_time).getTime();
  const end = Math.max(
    run.end_time ? new Date(run.end_time).getTime() : start,
    ...steps.map((s) => new Date(s.timestamp).getTime() + (s.execution_time ?? 0) * 1000),
    start + 1,
  );
  const span = end - start;
  return h(
    "ol",
    { class: "timeline", id: "timeline" },
    steps.map((s) => {
      const at = new Date(s.timestamp).getTime() - (s.execution_time ?? 0) * 1000;
      const left = Math.max(0, ((at - start) / span) * 100);
      const width = Math.max(0.5, (((s.execution_time ?? 0) * 1000) / span) * 100);
      return h(
        "li",
        { class: s.success ? "step" : "step failed" },
        h("div", { class: "step-head" }, h("strong", {}, `${s.step_index}. ${s.step_type}`), s.tool_id ? h("code", {}, ` ${s.tool_id}`) : null, ` ${secs(s.execution_time)}`, s.error_type ? badge(s.error_type, "bad") : null),
        h("div", { class: "bar-track" }, h("div", { class: "bar", style: `margin-left:${left.toFixed(2)}%;width:${Math.min(width, 100 - left).toFixed(2)}%` })),
        h("details", {}, h("summary", {}, "data"), json({ input: s.input_data, output: s.output_data, llm: s.llm_interaction ?? undefined })),
      );
    }),
  );
}

async function showRun(id) {
  const run = await api(`/api/v1/trajectories/${encodeURIComponent(id)}`);
  fill(
    "#trajectory-detail",
    h("h2", {}, `Run ${id.slice(0, 8)} `, outcome(run)),
    h("p", {}, run.user_query),
    h("p", { class: "muted" }, `${run.total_steps} steps · ${secs(run.total_execution_time)} · scenario ${run.identified_scenario ?? "–"}${run.llm_model ? ` · ${run.llm_model}` : ""}`),
    timeline(run),
    run.final_result ? [h("h3", {}, "Result"), json(run.final_result)] : null,
  );
}

page(() => {
  document.getElementById("trajectory-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(loadRuns);
  });
  attempt(async () => {
    await loadRuns();
    if (location.hash.length > 1) await showRun(location.hash.slice(1));
  });
});
