import json
from pathlib import Path

import pytest

from toolfoundry.discovery.bench import retrieval_metrics, run_discovery_benchmark
from toolfoundry.discovery.embedders import NullEmbedder

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "discovery"


def test_metrics_on_known_rankings() -> None:
    ranked = [["a", "b", "c"], ["x", "y", "b"], ["q"]]
    relevant = [["a"], ["b", "z"], ["none"]]
    m = retrieval_metrics(ranked, relevant)
    # query 1: hit at rank 1; query 2: one of two relevant at rank 3; query 3: nothing.
    assert m["recall@1"] == pytest.approx(100 / 3, abs=0.01)
    assert m["recall@5"] == pytest.approx(100 * (1 + 0.5) / 3, abs=0.01)
    assert m["hit@1"] == pytest.approx(100 / 3, abs=0.01)
    ndcg_q2 = (1 / 2.0) / (1 + 1 / 1.5849625)  # 1/log2(4) over the ideal of two hits
    assert m["ndcg@5"] == pytest.approx(100 * (1 + ndcg_q2) / 3, abs=0.01)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def test_benchmark_reports_the_documented_keys(tmp_path: Path) -> None:
    tools = _write(
        tmp_path / "tools.jsonl",
        [
            {
                "id": "w",
                "name": "get_weather",
                "description": "Weather forecast",
                "toolkit": None,
                "parameters": None,
                "extra": 1,
            },
            {
                "id": "m",
                "name": "send_mail",
                "description": "Send an email",
                "toolkit": "mail",
                "parameters": None,
            },
        ],
    )
    queries = _write(
        tmp_path / "queries.jsonl",
        [
            {"query": "weather tomorrow", "relevant": ["w"]},
            {"query": "email bob", "relevant": ["m"]},
        ],
    )
    result = run_discovery_benchmark(tools, queries, embedder=NullEmbedder())
    assert set(result) == {
        "recall@1",
        "recall@5",
        "recall@10",
        "hit@1",
        "ndcg@5",
        "latency_ms",
        "tools",
        "queries",
        "mode",
        "index_build_s",
        "embedder",
        "multilingual",
    }
    assert result["recall@1"] == 100.0 and result["ndcg@5"] == 100.0
    assert (result["tools"], result["queries"], result["mode"]) == (2, 2, "lexical")
    assert set(result["latency_ms"]) == {"p50", "p95"}


@pytest.mark.skipif(not (DATA / "sealtools").exists(), reason="shared benchmark data absent")
def test_lexical_baseline_on_a_slice_of_sealtools() -> None:
    result = run_discovery_benchmark(
        DATA / "sealtools" / "tools.jsonl",
        DATA / "sealtools" / "queries.jsonl",
        limit=100,
        embedder=NullEmbedder(),
    )
    assert result["queries"] == 100
    assert result["recall@5"] > 70


def test_gap_metrics_count_what_should_and_did_gap() -> None:
    from toolfoundry.discovery.gap_bench import gap_metrics

    records = [
        {"should": True, "flagged": True, "names_missing": True},
        {"should": True, "flagged": False, "names_missing": False},
        {"should": False, "flagged": True, "names_missing": False},
        {"should": False, "flagged": False, "names_missing": False},
        {"should": False, "flagged": False, "names_missing": False},
    ]
    m = gap_metrics(records)
    assert (m["gap_precision"], m["gap_recall"], m["gap_f1"]) == (50.0, 50.0, 50.0)
    assert m["false_gap_rate"] == pytest.approx(100 / 3, abs=0.01)
    assert m["gap_names_missing"] == 100.0
    assert (m["should_gap"], m["answerable"], m["flagged"]) == (2, 3, 2)


def test_bench_gaps_cli_on_a_leave_out_set(tmp_path: Path) -> None:
    """`toolfoundry bench gaps`: the weather tool is left out of the tool file, so its query
    must get a gap naming it; the e-mail query is answerable and must not."""
    from typer.testing import CliRunner

    from toolfoundry.cli.main import app

    tools = _write(
        tmp_path / "tools.jsonl",
        [
            {"id": "m", "name": "send_mail", "description": "Send an email message to someone"},
            {"id": "c", "name": "convert_units", "description": "Convert between units"},
        ],
    )
    queries = _write(
        tmp_path / "queries.jsonl",
        [
            {"query": "send an email to bob", "relevant": ["m"]},
            {"query": "what is the weather forecast for Paris", "relevant": ["get_weather"]},
        ],
    )
    args = ["bench", "gaps", "--tools", str(tools), "--queries", str(queries)]
    result = CliRunner().invoke(
        app, [*args, "--embedder", "none", "--multilingual", "none", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["gap_recall"], report["false_gap_rate"], report["gap_precision"]) == (
        100.0,
        0.0,
        100.0,
    )
    assert report["gap_names_missing"] == 100.0  # "weather" is uncovered and in get_weather
    bad = CliRunner().invoke(app, [*args, "--embedder", "nope"])
    assert bad.exit_code != 0 and "--embedder" in bad.output
    # The gap model's cut is an option; its weights hold for MiniLM only, so without an
    # embedder coverage alone still decides.
    gated = CliRunner().invoke(
        app,
        [*args, "--embedder", "none", "--multilingual", "none", "--min-absence", "1", "--json"],
    )
    assert gated.exit_code == 0, gated.output
    report = json.loads(gated.stdout)
    assert report["min_absence"] == 1.0 and report["gap_recall"] == 100.0
    out_of_range = CliRunner().invoke(app, [*args, "--min-absence", "2"])
    assert out_of_range.exit_code != 0 and "--min-absence" in out_of_range.output
