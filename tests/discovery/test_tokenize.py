from toolfoundry.discovery.tokenize import split_identifier, tokenize


def test_identifiers_are_split_into_words() -> None:
    assert split_identifier("getWeatherForecast") == "get Weather Forecast"
    assert tokenize("web_search HTTPServer math.sqrt") == [
        "web",
        "search",
        "http",
        "server",
        "math",
        "sqrt",
    ]


def test_stopwords_dropped_and_words_stemmed() -> None:
    assert tokenize("Can you please calculate the calculations?") == ["calcul", "calcul"]


def test_chinese_runs_become_bigrams() -> None:
    assert tokenize("天气预报") == ["天气", "气预", "预报"]
    assert tokenize("图") == ["图"]
    assert tokenize("查询 weather 天气") == ["查询", "weather", "天气"]
