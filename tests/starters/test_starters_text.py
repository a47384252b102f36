import pytest

from toolfoundry.starters.text import (
    extract_entities,
    extract_keywords,
    regex_find_all,
    regex_replace,
    slugify,
    text_similarity,
    text_stats,
    truncate_text,
    wrap_text,
)


def test_text_stats_english() -> None:
    stats = text_stats("Hello world. How are you?\n\nI'm fine, thanks!")
    assert stats.characters == 44
    assert stats.characters_no_spaces == 36
    assert stats.words == 8  # "I'm" is one word
    assert stats.sentences == 3
    assert stats.lines == 3
    assert stats.paragraphs == 2
    assert stats.cjk_characters == 0


def test_text_stats_chinese_counts_characters_as_words() -> None:
    stats = text_stats("你好，世界。今天天气很好！我们去公园吧？")
    assert stats.characters == 20
    assert stats.cjk_characters == 16
    assert stats.words == 16
    assert stats.sentences == 3
    mixed = text_stats("我爱Python 3。")
    assert mixed.words == 4 and mixed.sentences == 1


def test_text_stats_empty() -> None:
    stats = text_stats("")
    assert (stats.characters, stats.words, stats.sentences, stats.paragraphs) == (0, 0, 0, 0)


def test_sentences_ignore_decimal_points() -> None:
    assert text_stats("Pi is 3.14 roughly. Yes.").sentences == 2


def test_extract_keywords_english_skips_stopwords_and_numbers() -> None:
    text = "The fox and the dog. The fox runs; the dog sleeps. 2024 was the year of the fox."
    keywords = extract_keywords(text, top_n=3)
    assert [(k.keyword, k.count) for k in keywords] == [("fox", 3), ("dog", 2), ("runs", 1)]
    assert keywords[0].frequency == pytest.approx(3 / 8)
    custom = extract_keywords(text, top_n=1, extra_stopwords=["FOX"])
    assert custom[0].keyword == "dog"


def test_extract_keywords_chinese_finds_repeated_terms() -> None:
    text = "机器学习是人工智能的一个分支。机器学习很有用。深度学习是机器学习的一种方法。"
    keywords = {k.keyword: k.count for k in extract_keywords(text, top_n=20)}
    assert keywords["机器学习"] == 3
    assert keywords["学习"] == 4
    # Fragments of 机器学习 that never occur on their own are not separate keywords.
    assert "机器" not in keywords and "器学" not in keywords
    assert "的一" not in keywords  # contains a function character


def test_extract_keywords_rejects_bad_top_n() -> None:
    with pytest.raises(ValueError, match="top_n must be at least 1"):
        extract_keywords("text", top_n=0)


def test_regex_find_all_returns_groups_and_positions() -> None:
    result = regex_find_all("2024-03-01 and 2023-12-31", r"(?P<y>\d{4})-(\d{2})-(\d{2})")
    assert result.count == 2 and not result.truncated
    first = result.matches[0]
    assert (first.text, first.start, first.end) == ("2024-03-01", 0, 10)
    assert first.groups == ["2024", "03", "01"] and first.named_groups == {"y": "2024"}
    limited = regex_find_all("a1 b2 c3", r"\d", max_matches=2)
    assert limited.count == 3 and len(limited.matches) == 2 and limited.truncated


def test_regex_flags_and_chinese() -> None:
    assert regex_find_all("Apple apple", "apple", ignore_case=True).count == 2
    assert regex_find_all("a\nb", "^b$", multiline=True).count == 1
    assert regex_find_all("a\nb", "a.b", dot_all=True).count == 1
    assert [m.text for m in regex_find_all("价格：12元，运费：5元", r"\d+元").matches] == [
        "12元",
        "5元",
    ]


def test_regex_invalid_pattern_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"invalid regular expression '\(abc'.*position \d+"):
        regex_find_all("x", "(abc")
    with pytest.raises(ValueError, match="invalid regular expression"):
        regex_replace("x", "[", "y")


def test_regex_replace() -> None:
    result = regex_replace("2024-03-01", r"(\d{4})-(\d{2})-(\d{2})", r"\3/\2/\1")
    assert (result.text, result.replacements) == ("01/03/2024", 1)
    assert regex_replace("a a a", "a", "b", count=2).text == "b b a"
    assert regex_replace("北京北京", "北京", "上海").text == "上海上海"
    with pytest.raises(ValueError, match=r"invalid replacement '\\\\2'.*0 group"):
        regex_replace("abc", "a", r"\2")


def test_slugify() -> None:
    assert slugify("Crème Brûlée!") == "creme-brulee"
    assert slugify("Hello, World", separator="_") == "hello_world"
    assert slugify("北京 欢迎你 2024") == "北京-欢迎你-2024"
    assert slugify("Ｆｕｌｌ　Ｗｉｄｔｈ") == "full-width"
    assert slugify("Mixed 中文 text", ascii_only=True) == "mixed-text"
    assert slugify("Keep Case", lowercase=False) == "Keep-Case"
    assert slugify("The quick brown fox", max_length=12) == "the-quick"
    with pytest.raises(ValueError, match=r"no letters or digits.*ascii_only=False"):
        slugify("中文", ascii_only=True)
    with pytest.raises(ValueError, match="no letters or digits"):
        slugify("!!!")


def test_truncate_text() -> None:
    assert truncate_text("short", 10) == "short"
    assert truncate_text("The quick brown fox jumps", 15) == "The quick…"
    assert truncate_text("The quick brown fox jumps", 15, word_boundary=False) == "The quick brow…"
    assert truncate_text("这是一个很长的中文句子需要截断", 8) == "这是一个很长的…"
    assert len(truncate_text("x" * 50, 20, suffix="...")) == 20
    with pytest.raises(ValueError, match="must be longer than the suffix"):
        truncate_text("abc", 1)


def test_wrap_text_keeps_paragraphs_and_wraps_chinese() -> None:
    wrapped = wrap_text("The quick brown fox jumps over the lazy dog\n\nEnd.", width=10)
    assert wrapped == "The quick\nbrown fox\njumps over\nthe lazy\ndog\n\nEnd."
    assert wrap_text("这是一个很长的中文句子", width=5) == "这是一个很\n长的中文句\n子"
    with pytest.raises(ValueError, match="width must be at least 1"):
        wrap_text("x", width=0)


def test_text_similarity() -> None:
    same = text_similarity("Hello World", "hello world")
    assert same.character_ratio == 1.0 and same.word_jaccard == 1.0
    reordered = text_similarity("The cat sat on the mat", "the mat the cat sat on")
    assert reordered.word_order_insensitive_ratio == 1.0
    assert reordered.character_ratio < 1.0
    assert text_similarity("abc", "xyz").character_ratio == 0.0
    chinese = text_similarity("我喜欢吃苹果", "我喜欢吃香蕉")
    assert chinese.character_ratio == pytest.approx(4 / 6)
    assert chinese.word_jaccard == pytest.approx(4 / 8)
    assert chinese.shared_words == ["我", "喜", "欢", "吃"]
    assert text_similarity("Case", "case", ignore_case=False).character_ratio < 1.0


def test_extract_entities() -> None:
    text = (
        "Mail bob@x.io or ann.lee@mail.example.org, see https://en.wikipedia.org/wiki/Foo_(bar)). "
        "Pay $1,000,000.50 by item 42; growth -3.5% and 1e3 units."
    )
    found = extract_entities(text)
    assert found.emails == ["bob@x.io", "ann.lee@mail.example.org"]
    assert found.urls == ["https://en.wikipedia.org/wiki/Foo_(bar)"]
    assert found.numbers == [1000000.5, 42, -3.5, 1000.0]


def test_extract_entities_in_chinese_text() -> None:
    text = "请联系张三：zhang@example.cn，或访问https://example.cn/a?b=1。价格１２０元，共3件。"
    found = extract_entities(text)
    assert found.emails == ["zhang@example.cn"]
    assert found.urls == ["https://example.cn/a?b=1"]
    assert found.numbers == [120, 3]


def test_extract_entities_unique() -> None:
    found = extract_entities("1 a@b.co 1 a@b.co 2", unique=True)
    assert found.emails == ["a@b.co"] and found.numbers == [1, 2]
    assert extract_entities("1 1").numbers == [1, 1]
