"""Regenerate the Chinese discovery dev set: MetaTool and Seal-Tools queries translated to Chinese
by a local model (any OpenAI-compatible endpoint), in the shared ``queries.jsonl`` format.

    python benchmarks/make_chinese_devset.py \
        --data /work/shared/benchmarks/discovery --base-url http://127.0.0.1:8011/v1

Queries are an evenly spaced sample (the sets are grouped by tool); Seal-Tools contributes only
queries of at most ``--max-chars`` characters (its long multi-tool requests cost the slow local
model minutes each). Ten queries go into one request as numbered lines to save prompt overhead;
a batch whose answer does not parse is retried one query at a time. Finished queries are kept, so
an interrupted run resumes. ``relevant`` ids refer to the source set's ``tools.jsonl``.
Rows without a Chinese character are dropped; read a sample against ``english`` before use.
Measure with ``benchmarks/discovery_chinese.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx

OUT = Path(__file__).parent / "data" / "discovery_zh"
_CJK = re.compile(r"[\u3400-\u9fff]")
_NUMBERED = re.compile(r"^\s*(\d+)\s*[.、:：)]\s*(.+?)\s*$")
PROMPT = (
    "Translate each numbered English request below into natural Simplified Chinese, as a "
    "Chinese user would write it. Keep product names, code identifiers, numbers and quoted "
    "values unchanged. Answer with exactly the same numbered lines, one translation per line, "
    "nothing else.\n\n"
)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sample(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    step = len(rows) / n
    return [rows[int(i * step)] for i in range(n)]


def ask(client: httpx.Client, text: str, max_tokens: int) -> str:
    response = client.post(
        "/chat/completions",
        json={
            "model": "local",
            "messages": [{"role": "user", "content": text}],
            "temperature": 0,
            "max_tokens": max_tokens,
        },
    )
    response.raise_for_status()
    return response.json()["choices"][0]["message"]["content"]


def translate(client: httpx.Client, queries: list[str]) -> list[str | None]:
    """Translations in order; None where the answer had no Chinese line for a query."""
    numbered = "\n".join(f"{i + 1}. {q}" for i, q in enumerate(queries))
    # A Chinese translation takes about one token per 2-3 English characters; the cap stops a
    # small model that starts repeating itself.
    budget = 20 + sum(4 + len(q) // 2 for q in queries)
    try:
        answer = ask(client, PROMPT + numbered, budget)
    except httpx.HTTPError as exc:  # a shared, slow server: skip the batch, a rerun resumes
        print(f"request failed ({type(exc).__name__}); skipping", flush=True)
        return [None] * len(queries)
    found: dict[int, str] = {}
    for line in answer.splitlines():
        if (m := _NUMBERED.match(line)) and _CJK.search(m.group(2)):
            found.setdefault(int(m.group(1)), m.group(2))
    if len(queries) == 1 and not found and _CJK.search(answer):
        found[1] = answer.strip().splitlines()[0]
    return [found.get(i + 1) for i in range(len(queries))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("/work/shared/benchmarks/discovery"))
    parser.add_argument("--base-url", default="http://127.0.0.1:8011/v1")
    parser.add_argument("--metatool", type=int, default=150)
    parser.add_argument("--sealtools", type=int, default=100)
    parser.add_argument("--max-chars", type=int, default=160)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument(
        "--translator",
        default="local Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        help="recorded in each row's 'translator' field",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    client = httpx.Client(base_url=args.base_url, timeout=1800.0)
    for name, n in (("metatool", args.metatool), ("sealtools", args.sealtools)):
        rows = [
            r
            for r in read_jsonl(args.data / name / "queries.jsonl")
            if r.get("relevant") and len(r["query"]) <= args.max_chars
        ]
        picked = sample(rows, n)
        target = OUT / f"{name}.queries.jsonl"
        done = {r["qid"] for r in read_jsonl(target)} if target.exists() else set()
        todo = [r for r in picked if r["qid"] not in done]
        with target.open("a", encoding="utf-8") as out:
            for start in range(0, len(todo), args.batch):
                batch = todo[start : start + args.batch]
                t0 = time.perf_counter()
                results = translate(client, [r["query"] for r in batch])
                for row, zh in zip(batch, results, strict=True):
                    if zh is None and len(batch) > 1 and any(results):
                        # one at a time: a lone line parses far more reliably
                        zh = translate(client, [row["query"]])[0]
                    if zh is None:
                        print(f"skipped {row['qid']}: no translation", flush=True)
                        continue
                    record = {
                        "qid": row["qid"],
                        "query": zh,
                        "relevant": row["relevant"],
                        "source": name,
                        "english": row["query"],
                        "translator": args.translator,
                    }
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                print(
                    f"{name}: {start + len(batch)}/{len(todo)} in {time.perf_counter() - t0:.0f}s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
