"""The squared error of a fitted quantizer (skvq._codec): exact sums by
blocks of rows, so that ``score`` and ``mean_squared_error`` depend on the
pixels alone (not their layout, dtype or blocks) and need little more
memory than their input.

The test configuration turns every RuntimeWarning (overflow, invalid value)
into an error, so each test here also asserts that none is raised.
"""

import tracemalloc

import numpy as np
import pytest

import skvq._codec
from skvq import ImageVectorQuantizer


def _layouts(X):
    """The same pixels in other memory layouts and dtypes that hold them
    exactly."""
    yield X
    yield np.asfortranarray(X)
    wider = np.zeros((X.shape[0], 2 * X.shape[1]), dtype=X.dtype)
    wider[:, ::2] = X
    yield wider[:, ::2]  # a strided view
    yield X.astype(X.dtype.newbyteorder(">"))
    yield X.astype(np.float64)
    yield X.astype(np.float32)
    if X.dtype.kind in "iu":
        yield X.astype(np.int64)
        yield X.astype(np.uint16)


@pytest.mark.parametrize("n_channels", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_score_is_the_same_whatever_the_layout_and_dtype(n_channels, weighted):
    # Issue 18: the score of the same pixels differed in the last bits with
    # their layout and dtype (-186.95606021806324 vs -186.9560602180629):
    # the sum is now exact, so the mean is that of the pixels alone.
    rng = np.random.default_rng(12)
    X = rng.integers(0, 256, size=(150, 240 * n_channels)).astype(np.uint8)
    weight = rng.uniform(0.1, 3.0, size=X.shape[0]) if weighted else None
    quantizer = ImageVectorQuantizer(
        n_bins=7, n_channels=n_channels, random_state=0
    ).fit(X)
    scores = {quantizer.score(layout, sample_weight=weight) for layout in _layouts(X)}
    assert len(scores) == 1, scores


@pytest.mark.parametrize(
    "block_values, encoded_values", [(7, 30), (1000, 1000), (1 << 18, 1 << 20)]
)
@pytest.mark.parametrize("n_channels", [1, 3])
def test_score_does_not_depend_on_the_blocks_it_is_summed_in(
    block_values, encoded_values, n_channels
):
    # The same pixels as one row, one pixel per row or a 2-D image, summed
    # in blocks of any size (rows, or pixels of a row longer than a block):
    # one mean, bit for bit.
    rng = np.random.default_rng(13)
    X = rng.normal(100.0, 30.0, size=(60, 90))
    codebook = skvq.learn_codebook(X, n_bins=9, n_channels=n_channels)
    expected = skvq.mean_squared_error(X, codebook)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(skvq._codec, "_BLOCK_VALUES", block_values)
        patch.setattr(skvq._codec, "_ENCODED_VALUES", encoded_values)
        for shape in [X.shape, (-1, n_channels), (1, -1), (180, 30)]:
            assert skvq.mean_squared_error(X.reshape(shape), codebook) == expected


@pytest.mark.parametrize("weighted", [False, True])
def test_score_of_dask_chunks_is_the_in_memory_score_bit_for_bit(weighted):
    # The blocks' exact sums add exactly, whatever the chunks.
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(15)
    X = rng.normal(0.0, 1e3, size=(40, 36))
    weight = rng.uniform(0.0, 1e10, size=40) if weighted else None
    quantizer = ImageVectorQuantizer(n_bins=5, random_state=0).fit(X)
    expected = quantizer.score(X, sample_weight=weight)
    for chunks in [(40, 36), (7, 36), (40, 5), (3, 11)]:
        given = None if weight is None else da.from_array(weight, chunks=chunks[0])
        score = quantizer.score(da.from_array(X, chunks=chunks), sample_weight=given)
        assert score == expected


def _peak_traced_memory(func):
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "dtype, n_channels, weighted",
    [
        (np.uint8, 1, False),  # counted by value
        (np.uint8, 1, True),
        (np.float32, 1, False),
        (np.uint8, 3, False),
    ],
)
def test_score_needs_little_more_memory_than_its_input(dtype, n_channels, weighted):
    # Issue 18: score of a 49 MB uint8 image peaked at 1.5 GB (32x its input:
    # float64 copies of the pixels, their codewords and errors); it now works
    # by blocks of rows. Memory traced through NumPy's allocator.
    rng = np.random.default_rng(14)
    X = rng.integers(0, 256, size=(1024, 1536 * n_channels)).astype(dtype)
    weight = rng.uniform(0.5, 2.0, size=X.shape[0]) if weighted else None
    quantizer = ImageVectorQuantizer(8, n_channels=n_channels, random_state=0)
    quantizer.fit(X[:64])
    quantizer.score(X[:64])  # imports and first-call allocations
    peak = _peak_traced_memory(lambda: quantizer.score(X, sample_weight=weight))
    assert peak <= 3 * X.nbytes, peak / X.nbytes
