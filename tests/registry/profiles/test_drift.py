"""Drift scores from sketches agree with scipy's on the raw data, and calibrated thresholds separate chance
from real shifts."""

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from registry.profiles.calibration import MAX_WINDOW_ROWS, calibrate
from registry.profiles.columns import CategoricalProfile, NumericProfile, ProfileError
from registry.profiles.drift import (
    OTHER,
    drift_scores,
    histogram,
    reference_edges,
)


def _numeric(values):
    profile = NumericProfile()
    profile.update(np.asarray(values, dtype=np.float64))
    return profile


def _categorical(values):
    profile = CategoricalProfile()
    profile.update(list(values))
    return profile


def _proportions(values, edges):
    index = np.searchsorted(edges, values, side="left")
    return np.bincount(index, minlength=len(edges) + 1) / len(values)


@pytest.mark.parametrize("shift", [0.0, 0.3, 1.0])
def test_numeric_scores_match_scipy(shift):
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, 50_000), rng.normal(shift, 1.2, 30_000)
    ref, cur = _numeric(a), _numeric(b)
    scores = drift_scores(ref, cur)
    assert set(scores) == {"psi", "wasserstein", "jensen_shannon", "ks"}
    # Each sketch's ranks are within 1.65% (99% of the time): two of them, 3.3% between them.
    assert scores["ks"] == pytest.approx(stats.ks_2samp(a, b).statistic, abs=0.04)
    assert scores["wasserstein"] == pytest.approx(stats.wasserstein_distance(a, b) / a.std(ddof=1), abs=0.04)
    edges = reference_edges(ref, 20)
    expected_js = jensenshannon(_proportions(a, edges), _proportions(b, edges), base=2)
    assert scores["jensen_shannon"] == pytest.approx(expected_js, abs=0.04)
    edges = reference_edges(ref, 10)
    p, q = _proportions(a, edges), _proportions(b, edges)
    assert scores["psi"] == pytest.approx(float(((q - p) * np.log(q / p)).sum()), abs=0.04 + 0.05 * shift)


def test_categorical_scores_match_scipy():
    rng = np.random.default_rng(6)
    labels = np.array(["a", "b", "c", "d"])
    a = rng.choice(labels, 20_000, p=[0.4, 0.3, 0.2, 0.1])
    b = rng.choice(labels, 5_000, p=[0.25, 0.25, 0.25, 0.25])
    scores = drift_scores(_categorical(a), _categorical(b))
    p = np.array([np.mean(a == v) for v in labels])
    q = np.array([np.mean(b == v) for v in labels])
    assert scores["jensen_shannon"] == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9)
    chi = stats.chisquare(q * len(b), p * len(b)).statistic
    assert scores["chi_square"] == pytest.approx(chi, rel=1e-9)
    assert scores["psi"] == pytest.approx(float(((q - p) * np.log(q / p)).sum()), rel=1e-9)


def test_unseen_categories_fall_in_the_reference_rest():
    ref = _categorical(["a"] * 90 + ["b"] * 10)
    cur = _categorical(["a"] * 50 + ["new"] * 50)
    assert histogram(cur, None) == {"a": 0.5, "new": 0.5}
    assert drift_scores(ref, cur)["jensen_shannon"] > 0.4
    assert drift_scores(ref, ref)["jensen_shannon"] == 0.0


def test_histograms_sum_to_one_on_reference_bins():
    ref = _numeric(np.arange(1000.0))
    edges = reference_edges(ref)
    bars = histogram(_numeric(np.arange(500.0, 1500.0)), edges)
    assert len(bars) == len(edges) + 1 and sum(bars) == pytest.approx(1.0)
    assert bars[-1] == pytest.approx(0.6, abs=0.03)  # above the 0.9 quantile, 899
    assert reference_edges(_numeric([3.0] * 50)).tolist() == [3.0]
    big = _categorical([str(i) for i in range(1000)] * 2)
    shares = histogram(big, None)
    assert sum(shares.values()) == pytest.approx(1.0) and OTHER in shares


def test_empty_and_mismatched_profiles():
    assert drift_scores(NumericProfile(), _numeric([1.0])) == {}
    assert drift_scores(_categorical(["x"]), CategoricalProfile()) == {}
    with pytest.raises(ProfileError, match="cannot compare"):
        drift_scores(NumericProfile(), CategoricalProfile())


def test_calibrated_thresholds_hold_chance_and_catch_shifts():
    rng = np.random.default_rng(7)
    reference = _numeric(rng.lognormal(0, 1, 100_000))
    thresholds = calibrate(reference, window_rows=512, rounds=200)
    assert set(thresholds) == {"psi", "wasserstein", "jensen_shannon", "ks"}
    # Fresh windows of the same distribution (not drawn from the sketch) stay under; a 40% scale change does not.
    false_alarms = shifted_caught = 0
    for _ in range(50):
        same = drift_scores(reference, _numeric(rng.lognormal(0, 1, 512)))
        moved = drift_scores(reference, _numeric(rng.lognormal(0, 1, 512) * 1.4))
        false_alarms += same["ks"] > thresholds["ks"]
        shifted_caught += moved["ks"] > thresholds["ks"]
    assert false_alarms <= 2
    assert shifted_caught >= 40
    # More rows, tighter thresholds, down to the floor set by the sketches at MAX_WINDOW_ROWS.
    assert calibrate(reference, window_rows=8192)["ks"] < thresholds["ks"] / 2
    capped = calibrate(reference, window_rows=100 * MAX_WINDOW_ROWS, rounds=20)["ks"]
    assert capped == pytest.approx(calibrate(reference, window_rows=MAX_WINDOW_ROWS, rounds=20)["ks"], rel=0.5)


def test_calibration_of_categories():
    reference = _categorical(np.random.default_rng(8).choice(["x", "y", "z"], 10_000, p=[0.6, 0.3, 0.1]))
    thresholds = calibrate(reference, window_rows=1000)
    assert set(thresholds) == {"psi", "jensen_shannon", "chi_square"}
    moved = drift_scores(reference, _categorical(["x"] * 400 + ["y"] * 300 + ["z"] * 300))
    assert all(moved[m] > thresholds[m] for m in thresholds)
    assert calibrate(CategoricalProfile(), window_rows=10) == {}


def test_rows_buckets_round_down_by_less_than_a_tenth():
    from registry.profiles.calibration import rows_bucket

    for rows in (16, 17, 100, 500, 4096, 10**6):
        assert 0.91 * rows <= rows_bucket(rows) <= rows
    assert rows_bucket(3) == 16 and len({rows_bucket(n) for n in range(512, 550)}) == 1
