"""A circuit breaker: fail fast while a server is down, probe it again after a cool-down.

    closed --(threshold consecutive failures)--> open --(cool-down elapsed)--> half_open
    half_open --(its one probe succeeds)--> closed
    half_open --(its one probe fails)--> open, with the cool-down doubled

The doubling cool-down is the reconnect backoff: a server that stays down is probed less and
less often, up to `max_cooldown`. Not thread-safe: one event loop owns each breaker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

__all__ = ["BreakerState", "CircuitBreaker"]

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(
        self,
        threshold: int = 3,
        cooldown: float = 5.0,
        max_cooldown: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.threshold = threshold
        self.base_cooldown = cooldown
        self.max_cooldown = max(max_cooldown, cooldown)
        self._clock = clock
        self._open = False
        self._opened_at = 0.0
        self._cooldown = cooldown
        self._probing = False
        self.consecutive_failures = 0

    @property
    def state(self) -> BreakerState:
        if not self._open:
            return "closed"
        if self._probing or self.retry_after() == 0.0:
            return "half_open"
        return "open"

    def retry_after(self) -> float:
        """Seconds until the next request may pass; 0 when one may pass now."""
        if not self._open:
            return 0.0
        return max(0.0, self._opened_at + self._cooldown - self._clock())

    def allow(self) -> bool:
        """Whether a request may go to the server now. In half_open exactly one request (the
        probe) is let through; it must end in `record_success`, `record_failure` or `release`."""
        if not self._open:
            return True
        if self._probing or self.retry_after() > 0.0:
            return False
        self._probing = True
        return True

    def record_success(self) -> None:
        self._open = False
        self._probing = False
        self._cooldown = self.base_cooldown
        self.consecutive_failures = 0

    def record_failure(self) -> None:
        self.consecutive_failures += 1
        if self._probing:
            # The probe failed: the server is still down, so wait longer before the next one.
            self._probing = False
            self._cooldown = min(self._cooldown * 2, self.max_cooldown)
            self._opened_at = self._clock()
        elif not self._open and self.consecutive_failures >= self.threshold:
            self._open = True
            self._opened_at = self._clock()

    def release(self) -> None:
        """End a probe that produced no verdict (it was cancelled), freeing the probe slot."""
        self._probing = False
