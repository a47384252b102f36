"""Discovery over a live catalog (retrieval mode): ranking, plans, gaps, incremental updates,
Chinese, and the REST/CLI/gateway interfaces."""

from __future__ import annotations

import pytest
import sample_tools
from fastmcp import Client

from toolfoundry import Settings, ToolLibrary
from toolfoundry.core.errors import InvalidInputError
from toolfoundry.gateway import build_gateway


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"load_starters": True})


@pytest.fixture
async def library(settings: Settings):  # type: ignore[no-untyped-def]
    async with ToolLibrary.open(settings) as lib:
        await lib.discovery.wait_ready()
        yield lib


async def test_finds_the_right_starter_tools(library: ToolLibrary) -> None:
    cases = {
        "convert 100 fahrenheit to celsius": "convert.convert_units",
        "what is the pearson correlation between height and weight": "stats.correlation",
        "turn this title into a url slug": "text.slugify",
        "how many business days are between two dates": "datetime.business_days",
        "read the rows of an excel workbook": "tabular.read_table",
    }
    for query, expected in cases.items():
        result = await library.discover(query, top_k=3)
        assert result.mode == "retrieval"
        assert result.tools[0].id == expected, (query, [t.id for t in result.tools])
        assert result.tools[0].input_schema["type"] == "object"


async def test_multi_step_request_gets_a_plan(library: ToolLibrary) -> None:
    result = await library.discover("read a csv file, then compute the correlation of two columns")
    assert result.analysis.subtasks == ["read a csv file", "compute the correlation of two columns"]
    assert result.analysis.complexity_level == "moderate"
    plan = [s.tool for s in result.tool_filtering.execution_plan.steps]
    assert plan == ["tabular.read_table", "stats.correlation"]
    assert result.tool_filtering.execution_plan.strategy == "sequential"
    assert result.gaps == []
    assert {k.id for k in result.toolkit_selection.toolkits} == {"tabular", "stats"}


async def test_gap_for_what_nothing_covers(library: ToolLibrary) -> None:
    result = await library.discover("read an excel file, then draw a bar chart of the sales")
    assert [g.description for g in result.gaps] == ["draw a bar chart of the sales"]
    gap = result.gaps[0]
    assert gap.coverage < 0.8 and {"chart", "bar"} <= set(gap.search_keywords)
    assert gap.context.startswith("read an excel file")
    assert result.coverage < 0.8
    only_gap = await library.discover("translate this paragraph into French")
    assert len(only_gap.gaps) == 1 and only_gap.gaps[0].priority == "high"


@pytest.fixture
async def multilingual(settings: Settings):  # type: ignore[no-untyped-def]
    """The e5 embedder: multilingual, for Chinese requests over English descriptions."""
    async with ToolLibrary.open(settings.model_copy(update={"embedder": "e5"})) as lib:
        await lib.discovery.wait_ready()
        yield lib


async def test_chinese_queries(multilingual: ToolLibrary) -> None:
    library = multilingual
    result = await library.discover("把华氏温度转换成摄氏度")
    assert result.tools[0].id == "convert.convert_units"
    # Across languages only meaning can be compared: a present capability scores clearly above
    # an absent one (words cannot match, so the margin is smaller than within one language).
    absent = await library.discover("识别图片中的人脸")
    assert result.coverage >= absent.coverage + 0.2
    assert absent.gaps and not result.gaps
    await library.register(sample_tools.change_case)
    zh = await library.discover("把文本转换成大写")
    assert "samples.change_case" in [t.id for t in zh.tools[:3]]


async def test_chinese_descriptions(multilingual: ToolLibrary) -> None:
    library = multilingual

    async def word_frequency(text: str) -> dict[str, int]:
        """统计文本中每个词出现的次数。

        Args:
            text: 要统计的文本。
        """
        return {}

    await library.register(word_frequency, toolkit="zh")
    result = await library.discover("统计每个词出现的次数")
    assert result.tools[0].id == "zh.word_frequency"
    english = await library.discover("count how often each word occurs in a text")
    assert "zh.word_frequency" in [t.id for t in english.tools[:5]]


async def test_chinese_with_the_default_configuration(library: ToolLibrary) -> None:
    """The default routes Chinese requests to the multilingual embedder: Chinese over Chinese
    matches (character pairs and meaning), and Chinese over English tools finds them too."""

    async def word_frequency(text: str) -> dict[str, int]:
        """统计文本中每个词出现的次数。"""
        return {}

    await library.register(word_frequency, toolkit="zh")
    assert (await library.discover("统计每个词出现的次数")).tools[0].id == "zh.word_frequency"
    converted = await library.discover("把华氏温度转换成摄氏度")
    assert converted.tools[0].id == "convert.convert_units"
    assert not converted.gaps


async def test_index_follows_the_catalog(library: ToolLibrary) -> None:
    before = await library.discover("change text to upper case letters")
    assert "samples.change_case" not in [t.id for t in before.tools]
    await library.register(sample_tools.change_case)
    found = await library.discover("change text to upper case letters")
    assert found.tools[0].id == "samples.change_case"
    await library.set_state("samples.change_case", enabled=False)
    gone = await library.discover("change text to upper case letters")
    assert "samples.change_case" not in [t.id for t in gone.tools]
    assert gone.catalog_version > found.catalog_version


async def test_results_cached_per_catalog_version(library: ToolLibrary) -> None:
    first = await library.discover("slugify a title")
    again = await library.discover("slugify a title")
    assert again is first
    await library.register(sample_tools.add)
    fresh = await library.discover("slugify a title")
    assert fresh is not first


async def test_toolkit_filter_and_bad_input(library: ToolLibrary) -> None:
    result = await library.discover("convert units", toolkits=["stats"])
    assert {t.toolkit for t in result.tools} == {"stats"}
    with pytest.raises(InvalidInputError, match="unknown toolkit"):
        await library.discover("convert units", toolkits=["nope"])
    with pytest.raises(InvalidInputError, match="empty"):
        await library.discover("   ")
    with pytest.raises(InvalidInputError, match="needs a model"):
        await library.discover("convert units", mode="llm")


async def test_gateway_discover_tools_uses_discovery(library: ToolLibrary) -> None:
    async with Client(build_gateway(library, meta_only=True)) as client:
        result = await client.call_tool("discover_tools", {"query": "make a url slug", "top_k": 2})
    tools = result.structured_content["tools"]
    assert tools[0]["name"] == "text.slugify" and "properties" in tools[0]["input_schema"]
    assert result.structured_content["mode"] == "retrieval"


def test_rest_and_cli(
    settings: Settings, auth_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from toolfoundry.api.app import create_app
    from toolfoundry.cli.main import app
    from toolfoundry.core.settings import get_settings

    with TestClient(create_app(settings), headers=auth_headers) as client:
        response = client.post("/api/v1/discover", json={"query": "url slug", "top_k": 2})
        assert response.status_code == 200, response.text
        assert response.json()["tool_filtering"]["tools"][0]["id"] == "text.slugify"
        assert client.post("/api/v1/discover", json={"query": ""}).status_code == 422
        assert client.post("/api/v1/discover", json={"query": "x", "top_k": 0}).status_code == 422
        assert (
            client.post("/api/v1/discover", json={"query": "x", "mode": "magic"}).status_code == 422
        )
        assert (
            client.post("/api/v1/discover", json={"query": "x", "mode": "llm"}).status_code == 422
        )
        assert client.post("/api/v1/discover", json={"q": "x"}).status_code == 422

    monkeypatch.setenv("TOOLFOUNDRY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TOOLFOUNDRY_DATABASE_URL", settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["discover", "url slug", "--json"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["tool_filtering"]["tools"][0]["id"] == "text.slugify"
    finally:
        get_settings.cache_clear()


async def test_usage_feeds_back_into_ranking(library: ToolLibrary) -> None:
    """Two tools that retrieval cannot tell apart: the one whose calls succeed ranks first."""

    async def reliable(text: str) -> str:
        """Reverse the characters of a text.

        Args:
            text: The text to reverse.
        """
        return text[::-1]

    async def flaky(text: str) -> str:
        """Reverse the characters of a text.

        Args:
            text: The text to reverse.
        """
        raise RuntimeError("broken")

    await library.register(reliable, toolkit="twins", name="reverse_a")
    await library.register(flaky, toolkit="twins", name="reverse_b")
    for _ in range(20):
        await library.call("twins.reverse_a", {"text": "abc"})
        await library.call("twins.reverse_b", {"text": "abc"})
    tools = {t.id: t for t in await library.list_tools(toolkit="twins")}
    assert tools["twins.reverse_a"].effectiveness_score > 0.6
    assert tools["twins.reverse_b"].effectiveness_score < 0.1
    assert await library.discovery.refresh_priors() == 2
    result = await library.discover("reverse the characters of a text", top_k=2)
    assert [t.id for t in result.tools] == ["twins.reverse_a", "twins.reverse_b"]
    assert result.tools[0].signals["prior"] > result.tools[1].signals["prior"]


async def test_examples_join_the_discovery_text(library: ToolLibrary) -> None:
    from toolfoundry import tool

    @tool(toolkit="crm", examples=["who are my churn-risk accounts", "谁可能流失"])
    async def score_accounts(rows: list[dict]) -> list[float]:
        """Score rows with the retention model."""
        return []

    await library.register(score_accounts)
    stored = (await library.list_tools(toolkit="crm"))[0]
    assert stored.examples == ["who are my churn-risk accounts", "谁可能流失"]
    result = await library.discover("list the accounts at risk of churn")
    assert result.tools[0].id == "crm.score_accounts"
    assert (await library.discover("哪些客户可能流失")).tools[0].id == "crm.score_accounts"


async def test_issue_examples_over_the_starter_catalog(library: ToolLibrary) -> None:
    """Chinese requests with literal values find the right starter tools; file names and
    numbers are arguments, not missing capabilities."""
    stats = await library.discover("计算这组数字的平均值、中位数和标准差：12, 15, 20, 22, 30")
    assert stats.tools[0].id == "stats.descriptive_statistics"
    assert stats.analysis.subtasks == ["计算这组数字的平均值、中位数和标准差"]
    assert not stats.gaps
    entities = await library.discover("把这段客户反馈里的所有邮箱地址和网址提取出来")
    assert entities.tools[0].id == "text.extract_entities"
    load = await library.discover("Load customers.csv and sort them by date")
    assert "tabular.read_table" in [t.id for t in load.tools[:3]]
    assert "tabular.sort_rows" in [t.id for t in load.tools[:3]]
    assert all("customers" not in g.description for g in load.gaps)


async def test_inline_data_is_not_a_gap_and_a_missing_capability_is(library: ToolLibrary) -> None:
    """From the starter-catalog gap benchmark: a request carrying its own CSV rows is answered
    (its column names are arguments), a request for the weather is a gap."""
    average = await library.discover(
        "What is the average age in this CSV? name,age\nAnn,30\nBob,40"
    )
    assert not average.gaps
    assert average.analysis.subtasks == ["What is the average age in this CSV?"]
    weather = await library.discover("What is the weather forecast for Paris tomorrow?")
    assert weather.gaps
