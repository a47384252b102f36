"""The MCP repository: requirement hashes, similarity reuse rules, the TTL, failure analyses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from toolfoundry import ToolLibrary
from toolfoundry.builder.models import BuildRequirement, SecurityReport, ValidationReport
from toolfoundry.builder.service.repository import (
    FailureAnalysis,
    McpAsset,
    McpRepository,
    dependency_names,
    requirement_hash,
    token_similarity,
)
from toolfoundry.core.models import utcnow


class KeywordEmbedder:
    """A deterministic stand-in for a text model: one axis per topic word."""

    name = "keywords"
    dim = 3
    _axes = ("markdown", "csv", "weather")

    def embed_query(self, texts: list[str]) -> np.ndarray:
        rows = [[float(axis in t.lower()) + 0.01 for axis in self._axes] for t in texts]
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    embed = embed_query


def _asset(asset_id: str, requirement: BuildRequirement, **changes: object) -> McpAsset:
    values: dict = {
        "id": asset_id,
        "name": f"server-{asset_id}",
        "description": requirement.description,
        "requirement": requirement,
        "requirement_hash": requirement_hash(requirement),
        "dependencies": dependency_names(requirement),
        "network": requirement.network,
        "strategy": "package-wrapper",
        "path": f"/nowhere/{asset_id}",
        "files": ["server.py"],
        "server_name": f"server-{asset_id}",
        "toolkit": f"server-{asset_id}",
        "tools": [f"server-{asset_id}.tool"],
        "validation": ValidationReport(initialized=True),
        "security": SecurityReport(),
        "build_id": f"bld_{asset_id}",
        "created_at": utcnow(),
    }
    values.update(changes)
    return McpAsset(**values)


@pytest.fixture
def repository(library: ToolLibrary, tmp_path: Path) -> McpRepository:
    return McpRepository(library.catalog.sessions, tmp_path / "assets", embedder=KeywordEmbedder())


def test_requirement_hash_ignores_case_spacing_and_order() -> None:
    a = BuildRequirement(
        description="Convert  Markdown to HTML",
        dependencies=["Markdown>=3", "bleach"],
        technical_specs=["fast", "safe"],
    )
    b = BuildRequirement(
        description="convert markdown to html",
        dependencies=["bleach", "markdown>=3"],
        technical_specs=["safe", "fast"],
    )
    assert requirement_hash(a) == requirement_hash(b)
    with_example = b.model_copy(
        update={"examples": BuildRequirement(description="x", examples=["a=>b"]).examples}
    )
    assert requirement_hash(with_example) != requirement_hash(b)
    assert requirement_hash(b.model_copy(update={"network": True})) != requirement_hash(b)


def test_token_similarity_is_the_overlap_of_content_words() -> None:
    assert token_similarity("Markdown to HTML", "Convert Markdown text to HTML") == 1.0
    assert token_similarity("Parse CSV files", "Convert Markdown text to HTML") == 0.0


async def test_exact_then_similar_matches_with_dependency_and_network_guards(
    repository: McpRepository,
) -> None:
    markdown = BuildRequirement(description="Convert Markdown to HTML", dependencies=["markdown"])
    await repository.store(_asset("md", markdown))
    await repository.store(
        _asset("csv", BuildRequirement(description="Parse CSV rows", dependencies=["pandas"]))
    )

    exact = await repository.find_similar(markdown)
    assert [(m.asset.id, m.match) for m in exact] == [("md", "exact")]
    assert exact[0].asset.tools == ["server-md.tool"]

    similar = await repository.find_similar(
        BuildRequirement(description="Render markdown documents as web pages")
    )
    assert [(m.asset.id, m.match) for m in similar] == [("md", "similar")]
    assert similar[0].similarity >= 0.7

    # A dependency the asset lacks, or network access it was not granted, rules it out.
    assert (
        await repository.find_similar(markdown.model_copy(update={"dependencies": ["mistune"]}))
        == []
    )
    assert await repository.find_similar(markdown.model_copy(update={"network": True})) == []
    # Nothing about weather is close to either asset.
    assert await repository.find_similar(BuildRequirement(description="Weather for a city")) == []


async def test_exact_cache_expires_after_the_ttl(repository: McpRepository) -> None:
    requirement = BuildRequirement(description="Convert Markdown to HTML")
    await repository.store(_asset("old", requirement, created_at=utcnow() - timedelta(hours=25)))
    matches = await repository.find_similar(requirement)
    # Past 24 h the hash no longer vouches for it: it is only a (re-checked) similar match.
    assert [(m.asset.id, m.match) for m in matches] == [("old", "similar")]


async def test_without_an_embedder_similarity_falls_back_to_tokens(
    library: ToolLibrary, tmp_path: Path
) -> None:
    repository = McpRepository(library.catalog.sessions, tmp_path, embedder=None)
    await repository.store(_asset("md", BuildRequirement(description="Convert Markdown to HTML")))
    found = await repository.find_similar(BuildRequirement(description="markdown to html"))
    assert [m.asset.id for m in found] == ["md"]


async def test_failures_are_kept_for_the_healer(repository: McpRepository) -> None:
    for n, error_class in enumerate(["dependency_not_found", "timeout", "timeout"]):
        await repository.record_failure(
            FailureAnalysis(
                build_id=f"bld_{n}",
                requirement_hash="h" * 64,
                strategy="package-wrapper",
                phase="environment",
                error_class=error_class,
                message="boom",
                details={"output": "..."},
                created_at=utcnow(),
            )
        )
    timeouts = await repository.failures(error_class="timeout")
    assert [f.build_id for f in timeouts] == ["bld_2", "bld_1"]
    assert len(await repository.failures(requirement_hash="h" * 64)) == 3
