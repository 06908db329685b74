import math
import random

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from pipelines import monitoring_stats as stats


def test_binned_frequencies_match_numpy_histogram_inside_the_range():
    rng = random.Random(7)
    numbers = [rng.gauss(100, 15) for _ in range(2_000)]
    edges = stats.equal_width_edges(numbers, 10)
    frequencies = stats.binned_frequencies(numbers, edges)
    counts, _ = np.histogram(numbers, bins=edges)
    assert frequencies[0] == 0 and frequencies[-1] == 0
    assert frequencies[1:-1] == pytest.approx(list(counts / len(numbers)))


def test_values_outside_the_training_range_land_in_underflow_and_overflow():
    frequencies = stats.binned_frequencies([-5, 0, 5, 10, 15], [0, 5, 10])
    assert frequencies == pytest.approx([0.2, 0.4, 0.2, 0.2])


def test_jensen_shannon_divergence_is_scipys_distance_squared_in_base_2():
    p = [0.1, 0.4, 0.3, 0.2, 0.0]
    q = [0.3, 0.1, 0.1, 0.2, 0.3]
    expected = jensenshannon(p, q, base=2) ** 2
    assert stats.jensen_shannon_divergence(p, q) == pytest.approx(expected)
    assert stats.jensen_shannon_divergence(p, p) == 0


def test_l_infinity_counts_unseen_categories_as_their_own_bucket():
    baseline = {"north": 0.5, "south": 0.5}
    fresh = {"north": 0.4, "south": 0.3, "harbour": 0.3}
    assert stats.l_infinity_distance(baseline, fresh) == pytest.approx(0.3)


def test_baseline_names_the_feature_that_has_no_values():
    with pytest.raises(ValueError, match="feature 'sqft': numeric feature has no finite values"):
        stats.compute_baseline({"sqft": [None, "x", math.nan]}, ["sqft"], [])


def test_baseline_document_shape_and_feature_distance():
    columns = {"sqft": [1000, 1500, 2000, None], "hood": ["a", "b", "a", ""]}
    baseline = stats.compute_baseline(columns, ["sqft"], ["hood"], bins=4)
    sqft, hood = baseline["features"]["sqft"], baseline["features"]["hood"]
    assert baseline["row_count"] == 4
    assert (sqft["count"], sqft["missing"], len(sqft["frequencies"])) == (3, 1, 6)
    assert hood["frequencies"] == {"a": pytest.approx(2 / 3), "b": pytest.approx(1 / 3)}
    assert stats.feature_distance(sqft, [1000, 1500, 2000]) == 0
    assert stats.feature_distance(hood, ["b", "b", "b"]) == pytest.approx(2 / 3)
