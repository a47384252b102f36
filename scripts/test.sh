#!/usr/bin/env bash
# The test command from the README: installs what the tests need on a fresh Debian machine
# (Python packages; PostgreSQL and Redis via apt), starts the services on loopback, runs
# ruff and the whole suite on SQLite and on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

say "system packages (PostgreSQL, Redis, bubblewrap, Chromium, promtool)"
need=()
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v bwrap >/dev/null || need+=(bubblewrap)
# The dashboard's browser tests drive Debian's Chromium (Playwright never downloads a browser).
[ -x /usr/bin/chromium ] || need+=(chromium)
# deploy/validate.sh checks the alert rules with promtool.
command -v promtool >/dev/null || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi

say "Python environment (.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade uv
.venv/bin/uv pip install -q --python .venv/bin/python -e '.[test]'

say "MCP Inspector CLI (npm, pinned; tests/gateway/test_inspector.py skips without it)"
INSPECTOR_VERSION=2.12.0
inspector=.cache/npm-inspector
if command -v npm >/dev/null; then
  if ! grep -qs "\"version\": \"$INSPECTOR_VERSION\"" \
    "$inspector/node_modules/@modelcontextprotocol/inspector/package.json"; then
    mkdir -p "$inspector"
    npm install --prefix "$inspector" --no-audit --no-fund --silent \
      "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" || echo "Inspector install failed: its tests skip"
  fi
else
  echo "npm not found: the Inspector tests skip"
fi

say "PostgreSQL on 127.0.0.1:${PGPORT:=5432}"
cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
if [ -z "$cluster" ]; then
  as_root pg_createcluster 15 main --port "$PGPORT" >/dev/null
  cluster="15 main"
fi
as_root pg_ctlcluster $cluster start 2>/dev/null || true
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p "$PGPORT" && break; sleep 0.5; done
as_root su postgres -c "psql -q -p $PGPORT -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
export TOOLFOUNDRY_TEST_POSTGRES_URL="postgresql+asyncpg://postgres:postgres@127.0.0.1:$PGPORT/postgres"

say "Redis on 127.0.0.1:${REDIS_PORT:=6379}"
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' >/dev/null
fi
export TOOLFOUNDRY_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

say "ruff"
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks

say "import layers (pyproject.toml [tool.importlinter])"
.venv/bin/lint-imports

say "types (basedpyright; errors older than the check are in .basedpyright/baseline.json)"
.venv/bin/basedpyright

say "pytest"
# One pytest process per test directory: embedders and browsers loaded by one area are freed
# before the next (a single process over the whole suite grew past 24 GB and was OOM-killed).
if [ $# -gt 0 ]; then
  .venv/bin/pytest -q -rs "$@"
else
  for dir in tests/*/; do
    case "$(basename "$dir")" in support | __pycache__) continue ;; esac
    say "pytest $dir"
    .venv/bin/pytest -q -rs "$dir"
  done
fi
