"""`MCPBuilderClient`: the build service over HTTP, so the library and the builder can run on
different machines (they share the catalog database; the builder registers what it builds)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from toolfoundry.builder.service.events import TERMINAL
from toolfoundry.core.errors import (
    AuthenticationError,
    BackendUnavailableError,
    InvalidInputError,
    NotFoundError,
)


class MCPBuilderClient:
    def __init__(self, base_url: str, *, timeout: float = 30.0, api_key: str | None = None):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, headers=headers
        )

    async def __aenter__(self) -> MCPBuilderClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def submit_build_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """`POST /api/v1/build` → `{build_id, status, estimated_completion, message}`."""
        return await self._send("POST", "/api/v1/build", json=request)

    async def get_build_status(self, build_id: str) -> dict[str, Any]:
        return await self._send("GET", f"/api/v1/build/{build_id}/status")

    async def get_build_result(self, build_id: str) -> dict[str, Any]:
        return await self._send("GET", f"/api/v1/build/{build_id}/result")

    async def cancel(self, build_id: str) -> dict[str, Any]:
        return await self._send("POST", f"/api/v1/build/{build_id}/cancel")

    async def wait(self, build_id: str, budget: float, poll: float = 1.0) -> dict[str, Any]:
        """The status once the build finished, or as it stands when `budget` seconds ran out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        while True:
            status = await self.get_build_status(build_id)
            if status["status"] in TERMINAL or loop.time() >= deadline:
                return status
            await asyncio.sleep(min(poll, max(0.0, deadline - loop.time())))

    async def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise BackendUnavailableError(
                f"build service at {self._http.base_url} unreachable: {exc}",
                hint="Check TOOLFOUNDRY_BUILDER_URL and that `toolfoundry builder serve` runs.",
            ) from exc
        if response.status_code in (401, 403):
            problem = response.json()
            raise AuthenticationError(
                f"build service refused the request: {problem.get('detail', response.text)}",
                hint="Set TOOLFOUNDRY_BUILDER_TOKEN to a token with the `build` scope "
                "(`toolfoundry auth create-token --name builder --scope build --scope read`).",
            )
        if response.status_code == 404:
            raise NotFoundError(response.json().get("detail", "not found"))
        if response.status_code in (400, 409, 422):
            raise InvalidInputError(response.json().get("detail", response.text))
        if response.status_code >= 500:
            raise BackendUnavailableError(
                f"build service error {response.status_code}: {response.text[:200]}"
            )
        return response.json()
