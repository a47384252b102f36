"""Lint a provisioned Grafana dashboard: JSON shape, unique ids, datasource uids that the
provisioning defines, and PromQL that parses (written out as recording rules for promtool)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml


def lint(dashboard_path: Path, datasources_path: Path, rules_out: Path) -> list[str]:
    problems: list[str] = []
    dashboard = json.loads(dashboard_path.read_text())
    uids = {d["uid"] for d in yaml.safe_load(datasources_path.read_text())["datasources"]}
    for key in ("uid", "title", "panels", "schemaVersion"):
        if key not in dashboard:
            problems.append(f"dashboard has no {key!r}")
    ids = [p.get("id") for p in dashboard.get("panels", [])]
    if len(ids) != len(set(ids)):
        problems.append(f"panel ids repeat: {ids}")
    rules = []
    for panel in dashboard.get("panels", []):
        where = f"panel {panel.get('id')} ({panel.get('title')!r})"
        for key in ("type", "title", "gridPos", "targets"):
            if key not in panel:
                problems.append(f"{where} has no {key!r}")
        if panel.get("datasource", {}).get("uid") not in uids:
            problems.append(f"{where}: datasource uid not provisioned (have {sorted(uids)})")
        for target in panel.get("targets", []):
            if not target.get("expr"):
                problems.append(f"{where} target {target.get('refId')} has no expr")
                continue
            rules.append(
                {"record": f"lint:panel{panel['id']}:{target['refId']}", "expr": target["expr"]}
            )
    rules_out.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-exprs", "rules": rules}]}))
    return problems


if __name__ == "__main__":
    found = lint(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
    for problem in found:
        print(f"grafana lint: {problem}", file=sys.stderr)
    print(f"grafana lint: {'FAILED' if found else 'ok'} ({sys.argv[1]})")
    sys.exit(1 if found else 0)
