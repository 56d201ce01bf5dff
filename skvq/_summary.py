"""Sufficient statistics of pixels: weighted atoms that add up.

Every codebook skvq learns is a function of a :class:`PixelSummary`, never of
the pixels themselves. A summary is a list of *atoms*; an atom is either one
distinct pixel value or, once there are more distinct values than a budget,
a cell of a power-of-two grid, and it carries

- ``weight``: the total sample weight of its pixels,
- ``sum``: their weighted sum (a vector of ``n_channels`` values),
- ``sumsq``: their weighted sum of squared norms.

Sums are stored multiplied by ``2**-value_exponent`` (squares by
``2**(-2 * value_exponent)``), a power of two with every value at most one in
magnitude, so that nothing overflows even for data near the float64 limits;
the scaling is exact. Summaries of two parts of the data merge into the
summary of the whole by adding those quantities per key, so fitting is one
pass over the pixels,
``partial_fit`` accumulates exactly, and a Dask array is summarised block by
block and reduced.

Grids are nested: the cell of side ``2**e`` (of *cell exponent* ``e``)
containing ``x`` is ``floor(x / 2**e)``, and cells of side ``2**(e + 1)`` are
unions of cells of side ``2**e``. A summary over budget moves to the
coarsest-needed grid, of the smallest cell exponent at which the number of
cells fits the budget. Because the number of cells can only grow with more
data and only shrink with coarser grids, the grid reached is the same
whatever the order and split of the data, and so is every atom. For
integer-valued data with integer weights every sum is exact in float64, so
``partial_fit`` over any split gives bit for bit the summary, hence the
codebook, of ``fit`` on the whole.
"""

from typing import NamedTuple

import numpy as np

from ._colour_kernels import count_cells, count_colours, mark_colours, pool_colours
from ._histogram import add_value_counts, add_weighted_value_counts
from ._openmp_helpers import effective_n_threads

# Pixels handled per step; bounds the temporary memory of summarising a large
# array to a few tens of megabytes whatever its size.
_CHUNK_PIXELS = 1 << 20


class PixelSummary(NamedTuple):
    """Sufficient statistics of a set of pixels: weighted atoms that add up.

    Made by :func:`skvq.summarize`, merged by :func:`skvq.merge_summaries`
    and learned from by :func:`skvq.learn_codebook`. An atom is one distinct
    pixel value or, once there are more than ``max_atoms``, a cell of a
    power-of-two grid; it carries the total weight of its pixels, their
    weighted sum and their weighted sum of squared norms.

    Atoms are sorted by key (for one channel: by value). ``cell_exponent`` is
    ``None`` while atoms are distinct values (then ``key`` holds them), else
    the exponent of the grid's cell side (``key`` holds the cells' indices).
    ``sum`` and ``sumsq`` are in units of ``2**value_exponent`` and
    ``2**(2 * value_exponent)`` of the values. ``low`` and ``high`` are the
    per-channel minimum and maximum of the pixels with positive weight.
    ``weight``, ``sum`` and ``sumsq`` are in units of ``2**weight_exponent``
    of the sample weights (a codebook depends on relative weights only).
    Every scaling is by a power of two, hence exact.
    """

    key: np.ndarray
    weight: np.ndarray
    sum: np.ndarray
    sumsq: np.ndarray
    value_exponent: int
    low: np.ndarray
    high: np.ndarray
    cell_exponent: int | None
    weight_exponent: int = 0

    @property
    def n_atoms(self):
        return self.weight.shape[0]

    @property
    def n_channels(self):
        return self.key.shape[1]

    @property
    def mean(self):
        """Weighted mean of each atom, shape (n_atoms, n_channels)."""
        if self.cell_exponent is None:
            return self.key
        return _times_power_of_two(self.sum / self.weight[:, None], self.value_exponent)

    @property
    def scatter(self):
        """Weighted sum of squared distances of each atom's pixels to its
        mean, in units of ``2**(2 * value_exponent)``."""
        if self.cell_exponent is None:
            return np.zeros(self.n_atoms)
        spread = self.sumsq - np.einsum("ij,ij->i", self.sum, self.sum) / self.weight
        return np.maximum(spread, 0.0)


def one_atom_per_codeword(summary, n_bins):
    """Whether every distinct pixel value can have a codeword of its own:
    the atoms are values (not grid cells) and there are at most ``n_bins``.

    The codebook then has ``summary.n_atoms`` codewords, possibly fewer than
    ``n_bins``, which the estimator tells the user.
    """
    return summary.cell_exponent is None and summary.n_atoms <= n_bins


def _max_exponent(values):
    """Smallest ``e`` with ``|values| <= 2**e`` (0 for empty or zero input)."""
    if values.size == 0:
        return 0
    largest = float(np.max(np.abs(values)))
    return int(np.frexp(largest)[1]) if largest > 0 else 0


def _column_extremes(key):
    """Per-column minimum and maximum; column by column, which is many times
    faster than ``key.min(axis=0)`` for a few columns of many rows."""
    low = np.array([column.min() for column in key.T])
    high = np.array([column.max() for column in key.T])
    return low, high


def _times_power_of_two(values, exponent):
    """``np.ldexp(values, exponent)``, as a product when ``2**exponent`` is
    a normal float: equally exact, and many times faster."""
    if -1000 <= exponent <= 1000:
        return values * 2.0**exponent
    return np.ldexp(values, exponent)


def _packed_rows(key):
    """Rows of integer-valued ``key`` packed into one int64 each, preserving
    their lexicographic order, with the size of the packed range; ``None``
    when the keys are not integers or their ranges are too wide to pack."""
    if key.shape[0] == 0 or not np.all(key == np.floor(key)):
        return None
    low, high = _column_extremes(key)
    # Halves first: the span of values near the float64 limits overflows.
    half_span = high / 2 - low / 2
    if not (np.all(half_span < 2.0**31) and np.prod(2 * half_span + 1) < 2.0**62):
        return None
    span = (high - low + 1).astype(np.int64)
    strides = np.cumprod(np.concatenate([[1], span[::-1][:-1]]))[::-1]
    return (key - low).astype(np.int64) @ strides, int(np.prod(span))


def _unique_rows(key):
    """Sorted distinct rows of ``key`` and the index of each row among them.

    Rows of integer-valued keys (grid cells, integer pixels) are packed into
    one int64 so that a plain sort does the work of a lexicographic one.
    """
    if key.shape[1] == 1:
        unique, inverse = np.unique(key[:, 0], return_inverse=True)
        return unique[:, None], inverse.reshape(-1)
    packed = _packed_rows(key)
    if packed is not None:
        _, index, inverse = np.unique(packed[0], return_index=True, return_inverse=True)
        return key[index], inverse.reshape(-1)
    unique, inverse = np.unique(key, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)


def _group(key, weight, total, sumsq):
    """Merge atoms that share a key (a row of ``key``), adding their sums."""
    unique_key, inverse = _unique_rows(key)
    n = unique_key.shape[0]
    if n == key.shape[0]:
        order = np.argsort(inverse, kind="stable")
        return key[order], weight[order], total[order], sumsq[order]
    new_total = np.empty((n, total.shape[1]))
    for c in range(total.shape[1]):
        new_total[:, c] = np.bincount(inverse, weights=total[:, c], minlength=n)
    return (
        unique_key,
        np.bincount(inverse, weights=weight, minlength=n),
        new_total,
        np.bincount(inverse, weights=sumsq, minlength=n),
    )


def _cell_keys(summary, cell_exponent):
    """Keys of a summary's atoms in the grid of ``cell_exponent`` (``None``:
    the values)."""
    if cell_exponent is None:
        return summary.key
    if summary.cell_exponent is None:
        return np.floor(_times_power_of_two(summary.key, -cell_exponent))
    shift = summary.cell_exponent - cell_exponent
    return np.floor(_times_power_of_two(summary.key, shift))


def _n_cells(summary, cell_exponent):
    key = _cell_keys(summary, cell_exponent)
    packed = _packed_rows(key)
    if packed is None:
        return _unique_rows(key)[0].shape[0]
    # Integer keys: counted by marking their packed values when the packed
    # range is small, else by sorting them; either way without the indices
    # that _unique_rows also finds.
    packed, size = packed
    if size <= max(32 * key.shape[0], 1 << 22):
        seen = np.zeros(size, dtype=bool)
        seen[packed] = True
        return int(np.count_nonzero(seen))
    return np.unique(packed).shape[0]


def _coarsest_needed_cell_exponent(summary, max_atoms):
    """Smallest cell exponent, not finer than the summary's, of a grid with
    at most ``max_atoms`` cells: a binary search, the count being monotone."""
    if summary.cell_exponent is None and np.all(summary.key == np.floor(summary.key)):
        # Distinct integers are at least 1 apart, so cells of width 1/2 hold
        # one value each (the answer is above, see below).
        low = -1
    elif summary.cell_exponent is None:
        # At a cell width no larger than the smallest gap between distinct
        # values, every value has its own cell, so the answer is above that.
        gaps = np.concatenate([np.diff(np.unique(column)) for column in summary.key.T])
        low = int(np.frexp(gaps[gaps > 0].min())[1]) - 2
    else:
        low = summary.cell_exponent
    # Beyond this width every channel spans at most two cells.
    high = max(_max_exponent(summary.key) + (summary.cell_exponent or 0), low) + 2
    while low < high:
        middle = (low + high) // 2
        if _n_cells(summary, middle) <= max_atoms:
            high = middle
        else:
            low = middle + 1
    return high


def coarsen(summary, max_atoms):
    """Return ``summary`` with at most ``max_atoms`` atoms, moving to the
    coarsest-needed grid when it has more."""
    if summary.n_atoms <= max_atoms:
        return summary
    cell_exponent = _coarsest_needed_cell_exponent(summary, max_atoms)
    key, weight, total, sumsq = _group(
        _cell_keys(summary, cell_exponent), summary.weight, summary.sum, summary.sumsq
    )
    return summary._replace(
        key=key, weight=weight, sum=total, sumsq=sumsq, cell_exponent=cell_exponent
    )


def _rescaled(summary, value_exponent):
    shift = summary.value_exponent - value_exponent
    return np.ldexp(summary.sum, shift), np.ldexp(summary.sumsq, 2 * shift)


def merge_summaries(first, second, max_atoms):
    """Summary of the union of the pixels of two summaries.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._summary import summarize, merge_summaries
    >>> a = summarize(np.array([[1], [2]]), max_atoms=16)
    >>> b = summarize(np.array([[2], [5]]), max_atoms=16)
    >>> merged = merge_summaries(a, b, max_atoms=16)
    >>> merged.mean.ravel(), merged.weight
    (array([1., 2., 5.]), array([1., 2., 1.]))
    """
    if first.n_atoms == 0:
        return coarsen(second, max_atoms)
    if second.n_atoms == 0:
        return coarsen(first, max_atoms)
    grids = [e for e in (first.cell_exponent, second.cell_exponent) if e is not None]
    cell_exponent = max(grids) if grids else None
    value_exponent = max(first.value_exponent, second.value_exponent)
    weight_exponent = max(first.weight_exponent, second.weight_exponent)
    first = _with_weight_exponent(first, weight_exponent)
    second = _with_weight_exponent(second, weight_exponent)
    sum_1, sumsq_1 = _rescaled(first, value_exponent)
    sum_2, sumsq_2 = _rescaled(second, value_exponent)
    key, weight, total, sumsq = _group(
        np.concatenate(
            [_cell_keys(first, cell_exponent), _cell_keys(second, cell_exponent)]
        ),
        np.concatenate([first.weight, second.weight]),
        np.concatenate([sum_1, sum_2]),
        np.concatenate([sumsq_1, sumsq_2]),
    )
    if not np.all(weight > 0):
        # Weights far below the other summary's underflowed to zero.
        keep = weight > 0
        key, weight, total, sumsq = key[keep], weight[keep], total[keep], sumsq[keep]
    merged = PixelSummary(
        key=key,
        weight=weight,
        sum=total,
        sumsq=sumsq,
        value_exponent=value_exponent,
        low=np.minimum(first.low, second.low),
        high=np.maximum(first.high, second.high),
        cell_exponent=cell_exponent,
        weight_exponent=weight_exponent,
    )
    return coarsen(merged, max_atoms)


def _with_weight_exponent(summary, weight_exponent):
    """``summary`` with its weights in units of ``2**weight_exponent``."""
    shift = summary.weight_exponent - weight_exponent
    if shift == 0:
        return summary
    return summary._replace(
        weight=np.ldexp(summary.weight, shift),
        sum=np.ldexp(summary.sum, shift),
        sumsq=np.ldexp(summary.sumsq, shift),
        weight_exponent=weight_exponent,
    )


def empty_summary(n_channels):
    """The summary of no pixels."""
    return PixelSummary(
        key=np.empty((0, n_channels)),
        weight=np.empty(0),
        sum=np.empty((0, n_channels)),
        sumsq=np.empty(0),
        value_exponent=0,
        low=np.full(n_channels, np.inf),
        high=np.full(n_channels, -np.inf),
        cell_exponent=None,
    )


def _exact_summary(values, weight, low, high, max_atoms, value_exponent=None):
    """Summary whose atoms are the given distinct values and their weights;
    ``value_exponent``, that of the values if the caller knows it."""
    if value_exponent is None:
        value_exponent = _max_exponent(values)
    scaled = _times_power_of_two(values, -value_exponent)
    summary = PixelSummary(
        key=values,
        weight=weight,
        sum=scaled * weight[:, None],
        sumsq=np.einsum("ij,ij->i", scaled, scaled) * weight,
        value_exponent=value_exponent,
        low=np.asarray(low, dtype=float),
        high=np.asarray(high, dtype=float),
        cell_exponent=None,
    )
    return coarsen(summary, max_atoms)


def _value_counts(values, weight):
    """Distinct values of a 1-D integer array and the total weight of each.

    Parameters
    ----------
    values : ndarray of shape (n_values,)
        Integers of any byte order.
    weight : ndarray of shape (n_values,) or None
        Non-negative weight of each value; ``None`` counts them.

    Returns
    -------
    distinct : ndarray of shape (n_distinct,)
        The values of positive total weight, ascending, in the dtype of
        ``values``.
    counts : ndarray of shape (n_distinct,), float64
        Their total weights.

    8- and 16-bit integers are counted in one pass into a histogram of every
    value their dtype holds (see :mod:`skvq._histogram`), wider ones into a
    histogram from their minimum to their maximum when that range is no
    larger than ``max(n_values, 65536)``, and otherwise sorted.
    """
    values = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("="))
    if weight is not None:
        weight = np.ascontiguousarray(weight, dtype=np.float64)
    if values.dtype.itemsize <= 2:
        low = int(np.iinfo(values.dtype).min)
        size = 1 << (8 * values.dtype.itemsize)
    else:
        if values.shape[0] == 0:
            return values, np.empty(0)
        low, high = int(values.min()), int(values.max())
        size = high - low + 1
        if size > max(values.shape[0], 1 << 16):
            return _value_counts_by_sorting(values, weight)
    # The kernels subtract the offset modulo 2**64, so a uint64 minimum
    # beyond the int64 range is passed as its two's complement.
    offset = low - (1 << 64) if low >= 1 << 63 else low
    if weight is None:
        counts = np.zeros(size, dtype=np.int64)
        add_value_counts(values, offset, counts, effective_n_threads())
    else:
        counts = np.zeros(size)
        add_weighted_value_counts(values, weight, offset, counts)
    present = np.flatnonzero(counts)
    # In the values' own dtype, whose wrapping arithmetic is exact here
    # since every value present fits in it.
    distinct = present.astype(values.dtype) + values.dtype.type(low)
    return distinct, counts[present].astype(np.float64)


def _value_counts_by_sorting(values, weight):
    """:func:`_value_counts` of contiguous native integers, by a sort."""
    if weight is None:
        distinct, counts = np.unique(values, return_counts=True)
        return distinct, counts.astype(np.float64)
    # A stable sort adds each value's weights in their original order, as
    # the histogram does.
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    distinct, counts = ordered[starts], np.add.reduceat(weight[order], starts)
    positive = counts > 0
    return distinct[positive], counts[positive]


def _float_values(distinct, counts):
    """Ascending distinct integers as float64 atoms: integers beyond 2**53
    that round to the same float64 become one atom, so that atoms stay
    strictly ascending."""
    keys = distinct.astype(np.float64)
    if keys.size > 1 and max(-keys[0], keys[-1]) > 2.0**53:
        starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        keys, counts = keys[starts], np.add.reduceat(counts, starts)
    return keys, counts


def _distinct_integers(pixels, weight, low, high):
    """Distinct values of integer pixels and their total weights.

    Each pixel's channels are packed into one integer index; a small index
    range is counted with ``bincount``, a large one sorted with ``unique``.
    Work proceeds in chunks so that temporaries stay small.
    """
    n_channels = pixels.shape[1]
    span = high - low + 1
    strides = np.cumprod(np.concatenate([[1], span[::-1][:-1]]))[::-1]
    size = int(np.prod(span))
    dense = size <= max(4 * pixels.shape[0], 1 << 16)
    counts = np.zeros(size) if dense else None
    parts = []
    for start in range(0, pixels.shape[0], _CHUNK_PIXELS):
        block = pixels[start : start + _CHUNK_PIXELS]
        index = (block[:, 0].astype(np.int64) - low[0]) * strides[0]
        for c in range(1, n_channels):
            index += (block[:, c].astype(np.int64) - low[c]) * strides[c]
        w = None if weight is None else weight[start : start + _CHUNK_PIXELS]
        if dense:
            counts += np.bincount(index, weights=w, minlength=size)
        elif w is None:
            # Counting runs of the sorted index is many times faster than
            # np.unique's inverse, which argsorts.
            index.sort()
            starts = np.flatnonzero(index[1:] != index[:-1]) + 1
            bounds = np.concatenate([[0], starts, [index.size]])
            parts.append((index[bounds[:-1]], np.diff(bounds).astype(np.float64)))
        else:
            unique, inverse = np.unique(index, return_inverse=True)
            parts.append(
                (
                    unique,
                    np.bincount(inverse.reshape(-1), weights=w, minlength=unique.size),
                )
            )
    if dense:
        flat = np.flatnonzero(counts > 0)
        counts = counts[flat]
    elif len(parts) == 1:
        flat, counts = parts[0]
    else:
        flat, inverse = np.unique(
            np.concatenate([u for u, _ in parts]), return_inverse=True
        )
        counts = np.bincount(
            inverse.reshape(-1),
            weights=np.concatenate([c for _, c in parts]),
            minlength=flat.size,
        )
    values = np.empty((flat.size, n_channels))
    remainder = flat
    for c in range(n_channels):
        values[:, c] = remainder // strides[c] + low[c]
        remainder = remainder % strides[c]
    return values, counts


def _unpacked_keys(keys, n_channels, bits):
    """Rows of the channel values packed in ``keys``, ``bits`` per channel,
    the first channel most significant, as float64."""
    values = np.empty((keys.shape[0], n_channels))
    mask = (1 << bits) - 1
    for c in range(n_channels):
        values[:, c] = (keys >> (bits * (n_channels - 1 - c))) & mask
    return values


def _colour_summary(pixels, weight, max_atoms):
    """Summary of uint8 pixels of two or three channels.

    The colours present are marked in a bitmap over every possible colour
    and counted in one more pass, in key order (see
    :mod:`skvq._colour_histogram`); over ``max_atoms`` colours, they are
    pooled into the cells of the coarsest-needed grid. The summary is the
    one :func:`coarsen` makes of the distinct colours.
    """
    n_channels = pixels.shape[1]
    pixels = np.ascontiguousarray(pixels)
    if weight is not None:
        weight = np.ascontiguousarray(weight, dtype=np.float64)
    present = np.empty(1 << (8 * n_channels - 6), dtype=np.uint64)
    low = np.empty(n_channels, dtype=np.uint8)
    high = np.empty(n_channels, dtype=np.uint8)
    n_threads = effective_n_threads()
    n_colours = mark_colours(pixels, weight, present, low, high, n_threads)
    if n_colours == 0:
        return empty_summary(n_channels)
    low, high = low.astype(np.float64), high.astype(np.float64)
    keys = np.empty(n_colours, dtype=np.uint32)
    counts = np.empty(n_colours)
    rank = np.empty(present.shape[0], dtype=np.uint32)
    count_colours(pixels, weight, present, rank, keys, counts, n_threads)
    if n_colours <= max_atoms:
        # The largest value is the largest channel maximum (uint8 values
        # are non-negative).
        return _exact_summary(
            _unpacked_keys(keys, n_channels, 8), counts, low, high, max_atoms,
            _max_exponent(high),
        )  # fmt: skip
    # Cells of side 2**8 hold every uint8 colour in one: the search ends.
    for cell_exponent in range(1, 9):
        n_bits = (8 - cell_exponent) * n_channels
        cells = np.empty(1 << max(n_bits - 6, 0), dtype=np.uint64)
        n_cells = count_cells(keys, n_channels, cell_exponent, cells, n_threads)
        if n_cells <= max_atoms:
            break
    cell_keys = np.empty(n_cells, dtype=np.uint32)
    total_weight = np.empty(n_cells)
    sums = np.empty((n_cells, n_channels))
    sumsq = np.empty(n_cells)
    pool_colours(
        keys, counts, n_channels, cell_exponent, cells, rank[: cells.shape[0]],
        cell_keys, total_weight, sums, sumsq, n_threads,
    )  # fmt: skip
    value_exponent = _max_exponent(high)
    return PixelSummary(
        key=_unpacked_keys(cell_keys, n_channels, 8 - cell_exponent),
        weight=total_weight,
        sum=_times_power_of_two(sums, -value_exponent),
        sumsq=_times_power_of_two(sumsq, -2 * value_exponent),
        value_exponent=value_exponent,
        low=low,
        high=high,
        cell_exponent=cell_exponent,
    )


def summarize(pixels, weight=None, *, max_atoms):
    """Summarise pixels, one per row of ``pixels``, into weighted atoms.

    Parameters
    ----------
    pixels : ndarray of shape (n_pixels, n_channels)
        Finite real or boolean values; never modified.
    weight : ndarray of shape (n_pixels,), default=None
        Non-negative, finite weight of each pixel; ``None`` weighs all
        pixels one. Weights are scaled by a power of two, exactly, to at
        most 1 (the scale is kept as ``weight_exponent``), so that no sum
        overflows; weights below about ``2**-1074`` times the largest count
        as zero.
    max_atoms : int
        Atom budget; see :func:`coarsen`.

    Returns
    -------
    summary : PixelSummary

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._summary import summarize
    >>> s = summarize(np.array([[3], [1], [3]], dtype=np.uint8), max_atoms=256)
    >>> s.mean.ravel(), s.weight
    (array([1., 3.]), array([1., 2.]))
    """
    if weight is None or weight.size == 0:
        return _summarize_scaled(pixels, weight, max_atoms)
    weight_exponent = _max_exponent(weight)
    summary = _summarize_scaled(pixels, np.ldexp(weight, -weight_exponent), max_atoms)
    return summary._replace(weight_exponent=weight_exponent)


def summarize_rows(X, sample_weight=None, *, n_channels, max_atoms):
    """Summarise the pixels of rows of ``n_channels`` consecutive values,
    each pixel weighted by its row's weight.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_pixels * n_channels)
        Finite real or boolean values; never modified.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative, finite weight of each row; ``None`` weighs all one.
    n_channels : int
    max_atoms : int
        Atom budget; see :func:`coarsen`.

    Returns
    -------
    summary : PixelSummary
    """
    weight = None
    if sample_weight is not None:
        weight = np.repeat(sample_weight, X.shape[1] // n_channels)
    return summarize(X.reshape(-1, n_channels), weight, max_atoms=max_atoms)


def _summarize_scaled(pixels, weight, max_atoms):
    """:func:`summarize` with weights of at most 1 (or ``None``)."""
    n_channels = pixels.shape[1]
    if pixels.dtype == bool:
        pixels = pixels.view(np.uint8)
    if n_channels == 1 and pixels.dtype.kind in "iu":
        # Gray integers: one pass into a histogram (zero weights drop out).
        distinct, counts = _value_counts(pixels[:, 0], weight)
        if distinct.shape[0] == 0:
            return empty_summary(n_channels)
        values, counts = _float_values(distinct, counts)
        return _exact_summary(
            values[:, None], counts, values[:1], values[-1:], max_atoms
        )
    if pixels.dtype == np.uint8 and n_channels in (2, 3):
        return _colour_summary(pixels, weight, max_atoms)
    if weight is not None:
        keep = weight > 0
        if not keep.all():
            pixels, weight = pixels[keep], weight[keep]
    if pixels.shape[0] == 0:
        return empty_summary(n_channels)
    low = pixels.min(axis=0)
    high = pixels.max(axis=0)
    if (
        pixels.dtype.kind in "iu"
        and high.max() <= np.iinfo(np.int64).max
        and np.prod(high.astype(float) - low.astype(float) + 1) < 2.0**62
    ):
        values, counts = _distinct_integers(
            pixels, weight, low.astype(np.int64), high.astype(np.int64)
        )
        return _exact_summary(values, counts, low, high, max_atoms)
    # Real values (or integers too spread to pack): chunk by chunk.
    summary = empty_summary(n_channels)
    for start in range(0, pixels.shape[0], _CHUNK_PIXELS):
        values = pixels[start : start + _CHUNK_PIXELS].astype(np.float64)
        w = (
            np.ones(values.shape[0])
            if weight is None
            else weight[start : start + _CHUNK_PIXELS].astype(np.float64)
        )
        distinct, inverse = _unique_rows(values)
        chunk = _exact_summary(
            distinct,
            np.bincount(inverse, weights=w, minlength=distinct.shape[0]),
            values.min(axis=0),
            values.max(axis=0),
            max_atoms,
        )
        summary = merge_summaries(summary, chunk, max_atoms)
    return summary
