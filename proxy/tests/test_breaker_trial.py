"""Once an open breaker's timeout has passed, exactly one call at a time reaches the upstream as the
trial; calls made meanwhile fail fast as `breaker_open` (and fall back to legacy where the route
allows) instead of hitting a recovering service all at once. On the real aiobreaker."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiobreaker import CircuitBreaker
from aiobreaker.state import CircuitBreakerState

from proxy.upstream.breaker_call import call_through_breaker
from proxy.upstream.client import UpstreamFailure


async def tripped(reset_after: float = 0.05) -> CircuitBreaker:
    breaker = CircuitBreaker(fail_max=1, timeout_duration=timedelta(seconds=reset_after))

    async def down():
        raise UpstreamFailure("connect", 502, "refused")

    with pytest.raises(UpstreamFailure):
        await call_through_breaker(breaker, down, "catalog")
    assert breaker.current_state is CircuitBreakerState.OPEN
    await asyncio.sleep(reset_after * 2)
    return breaker


async def concurrent_calls(breaker, count: int, outcome: str) -> tuple[int, list]:
    """`count` calls at once; the upstream holds each until all were made, then answers or fails."""
    reached = 0
    all_made = asyncio.Event()

    async def upstream():
        nonlocal reached
        reached += 1
        await all_made.wait()
        if outcome == "fail":
            raise UpstreamFailure("connect", 502, "still refused")
        return "ok"

    calls = [asyncio.ensure_future(call_through_breaker(breaker, upstream, "catalog")) for _ in range(count)]
    await asyncio.sleep(0.01)
    all_made.set()
    return reached, await asyncio.gather(*calls, return_exceptions=True)


async def test_one_trial_reaches_the_upstream_and_the_rest_fail_fast():
    breaker = await tripped()
    reached, results = await concurrent_calls(breaker, 5, "ok")
    assert reached == 1
    assert results.count("ok") == 1
    rejected = [r for r in results if isinstance(r, UpstreamFailure)]
    assert len(rejected) == 4 and {r.kind for r in rejected} == {"breaker_open"}
    assert breaker.current_state is CircuitBreakerState.CLOSED

    reached, results = await concurrent_calls(breaker, 5, "ok")   # closed again: all pass
    assert reached == 5 and results == ["ok"] * 5


async def test_a_failed_trial_opens_the_breaker_again_and_the_next_trial_comes_after_the_timeout():
    # A timeout long enough that a stalled machine cannot let it pass before the check below.
    breaker = await tripped(reset_after=1.0)
    reached, results = await concurrent_calls(breaker, 3, "fail")
    assert reached == 1
    assert breaker.current_state is CircuitBreakerState.OPEN
    assert sorted(r.kind for r in results) == ["breaker_open", "breaker_open", "connect"]

    reached, _ = await concurrent_calls(breaker, 3, "ok")       # timeout not over: nobody passes
    assert reached == 0
    await asyncio.sleep(1.2)
    reached, results = await concurrent_calls(breaker, 3, "ok")
    assert reached == 1 and results.count("ok") == 1


async def test_a_cancelled_trial_lets_the_next_call_be_the_trial():
    breaker = await tripped()
    started = asyncio.Event()

    async def hangs():
        started.set()
        await asyncio.sleep(60)

    trial = asyncio.ensure_future(call_through_breaker(breaker, hangs, "catalog"))
    await started.wait()
    trial.cancel()                       # the client went away mid-trial
    with pytest.raises(asyncio.CancelledError):
        await trial
    reached, results = await concurrent_calls(breaker, 2, "ok")
    assert reached == 1 and results.count("ok") == 1
