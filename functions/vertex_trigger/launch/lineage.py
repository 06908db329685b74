"""The job ids of a run's retries and reruns, derived from its own: deterministic, never stored.

A retry is the first attempt's id with ``-attempt-N`` (N from 2), a rerun the original's with
``-rerun-N`` (N from 1), so whoever asks for the same retry or rerun computes the same id and
Vertex's 409 admits one create. Ids end in 20 hex digits (docs/design.md#deterministic-job-ids),
which never spell ``-attempt-`` or ``-rerun-``: the suffixes cannot be mistaken.
"""

import re

_ATTEMPT = re.compile(r"^(?P<first>.+)-attempt-(?P<n>[0-9]+)$")
_RERUN = re.compile(r"^(?P<original>.+)-rerun-(?P<n>[0-9]+)$")


def attempt_of(job_id: str) -> int:
    """Return which attempt a run is: 1 for a first run, N for ``...-attempt-N``."""
    match = _ATTEMPT.match(job_id)
    return int(match["n"]) if match else 1


def first_attempt(job_id: str) -> str:
    """Return the id of the first attempt of the run ``job_id`` retries (itself for a first run)."""
    match = _ATTEMPT.match(job_id)
    return match["first"] if match else job_id


def next_attempt(job_id: str) -> str:
    """Return the id of the retry of ``job_id``."""
    return f"{first_attempt(job_id)}-attempt-{attempt_of(job_id) + 1}"


def original_of(job_id: str) -> str:
    """Return the run that ``job_id`` repeats: its first attempt, without a rerun suffix."""
    first = first_attempt(job_id)
    match = _RERUN.match(first)
    return match["original"] if match else first


def rerun_id(original: str, number: int) -> str:
    """Return the id of the ``number``-th rerun of ``original``."""
    return f"{original}-rerun-{number}"


def rerun_number(job_id: str, original: str) -> int:
    """Return N when ``job_id`` is ``ORIGINAL-rerun-N`` (or a retry of it), else 0."""
    match = _RERUN.match(first_attempt(job_id))
    return int(match["n"]) if match and match["original"] == original else 0
