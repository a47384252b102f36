"""The web agent: asks every provider at once, ranks what they found and writes it up for the
code-generation prompt. A provider that cannot answer is logged and skipped, never fatal."""

from __future__ import annotations

import asyncio
import logging
import re

import httpx
from pydantic import BaseModel, Field

from toolfoundry.builder.strategies.codereact.requirements import Specification
from toolfoundry.builder.strategies.codereact.web.providers import (
    GitHubProvider,
    ProviderUnavailable,
    PyPIProvider,
    SearchQuery,
    WebProvider,
    WebResult,
    WebSearchProvider,
)
from toolfoundry.core.settings import Settings

log = logging.getLogger(__name__)

# Packages first: they decide what the generated server can import.
_KIND_WEIGHT = {"package": 1.0, "repository": 0.7, "code": 0.6, "page": 0.5}


class ProviderStatus(BaseModel):
    provider: str
    ok: bool
    results: int = 0
    reason: str | None = None


class WebFindings(BaseModel):
    """Ranked results of one search, and what each provider did."""

    query: SearchQuery
    results: list[WebResult] = Field(default_factory=list)
    providers: list[ProviderStatus] = Field(default_factory=list)

    @property
    def missing_packages(self) -> list[str]:
        """Candidate names PyPI does not know: the prompt warns the model off them."""
        return [
            r.title for r in self.results if r.kind == "package" and not r.details.get("exists")
        ]

    def to_prompt(self, limit: int = 8, max_chars: int = 2500) -> str:
        """A short Markdown section; empty when nothing was found."""
        lines = []
        for result in [r for r in self.results if r.details.get("exists", True)][:limit]:
            lines.append(_describe(result))
        if self.missing_packages:
            lines.append(f"- Not on PyPI (do not use): {', '.join(self.missing_packages)}")
        text = "\n".join(lines)
        return text[:max_chars]


class WebAgent:
    """Searches its providers concurrently within `timeout` seconds."""

    def __init__(self, providers: list[WebProvider], *, timeout: float = 10.0) -> None:
        self.providers = providers
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> WebAgent:
        return cls(
            [
                PyPIProvider(),
                GitHubProvider(settings.github_token),
                WebSearchProvider(settings.web_search_url, settings.web_search_api_key),
            ]
        )

    async def search(self, spec: Specification) -> WebFindings:
        query = SearchQuery(
            description=spec.capability,
            keywords=spec.search_keywords[:6],
            package_names=spec.dependencies,
        )
        async with httpx.AsyncClient(
            timeout=self.timeout, headers={"User-Agent": "toolfoundry-builder"}
        ) as client:
            answers = await asyncio.gather(*(self._ask(p, query, client) for p in self.providers))
        findings = WebFindings(query=query)
        for provider, (results, status) in zip(self.providers, answers, strict=True):
            findings.providers.append(status)
            findings.results += results
            if not status.ok:
                log.info("web agent: %s skipped: %s", provider.name, status.reason)
        findings.results.sort(key=lambda r: _rank(r, query), reverse=True)
        return findings

    async def _ask(
        self, provider: WebProvider, query: SearchQuery, client: httpx.AsyncClient
    ) -> tuple[list[WebResult], ProviderStatus]:
        try:
            async with asyncio.timeout(self.timeout):
                results = await provider.search(query, client)
        except ProviderUnavailable as exc:
            return [], ProviderStatus(provider=provider.name, ok=False, reason=str(exc))
        except TimeoutError:
            reason = f"no answer within {self.timeout:g}s"
            return [], ProviderStatus(provider=provider.name, ok=False, reason=reason)
        except Exception as exc:  # a third-party answer we did not expect must not stop a build
            log.warning("web agent: %s failed", provider.name, exc_info=True)
            reason = f"{type(exc).__name__}: {exc}"
            return [], ProviderStatus(provider=provider.name, ok=False, reason=reason)
        return results, ProviderStatus(provider=provider.name, ok=True, results=len(results))


def _rank(result: WebResult, query: SearchQuery) -> float:
    """Provider score × kind weight, raised by keyword overlap with the result's text."""
    words = {w for k in query.keywords for w in re.findall(r"[a-z0-9]+", k.lower())}
    text = set(re.findall(r"[a-z0-9]+", f"{result.title} {result.summary}".lower()))
    overlap = len(words & text) / len(words) if words else 0.0
    return _KIND_WEIGHT[result.kind] * (0.6 * result.score + 0.4 * overlap)


def _describe(result: WebResult) -> str:
    if result.kind == "package":
        details = result.details
        facts = [f"latest {details.get('version')}"]
        if details.get("requires_python"):
            facts.append(f"Python {details['requires_python']}")
        if not details.get("supports_build_python", True):
            facts.append("NOT installable on the build's Python 3.11")
        return f"- PyPI package `{result.title}` ({', '.join(facts)}): {result.summary}"
    where = f" <{result.url}>" if result.url else ""
    summary = f": {result.summary}" if result.summary else ""
    return f"- {result.kind} {result.title}{where}{summary}"
