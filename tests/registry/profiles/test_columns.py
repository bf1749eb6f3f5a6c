"""Column profiles: exact counts and moments, quantiles within the sketch's rank error, merge = concatenation,
round trips through dicts, and hostile dicts refused with ProfileError."""

import base64

import numpy as np
import pytest

from registry.profiles.columns import (
    CategoricalProfile,
    NumericProfile,
    ProfileError,
    profile_from_dict,
    profile_merge,
)

RANK_ERROR = 0.0165 * 1.5


def _numeric(values, chunk=1000):
    profile = NumericProfile()
    for start in range(0, len(values), chunk):
        profile.update(values[start : start + chunk])
    return profile


def test_numeric_counts_moments_and_quantiles():
    rng = np.random.default_rng(1)
    values = rng.normal(10.0, 3.0, 200_000)
    values[::1000] = np.nan
    values[1::5000] = np.inf
    profile = _numeric(values, chunk=777)
    finite = values[np.isfinite(values)]
    assert profile.count == finite.size
    assert profile.nulls == np.isnan(values).sum()
    assert profile.non_finite == np.isinf(values).sum()
    assert profile.mean == pytest.approx(finite.mean(), rel=1e-10)
    assert profile.variance == pytest.approx(finite.var(ddof=1), rel=1e-9)
    assert (profile.min, profile.max) == (finite.min(), finite.max())
    ranks = np.linspace(0.01, 0.99, 50)
    estimated = profile.quantiles(ranks)
    # The rank of each estimate in the data is within the sketch's error of the asked rank.
    true_ranks = np.searchsorted(np.sort(finite), estimated) / finite.size
    assert np.max(np.abs(true_ranks - ranks)) < RANK_ERROR
    assert np.max(np.abs(profile.cdf(estimated) - true_ranks)) < RANK_ERROR


def test_numeric_merge_equals_one_pass_in_any_order():
    rng = np.random.default_rng(2)
    parts = [rng.exponential(2.0, n) for n in (5, 3000, 40_000, 1)]
    merged = NumericProfile()
    for part in reversed(parts):
        merged.merge(_numeric(part))
    whole = np.concatenate(parts)
    assert merged.count == whole.size
    assert merged.mean == pytest.approx(whole.mean(), rel=1e-12)
    assert merged.variance == pytest.approx(whole.var(ddof=1), rel=1e-10)
    assert abs(merged.cdf([np.median(whole)])[0] - 0.5) < RANK_ERROR


def test_numeric_round_trip_and_bounded_size():
    profile = _numeric(np.random.default_rng(3).uniform(size=1_000_000), chunk=65536)
    data = profile.to_dict()
    again = profile_from_dict(data)
    assert again.to_dict() == data
    assert len(data["sketch"]) < 8 * 1024
    np.testing.assert_allclose(again.quantiles([0.1, 0.5, 0.9]), profile.quantiles([0.1, 0.5, 0.9]))


def test_categorical_exact_then_bounded():
    profile = CategoricalProfile()
    profile.update(["a", "b", "a", None, "c"] * 100)
    profile.update(np.array([True, False, True]))
    assert profile.count == 403 and profile.nulls == 100
    assert profile.frequencies() == {"a": 200, "b": 100, "c": 100, "true": 2, "false": 1}
    assert profile.distinct == pytest.approx(5, abs=0.5)

    many = CategoricalProfile()
    rng = np.random.default_rng(4)
    values = rng.zipf(1.5, 200_000).astype(str)
    many.update(values)
    top = many.frequencies()
    truth = dict(zip(*np.unique(values, return_counts=True)))
    for value, n in list(top.items())[:10]:
        assert truth[value] - many.max_error <= n <= truth[value]
    assert many.max_error <= 0.0137 * many.count
    assert many.distinct == pytest.approx(len(truth), rel=0.07)
    data = many.to_dict()
    assert len(str(data)) < 16 * 1024
    assert profile_from_dict(data).frequencies() == top


def test_merge_of_kinds_refused():
    with pytest.raises(ProfileError, match="cannot merge"):
        profile_merge(NumericProfile(), CategoricalProfile())


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(kind="weird"),
        lambda d: d.update(count=-1),
        lambda d: d.update(sketch="not base64!"),
        lambda d: d.update(sketch=base64.b64encode(b"\x05\x01\x0f" + b"\xff" * 60).decode()),
        lambda d: d.update(sketch=d["sketch"][: len(d["sketch"]) // 2]),
        lambda d: d.pop("mean"),
    ],
)
def test_hostile_numeric_dicts_are_refused(mutate):
    data = _numeric(np.arange(10_000.0)).to_dict()
    mutate(data)
    with pytest.raises(ProfileError):
        profile_from_dict(data)


def test_corrupt_categorical_sketch_refused():
    data = CategoricalProfile()
    data.update(["x", "y"])
    data = data.to_dict()
    raw = bytearray(base64.b64decode(data["sketch"]))
    raw[5:] = b"\xff" * (len(raw) - 5)
    data["sketch"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(ProfileError):
        profile_from_dict(data)
