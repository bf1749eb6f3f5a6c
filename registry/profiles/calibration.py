"""Drift thresholds calibrated on the reference itself: how large each score gets by chance alone.

A window of n rows drawn from the reference distribution still scores above zero: sampling noise, plus the
sketches' own rank error. So each metric is scored on `rounds` windows of `window_rows` rows drawn from the
reference profile (its sketch's inverse CDF, or a multinomial over its frequent values), each profiled the way
the runtime profiles traffic, and its threshold is the `quantile` of those chance scores. Two hundred rounds
cannot place a 0.999 quantile by counting (it would be about their maximum, a noisy 0.995), so the tail is
fitted: the logarithms of chance scores are close to normal, and the threshold is exp(mean + z * sd) of them.
Measured on a normal column with windows of 600 rows: a window of the same distribution crosses any of the
four thresholds 0.1% of the time, a shift of a quarter of a standard deviation every time. An alarm also needs
two windows in a row (registry.monitoring.evaluation), so false alarms are rare.

A reference of at most MAX_WINDOW_ROWS values is itself a sample (an endpoint's own first window, a small
dataset): each round then draws a reference of that size too, so the threshold covers the noise of both sides.
Windows larger than MAX_WINDOW_ROWS are calibrated as if of that size: past it the sketches' rank error, not
sampling, sets the noise, and the thresholds stop shrinking.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from registry.profiles.columns import CategoricalProfile, NumericProfile, ProfileError
from registry.profiles.drift import OTHER, drift_scores

DEFAULT_QUANTILE = 0.999
DEFAULT_ROUNDS = 200
MAX_WINDOW_ROWS = 32_768
# The floor of a chance score before its logarithm: a constant column scores 0 by chance, and any change then
# crosses its threshold.
TINY = 1e-12


def rows_bucket(rows: int) -> int:
    """The window size to calibrate for: the largest eighth power of two at or below `rows` (at least 16).

    Thresholds fall as windows grow, so rounding down errs toward fewer alarms, by at most 9% of the rows; one
    calibration (cached by the caller) then serves every window of the bucket."""
    if rows < 16:
        return 16
    return int(2 ** (math.floor(math.log2(rows) * 8) / 8))


def calibrate(
    reference, *, window_rows: int, quantile: float = DEFAULT_QUANTILE, rounds: int = DEFAULT_ROUNDS, seed: int = 0
) -> dict[str, float]:
    """{metric: threshold} for windows of `window_rows` rows compared with `reference`; {} for an empty one.

    The draws follow `seed`, but the KLL sketches compact at random (datasketches' own generator), so two
    calibrations agree only to within their sampling noise: the caller caches the result."""
    if window_rows < 1:
        raise ValueError("window_rows must be at least 1")
    if not 0.5 <= quantile < 1:
        raise ValueError("quantile must lie in [0.5, 1)")
    if reference.count == 0:
        return {}
    rows = min(window_rows, MAX_WINDOW_ROWS)
    rng = np.random.default_rng(seed)
    draw = _numeric_window if reference.kind == "numeric" else _categorical_sampler(reference)
    scores: dict[str, list[float]] = {}
    resample = reference.count <= MAX_WINDOW_ROWS
    for _ in range(rounds):
        window = draw(reference, rows, rng)
        base = draw(reference, reference.count, rng) if resample else reference
        for metric, score in drift_scores(base, window).items():
            scores.setdefault(metric, []).append(score)
    z = NormalDist().inv_cdf(quantile)
    thresholds = {}
    for metric, values in scores.items():
        logs = np.log(np.maximum(values, TINY))
        thresholds[metric] = float(np.exp(logs.mean() + z * logs.std()))
    return thresholds


def _numeric_window(reference: NumericProfile, rows: int, rng: np.random.Generator) -> NumericProfile:
    window = NumericProfile(k=reference.k)
    window.update(reference.sample(rows, rng))
    return window


def _categorical_sampler(reference: CategoricalProfile):
    frequencies = reference.frequencies()
    values = list(frequencies)
    weights = np.array([frequencies[v] for v in values], dtype=np.float64)
    rest = reference.count - weights.sum()
    if rest > 0:
        values.append(OTHER)
        weights = np.append(weights, rest)
    if not values:
        raise ProfileError("the reference lists no values to draw")
    p = weights / weights.sum()

    def draw(_reference, rows: int, rng: np.random.Generator) -> CategoricalProfile:
        window = CategoricalProfile()
        window.update_counts({v: int(n) for v, n in zip(values, rng.multinomial(rows, p)) if n})
        return window

    return draw
