"""The gap model: its features, its probability, and the gate it puts on coverage's gaps."""

from __future__ import annotations

import numpy as np
import pytest

from toolfoundry import Settings, ToolLibrary
from toolfoundry.core.models import Tool, ToolKind
from toolfoundry.discovery import NullEmbedder, ToolDocument, gap_model
from toolfoundry.discovery.gap_model import GapEvidence, absence_probability, features
from toolfoundry.discovery.retriever import Retriever


def test_features_take_the_weakest_part() -> None:
    strong = GapEvidence(scores=[5.0, 2.0], cosines=[0.6, 0.3], lexical=1.0, coverage=1.0)
    weak = GapEvidence(scores=[3.0, 2.5], cosines=[0.2, 0.19], lexical=0.1, coverage=0.3)
    f = dict(zip(gap_model.FEATURES, features([4.0, 1.0], 2.5, [strong, weak]), strict=True))
    assert f["bias"] == 1.0 and f["score"] == 4.0 and f["margin"] == 3.0 and f["dense_z"] == 2.5
    assert f["cosine"] == 0.2 and f["cosine_margin"] == pytest.approx(0.01)
    assert f["part_margin"] == 0.5 and f["lexical"] == 0.1 and f["coverage"] == 0.3
    assert f["parts"] == 2.0


def test_features_of_nothing_found_are_defined() -> None:
    f = features([], 0.0, [GapEvidence(scores=[], cosines=[], lexical=0.0, coverage=0.0)])
    assert f.shape == (len(gap_model.FEATURES),) and np.isfinite(f).all()


def test_probability_is_bounded_and_follows_the_weights() -> None:
    f = np.ones(len(gap_model.FEATURES))
    assert 0.0 < absence_probability(f) < 1.0
    assert absence_probability(f, np.full(len(f), 100.0)) == pytest.approx(1.0)
    assert absence_probability(f, np.full(len(f), -100.0)) == pytest.approx(0.0)


def _retriever(min_absence: float) -> Retriever:
    retriever = Retriever(NullEmbedder(), min_absence=min_absence)
    docs = [
        ToolDocument(id="csv.read", name="read_csv", description="Read the rows of a CSV file."),
        ToolDocument(id="mail.send", name="send_email", description="Send an e-mail message."),
    ]
    tools = [
        Tool(
            id=d.id,
            name=d.name,
            description=d.description,
            toolkit="",
            kind=ToolKind.FUNCTION,
            input_schema={"type": "object", "properties": {}},
            version="1",
        )
        for d in docs
    ]
    retriever.add(tools, docs)
    return retriever


def test_another_embedder_skips_the_gate() -> None:
    """The weights hold for the embedder they were fitted with: with any other, coverage alone
    decides, even when the cut would hide every gap."""
    retriever = _retriever(min_absence=1.0)
    query = "read a csv file, then draw a bar chart of the sales"
    parts = retriever.evidence(query)
    assert retriever.absence(retriever.index.search(query, 10), parts) is None
    result = retriever.retrieve(query)
    assert [g.description for g in result.gaps] == ["draw a bar chart of the sales"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"load_starters": True})


async def test_the_gate_holds_back_gaps_below_the_cut(settings: Settings) -> None:
    """Off by default (coverage alone: the chart part is a gap); with a cut no request reaches,
    no gap is reported and the uncovered part is served by its best tool instead."""
    query = "read an excel file, then draw a bar chart of the sales"
    async with ToolLibrary.open(settings) as lib:
        await lib.discovery.wait_ready()
        default = await lib.discover(query)
        absence = lib.discovery.retriever.absence(
            lib.discovery.index.search(query, 10), lib.discovery.retriever.evidence(query)
        )
    assert [g.description for g in default.gaps] == ["draw a bar chart of the sales"]
    assert absence is not None and 0.0 < absence < 1.0
    assert f"absence probability {absence:.2f}" in default.analysis.reasoning
    strict = settings.model_copy(update={"discovery_gap_min_absence": 1.0})
    async with ToolLibrary.open(strict) as lib:
        await lib.discovery.wait_ready()
        gated = await lib.discover(query)
    assert gated.gaps == []
    assert len(gated.tool_filtering.execution_plan.steps) == 2
