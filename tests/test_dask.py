"""Dask arrays: fitting and scoring by reductions on the workers, lazy
blockwise codes.

Every test runs on the threaded scheduler and on a real two-process
``LocalCluster`` on 127.0.0.1, whose worker processes unpickle the estimator
and the block functions like a remote cluster would.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skvq import ImageVectorQuantizer

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.dask

STRATEGIES = ["kmeans", "uniform", "quantile"]


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        # Another cluster on the machine (a parallel test run) holds the
        # default HTTP port; the scheduler then takes another one.
        warnings.filterwarnings("ignore", "Port 8787 is already in use")
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    with cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.fixture(params=["threads", "distributed"])
def scheduler(request):
    """The scheduler every dask computation of the test runs on."""
    if request.param == "threads":
        with dask.config.set(scheduler="threads"):
            yield None
    else:
        client = request.getfixturevalue("client")
        with dask.config.set(scheduler=client):
            yield client


def _image(dtype, n_channels, n_rows=30, n_columns=24, seed=0):
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    smooth = np.linspace(0.1, 0.9, n_rows * n_columns * n_channels) ** 2
    noisy = smooth + rng.normal(0, 0.05, smooth.shape)
    values = np.clip(np.rint(noisy * top), 0, top).astype(dtype)
    return rng.permutation(values).reshape(n_rows, n_columns * n_channels)


def _assert_same_fit(dask_fitted, numpy_fitted):
    assert_array_equal(dask_fitted.codebook_, numpy_fitted.codebook_)
    assert dask_fitted.n_bins_ == numpy_fitted.n_bins_
    assert dask_fitted.n_features_in_ == numpy_fitted.n_features_in_
    if numpy_fitted.n_channels == 1:
        assert_array_equal(dask_fitted.bin_edges_, numpy_fitted.bin_edges_)


@pytest.mark.parametrize("max_atoms", [65536, 16])
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n_channels", [1, 3])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_fit_on_dask_equals_fit_in_memory(
    scheduler, dtype, n_channels, strategy, max_atoms
):
    X = _image(dtype, n_channels)
    # Uneven blocks, and column blocks that cut pixels' channels apart.
    X_dask = da.from_array(X, chunks=((7, 1, 12, 10), (11, 20, X.shape[1] - 31)))
    params = dict(
        n_bins=6,
        n_channels=n_channels,
        strategy=strategy,
        max_atoms=max_atoms,
        random_state=0,
    )
    expected = ImageVectorQuantizer(**params).fit(X)
    _assert_same_fit(ImageVectorQuantizer(**params).fit(X_dask), expected)


def test_fit_summarises_each_block_on_the_workers(client):
    X = _image(np.uint8, 3)
    X_dask = da.from_array(X, chunks=(5, 24))
    with dask.config.set(scheduler=client), distributed.get_task_stream(client) as ts:
        quantizer = ImageVectorQuantizer(n_bins=6, n_channels=3, random_state=0)
        quantizer.fit(X_dask)
    summarised = {
        tuple(t["key"][1:]) for t in ts.data if "_summarize_block" in str(t["key"])
    }
    assert summarised == set(np.ndindex(X_dask.numblocks))
    assert len({t["worker"] for t in ts.data}) == 2


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_partial_fit_on_dask_blocks_equals_fit(scheduler, dtype):
    X = _image(dtype, 1)
    quantizer = ImageVectorQuantizer(n_bins=5)
    quantizer.partial_fit(da.from_array(X[:13], chunks=4))
    quantizer.partial_fit(X[13:20])
    quantizer.partial_fit(da.from_array(X[20:], chunks=3))
    _assert_same_fit(quantizer, ImageVectorQuantizer(n_bins=5).fit(X))


@pytest.mark.parametrize("weight_kind", ["numpy", "dask", "number"])
@pytest.mark.parametrize("n_channels", [1, 3])
def test_sample_weight_with_dask_equals_in_memory(scheduler, n_channels, weight_kind):
    X = _image(np.uint8, n_channels)
    weight = np.random.default_rng(1).integers(0, 4, X.shape[0]).astype(float)
    if weight_kind == "dask":
        given = da.from_array(weight, chunks=11)
    elif weight_kind == "number":
        given = weight = 2.0
    else:
        given = weight
    params = dict(n_bins=4, n_channels=n_channels, random_state=0)
    expected = ImageVectorQuantizer(**params).fit(X, sample_weight=weight)
    fitted = ImageVectorQuantizer(**params).fit(
        da.from_array(X, chunks=(7, 9)), sample_weight=given
    )
    _assert_same_fit(fitted, expected)


@pytest.mark.parametrize(
    "dtype, n_bins, code_dtype", [(np.uint8, 8, np.uint8), (np.uint16, 300, np.uint16)]
)
@pytest.mark.parametrize("n_channels", [1, 3])
def test_transform_and_inverse_are_lazy_and_equal_numpy(
    scheduler, n_channels, dtype, n_bins, code_dtype
):
    X = _image(dtype, n_channels, n_rows=40)
    quantizer = ImageVectorQuantizer(n_bins=n_bins, n_channels=n_channels)
    quantizer.fit(X)
    X_dask = da.from_array(X, chunks=(9, X.shape[1]))
    codes = quantizer.transform(X_dask)
    assert isinstance(codes, da.Array)
    assert codes.dtype == code_dtype
    assert codes.shape == (40, 24)
    expected_codes = quantizer.transform(X)
    assert expected_codes.dtype == code_dtype
    assert_array_equal(codes.compute(), expected_codes)
    values = quantizer.inverse_transform(codes)
    assert isinstance(values, da.Array)
    assert values.dtype == np.float64
    assert values.shape == X.shape
    assert_array_equal(values.compute(), quantizer.inverse_transform(expected_codes))


def test_transform_of_tiles_equals_numpy(scheduler):
    # Blocks split both rows and columns (tiles of a large image), also
    # between the channels of a pixel.
    X = _image(np.uint8, 3)
    quantizer = ImageVectorQuantizer(n_bins=6, n_channels=3, random_state=0).fit(X)
    codes = quantizer.transform(da.from_array(X, chunks=(7, 10)))
    assert_array_equal(codes.compute(), quantizer.transform(X))
    values = quantizer.inverse_transform(da.from_array(quantizer.transform(X), 5))
    assert_array_equal(values.compute(), quantizer.inverse_transform(codes))


def test_inverse_transform_of_dask_follows_inverse_dtype(scheduler):
    X = _image(np.uint8, 1)
    quantizer = ImageVectorQuantizer(n_bins=4, inverse_dtype=np.uint8).fit(X)
    codes = quantizer.transform(X)
    values = quantizer.inverse_transform(da.from_array(codes, chunks=6))
    assert values.dtype == np.uint8
    assert_array_equal(values.compute(), quantizer.inverse_transform(codes))


def test_dask_ml_incremental_streams_blocks_through_partial_fit(scheduler):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X = _image(np.uint8, 3)
    X_dask = da.from_array(X, chunks=(4, X.shape[1]))
    params = dict(n_bins=6, n_channels=3, random_state=0)
    incremental = wrappers.Incremental(ImageVectorQuantizer(**params)).fit(X_dask)
    expected = ImageVectorQuantizer(**params).fit(X)
    _assert_same_fit(incremental.estimator_, expected)
    codes = incremental.transform(X_dask)
    assert isinstance(codes, da.Array)
    assert_array_equal(codes.compute(), expected.transform(X))


def _reference_mse(X, quantizer, sample_weight=None):
    """Weighted mean squared error of X's values against their codewords,
    computed in units of 2**exponent (so that the squares do not overflow)
    from the fitted quantizer's numpy transform and inverse_transform."""
    restored = quantizer.inverse_transform(quantizer.transform(X))
    X = np.asarray(X, dtype=np.float64)
    exponent = int(np.frexp(max(np.abs(X).max(), np.abs(restored).max()))[1])
    error = (X - restored) / 2.0**exponent if exponent < 1000 else None
    if error is None:
        error = np.ldexp(X, -exponent) - np.ldexp(restored, -exponent)
    per_row = np.mean(error**2, axis=1)
    return np.average(per_row, weights=sample_weight) * 4.0**exponent


def _chunks(kind, n_columns):
    """Blocks of whole rows, uneven blocks whose columns split pixels'
    channels, tiles of 7 x 10 values, or one block."""
    return {
        "rows": (9, n_columns),
        "uneven": ((7, 1, 12, 10), (11, 20, n_columns - 31)),
        "tiles": (7, 10),
        "one block": (30, n_columns),
    }[kind]


@pytest.mark.parametrize("chunks", ["rows", "uneven", "tiles", "one block"])
@pytest.mark.parametrize("weight_kind", [None, "numpy", "dask", "number"])
@pytest.mark.parametrize("n_channels", [1, 3])
def test_score_on_dask_equals_score_in_memory(
    scheduler, n_channels, weight_kind, chunks
):
    X = _image(np.uint16, n_channels)
    quantizer = ImageVectorQuantizer(n_bins=5, n_channels=n_channels, random_state=0)
    quantizer.fit(X[:20])
    rng = np.random.default_rng(2)
    weight = given = None
    if weight_kind == "number":
        weight = given = 3.0
    elif weight_kind is not None:
        # Zero weights too, and a row block of only zeros.
        weight = rng.integers(0, 4, X.shape[0]).astype(float)
        weight[:7] = 0
        given = da.from_array(weight, chunks=11) if weight_kind == "dask" else weight
    X_dask = da.from_array(X, chunks=_chunks(chunks, X.shape[1]))
    expected = quantizer.score(X, sample_weight=weight)
    assert expected == pytest.approx(
        -_reference_mse(X, quantizer, None if weight_kind == "number" else weight),
        rel=1e-12,
    )
    score = quantizer.score(X_dask, sample_weight=given)
    assert isinstance(score, float)
    assert_allclose(score, expected, rtol=1e-12)


def test_score_on_dask_does_not_overflow(scheduler):
    # Errors near 4e153: their squares (up to 1.6e307) sum beyond the float64
    # range over a few values, and weights of 1e300 multiply them further,
    # yet the weighted mean is representable.
    rng = np.random.default_rng(3)
    X = rng.uniform(-4e153, 4e153, size=(30, 24))
    weight = rng.uniform(0, 1e300, size=30)
    quantizer = ImageVectorQuantizer(n_bins=3).fit(X)
    expected = -_reference_mse(X, quantizer, weight)
    assert np.isfinite(expected) and expected < -1e305
    X_dask = da.from_array(X, chunks=(7, 5))
    assert_allclose(quantizer.score(X, sample_weight=weight), expected, rtol=1e-12)
    for given in (weight, da.from_array(weight, chunks=4)):
        score = quantizer.score(X_dask, sample_weight=given)
        assert_allclose(score, expected, rtol=1e-12)


def test_score_on_dask_is_computed_blockwise_on_the_workers(client):
    X = _image(np.uint8, 3)
    X_dask = da.from_array(X, chunks=(5, 24))
    quantizer = ImageVectorQuantizer(n_bins=6, n_channels=3, random_state=0).fit(X)
    with dask.config.set(scheduler=client), distributed.get_task_stream(client) as ts:
        quantizer.score(X_dask)
    scored = {
        tuple(t["key"][1:]) for t in ts.data if "_squared_error_block" in str(t["key"])
    }
    assert scored == set(np.ndindex(X_dask.numblocks))


# Errors: the messages say what was wrong and what is allowed.


def test_non_finite_values_raise_with_their_rows(scheduler):
    X = _image(np.uint8, 1).astype(float)
    X[17, 3] = np.nan
    message = "Rows 16:24 of the dask array: Input X contains NaN"
    with pytest.raises(ValueError, match=message):
        ImageVectorQuantizer().fit(da.from_array(X, chunks=8))
    X[17, 3] = np.inf
    quantizer = ImageVectorQuantizer().fit(X[:16])
    message = "Rows 16:24 of the dask array: Input X contains infinity"
    with pytest.raises(ValueError, match=message):
        quantizer.transform(da.from_array(X, chunks=8)).compute()
    with pytest.raises(ValueError, match=message):
        quantizer.score(da.from_array(X, chunks=8))


def test_bad_shapes_and_dtypes_raise_before_computing():
    quantizer = ImageVectorQuantizer(n_channels=3)
    with pytest.raises(ValueError, match="Expected a 2D dask array for X, got a 1D"):
        quantizer.fit(da.zeros(12, dtype=np.uint8))
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        quantizer.fit(da.zeros((0, 12), dtype=np.uint8))
    with pytest.raises(ValueError, match="not a multiple of n_channels=3"):
        quantizer.fit(da.zeros((4, 10), dtype=np.uint8))
    with pytest.raises(TypeError, match=r"must hold real numbers .* dtype <U1"):
        quantizer.fit(da.from_array(np.full((4, 12), "a")))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        X = da.zeros((4, 12), dtype=np.uint8)
        quantizer.fit(X[X[:, 0] == 0], sample_weight=np.ones(4))


def test_long_doubles_beyond_float64_raise(scheduler):
    if np.finfo(np.longdouble).max <= np.finfo(np.float64).max:
        pytest.skip("long double is float64 on this platform")
    X = np.ones((4, 6), dtype=np.longdouble)
    X[2, 1] = np.longdouble(np.finfo(np.float64).max) * 4
    message = (
        r"Rows 2:4 of the dask array: X has values beyond the float64 range "
        r"\(magnitudes up to 1.798e\+308\)"
    )
    with pytest.raises(ValueError, match=message):
        ImageVectorQuantizer().fit(da.from_array(X, chunks=2))
    quantizer = ImageVectorQuantizer().fit(np.arange(24.0).reshape(4, 6))
    with pytest.raises(ValueError, match=message):
        quantizer.transform(da.from_array(X, chunks=2)).compute()
    with pytest.raises(ValueError, match=message):
        quantizer.score(da.from_array(X, chunks=2))


def test_n_channels_changed_after_fit_raises_before_computing():
    X = _image(np.uint8, 3)
    quantizer = ImageVectorQuantizer(n_channels=3).fit(X)
    quantizer.set_params(n_channels=1)
    with pytest.raises(ValueError, match="n_channels changed from 3 to 1"):
        quantizer.transform(da.from_array(X))
    with pytest.raises(ValueError, match="n_channels changed from 3 to 1"):
        quantizer.inverse_transform(da.zeros((3, 24), dtype=np.uint8))
    with pytest.raises(ValueError, match="n_channels changed from 3 to 1"):
        quantizer.partial_fit(da.from_array(X))
    with pytest.raises(ValueError, match="n_channels changed from 3 to 1"):
        quantizer.score(da.from_array(X))


def test_wrong_number_of_features_raises_like_numpy():
    X = _image(np.uint8, 1)
    quantizer = ImageVectorQuantizer().fit(X)
    message = "X has 10 features, but ImageVectorQuantizer is expecting 24 features"
    with pytest.raises(ValueError, match=message):
        quantizer.transform(da.from_array(X[:, :10]))
    with pytest.raises(ValueError, match=message):
        quantizer.partial_fit(da.from_array(X[:, :10]))
    with pytest.raises(ValueError, match=message):
        quantizer.score(da.from_array(X[:, :10]))
    with pytest.raises(ValueError, match="Codes have 10 columns, but this quantizer"):
        quantizer.inverse_transform(da.zeros((3, 10), dtype=np.uint8))
    with pytest.raises(TypeError, match="Codes must be an array of integers"):
        quantizer.inverse_transform(da.from_array(np.full((3, 24), "a")))


def test_codes_out_of_range_raise_when_computed(scheduler):
    quantizer = ImageVectorQuantizer(n_bins=4).fit(_image(np.uint8, 1))
    codes = da.full((6, 24), 4, dtype=np.uint8, chunks=3)
    values = quantizer.inverse_transform(codes)
    with pytest.raises(ValueError, match=r"Codes must be integers in \[0, 4\)"):
        values.compute()


@pytest.mark.parametrize("method", ["fit", "score"])
def test_bad_sample_weight_raises(scheduler, method):
    X = da.from_array(_image(np.uint8, 1), chunks=8)
    quantizer = ImageVectorQuantizer().fit(_image(np.uint8, 1))
    call = getattr(quantizer, method)
    message = (
        r"sample_weight has shape \(5,\), but X has 30 rows: give one weight per "
        r"row, shape \(30,\)"
    )
    with pytest.raises(ValueError, match=message):
        call(X, sample_weight=da.ones(5, chunks=2))
    negative = np.ones(30)
    negative[9] = -1
    message = "Rows 8:16 of the dask array: sample_weight must be non-negative"
    with pytest.raises(ValueError, match=message):
        call(X, sample_weight=da.from_array(negative, chunks=7))
    with pytest.raises(ValueError, match=r"^sample_weight must be non-negative"):
        call(X, sample_weight=negative)
    nan = np.ones(30)
    nan[25] = np.nan
    message = r"Rows 24:30 of the dask array: sample_weight must be finite \(no NaN"
    with pytest.raises(ValueError, match=message):
        call(X, sample_weight=da.from_array(nan, chunks=7))
    zero = da.zeros(30, chunks=7)
    message = "sample_weight sums to zero: it must have at least one positive entry"
    with pytest.raises(ValueError, match=message):
        call(X, sample_weight=zero)


def test_failed_dask_fit_leaves_no_n_features_in():
    X = np.full((4, 6), np.nan)
    quantizer = ImageVectorQuantizer()
    with pytest.raises(ValueError, match="NaN"):
        quantizer.fit(da.from_array(X, chunks=2))
    assert not hasattr(quantizer, "n_features_in_")


def test_skvq_works_without_dask():
    # Import and use skvq with dask made unimportable, in a fresh interpreter.
    script = (
        "import sys\n"
        "sys.modules['dask'] = None\n"
        "import numpy as np\n"
        "from skvq import ImageVectorQuantizer\n"
        "X = np.arange(40, dtype=np.uint8).reshape(4, 10)\n"
        "q = ImageVectorQuantizer(n_bins=4).partial_fit(X[:2]).partial_fit(X[2:])\n"
        "print(q.inverse_transform(q.transform(X)).shape)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(4, 10)"
