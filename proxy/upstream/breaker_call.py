"""One exchange with an upstream through its circuit breaker (aiobreaker), for the serving path and
the shadow worker alike.

The breaker counts exceptions, so an answer with one of the upstream's failure statuses (502/503/504
by default) is raised inside the call as FailureStatus and handed back to the caller as an answer.
When a failure trips the breaker, aiobreaker raises CircuitBreakerError *from* that failure: the
original is re-raised, so callers see the same failure kinds whether or not it tripped. Without a
cause, the breaker was already open.

Once its timeout has passed, an open aiobreaker lets every call through as a "trial" until the
first one finishes; here only one trial at a time reaches the upstream (per process), the others
fail fast as if the breaker were still open (and fall back to legacy where the route allows), so a
recovering service is not hit by the whole backlog at once."""
from __future__ import annotations

import weakref
from typing import Awaitable, Callable, TypeVar

from aiobreaker import CircuitBreakerError
from aiobreaker.state import CircuitBreakerState

from proxy.upstream.client import UpstreamFailure

T = TypeVar("T")

# Breakers with a trial call in flight (not closed: open, possibly due for a trial, or half-open).
_trialing: "weakref.WeakSet" = weakref.WeakSet()


class FailureStatus(Exception):
    """An answer the breaker must count as a failure; carries it back to the caller."""

    def __init__(self, answer):
        self.answer = answer


async def call_through_breaker(breaker, call: Callable[[], Awaitable[T]], upstream: str) -> T:
    """The answer `call` returns or raises as FailureStatus; raises what `call` raised, or
    UpstreamFailure("breaker_open", 503) when the breaker did not let the call through."""
    trial = breaker is not None and breaker.current_state is not CircuitBreakerState.CLOSED
    if trial:
        if breaker in _trialing:
            raise UpstreamFailure("breaker_open", 503,
                                  f"circuit breaker for {upstream} is half-open: a trial call is in flight")
        _trialing.add(breaker)
    try:
        if breaker is None:
            return await call()
        return await breaker.call_async(call)
    except FailureStatus as failed:
        return failed.answer
    except CircuitBreakerError as exc:
        cause = exc.__cause__
        if isinstance(cause, FailureStatus):
            return cause.answer
        if cause is None:
            raise UpstreamFailure("breaker_open", 503, f"circuit breaker for {upstream} is open") from None
        raise cause from None
    finally:
        if trial:
            _trialing.discard(breaker)
