"""Scale, small: every folder runs once, events of marker and manifest routes list nothing.

``make reliability`` runs ``benchmarks/scale.py`` at full size (folders of 10,000 parts, a
12,000-part export, sweeps over a million objects of history) and prints the figures; this runs it
small and asserts what must hold exactly at any size, never a time.
"""

import pytest

from benchmarks.scale import MIN_OBJECTS, ScaleResults, run_scale

PARTS = [20, 200]
EXPORT = 1_500
HISTORY = [1_000, 12_000]


@pytest.fixture(scope="module")
def results() -> ScaleResults:
    return run_scale(PARTS, EXPORT, HISTORY, report=lambda text: None)


def test_every_folder_of_every_rule_gets_exactly_one_run(results: ScaleResults) -> None:
    assert [(r.rule, r.parts, r.runs) for r in results.folders] == [
        (rule, parts, 1) for rule in ("marker", "manifest", "min_objects") for parts in PARTS
    ]
    assert all(r.exact for r in results.folders)  # {batch_objects} as many as the folder held


def test_data_events_of_marker_and_manifest_routes_list_nothing(results: ScaleResults) -> None:
    for folder in results.folders:
        if folder.rule == "min_objects":
            continue
        data_events, completing = folder.events[:-1], folder.events[-1]
        assert {e["list_calls"] for e in data_events} == {0}
        assert {e["metadata_reads"] for e in data_events} == {1}
        # The control object's event lists the folder once, whole: parts and control.
        assert completing["items_listed"] == folder.parts + 1


def test_min_objects_events_list_at_most_min_objects(results: ScaleResults) -> None:
    for folder in (r for r in results.folders if r.rule == "min_objects"):
        assert max(e["items_listed"] for e in folder.events) <= MIN_OBJECTS
        assert folder.batch_objects == MIN_OBJECTS


def test_a_shuffled_export_launches_once_and_lists_its_folder_once(results: ScaleResults) -> None:
    for export in results.backlogs:
        assert export.exact, (export.rule, export.runs, export.batch_objects)
        assert dict(export.decisions) == {"launched": 1, "duplicate": EXPORT}
        assert sum(e["items_listed"] for e in export.events) == EXPORT + 1


def test_every_sweep_launches_every_recent_object(results: ScaleResults) -> None:
    assert [(s.history, s.partitions) for s in results.sweeps] == [
        (n, partitions) for n in HISTORY for partitions in (False, True)
    ]
    assert all(s.exact for s in results.sweeps)
    plain = {s.history: s for s in results.sweeps if not s.partitions}
    dated = {s.history: s for s in results.sweeps if s.partitions}
    assert [plain[n].counts["items_listed"] for n in HISTORY] == HISTORY  # the whole prefix
    assert len(plain[12_000].warnings) == 1  # read far more than the lookback held: says so
    # With partitions, the same (at most an hour more than the lookback) whatever the history.
    assert dated[1_000].counts == dated[12_000].counts
    assert dated[12_000].counts["items_listed"] <= dated[12_000].recent + 60
