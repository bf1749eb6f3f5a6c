"""Drift scores between a reference profile and a current one (see columns.py), computed from the sketches alone.

Numeric columns:
- psi: the population stability index over ten bins cut at the reference's deciles;
- wasserstein: the earth mover's distance in standard deviations of the reference (in the column's units
  when the reference is constant): the mean absolute difference of the two quantile functions, integrated on a
  grid of ranks, so 0.5 reads "moved by half a standard deviation" whatever the column's scale;
- jensen_shannon: the Jensen-Shannon distance (base 2, in [0, 1]) over twenty bins cut at the reference's
  quantiles;
- ks: the Kolmogorov-Smirnov statistic, the largest gap between the two CDFs at any retained value.
Categorical columns, over the reference's frequent values plus one bucket for the rest:
- psi, jensen_shannon as above; chi_square: Pearson's statistic of the current counts against the reference
  proportions.

Bin edges and CDF points are taken a hair above (two float32 ulps): a model's input is float32 while a
dataset's profile holds the float64 its file spells, so 0.2 in the file is 0.2000000030 in the traffic, and a
column with many ties (iris measures in tenths) would otherwise put every tied value in the next bin.

Only finite values and non-null categories take part; a score is computed when both profiles hold some. Every
score is 0 for identical distributions and grows with the shift; what counts as too much depends on the column
and the window's size, which is what calibration.py decides.
"""

from __future__ import annotations

import numpy as np

from registry.profiles.columns import CategoricalProfile, NumericProfile, ProfileError

NUMERIC_METRICS = ("psi", "wasserstein", "jensen_shannon", "ks")
CATEGORICAL_METRICS = ("psi", "jensen_shannon", "chi_square")

PSI_BINS = 10
JS_BINS = 20
# Proportions are floored at this before PSI and chi-square take logarithms and ratios of them: an empty bin
# then weighs as if it held one value in ten thousand.
FLOOR = 1e-4
_RANK_GRID = (np.arange(1000) + 0.5) / 1000
# How far above a value its bin edge is taken (relative): two float32 ulps.
_TIE = 2.0**-22
# The bucket of categories the reference does not list.
OTHER = "(other)"


def drift_scores(reference, current) -> dict[str, float]:
    """{metric: score} for two profiles of one kind; {} when either holds no values."""
    if reference.kind != current.kind:
        raise ProfileError(f"cannot compare a {reference.kind} profile with a {current.kind} one")
    if reference.kind == "numeric":
        return numeric_drift(reference, current)
    return categorical_drift(reference, current)


def reference_edges(reference: NumericProfile, bins: int = PSI_BINS) -> np.ndarray:
    """Inner bin edges at the reference's quantiles (1/bins .. (bins-1)/bins), duplicates dropped: a column
    with few distinct values gets fewer bins."""
    if reference.count == 0:
        raise ProfileError("an empty profile has no bins")
    return np.unique(reference.quantiles(np.arange(1, bins) / bins))


def histogram(profile, edges):
    """The profile's proportions: for a numeric one, in the bins (-inf, e0], (e0, e1], ..., (e_last, inf) of
    `edges` (a list of len(edges) + 1); for a categorical one (edges None), {value: proportion} of its frequent
    values, with OTHER for the rest when there is a rest."""
    if profile.kind == "numeric":
        if profile.count == 0:
            return [0.0] * (len(edges) + 1)
        below = profile.cdf(_above(np.asarray(edges, dtype=np.float64)))
        return np.diff(np.concatenate(([0.0], below, [1.0]))).clip(0.0, 1.0).tolist()
    if profile.count == 0:
        return {}
    frequencies = profile.frequencies()
    out = {value: n / profile.count for value, n in frequencies.items()}
    rest = profile.count - sum(frequencies.values())
    if rest > 0:
        out[OTHER] = out.get(OTHER, 0.0) + rest / profile.count
    return out


def numeric_drift(reference: NumericProfile, current: NumericProfile) -> dict[str, float]:
    if reference.count == 0 or current.count == 0:
        return {}
    edges = reference_edges(reference, PSI_BINS)
    ref_bins, cur_bins = _bins(reference, edges), _bins(current, edges)
    js_edges = reference_edges(reference, JS_BINS)
    gap = np.abs(reference.quantiles(_RANK_GRID) - current.quantiles(_RANK_GRID))
    points = np.union1d(reference.quantiles(np.linspace(0, 1, 513)), current.quantiles(np.linspace(0, 1, 513)))
    return {
        "psi": _psi(ref_bins, cur_bins),
        "wasserstein": float(gap.mean() / (np.sqrt(reference.variance or 0.0) or 1.0)),
        "jensen_shannon": _jensen_shannon(_bins(reference, js_edges), _bins(current, js_edges)),
        "ks": float(np.max(np.abs(reference.cdf(_above(points)) - current.cdf(_above(points))))),
    }


def categorical_drift(reference: CategoricalProfile, current: CategoricalProfile) -> dict[str, float]:
    if reference.count == 0 or current.count == 0:
        return {}
    ref = histogram(reference, None)
    cur = histogram(current, None)
    # Values the reference does not list fall in its rest.
    labels = [label for label in ref if label != OTHER] + [OTHER]
    cur_other = sum(p for value, p in cur.items() if value not in ref or value == OTHER)
    p = np.array([ref.get(label, 0.0) for label in labels])
    q = np.array([cur.get(label, 0.0) for label in labels[:-1]] + [cur_other])
    if p[-1] == 0.0 and q[-1] == 0.0:
        p, q = p[:-1], q[:-1]
    expected = current.count * np.maximum(p, FLOOR) / np.maximum(p, FLOOR).sum()
    observed = current.count * q
    return {
        "psi": _psi(p, q),
        "jensen_shannon": _jensen_shannon(p, q),
        "chi_square": float(((observed - expected) ** 2 / expected).sum()),
    }


def _above(points: np.ndarray) -> np.ndarray:
    return points + np.abs(points) * _TIE


def _bins(profile: NumericProfile, edges: np.ndarray) -> np.ndarray:
    below = profile.cdf(_above(edges))
    return np.diff(np.concatenate(([0.0], below, [1.0]))).clip(0.0, 1.0)


def _psi(p: np.ndarray, q: np.ndarray) -> float:
    p = np.maximum(p, FLOOR)
    q = np.maximum(q, FLOOR)
    p, q = p / p.sum(), q / q.sum()
    return float(((q - p) * np.log(q / p)).sum())


def _jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        mask = a > 0
        return float((a[mask] * np.log2(a[mask] / m[mask])).sum())

    return float(np.sqrt(max((kl(p) + kl(q)) / 2, 0.0)))
