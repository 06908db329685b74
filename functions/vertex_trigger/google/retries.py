"""Retries of Google API calls inside one time budget per event, with jittered backoff."""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from vertex_trigger.errors import CredentialError, TransientError
from vertex_trigger.google.api_errors import Fix, fix_for, read_error
from vertex_trigger.google.http import HttpConnectionError, HttpTimeoutError, Response

# A retry is worth its wait only if this share of the budget (at most request_timeout) is left.
_LAST_ATTEMPT_SHARE = 0.1


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded jittered exponential backoff for calls to Google APIs (the config's ``retry``)."""

    initial_delay: float = 1.0
    max_delay: float = 10.0
    deadline: float = 45.0  # one event's total for every call; below the function's timeout
    request_timeout: float = 20.0

    def within(self, seconds: float) -> "RetryPolicy":
        """Return this policy with its deadline cut to ``seconds`` (a sweep's time left)."""
        return replace(self, deadline=max(min(self.deadline, seconds), 0.0))


class Budget:
    """The time one event (or the start-up) may spend on Google API calls, shared by all of them."""

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        """Start the budget now: ``policy.deadline`` seconds from this moment."""
        self.policy = policy
        self._clock = clock
        self._ends = clock() + policy.deadline

    def remaining(self) -> float:
        """Return the seconds left (negative once spent)."""
        return self._ends - self._clock()

    def attempt_timeout(self) -> float | None:
        """Return the next attempt's timeout, or None when the budget is spent.

        The HTTP client applies a timeout to connecting and to waiting for the answer separately,
        so each gets at most half of what is left: a whole attempt ends inside the budget.
        """
        left = self.remaining()
        return min(self.policy.request_timeout, left / 2) if left > 0 else None

    def can_wait(self, delay: float) -> bool:
        """Tell whether waiting ``delay`` still leaves a useful attempt inside the budget."""
        floor = min(self.policy.request_timeout, self.policy.deadline * _LAST_ATTEMPT_SHARE)
        return self.remaining() - delay >= floor


@dataclass(frozen=True)
class Answer:
    """The first answer that a retry would not change, and whether an earlier attempt was lost."""

    response: Response
    lost_reply: bool  # an attempt timed out or lost its connection: it may have taken effect


Attempt = Callable[[float], Response]  # one HTTP request, given its timeout


class Retrier:
    """Sends a request again after a transient failure while its budget allows."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """Back off by ``policy``; ``sleep``, ``clock`` and ``jitter`` are injectable for tests."""
        self.policy = policy
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    def budget(self) -> Budget:
        """Return a new budget that starts now."""
        return Budget(self.policy, self._clock)

    def send(self, attempt: Attempt, what: str, budget: Budget) -> Answer:
        """Return the first answer that is not transient; raise TransientError when out of time."""
        lost_reply, problem, failures = False, "", 0
        while True:
            timeout = budget.attempt_timeout()
            if timeout is None:
                raise TransientError(_out_of_time(what, failures, budget, problem))
            asked: float | None = None
            try:
                response = attempt(timeout)
            except (HttpConnectionError, HttpTimeoutError) as exc:
                lost_reply, problem = True, f"{type(exc).__name__}: {exc}"
            except CredentialError as exc:
                problem = str(exc)
            else:
                if response.status < 400:
                    return Answer(response, lost_reply)
                error = read_error(response)
                if fix_for(error) is not Fix.RETRY:
                    return Answer(response, lost_reply)
                problem, asked = error.describe(), error.retry_delay
            failures += 1
            delay = max(self._backoff(failures - 1), asked or 0.0)
            if not budget.can_wait(delay):
                raise TransientError(_gave_up(what, failures, budget, problem, asked))
            self._sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential delay with 'equal jitter': half fixed, half random, capped."""
        # The exponent is capped: max_delay is reached long before, and 2.0**1024 overflows.
        ceiling = min(self.policy.max_delay, self.policy.initial_delay * 2.0 ** min(attempt, 64))
        return ceiling / 2 + ceiling / 2 * self._jitter()


def _gave_up(what: str, failures: int, budget: Budget, problem: str, asked: float | None) -> str:
    message = (
        f"{what} failed {failures} time(s) within {budget.policy.deadline:g}s "
        f"(one budget for all of an event's Google API calls), last: {problem}"
    )
    if asked is not None and not budget.can_wait(asked):
        message += f"; the service asked to wait {asked:g}s, more than the budget has left"
    return message


def _out_of_time(what: str, failures: int, budget: Budget, problem: str) -> str:
    if failures:
        return _gave_up(what, failures, budget, problem, None)
    return (
        f"{what} not attempted: the {budget.policy.deadline:g}s budget for this event's "
        "Google API calls is spent"
    )
