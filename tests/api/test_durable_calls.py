"""An acknowledged call is recorded: a real `toolfoundry serve` subprocess answers calls from
several clients and is killed with SIGKILL mid-load; every call that got its 200 has its row."""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path

import httpx
import pytest
from serve_process import free_port, serve
from sqlalchemy import func, select

from toolfoundry import Settings, ToolLibrary
from toolfoundry.store.tables import ToolCallRow


def _load(
    port: int, headers: dict[str, str], acknowledged: list[int], stop: threading.Event
) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5, headers=headers) as client:
        while not stop.is_set():
            try:
                response = client.post(
                    "/api/v1/tools/text.text_stats/call", json={"arguments": {"text": "a b c"}}
                )
            except httpx.HTTPError:
                return  # the server is gone
            if response.status_code == 200 and not response.json()["is_error"]:
                acknowledged.append(1)


async def _rows(settings: Settings) -> int:
    quiet = settings.model_copy(update={"load_starters": False})
    async with ToolLibrary.open(quiet) as library, library.catalog.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ToolCallRow)) or 0)


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
async def test_every_acknowledged_call_has_its_record_after_the_server_dies(
    settings: Settings, tmp_path: Path, stop_signal: signal.Signals, auth_headers: dict[str, str]
) -> None:
    settings = settings.model_copy(update={"load_starters": True})
    port = free_port()
    process = serve(settings, port, tmp_path / "serve.log")
    acknowledged: list[int] = []
    stop = threading.Event()
    clients = [
        threading.Thread(target=_load, args=(port, auth_headers, acknowledged, stop))
        for _ in range(8)
    ]
    try:
        for thread in clients:
            thread.start()
        await asyncio.sleep(3.0)
        process.send_signal(stop_signal)  # mid-load: calls are in flight
        process.wait(timeout=30)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=10)
        if process.poll() is None:
            process.kill()
    answered = len(acknowledged)
    assert answered > 50, (tmp_path / "serve.log").read_text()[-2000:]
    rows = await _rows(settings)
    # Rows may include calls whose answer the kill cut off; never fewer than were answered.
    assert rows >= answered, f"{answered - rows} acknowledged calls lost their record"
