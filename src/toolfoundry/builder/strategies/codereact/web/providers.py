"""Where the web agent looks: pluggable providers behind one protocol.

A provider answers a `SearchQuery` with `WebResult`s, or raises `ProviderUnavailable` saying why
(unreachable, not configured, rate-limited); the agent logs that and goes on with the others.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Literal, Protocol, runtime_checkable

import httpx
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

ResultKind = Literal["package", "repository", "code", "page"]
_BUILD_PYTHON = "3.11"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class SearchQuery(BaseModel):
    """What to look for: free-text keywords and candidate PyPI package names."""

    description: str
    keywords: list[str] = Field(default_factory=list)
    package_names: list[str] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.keywords) or self.description


class WebResult(BaseModel):
    provider: str
    kind: ResultKind
    title: str
    url: str | None = None
    summary: str = ""
    score: float = Field(default=0.0, ge=0.0, le=1.0)
    """The provider's own relevance estimate; the agent re-ranks across providers."""
    details: dict[str, Any] = Field(default_factory=dict)


class ProviderUnavailable(RuntimeError):
    """The provider cannot answer now (not configured, unreachable, refused)."""


@runtime_checkable
class WebProvider(Protocol):
    name: str

    async def search(self, query: SearchQuery, client: httpx.AsyncClient) -> list[WebResult]: ...


class PyPIProvider:
    """Looks candidate packages up by name in the PyPI JSON API (PyPI has no search API)."""

    name = "pypi"

    def __init__(self, base_url: str = "https://pypi.org/pypi", *, max_names: int = 8) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_names = max_names

    async def search(self, query: SearchQuery, client: httpx.AsyncClient) -> list[WebResult]:
        names = list(
            dict.fromkeys(canonicalize_name(n) for n in query.package_names if _NAME.match(n))
        )
        lookups = await asyncio.gather(
            *(self.lookup(n, client) for n in names[: self.max_names]), return_exceptions=True
        )
        results: list[WebResult] = []
        for name, found in zip(names, lookups, strict=False):
            if isinstance(found, ProviderUnavailable):
                raise found
            if isinstance(found, BaseException):
                raise ProviderUnavailable(f"PyPI lookup of {name!r} failed: {found}") from found
            if found is not None:
                results.append(found)
        return results

    async def lookup(self, name: str, client: httpx.AsyncClient) -> WebResult | None:
        """The package's facts, or None when PyPI does not know it (a 404 is an answer)."""
        try:
            response = await client.get(f"{self.base_url}/{name}/json")
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"PyPI unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 404:
            return WebResult(
                provider=self.name,
                kind="package",
                title=name,
                summary="not on PyPI",
                details={"exists": False},
            )
        if response.status_code != 200:
            raise ProviderUnavailable(f"PyPI answered {response.status_code} for {name!r}")
        info = response.json().get("info", {})
        releases = response.json().get("releases", {})
        requires_python = info.get("requires_python") or ""
        urls = {k: v for k, v in (info.get("project_urls") or {}).items() if v}
        return WebResult(
            provider=self.name,
            kind="package",
            title=info.get("name") or name,
            url=info.get("package_url") or f"https://pypi.org/project/{name}/",
            summary=(info.get("summary") or "").strip(),
            score=0.9 if _supports(requires_python) else 0.3,
            details={
                "exists": True,
                "version": info.get("version"),
                "versions": _recent_versions(releases),
                "requires_python": requires_python or None,
                "supports_build_python": _supports(requires_python),
                "project_urls": urls,
            },
        )


class GitHubProvider:
    """Repository and code search through the GitHub REST API (code search needs a token)."""

    name = "github"

    def __init__(
        self, token: str | None = None, *, api_url: str = "https://api.github.com", limit: int = 5
    ) -> None:
        self.token = token
        self.api_url = api_url.rstrip("/")
        self.limit = limit

    async def search(self, query: SearchQuery, client: httpx.AsyncClient) -> list[WebResult]:
        headers = {"Accept": "application/vnd.github+json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        repos = await self._get(
            client,
            "/search/repositories",
            {"q": f"{query.text} language:python", "sort": "stars", "per_page": self.limit},
            headers,
        )
        results = [
            WebResult(
                provider=self.name,
                kind="repository",
                title=item.get("full_name", ""),
                url=item.get("html_url"),
                summary=(item.get("description") or "").strip(),
                score=min(1.0, 0.4 + (item.get("stargazers_count") or 0) / 20000),
                details={"stars": item.get("stargazers_count"), "language": item.get("language")},
            )
            for item in repos.get("items", [])[: self.limit]
        ]
        if self.token:  # GitHub refuses code search without authentication
            code = await self._get(
                client,
                "/search/code",
                {"q": f"{query.text} language:python", "per_page": self.limit},
                headers,
            )
            results += [
                WebResult(
                    provider=self.name,
                    kind="code",
                    title=f"{item.get('repository', {}).get('full_name', '')}/{item.get('path')}",
                    url=item.get("html_url"),
                    score=0.5,
                )
                for item in code.get("items", [])[: self.limit]
            ]
        return results

    async def _get(
        self,
        client: httpx.AsyncClient,
        path: str,
        params: dict[str, Any],
        headers: dict[str, str],
    ) -> dict[str, Any]:
        try:
            response = await client.get(f"{self.api_url}{path}", params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"GitHub unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"GitHub {path} answered {response.status_code}: {response.text[:200]}"
            )
        return response.json()


class WebSearchProvider:
    """A generic HTTP search API: `GET url?q=…` with the key as a bearer token, answering JSON
    with a list of results under `results`, `items`, `organic` or `web.results`, each with a
    title, a url and a snippet (the shape of most search APIs)."""

    name = "web"

    def __init__(self, url: str | None, api_key: str | None = None, *, limit: int = 5) -> None:
        self.url = url
        self.api_key = api_key
        self.limit = limit

    async def search(self, query: SearchQuery, client: httpx.AsyncClient) -> list[WebResult]:
        if not self.url:
            raise ProviderUnavailable("not configured (set TOOLFOUNDRY_WEB_SEARCH_URL)")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = await client.get(
                self.url, params={"q": f"{query.text} python"}, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"web search unreachable: {type(exc).__name__}: {exc}"
            ) from exc
        if response.status_code != 200:
            raise ProviderUnavailable(f"web search answered {response.status_code}")
        try:
            items = _result_items(response.json())
        except ValueError as exc:
            raise ProviderUnavailable(f"web search answered no JSON: {exc}") from exc
        return [
            WebResult(
                provider=self.name,
                kind="page",
                title=str(item.get("title") or item.get("name") or ""),
                url=item.get("url") or item.get("link"),
                summary=str(
                    item.get("snippet") or item.get("description") or item.get("content") or ""
                )[:300],
                score=max(0.1, 0.7 - 0.1 * rank),
            )
            for rank, item in enumerate(items[: self.limit])
            if isinstance(item, dict)
        ]


def _result_items(body: Any) -> list[Any]:
    if isinstance(body, list):
        return body
    if not isinstance(body, dict):
        raise ValueError("neither a list nor an object")
    for key in ("results", "items", "organic", "organic_results"):
        if isinstance(body.get(key), list):
            return body[key]
    web = body.get("web")
    if isinstance(web, dict) and isinstance(web.get("results"), list):
        return web["results"]
    return []


def _supports(requires_python: str) -> bool:
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(_BUILD_PYTHON)
    except InvalidSpecifier:
        return True


def _recent_versions(releases: dict[str, Any], count: int = 5) -> list[str]:
    """The last few final versions that have files, newest first."""
    versions = []
    for version, files in releases.items():
        if not files:
            continue
        try:
            parsed = Version(version)
        except InvalidVersion:
            continue
        if not parsed.is_prerelease:
            versions.append(parsed)
    return [str(v) for v in sorted(versions, reverse=True)[:count]]
