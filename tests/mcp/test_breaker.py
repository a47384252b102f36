"""The circuit breaker, on an injected clock."""

from __future__ import annotations

from toolfoundry.mcp import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_consecutive_failures() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=5, clock=Clock())
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state == "closed" and breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()
    assert breaker.retry_after() == 5


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(threshold=2, clock=Clock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"
    assert breaker.consecutive_failures == 1


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=5, clock=clock)
    breaker.record_failure()
    clock.now += 5
    assert breaker.state == "half_open"
    assert breaker.allow()
    assert not breaker.allow()  # the probe is in flight
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()


def test_failed_probe_reopens_with_a_doubled_cooldown_up_to_the_cap() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=5, max_cooldown=12, clock=clock)
    breaker.record_failure()
    expected = [10, 12, 12]
    for cooldown in expected:
        clock.now += breaker.retry_after()
        assert breaker.allow()
        breaker.record_failure()
        assert breaker.state == "open"
        assert breaker.retry_after() == cooldown
    clock.now += 12
    assert breaker.allow()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.retry_after() == 5  # a success restores the base cool-down


def test_released_probe_frees_the_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=1, clock=clock)
    breaker.record_failure()
    clock.now += 1
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()
