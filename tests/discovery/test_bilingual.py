"""Chinese requests glossed into English words (CC-CEDICT) and searched as English ones too."""

from __future__ import annotations

from toolfoundry.discovery import HybridIndex, NullEmbedder, ToolDocument, bilingual


def test_gloss_translates_words_and_keeps_names() -> None:
    english = bilingual.gloss('检查网站"google.com"的SSL证书')
    words = set(english.lower().split())
    assert {"website", "certificate"} <= words
    assert '"google.com"' in english and "SSL" in english
    assert not any("\u4e00" <= c <= "\u9fff" for c in english)


def test_gloss_of_text_without_chinese_is_the_text() -> None:
    assert bilingual.gloss("convert 100 fahrenheit") == "convert 100 fahrenheit"
    assert bilingual.gloss("") == ""


def _index(**kwargs: object) -> HybridIndex:
    index = HybridIndex(NullEmbedder(), **kwargs)  # type: ignore[arg-type]
    index.add(
        [
            ToolDocument(id="mail", name="send_email", description="Send an e-mail message."),
            ToolDocument(id="weather", name="forecast", description="The weather forecast."),
            ToolDocument(id="stats", name="mean", description="The average of numbers."),
        ]
    )
    return index


def test_a_chinese_request_finds_an_english_tool_through_its_gloss() -> None:
    glossed = _index(glossary=bilingual.gloss)
    assert glossed.search("明天的天气预报", k=1)[0].id == "weather"
    assert glossed.search("计算这些数字的平均值", k=1)[0].id == "stats"
    # Without the glossary, Chinese words cannot match English text at all.
    plain = _index()
    assert all(h.score == 0.0 for h in plain.search("明天的天气预报", k=3))


def test_a_chinese_tool_is_matched_by_its_own_words() -> None:
    """The glossed request is fused only for tools without Chinese text: a Chinese tool keeps
    its own (direct) score."""
    index = _index(glossary=bilingual.gloss)
    index.add([ToolDocument(id="zh.weather", name="天气", description="查询天气预报")])
    assert index.search("天气预报", k=1)[0].id == "zh.weather"
