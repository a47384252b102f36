"""The web agent's providers: PyPI against the real JSON API, and every provider degrading
cleanly when it is unreachable or not configured."""

from __future__ import annotations

import httpx
import pytest

from toolfoundry import Settings
from toolfoundry.builder.strategies.codereact.requirements import FunctionSpec, Specification
from toolfoundry.builder.strategies.codereact.web.agent import WebAgent
from toolfoundry.builder.strategies.codereact.web.providers import (
    GitHubProvider,
    ProviderUnavailable,
    PyPIProvider,
    SearchQuery,
    WebSearchProvider,
)

MISSING = "toolfoundry-surely-not-a-package-xyz"


def _spec(*dependencies: str) -> Specification:
    return Specification(
        capability="Convert Markdown text to HTML",
        functions=[FunctionSpec(name="to_html", description="render", inputs={"text": "str"})],
        dependencies=list(dependencies),
        search_keywords=["markdown", "html"],
    )


@pytest.fixture(scope="module")
def pypi_reachable() -> None:
    try:
        httpx.get("https://pypi.org/pypi/markdown/json", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.skip(f"the PyPI JSON API is unreachable here: {exc}")


@pytest.mark.usefixtures("pypi_reachable")
async def test_pypi_lookup_of_real_and_missing_packages() -> None:
    query = SearchQuery(description="md", package_names=["Markdown", MISSING, "not a name!"])
    async with httpx.AsyncClient(timeout=20) as client:
        results = await PyPIProvider().search(query, client)
    found = {r.title.lower(): r for r in results}
    markdown = found["markdown"]
    assert markdown.details["exists"] and markdown.details["version"]
    assert markdown.details["versions"][0] == markdown.details["version"]
    assert markdown.details["supports_build_python"] is True
    assert "markdown" in markdown.summary.lower() and markdown.url
    assert found[MISSING].details == {"exists": False}
    assert len(results) == 2  # the invalid name was never asked for


@pytest.mark.usefixtures("pypi_reachable")
async def test_agent_ranks_packages_and_says_which_providers_were_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO")
    agent = WebAgent.from_settings(Settings(github_token=None, web_search_url=None))
    findings = await agent.search(_spec("markdown", MISSING))
    statuses = {s.provider: s for s in findings.providers}
    assert statuses["pypi"].ok and statuses["pypi"].results == 2
    assert not statuses["web"].ok and "TOOLFOUNDRY_WEB_SEARCH_URL" in (statuses["web"].reason or "")
    assert findings.results[0].title.lower() == "markdown"
    prompt = findings.to_prompt()
    assert prompt.startswith("- PyPI package `Markdown` (latest ")
    assert f"Not on PyPI (do not use): {MISSING}" in prompt
    assert "web skipped: not configured" in caplog.text


async def test_unreachable_providers_degrade_to_a_reason() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    query = SearchQuery(description="md", keywords=["markdown"], package_names=["markdown"])
    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        for provider in (
            PyPIProvider(),
            GitHubProvider("token"),
            WebSearchProvider("https://search.invalid/api", "key"),
        ):
            with pytest.raises(ProviderUnavailable, match="unreachable"):
                await provider.search(query, client)
    with pytest.raises(ProviderUnavailable, match="not configured"):
        await WebSearchProvider(None).search(query, httpx.AsyncClient())


async def test_agent_survives_every_provider_failing() -> None:
    class Broken:
        name = "broken"

        async def search(self, query: SearchQuery, client: httpx.AsyncClient) -> list:
            raise KeyError("unexpected answer shape")

    agent = WebAgent([Broken(), WebSearchProvider(None)], timeout=1)
    findings = await agent.search(_spec())
    assert findings.results == [] and findings.to_prompt() == ""
    assert [s.ok for s in findings.providers] == [False, False]
    assert "KeyError" in (findings.providers[0].reason or "")


async def test_web_search_and_github_parse_their_answers() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "search.example":
            assert request.headers["Authorization"] == "Bearer k"
            assert "markdown" in request.url.params["q"]
            return httpx.Response(
                200,
                json={
                    "web": {
                        "results": [
                            {"title": "Python-Markdown", "url": "https://x", "description": "md"}
                        ]
                    }
                },
            )
        if request.url.path == "/search/repositories":
            return httpx.Response(
                200,
                json={
                    "items": [{"full_name": "a/md", "html_url": "https://g", "description": "d"}]
                },
            )
        return httpx.Response(403, json={"message": "rate limited"})

    query = SearchQuery(description="md", keywords=["markdown"])
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        pages = await WebSearchProvider("https://search.example/q", "k").search(query, client)
        repos = await GitHubProvider(None).search(query, client)
        with pytest.raises(ProviderUnavailable, match="403"):
            await GitHubProvider("t").search(query, client)  # code search refused
    assert [(p.kind, p.title, p.url) for p in pages] == [("page", "Python-Markdown", "https://x")]
    assert [(r.kind, r.title) for r in repos] == [("repository", "a/md")]
