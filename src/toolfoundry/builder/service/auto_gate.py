"""Automatic building switches itself off while recent builds fail too often.

The reference design's alert "build success rate < 0.8 → disable automatic building", acted on
by the service: `build_missing` (discovery, the agent) closes gaps only while the success rate
of the latest finished builds stays at or above the threshold. Only builds finished within the
window count, so after a quiet spell the gate opens again and building resumes on its own;
explicit builds (`POST /api/v1/build`) are never blocked.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from toolfoundry.builder.service.queue import BuildQueue
from toolfoundry.core.metrics import AUTO_BUILD_ENABLED, BUILD_RECENT_SUCCESS_RATE
from toolfoundry.core.models import utcnow
from toolfoundry.core.settings import Settings


class AutoBuildState(BaseModel):
    enabled: bool
    success_rate: float | None
    """Over `builds` recent finished builds; None before any."""
    builds: int
    threshold: float
    reason: str

    @property
    def summary(self) -> str:
        return f"{'on' if self.enabled else 'off'}: {self.reason}"


class AutoBuildGate:
    def __init__(self, queue: BuildQueue, settings: Settings) -> None:
        self.queue = queue
        self.threshold = settings.auto_build_min_success_rate
        self.min_builds = settings.auto_build_min_builds
        self.window = settings.auto_build_window
        self.window_s = settings.auto_build_window_s

    async def state(self) -> AutoBuildState:
        """Read the recent outcomes and publish them as metrics."""
        since = utcnow() - timedelta(seconds=self.window_s)
        outcomes = await self.queue.recent_outcomes(self.window, since)
        rate = sum(outcomes) / len(outcomes) if outcomes else None
        enabled = rate is None or len(outcomes) < self.min_builds or rate >= self.threshold
        AUTO_BUILD_ENABLED.set(1 if enabled else 0)
        BUILD_RECENT_SUCCESS_RATE.set(float("nan") if rate is None else rate)
        if rate is None:
            reason = "no builds finished recently"
        else:
            reason = (
                f"{sum(outcomes)} of the last {len(outcomes)} builds succeeded ({rate:.0%}, "
                f"threshold {self.threshold:.0%})"
            )
            if len(outcomes) < self.min_builds:
                reason += f"; too few to decide (at least {self.min_builds})"
        return AutoBuildState(
            enabled=enabled,
            success_rate=rate,
            builds=len(outcomes),
            threshold=self.threshold,
            reason=reason,
        )
