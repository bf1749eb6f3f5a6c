"""Column profiles: mergeable, bounded-size summaries of one column's values.

A profile is built from batches (`update`), merged with profiles of other batches (`merge`: the result is the
profile of the concatenated data), and shipped as a small JSON-able dict (`to_dict` / `from_dict`). Its size
does not grow with the data: the runtime keeps one per column per minute, the sandbox one per column of a
multi-GB dataset, and the portal compares them (see `drift.py`).

`from_dict` takes untrusted input (profiles come over HTTP from runtimes). It checks the structure of every
sketch before handing the bytes to datasketches, because datasketches' deserialisers trust their input: a
corrupted KLL sketch can crash the process rather than raise.
"""

import base64
import binascii
import math
import struct
from collections import Counter
from collections.abc import Iterable, Mapping

import datasketches
import numpy as np

SKETCH_K = 200  # KLL k: about 1.65% normalised rank error
TOP_ITEMS = 64  # frequent items listed in to_dict()
MAX_TEXT = 256  # characters kept of a categorical value

# 2^8 slots track up to 192 values: exact below that many distinct values, and beyond it every count is
# within 3.5/256 (1.37%) of the column's total; 2^9 would double the serialised size past the 8 KiB budget.
FREQUENT_LG_MAP_SIZE = 7
# HLL with 2^11 4-bit registers: 1 KiB serialised, 2.3% relative standard error on the distinct count.
DISTINCT_LG_K = 11
# Values buffered before they are folded into the sketch: 16 KiB per profile.
_BUFFER_VALUES = 2048
# Distinct values buffered (with their counts) before they are fed to the categorical sketches.
_PENDING_VALUES = 2048
# No sketch we serialise comes near this; it bounds the work spent on a hostile payload.
MAX_SERIALISED_CHARS = 256 * 1024

_KLL_FAMILY = 15
_KLL_M = 8
_FREQUENT_FAMILY = 10
_HLL_FAMILY = 7
_MAX_COUNT = 2**63 - 1


class ProfileError(ValueError):
    """A serialised profile is malformed, corrupt or of the wrong kind, or two profiles cannot be merged."""


class NumericProfile:
    """Counts, moments and a KLL quantile sketch of a numeric column.

    Guarantees: `count`, `nulls`, `non_finite`, `min` and `max` are exact; `mean` and `variance` are the
    exact sample moments up to floating-point rounding (batches are combined with Chan's formula, so merging
    in any order agrees with one pass over the concatenated data to about 1e-12 relative); quantiles and CDF
    values are within the KLL normalised rank error (about 1.65% for k=200, with 99% confidence).

    Small batches are copied into a buffer of `_BUFFER_VALUES` values and folded into the sketch and the
    moments when it fills or when anything is read, so the per-batch cost on the runtime's hot path is a copy;
    the result does not depend on how the values were batched. Not thread-safe.
    """

    kind = "numeric"

    def __init__(self, k: int = SKETCH_K):
        self._count = 0
        self._nulls = 0
        self._non_finite = 0
        self._mean = 0.0
        self._m2 = 0.0
        self._sketch = datasketches.kll_doubles_sketch(k)
        self._buffer: np.ndarray | None = None
        self._buffered = 0
        self._view: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def k(self) -> int:
        return self._sketch.k

    @property
    def count(self) -> int:
        """Finite values seen."""
        self._flush()
        return self._count

    @property
    def nulls(self) -> int:
        """Missing values seen: NaN, None, and those added with `add_nulls`."""
        self._flush()
        return self._nulls

    @property
    def non_finite(self) -> int:
        """+inf and -inf values seen (kept out of the sketch and the moments)."""
        self._flush()
        return self._non_finite

    @property
    def mean(self) -> float | None:
        return self._mean if self.count else None

    @property
    def variance(self) -> float | None:
        """Sample variance (ddof=1); 0.0 for a single value; None when empty."""
        count = self.count
        if count == 0:
            return None
        if count == 1:
            return 0.0
        return self._m2 / (count - 1)

    @property
    def min(self) -> float | None:
        return self._sketch.get_min_value() if self.count else None

    @property
    def max(self) -> float | None:
        return self._sketch.get_max_value() if self.count else None

    def update(self, values) -> None:
        """Add a batch (a 1-D array of any numeric or bool dtype, or a list): NaN and None count as nulls,
        +-inf as non_finite, the rest go into the sketch and the moments."""
        x = values if isinstance(values, np.ndarray) else np.asarray(values)
        if x.dtype != np.float64:
            if x.dtype.kind not in "biufO":
                raise TypeError(f"a numeric profile takes numbers, not {x.dtype}")
            x = x.astype(np.float64)  # object arrays: None becomes NaN
        if x.ndim != 1:
            x = x.reshape(-1)
        size = x.size
        if size >= _BUFFER_VALUES:
            if not (x.flags.writeable and x.flags.c_contiguous):
                x = np.array(x)  # datasketches takes writable, contiguous arrays only (pyarrow's are read-only)
            self._flush()
            self._ingest(x)
            return
        if self._buffered + size > _BUFFER_VALUES:
            self._flush()
        if self._buffer is None:
            self._buffer = np.empty(_BUFFER_VALUES)
        # A copy: the caller may reuse its array once update() returns.
        self._buffer[self._buffered : self._buffered + size] = x
        self._buffered += size

    def add_nulls(self, n: int) -> None:
        self._nulls += _non_negative_int(n, "n")

    def merge(self, other: "NumericProfile") -> None:
        """Merge `other` into this profile in place; `other` is unchanged."""
        if not isinstance(other, NumericProfile):
            raise ProfileError(
                f"cannot merge a {getattr(other, 'kind', type(other).__name__)} profile into a numeric one"
            )
        if other.k != self.k:
            raise ProfileError(f"cannot merge sketches of k={other.k} and k={self.k}")
        self._flush()
        other._flush()
        self._nulls += other._nulls
        self._non_finite += other._non_finite
        if other._count:
            self._sketch.merge(other._sketch)
            self._absorb(other._count, other._mean, other._m2)
            self._view = None

    def quantiles(self, ranks) -> np.ndarray:
        """The value at each normalised rank in [0, 1] (inclusive: the smallest retained value whose
        cumulative weight reaches rank * count); rank 0 is the exact min and rank 1 the exact max."""
        if self.count == 0:
            raise ProfileError("an empty profile has no quantiles")
        r = np.asarray(ranks, dtype=np.float64)
        if r.size and not (np.all(r >= 0.0) and np.all(r <= 1.0)):
            raise ValueError("ranks must lie in [0, 1]")
        items, cumulative = self._sorted_view()
        index = np.searchsorted(cumulative, r * self._count, side="left")
        out = items[np.minimum(index, items.size - 1)]
        out = np.where(r <= 0.0, self._sketch.get_min_value(), out)
        return np.where(r >= 1.0, self._sketch.get_max_value(), out)

    def cdf(self, points) -> np.ndarray:
        """P(X <= x) over the finite values, for each point (any order); an empty profile gives NaN."""
        p = np.asarray(points, dtype=np.float64)
        if self.count == 0:
            return np.full(p.shape, np.nan)
        items, cumulative = self._sorted_view()
        index = np.searchsorted(items, p, side="right")
        below = np.concatenate(([0.0], cumulative))[index]
        return below / self._count

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """`n` independent draws from the sketched distribution (each retained value with probability
        weight / count): the inverse CDF of the sketch at uniform ranks."""
        if self.count == 0:
            raise ProfileError("cannot sample an empty profile")
        items, cumulative = self._sorted_view()
        index = np.searchsorted(cumulative, rng.random(n) * self._count, side="right")
        return items[np.minimum(index, items.size - 1)]

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "count": self.count,
            "nulls": self._nulls,
            "non_finite": self._non_finite,
            "mean": self.mean,
            "variance": self.variance,
            "min": self.min,
            "max": self.max,
            "sketch": base64.b64encode(self._sketch.serialize()).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "NumericProfile":
        """Rebuild a profile from `to_dict()` output, checking it whole; anything wrong is a ProfileError."""
        _check_kind(data, cls.kind)
        count = _field_count(data, "count")
        nulls = _field_count(data, "nulls")
        non_finite = _field_count(data, "non_finite")
        raw = _field_base64(data, "sketch")
        _check_kll_bytes(raw)
        sketch = _deserialise(datasketches.kll_doubles_sketch, raw, "numeric sketch")
        if sketch.n != count:
            raise ProfileError(f"the sketch holds {sketch.n} values, the profile says count={count}")
        profile = cls(sketch.k)
        profile._sketch = sketch
        profile._count, profile._nulls, profile._non_finite = count, nulls, non_finite
        if count == 0:
            for name in ("mean", "variance", "min", "max"):
                if data.get(name) is not None:
                    raise ProfileError(f"an empty profile has no {name}")
            return profile
        mean = _field_float(data, "mean")
        variance = _field_float(data, "variance")
        low, high = _field_float(data, "min"), _field_float(data, "max")
        if low != sketch.get_min_value() or high != sketch.get_max_value():
            raise ProfileError("min/max disagree with the sketch")
        slack = 1e-9 * max(abs(low), abs(high))
        if math.isfinite(mean) and not (low - slack <= mean <= high + slack):
            raise ProfileError("mean lies outside [min, max]")
        if not variance >= 0.0 or (count == 1 and variance != 0.0):
            raise ProfileError("variance must be >= 0 (and 0 for a single value)")
        profile._mean = mean
        profile._m2 = variance * (count - 1)
        return profile

    def _flush(self) -> None:
        if self._buffered:
            values = self._buffer[: self._buffered]
            self._buffered = 0
            self._ingest(values)

    def _ingest(self, x: np.ndarray) -> None:
        size = x.size
        if size == 0:
            return
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is NaN: the masks below sort it out
            total = float(np.add.reduce(x))
        if not math.isfinite(total):
            # A NaN or an infinity makes the sum non-finite, so the masks are only needed here.
            finite = np.isfinite(x)
            n = int(np.count_nonzero(finite))
            nan_count = int(np.count_nonzero(np.isnan(x)))
            self._nulls += nan_count
            self._non_finite += size - n - nan_count
            if n == 0:
                return
            if n != size:
                x = x[finite]
                total = float(np.add.reduce(x))
        self._sketch.update(x)
        batch_mean = total / x.size
        deviations = np.subtract(x, batch_mean)
        self._absorb(x.size, batch_mean, float(np.dot(deviations, deviations)))
        self._view = None

    def _absorb(self, n: int, mean: float, m2: float) -> None:
        # Chan et al.'s pairwise update: stable where the naive sum of squares cancels catastrophically.
        total = self._count + n
        if self._count == 0:
            self._mean, self._m2 = mean, m2
        else:
            delta = mean - self._mean
            self._mean += delta * (n / total)
            self._m2 += m2 + delta * delta * (self._count * n / total)
        self._count = total

    def _sorted_view(self) -> tuple[np.ndarray, np.ndarray]:
        # The retained values with their cumulative weights, in numpy so quantiles, CDF and sampling are
        # vectorised; rebuilt only after the sketch changes.
        self._flush()
        if self._view is None:
            pairs = np.array(list(self._sketch), dtype=np.float64).reshape(-1, 2)
            order = np.argsort(pairs[:, 0], kind="stable")
            self._view = (pairs[order, 0], np.cumsum(pairs[order, 1]))
        return self._view

    def _copy(self) -> "NumericProfile":
        self._flush()
        copy = NumericProfile(self.k)
        copy._count, copy._nulls, copy._non_finite = self._count, self._nulls, self._non_finite
        copy._mean, copy._m2 = self._mean, self._m2
        copy._sketch = datasketches.kll_doubles_sketch.deserialize(self._sketch.serialize())
        return copy


class CategoricalProfile:
    """Counts, frequent values and a distinct-count estimate of a categorical column.

    Guarantees: `count` and `nulls` are exact; `frequencies()` is exact while the column has shown at most
    192 distinct values, and beyond that lists the values the sketch can vouch for, each a lower bound at most
    `max_error` (<= 1.37% of `count`) below its true count; `distinct` is within about 2.3% (one standard
    error).

    Batches are first tallied in a Counter of at most `_PENDING_VALUES` distinct values, fed to the sketches
    when it fills or when anything is read, so a value repeated across the batches of a window costs one
    sketch update per flush rather than one per batch; the result does not depend on the batching.
    Not thread-safe.
    """

    kind = "categorical"

    def __init__(self):
        self.count = 0
        self.nulls = 0
        self._frequent = datasketches.frequent_strings_sketch(FREQUENT_LG_MAP_SIZE)
        self._distinct = datasketches.hll_sketch(DISTINCT_LG_K, datasketches.HLL_4)
        self._pending: Counter[str] = Counter()

    def update(self, values) -> None:
        """Add a batch of str | bytes | int | bool | None (a numpy array or any iterable): None (and a float
        NaN) count as nulls; bytes are decoded as UTF-8 with replacement; booleans become "true"/"false";
        every value is kept as text cut to MAX_TEXT characters."""
        if isinstance(values, np.ndarray) and values.dtype.kind != "O":
            values = values.reshape(-1)
            if values.dtype.kind == "U":
                if values.dtype.itemsize > 4 * MAX_TEXT:
                    values = values.astype(f"<U{MAX_TEXT}")
                self._pending.update(values.tolist())
                self.count += values.size
            else:
                counts, nulls = _count_array(values)
                self.nulls += nulls
                self._add(counts)
        else:
            values = values if isinstance(values, list | tuple) else list(values)
            if values and set(map(type, values)) == {str}:
                # The common case, tallied in C; cut long values first so the Counter holds no large text.
                if max(map(len, values)) > MAX_TEXT:
                    values = [value[:MAX_TEXT] for value in values]
                self._pending.update(values)
                self.count += len(values)
            else:
                counts, nulls = _count_objects(values)
                self.nulls += nulls
                self._add(counts)
        if len(self._pending) > _PENDING_VALUES:
            self._flush()

    def update_counts(self, counts: Mapping[str, int]) -> None:
        """Add pre-aggregated counts (value -> occurrences); values are normalised as in `update`."""
        merged: dict[str, int] = {}
        for value, n in counts.items():
            n = _non_negative_int(n, "a count")
            category = _category(value)
            if category is None:
                self.nulls += n
            elif n:
                merged[category] = merged.get(category, 0) + n
        self._add(merged)
        if len(self._pending) > _PENDING_VALUES:
            self._flush()

    def add_nulls(self, n: int) -> None:
        self.nulls += _non_negative_int(n, "n")

    def merge(self, other: "CategoricalProfile") -> None:
        """Merge `other` into this profile in place; `other` is unchanged."""
        if not isinstance(other, CategoricalProfile):
            raise ProfileError(
                f"cannot merge a {getattr(other, 'kind', type(other).__name__)} profile into a categorical one"
            )
        self._flush()
        other._flush()
        self.count += other.count
        self.nulls += other.nulls
        self._frequent.merge(other._frequent)
        union = datasketches.hll_union(DISTINCT_LG_K)
        union.update(self._distinct)
        union.update(other._distinct)
        self._distinct = union.get_result(datasketches.HLL_4)

    def frequencies(self) -> dict[str, int]:
        """Counts of the frequent values, most frequent first (ties by value): see the class guarantees."""
        self._flush()
        rows = self._frequent.get_frequent_items(datasketches.frequent_items_error_type.NO_FALSE_POSITIVES)
        rows.sort(key=lambda row: (-row[2], row[0]))
        return {value: lower for value, _, lower, _ in rows if lower > 0}

    @property
    def max_error(self) -> int:
        """How far below its true count any listed frequency may be (0 while the profile is exact)."""
        self._flush()
        rows = self._frequent.get_frequent_items(datasketches.frequent_items_error_type.NO_FALSE_NEGATIVES)
        return max((upper - lower for _, _, lower, upper in rows), default=0)

    @property
    def distinct(self) -> float:
        """Estimated number of distinct non-null values (never above `count`)."""
        if self.count == 0:
            return 0.0
        self._flush()
        return float(min(self._distinct.get_estimate(), self.count))

    def to_dict(self) -> dict:
        top = list(self.frequencies().items())[:TOP_ITEMS]
        return {
            "kind": self.kind,
            "count": self.count,
            "nulls": self.nulls,
            "distinct": self.distinct,
            "top": [[value, n] for value, n in top],
            "sketch": base64.b64encode(self._frequent.serialize()).decode("ascii"),
            "hll": base64.b64encode(self._distinct.serialize_compact()).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "CategoricalProfile":
        """Rebuild a profile from `to_dict()` output, checking it whole; anything wrong is a ProfileError.
        `distinct` and `top` are derived from the sketches and recomputed, not trusted."""
        _check_kind(data, cls.kind)
        count = _field_count(data, "count")
        nulls = _field_count(data, "nulls")
        raw_frequent = _field_base64(data, "sketch")
        raw_distinct = _field_base64(data, "hll")
        _check_frequent_bytes(raw_frequent)
        _check_hll_bytes(raw_distinct)
        frequent = _deserialise(datasketches.frequent_strings_sketch, raw_frequent, "frequent-items sketch")
        distinct = _deserialise(datasketches.hll_sketch, raw_distinct, "distinct-count sketch")
        if frequent.total_weight != count:
            raise ProfileError(f"the sketch holds {frequent.total_weight} values, the profile says count={count}")
        if distinct.is_empty() != (count == 0):
            raise ProfileError("the distinct-count sketch disagrees with count")
        profile = cls()
        profile.count, profile.nulls = count, nulls
        profile._frequent, profile._distinct = frequent, distinct
        return profile

    def _add(self, counts: Mapping[str, int]) -> None:
        # `counts` holds normalised values.
        self._pending.update(counts)
        self.count += sum(counts.values())

    def _flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, Counter()
        for value, n in pending.items():
            self._frequent.update(value, n)
            self._distinct.update(value)

    def _copy(self) -> "CategoricalProfile":
        self._flush()
        copy = CategoricalProfile()
        copy.count, copy.nulls = self.count, self.nulls
        copy._frequent = datasketches.frequent_strings_sketch.deserialize(self._frequent.serialize())
        copy._distinct = datasketches.hll_sketch.deserialize(self._distinct.serialize_compact())
        return copy


def profile_from_dict(data: dict) -> NumericProfile | CategoricalProfile:
    """The profile serialised in `data`, of the kind it names; ProfileError for anything else."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == NumericProfile.kind:
        return NumericProfile.from_dict(data)
    if kind == CategoricalProfile.kind:
        return CategoricalProfile.from_dict(data)
    raise ProfileError(f"unknown profile kind {kind!r}")


def profile_merge(a, b):
    """A new profile of a's data followed by b's (same kind, else ProfileError); neither argument changes."""
    if not isinstance(a, NumericProfile | CategoricalProfile):
        raise ProfileError(f"not a profile: {type(a).__name__}")
    merged = a._copy()
    merged.merge(b)
    return merged


def profiles_merged(dicts) -> NumericProfile | CategoricalProfile | None:
    """The serialised profiles in `dicts` merged into one, skipping empty and malformed ones and those of another
    kind than the first; None when none is left."""
    merged = None
    for data in dicts:
        if not data:
            continue
        try:
            profile = profile_from_dict(data)
        except ProfileError:
            continue
        if merged is None:
            merged = profile
        elif merged.kind == profile.kind:
            merged.merge(profile)
    return merged


# Categorical values


def _category(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value
    elif isinstance(value, bytes | bytearray | np.bytes_):
        text = bytes(value[: 4 * MAX_TEXT]).decode("utf-8", errors="replace")
    elif isinstance(value, float | np.floating) and math.isnan(value):
        return None
    else:
        text = str(value)
    return text[:MAX_TEXT]


def _count_objects(values: Iterable) -> tuple[dict[str, int], int]:
    values = values if isinstance(values, list | tuple) else list(values)
    # Keyed by type too: Counter alone would fold True into 1 and 1 into 1.0.
    raw = Counter(zip(map(type, values), values))
    counts: dict[str, int] = {}
    nulls = 0
    for (_, value), n in raw.items():
        category = _category(value)
        if category is None:
            nulls += n
        else:
            counts[category] = counts.get(category, 0) + n
    return counts, nulls


def _count_array(values: np.ndarray) -> tuple[dict[str, int], int]:
    kind = values.dtype.kind
    if kind == "b":
        n_true = int(np.count_nonzero(values))
        counts = {"true": n_true, "false": values.size - n_true}
        return {k: n for k, n in counts.items() if n}, 0
    nulls = 0
    if kind in "US":
        # Counter over Python strings beats np.unique's sort at every size.
        unique_counts = Counter(values.tolist()).items()
    else:
        if kind == "f":
            missing = np.isnan(values)
            nulls = int(np.count_nonzero(missing))
            values = values[~missing]
        elif kind not in "iu":
            raise TypeError(f"a categorical profile takes text, integers or booleans, not {values.dtype}")
        unique, n = np.unique(values, return_counts=True)
        unique_counts = zip(unique.tolist(), n.tolist())
    counts: dict[str, int] = {}
    for value, occurrences in unique_counts:
        category = _category(value)
        counts[category] = counts.get(category, 0) + occurrences
    return counts, nulls


# Validation of untrusted serialised profiles


def _check_kind(data, kind: str) -> None:
    if not isinstance(data, dict):
        raise ProfileError(f"a serialised profile is a dict, not {type(data).__name__}")
    if data.get("kind") != kind:
        raise ProfileError(f"expected a {kind} profile, got kind={data.get('kind')!r}")


def _field_count(data: dict, name: str) -> int:
    value = data.get(name)
    if type(value) is not int or not 0 <= value <= _MAX_COUNT:
        raise ProfileError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _field_float(data: dict, name: str) -> float:
    value = data.get(name)
    if type(value) not in (int, float) or (isinstance(value, float) and math.isnan(value)):
        raise ProfileError(f"{name} must be a number, got {value!r}")
    return float(value)


def _field_base64(data: dict, name: str) -> bytes:
    value = data.get(name)
    if not isinstance(value, str) or len(value) > MAX_SERIALISED_CHARS:
        raise ProfileError(f"{name} must be a base64 string of at most {MAX_SERIALISED_CHARS} characters")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ProfileError(f"{name} is not valid base64: {error}") from None


def _deserialise(sketch_class, raw: bytes, what: str):
    try:
        return sketch_class.deserialize(raw)
    except (MemoryError, Exception) as error:  # datasketches raises RuntimeError, ValueError, IndexError...
        raise ProfileError(f"corrupt {what}: {error}") from None


def _kll_level_capacity(k: int, depth: int) -> int:
    # kll_helper::int_cap_aux: k * (2/3)^depth rounded, computed in integers as datasketches does.
    def aux(k: int, depth: int) -> int:
        return ((((2 * k) << depth) // 3**depth) + 1) >> 1

    if depth <= 30:
        return aux(k, depth)
    half = depth // 2
    return aux(aux(k, half), depth - half)


def _check_kll_bytes(raw: bytes) -> None:
    # Mirrors the layout of kll_sketch<double>::serialize; datasketches' own deserialiser does not check
    # level offsets against the buffer and can read out of bounds, so every offset is verified here first.
    if len(raw) < 8:
        raise ProfileError("numeric sketch: too short")
    preamble_ints, version, family, flags, k, m = struct.unpack_from("<BBBBHB", raw, 0)
    if family != _KLL_FAMILY or m != _KLL_M or not 8 <= k <= 65535:
        raise ProfileError("numeric sketch: not a KLL doubles sketch")
    empty, single = flags & 1, flags & 4
    if preamble_ints == 2:
        if empty and not single and version == 1 and len(raw) == 8:
            return
        if single and not empty and version == 2 and len(raw) == 16:
            if not math.isfinite(struct.unpack_from("<d", raw, 8)[0]):
                raise ProfileError("numeric sketch: non-finite value")
            return
        raise ProfileError("numeric sketch: bad short header")
    if preamble_ints != 5 or version != 1 or flags & ~2 or len(raw) < 20:
        raise ProfileError("numeric sketch: bad header")
    n, min_k, num_levels = struct.unpack_from("<QHB", raw, 8)
    if min_k != k or not 1 <= num_levels <= 60 or n < 2:
        raise ProfileError("numeric sketch: bad header")
    header = 20 + 4 * num_levels + 16
    if len(raw) < header:
        raise ProfileError("numeric sketch: truncated")
    capacity = sum(max(_KLL_M, _kll_level_capacity(k, num_levels - h - 1)) for h in range(num_levels))
    levels = (*struct.unpack_from(f"<{num_levels}I", raw, 20), capacity)
    if any(levels[i] > levels[i + 1] for i in range(num_levels)):
        raise ProfileError("numeric sketch: bad level offsets")
    if len(raw) != header + 8 * (capacity - levels[0]):
        raise ProfileError("numeric sketch: length disagrees with its levels")
    if n != sum((levels[i + 1] - levels[i]) << i for i in range(num_levels)):
        raise ProfileError("numeric sketch: weights disagree with n")
    low, high = struct.unpack_from("<dd", raw, header - 16)
    items = np.frombuffer(raw, dtype="<f8", offset=header)
    if not (math.isfinite(low) and math.isfinite(high) and np.all(np.isfinite(items))):
        raise ProfileError("numeric sketch: non-finite value")
    if items.size == 0 or low > items.min() or items.max() > high:
        raise ProfileError("numeric sketch: values outside [min, max]")
    for level in range(1, num_levels):
        start, end = levels[level] - levels[0], levels[level + 1] - levels[0]
        if end - start > 1 and np.any(np.diff(items[start:end]) < 0):
            raise ProfileError("numeric sketch: unsorted level")


def _check_frequent_bytes(raw: bytes) -> None:
    # Header of frequent_items_sketch::serialize; the map sizes bound what deserialisation allocates.
    if len(raw) < 8:
        raise ProfileError("frequent-items sketch: too short")
    preamble_longs, version, family, lg_max, lg_cur = struct.unpack_from("<BBBBB", raw, 0)
    if family != _FREQUENT_FAMILY or version != 1 or preamble_longs not in (1, 4):
        raise ProfileError("frequent-items sketch: bad header")
    if lg_max != FREQUENT_LG_MAP_SIZE or not 3 <= lg_cur <= lg_max:
        raise ProfileError(f"frequent-items sketch: map size must be 2^{FREQUENT_LG_MAP_SIZE}")
    if preamble_longs == 4:
        if len(raw) < 32:
            raise ProfileError("frequent-items sketch: truncated")
        (num_items,) = struct.unpack_from("<I", raw, 8)
        if num_items > (3 << lg_max) // 4 or len(raw) < 32 + 12 * num_items:
            raise ProfileError("frequent-items sketch: bad item count")


def _check_hll_bytes(raw: bytes) -> None:
    if len(raw) < 8:
        raise ProfileError("distinct-count sketch: too short")
    family, lg_k, lg_arr = struct.unpack_from("<BBB", raw, 2)
    if family != _HLL_FAMILY or lg_k != DISTINCT_LG_K or lg_arr > lg_k:
        raise ProfileError(f"distinct-count sketch: must be an HLL sketch of lg_k={DISTINCT_LG_K}")


def _non_negative_int(value, name: str) -> int:
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be an integer, not a boolean")
    try:
        n = int(value.__index__())
    except (AttributeError, TypeError):
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if n < 0:
        raise ValueError(f"{name} must be >= 0, got {n}")
    return n
