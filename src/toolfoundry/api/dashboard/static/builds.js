// Builds: the queue, live phase progress over the builds WebSocket, logs, result, generated code.
import { api, attempt, badge, fill, formValues, h, json, page, pct, query, socket, token, when } from "./api.js";

const KIND = { completed: "ok", failed: "bad", cancelled: "bad", running: "warn", queued: "muted" };
let live = null; // the WebSocket of the build shown, if it is still running

async function loadBuilds() {
  const filters = formValues(document.getElementById("build-filter"));
  const builds = await api(`/api/v1/builds${query(filters)}`);
  fill(
    "#builds tbody",
    builds.length
      ? builds.map((b) =>
          h(
            "tr",
            { dataset: { build: b.id }, onclick: () => attempt(() => showBuild(b.id)) },
            h("td", {}, h("a", { href: `#${b.id}` }, b.id.slice(0, 8))),
            h("td", {}, b.requirement.description),
            h("td", {}, badge(b.status, KIND[b.status]), b.reused ? " reused" : ""),
            h("td", {}, h("progress", { max: 1, value: b.progress }), ` ${b.current_phase}`),
            h("td", {}, when(b.created_at)),
          ),
        )
      : h("tr", {}, h("td", { colspan: 5 }, "No builds yet.")),
  );
}

function progressView(status) {
  return h(
    "div",
    { id: "live" },
    h("div", { id: "phase" }, badge(status.status, KIND[status.status]), ` ${status.current_phase} · ${pct(status.progress)}`),
    h("progress", { id: "progress", max: 1, value: status.progress }),
    h("pre", { id: "logs", class: "logs" }, status.logs.join("\n")),
  );
}

function follow(buildId) {
  live?.close();
  live = socket(`/api/v1/build/${buildId}/ws`);
  live.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type !== "progress_update") return;
    const data = event.data;
    fill("#phase", badge(data.status, KIND[data.status]), ` ${data.phase} · ${pct(data.progress)}`);
    document.getElementById("progress").value = data.progress;
    if (data.message) document.getElementById("logs").append(`\n${data.message}`);
    if (data.final) {
      live.close();
      live = null;
      attempt(() => Promise.all([loadBuilds(), showBuild(buildId)]));
    }
  };
}

// The files of the built server, fetched when opened (package-wrapper builds keep no code in
// their iterations; the LLM loop's iterations carry each attempt's code too).
function assetFiles(buildId, asset) {
  return asset.files.map((file) => {
    const body = h("pre", { class: "code" }, "…");
    const details = h("details", { class: "asset-file", dataset: { file } }, h("summary", {}, file), body);
    details.addEventListener("toggle", () => {
      if (details.open && body.textContent === "…")
        attempt(async () => {
          body.textContent = await api(`/api/v1/build/${buildId}/files/${encodeURIComponent(file)}`, { raw: true });
        });
    });
    return details;
  });
}

function codeView(result) {
  const blocks = [];
  for (const it of result.iterations ?? []) {
    for (const [file, code] of Object.entries(it.code ?? {})) {
      blocks.push(h("details", {}, h("summary", {}, `iteration ${it.number}: ${file}`), h("pre", { class: "code" }, code)));
    }
  }
  return blocks;
}

async function showBuild(buildId) {
  const status = await api(`/api/v1/build/${buildId}/status`);
  const finished = ["completed", "failed", "cancelled"].includes(status.status);
  const result = finished ? await api(`/api/v1/build/${buildId}/result`) : null;
  fill(
    "#build-detail",
    h("h2", {}, `Build ${buildId.slice(0, 8)}`),
    progressView(status),
    finished ? null : h("button", { id: "cancel-build", onclick: () => attempt(() => cancel(buildId)) }, "Cancel"),
    result ? renderResult(result) : null,
  );
  if (!finished) follow(buildId);
}

function renderResult(result) {
  const asset = result.mcp_asset;
  return h(
    "div",
    { id: "build-result" },
    h("h3", {}, "Result ", result.success ? badge("success", "ok") : badge("failed", "bad")),
    result.error_message ? h("p", { class: "problem" }, result.failure_type ? `${result.failure_type}: ` : "", result.error_message) : null,
    asset
      ? h(
          "dl",
          { class: "insights" },
          h("dt", {}, "server"), h("dd", {}, asset.server_name),
          h("dt", {}, "strategy"), h("dd", {}, asset.strategy),
          h("dt", {}, "tools"), h("dd", {}, asset.tools.map((id) => [h("a", { href: `/#${id}` }, id), " "])),
          h("dt", {}, "files"), h("dd", {}, asset.files.join(", ")),
          h("dt", {}, "dependencies"), h("dd", {}, asset.dependencies.join(", ") || "–"),
        )
      : null,
    h("h3", {}, "Phases"),
    h("ul", {}, (result.build_metrics.phases ?? []).map((p) => h("li", {}, `${p.stage}: ${p.seconds.toFixed(2)} s`, p.detail ? ` — ${p.detail}` : ""))),
    h("h3", {}, "Iterations"),
    h("ol", {}, result.iterations.map((it) => h("li", {}, `${it.strategy}: ${it.decision} → ${it.outcome}`, it.error ? h("div", { class: "muted" }, it.error) : null))),
    asset ? [h("h3", {}, "Generated code"), assetFiles(result.build_id, asset)] : null,
    codeView(result).length ? [h("h3", {}, "Code of each iteration"), codeView(result)] : null,
    result.test_results ? [h("h3", {}, "Validation"), json(result.test_results)] : null,
  );
}

async function cancel(buildId) {
  await api(`/api/v1/build/${buildId}/cancel`, { method: "POST" });
  await Promise.all([loadBuilds(), showBuild(buildId)]);
}

async function submit(form) {
  const values = formValues(form);
  const requirement = { description: values.description };
  if (values.dependencies) requirement.dependencies = values.dependencies.split(",").map((d) => d.trim()).filter(Boolean);
  if (values.example_input !== undefined) requirement.examples = [{ input: values.example_input, expected: values.example_expected ?? "" }];
  const accepted = await api("/api/v1/build", { method: "POST", body: { requirement } });
  await loadBuilds();
  await showBuild(accepted.build_id);
}

// Whether build_missing may build now (it switches itself off after failed builds): /ready.
async function loadAutoBuild() {
  const ready = await fetch("/ready", { headers: { Authorization: `Bearer ${token()}` } }).then((r) => r.json());
  const state = ready.checks?.auto_build;
  if (!state) return;
  const on = state.startsWith("on");
  fill("#auto-build", "Automatic building (build_missing): ", badge(on ? "on" : "off", on ? "ok" : "bad"), ` ${state.replace(/^(on|off): /, "")}`);
}

page(() => {
  attempt(loadAutoBuild);
  document.getElementById("build-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(loadBuilds);
  });
  document.getElementById("build-form").addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(() => submit(event.target));
  });
  attempt(async () => {
    await loadBuilds();
    if (location.hash.length > 1) await showBuild(location.hash.slice(1));
  });
});
