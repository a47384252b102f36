"""Capability gaps over the starter catalog, the one every new install has: do answerable
requests come back without a gap, and do requests for capabilities no starter has get one?

Answerable: the 23 requests of ``data/agent_requests.jsonl`` (each answered by a starter tool
in the agent benchmark). Absent: the 20 requests of ``data/gaps_starters.jsonl`` (weather,
e-mail, translation, OCR … — nothing among the 36 starter tools does them). Retrieval-only
discovery through the library, as ``toolfoundry discover`` runs it.

``--heldout`` uses ``data/gaps_starters_heldout.jsonl`` instead (20 answerable, 10 absent),
written after the changes the dev figures led to and run once.

Run: .venv/bin/python benchmarks/gaps_starters.py [--heldout] [--min-absence 0.38]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from toolfoundry import Settings, ToolLibrary

DATA = Path(__file__).parent / "data"


def _rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


async def run(min_absence: float, heldout: bool = False) -> dict[str, Any]:
    if heldout:  # written after the dev figures, before any run on them
        rows = _rows("gaps_starters_heldout.jsonl")
        answerable = [r["query"] for r in rows if not r["should"]]
        absent = [r["query"] for r in rows if r["should"]]
    else:
        answerable = [r["query"] for r in _rows("agent_requests.jsonl")]
        absent = [r["query"] for r in _rows("gaps_starters.jsonl")]
    with tempfile.TemporaryDirectory(prefix="tf-gaps-") as tmp:
        settings = Settings(data_dir=tmp, discovery_gap_min_absence=min_absence)
        async with ToolLibrary.open(settings) as library:
            assert library.discovery is not None
            await library.discovery.wait_ready()
            rows = []
            for query, should in [(q, False) for q in answerable] + [(q, True) for q in absent]:
                found = await library.discover(query, mode="retrieval")
                rows.append(
                    {
                        "query": query,
                        "should": should,
                        "flagged": bool(found.gaps),
                        "gaps": [g.description for g in found.gaps],
                        "top": found.tools[0].id if found.tools else None,
                    }
                )
    false_gaps = [r for r in rows if r["flagged"] and not r["should"]]
    found_gaps = [r for r in rows if r["flagged"] and r["should"]]
    return {
        "min_absence": min_absence,
        "answerable": len(answerable),
        "absent": len(absent),
        "false_gap_rate": round(100 * len(false_gaps) / len(answerable), 1),
        "gap_recall": round(100 * len(found_gaps) / len(absent), 1),
        "false_gaps": [{"query": r["query"], "gaps": r["gaps"]} for r in false_gaps],
        "missed": [
            {"query": r["query"], "top": r["top"]} for r in rows if r["should"] and not r["flagged"]
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--min-absence", type=float, default=0.0)
    parser.add_argument(
        "--heldout", action="store_true", help="the held-out set (20 answerable, 10 absent)"
    )
    args = parser.parse_args()
    report = asyncio.run(run(args.min_absence, args.heldout))
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
