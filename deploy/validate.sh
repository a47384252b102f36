#!/usr/bin/env bash
# Validate the deployment files without a container engine: the compose file against the
# compose-spec JSON schema, the Prometheus config and alert rules (promtool, plus rule unit
# tests), the Grafana dashboard (JSON lint + its PromQL through promtool), and the Dockerfile's
# syntax as far as a parser without an engine can.
set -euo pipefail
cd "$(dirname "$0")"
say() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v promtool >/dev/null; then
  say "installing promtool (Debian package prometheus)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq prometheus >/dev/null
fi
# Validators in their own venv, so the project's environment stays as it is.
venv="${TOOLFOUNDRY_VALIDATE_VENV:-${TMPDIR:-/tmp}/toolfoundry-validate}"
if [ ! -x "$venv/bin/check-jsonschema" ]; then
  say "validators venv ($venv): check-jsonschema, pyyaml, dockerfile-parse"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q check-jsonschema pyyaml dockerfile-parse
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say "compose.yaml against the compose-spec schema"
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec compose.yaml

say "Prometheus config and alert rules"
promtool check config prometheus/prometheus.yml
promtool check rules prometheus/alerts.yml
promtool test rules prometheus/alerts_test.yml

say "Grafana dashboard"
"$venv/bin/python" lint_grafana.py grafana/dashboards/toolfoundry.json \
  grafana/provisioning/datasources/prometheus.yaml "$tmp/dashboard-exprs.yml"
promtool check rules "$tmp/dashboard-exprs.yml"
for f in grafana/provisioning/*/*.yaml; do
  "$venv/bin/python" -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$f" && echo "yaml ok: $f"
done

say "Dockerfile (parse only: no engine here to build it)"
"$venv/bin/python" - <<'PY'
from dockerfile_parse import DockerfileParser
parser = DockerfileParser(path="../Dockerfile")
instructions = [i["instruction"] for i in parser.structure if i["instruction"] != "COMMENT"]
assert instructions[0] == "FROM", instructions
for needed in ("RUN", "COPY", "USER", "EXPOSE", "CMD", "HEALTHCHECK"):
    assert needed in instructions, f"Dockerfile has no {needed}"
print(f"Dockerfile ok: base {parser.baseimage}, {len(instructions)} instructions")
PY

say "all deployment files validate"
