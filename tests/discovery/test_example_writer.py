"""Example requests a model writes for a tool: read leniently from a small model's answer, and
used by the index (lexical text and an example vector per tool)."""

from __future__ import annotations

from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.embedders import get_embedder
from toolfoundry.discovery.example_writer import parse_examples, tool_prompt, write_examples
from toolfoundry.discovery.index import HybridIndex


def test_numbered_bulleted_and_quoted_lines_become_plain_requests() -> None:
    answer = (
        "Here are three requests:\n"
        '1. "How far apart are kitten and sitting?"\n'
        "2) - Edit distance between flaw and lawn\n"
        "* How many edits turn cat into hat\n"
    )
    assert parse_examples(answer, 3) == [
        "How far apart are kitten and sitting?",
        "Edit distance between flaw and lawn",
        "How many edits turn cat into hat",
    ]


def test_json_lists_and_fences_are_read() -> None:
    answer = '```json\n["convert 10 km to miles", "how many feet in 3 meters"]\n```'
    assert parse_examples(answer, 3) == ["convert 10 km to miles", "how many feet in 3 meters"]


def test_short_repeated_echoed_and_surplus_lines_are_dropped() -> None:
    answer = (
        "slugify\n"  # the tool's own name
        "slug it\n"  # too short to be a request
        "Make a URL slug from 'Hello World'\n"
        "What parameters does the tool accept?\n"  # about the tool, not a request to it
        "make a url  slug from 'hello world'\n"  # the same request again
        "Turn 'Q3 Report: Final' into a slug\n"
        "Create a slug for the title 'Déjà vu'\n"
        "Slugify the string 'A B C' please\n"
    )
    assert parse_examples(answer, 3, "slugify") == [
        "Make a URL slug from 'Hello World'",
        "Turn 'Q3 Report: Final' into a slug",
        "Create a slug for the title 'Déjà vu'",
    ]


def test_chinese_requests_count_their_characters_as_words() -> None:
    assert parse_examples("计算这组数字的平均值\n好", 3) == ["计算这组数字的平均值"]


async def test_the_model_sees_the_tool_compactly_and_its_usage_is_counted() -> None:
    seen: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(str(messages[-1].parts[-1].content))  # type: ignore[union-attr]
        return ModelResponse(parts=[TextPart("1. word count of 'a b c'\n2. how many words in it")])

    doc = ToolDocument(
        id="text.word_count",
        name="word_count",
        description="Count the words in a text. " + "Long detail. " * 100,
        parameters={"properties": {"text": {"type": "string", "description": "The text."}}},
    )
    written = await write_examples(FunctionModel(model), doc, count=2)
    assert written.examples == ["word count of 'a b c'", "how many words in it"]
    assert written.input_tokens > 0 and written.output_tokens > 0
    assert seen == [tool_prompt(doc)]
    assert seen[0].startswith("word count: Count the words in a text.")
    assert "- text: The text." in seen[0]
    assert len(seen[0]) < 400  # the description is cut: small models read slowly


def _catalog(with_examples: bool) -> HybridIndex:
    index = HybridIndex(get_embedder("minilm"))
    edit = ToolDocument(
        id="strings.levenshtein",
        name="levenshtein",
        description="Compute the Levenshtein metric of two sequences.",
        generated_examples=[
            "how many single-letter changes turn kitten into sitting",
            "how different are the spellings colour and color",
        ]
        if with_examples
        else [],
    )
    others = [
        ToolDocument(id="text.spell_check", name="spell_check", description="Fix misspellings."),
        ToolDocument(id="text.word_count", name="word_count", description="Count words in text."),
        ToolDocument(id="text.translate", name="translate", description="Translate text."),
    ]
    index.add([edit, *others])
    return index


def test_generated_examples_bring_a_tool_to_requests_worded_like_them() -> None:
    query = "how many letter changes turn flaw into lawn"
    plain, taught = _catalog(False), _catalog(True)
    _, [cosine_plain] = plain.dense_similarity(query, ["strings.levenshtein"])
    _, [cosine_taught] = taught.dense_similarity(query, ["strings.levenshtein"])
    assert cosine_taught > cosine_plain + 0.1
    assert taught.search(query, 1)[0].id == "strings.levenshtein"
    ranks = [h.id for h in plain.search(query, 4)]
    assert ranks.index("strings.levenshtein") > 0  # without examples another tool wins


def test_a_tool_without_examples_scores_as_before() -> None:
    query = "count the words of this text"
    plain, taught = _catalog(False), _catalog(True)
    assert plain.dense_similarity(query, ["text.word_count"]) == taught.dense_similarity(
        query, ["text.word_count"]
    )
