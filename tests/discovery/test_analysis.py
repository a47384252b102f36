"""Query analysis: the literal values and inline data a request carries are arguments, not
capabilities to look for."""

from __future__ import annotations

from toolfoundry.discovery.analysis import argument_terms, split_subtasks, strip_arguments


def test_inline_data_is_dropped_but_prose_lists_stay() -> None:
    request = "What is the average age in this CSV? name,age\nAnn,30\nBob,40"
    assert strip_arguments(request) == "What is the average age in this CSV?"
    assert strip_arguments("read a, b and c") == "read a, b and c"  # prose, not cells
    assert strip_arguments("Load customers.csv and sort them by date") == (
        "Load csv and sort them by date"
    )
    assert strip_arguments("mean of 3, 9 and 27") == "mean of and"


def test_words_the_request_supplies_as_data_are_argument_terms() -> None:
    terms = argument_terms("What is the average age in this CSV? name,age\nAnn,30")
    assert {"age", "name", "ann"} <= terms
    assert "averag" not in terms and "csv" not in terms
    assert "hello" in argument_terms("slug of 'Hello World'")


def test_parts_are_split_on_step_words_after_the_data_is_gone() -> None:
    assert split_subtasks("Read sales.xlsx, then chart the monthly totals: 1, 2, 3") == [
        "Read xlsx",
        "chart the monthly totals",
    ]
