"""Floyd–Steinberg error diffusion (skvq._dither), through its kernels, the
core's dither and ImageVectorQuantizer.dither."""

import numpy as np
import pytest
import scipy.spatial
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_sample_image
from sklearn.exceptions import NotFittedError
from skvq._dither import floyd_steinberg, palette_step, smoothness_map

from skvq import Codebook, ImageVectorQuantizer, dither, encode

STRATEGIES = ["kmeans", "uniform", "quantile"]


def reference_dither(
    image, codebook, inner_edges, strength, strength_map=None, error_limit=None
):
    """Floyd–Steinberg written plainly, independently of skvq's kernel.

    Serpentine scan; the value quantized is the pixel plus the shares
    received, clamped per channel to the codebook's range widened to the
    pixel; codes by bin edges (one channel) or nearest codeword (first of
    equals). The shares are summed in the order the pixels are visited (the
    row above first, then the pixel to the left), as any direct
    implementation does, so that results agree to the last bit.
    """
    height, width, n_channels = image.shape
    x = image.astype(np.float64)
    low, high = codebook.min(axis=0), codebook.max(axis=0)
    if strength_map is None:
        strength_map = np.ones((height, width))
    # Shares from the row above, column j at index j + 1.
    from_above = np.zeros((height + 1, width + 2, n_channels))
    codes = np.zeros((height, width), dtype=np.intp)
    for i in range(height):
        step = 1 if i % 2 == 0 else -1
        from_left = np.zeros(n_channels)
        for j in range(width) if step == 1 else range(width - 1, -1, -1):
            v = (x[i, j] + from_above[i, j + 1]) + from_left
            v = np.clip(v, np.minimum(x[i, j], low), np.maximum(x[i, j], high))
            if inner_edges is not None:
                code = int(np.sum(inner_edges <= v[0]))
            else:
                code = int(np.argmin(np.sum((v - codebook) ** 2, axis=1)))
            codes[i, j] = code
            c = codebook[code]
            s = strength * float(strength_map[i, j]) if strength else strength
            right, behind, below, ahead = (s * k / 16.0 for k in (7.0, 3.0, 5.0, 1.0))
            limit = np.inf if error_limit is None else error_limit[code]
            if inner_edges is not None:
                # One channel: w*v - w*c, the kernel's overflow-free form,
                # or w times the limit, signed, for a longer error.
                if abs(0.5 * v[0] - 0.5 * c[0]) > 0.5 * limit:
                    signed = np.copysign(limit, v - c)
                    share = {w: w * signed for w in (right, behind, below, ahead)}
                else:
                    share = {w: w * v - w * c for w in (right, behind, below, ahead)}
            else:
                error = v - c
                length = 0.0
                for e in error:  # summed in order, as the kernel does
                    length += e * e
                if length > limit * limit:
                    error = error * (limit / np.sqrt(length))
                share = {w: w * error for w in (right, behind, below, ahead)}
            from_left = share[right]
            from_above[i + 1, j + 1 - step] += share[behind]
            from_above[i + 1, j + 1] += share[below]
            from_above[i + 1, j + 1 + step] += share[ahead]
    return codes


def nearest_other_codeword(codebook):
    """Distance from each codeword to the nearest different one, by brute
    force (the adaptive mode's limit of the error passed on)."""
    distance = np.sqrt(np.square(codebook[:, None] - codebook[None]).sum(axis=2))
    distance[distance == 0] = np.inf
    return distance.min(axis=1)


@pytest.fixture(scope="module")
def china():
    return load_sample_image("china.jpg")


def crop(image, height=40, width=56, top=150, left=250):
    return np.ascontiguousarray(image[top : top + height, left : left + width])


def gray(image):
    return np.rint(image @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)


def rows(image):
    return image.reshape(image.shape[0], -1)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n_channels", [1, 3])
@pytest.mark.parametrize(
    "dtype", [np.uint8, np.uint16, np.int64, np.float32, np.float64]
)
def test_strength_zero_equals_transform(china, strategy, n_channels, dtype):
    image = crop(china) if n_channels == 3 else gray(crop(china))
    X = rows(image).astype(dtype)
    if dtype == np.uint16:
        X *= 257
    quantizer = ImageVectorQuantizer(
        n_bins=12, n_channels=n_channels, strategy=strategy, random_state=0
    ).fit(X)
    # Pixels the codebook was not fitted on, some beyond its range.
    other = rows(crop(china, top=0, left=0) if n_channels == 3 else gray(china))
    other = other[:40, : X.shape[1]].astype(dtype)
    if dtype in (np.float32, np.float64, np.int64):
        other[::7, ::5] = -300
        other[3::7, 2::5] = 700
    for data in (X, other):
        assert_array_equal(
            quantizer.dither(data, strength=0), quantizer.transform(data)
        )


@pytest.mark.parametrize("strength", [0.3, 0.75, 1.0])
@pytest.mark.parametrize(
    "n_channels, n_bins, strategy",
    [
        (1, 4, "kmeans"),
        (1, 8, "quantile"),
        (1, 40, "uniform"),  # enough edges for a binary search
        (2, 6, "kmeans"),
        (3, 16, "kmeans"),
        (3, 100, "quantile"),  # more codewords than the neighbour lists
        (4, 10, "uniform"),
    ],
)
def test_codes_are_those_of_plain_floyd_steinberg(
    china, strength, n_channels, n_bins, strategy
):
    rng = np.random.default_rng(n_channels * n_bins)
    height, width = 23, 17  # odd sizes: both scan directions end unevenly
    if n_channels == 3:
        image = crop(china, height, width).astype(np.float64)
    else:
        image = rng.normal(100, 40, size=(height, width, n_channels))
    X = rows(image)
    quantizer = ImageVectorQuantizer(
        n_bins=n_bins, n_channels=n_channels, strategy=strategy, random_state=0
    ).fit(X)
    inner_edges = quantizer.bin_edges_[1:-1] if n_channels == 1 else None
    expected = reference_dither(image, quantizer.codebook_, inner_edges, strength)
    assert_array_equal(quantizer.dither(X, strength=strength, adaptive=False), expected)
    # The adaptive mode: the same diffusion, each pixel's share scaled by the
    # map.
    strength_map = smoothness_map(
        X.astype(np.float64), n_channels, palette_step(quantizer.codebook_)
    )
    expected = reference_dither(
        image,
        quantizer.codebook_,
        inner_edges,
        strength,
        strength_map,
        nearest_other_codeword(quantizer.codebook_),
    )
    assert_array_equal(quantizer.dither(X, strength=strength), expected)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 2)])
@pytest.mark.parametrize("n_channels", [1, 3])
def test_thin_images_match_plain_floyd_steinberg(shape, n_channels):
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, size=(*shape, n_channels))
    for n_codes in (1, 5):
        codebook = rng.uniform(0, 255, size=(n_codes, n_channels))
        codebook = codebook[np.argsort(codebook[:, 0])]
        inner_edges = None
        if n_channels == 1:
            inner_edges = 0.5 * (codebook[1:, 0] + codebook[:-1, 0])
        codes = floyd_steinberg(
            rows(image), codebook, inner_edges, 1.0, np.uint8, adaptive=False
        )
        expected = reference_dither(image, codebook, inner_edges, 1.0)
        assert_array_equal(codes, expected)


def test_many_duplicate_codewords_keep_the_first():
    # More copies of one codeword than a codeword's list of neighbours.
    codebook = np.vstack([np.full((40, 3), 100.0), [[0, 0, 0], [255, 255, 255]]])
    codebook = np.roll(codebook, 5, axis=0)
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, size=(15, 21, 3))
    for strength in (0.0, 0.8):
        codes = floyd_steinberg(
            rows(image), codebook, None, strength, np.uint8, adaptive=False
        )
        expected = reference_dither(image, codebook, None, strength)
        assert_array_equal(codes, expected)
        assert not np.isin(codes, np.arange(6, 45)).any()


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n_channels", [1, 3])
def test_image_of_codewords_is_unchanged(china, strategy, n_channels):
    image = crop(china) if n_channels == 3 else gray(crop(china))
    quantizer = ImageVectorQuantizer(
        n_bins=10, n_channels=n_channels, strategy=strategy, random_state=0
    ).fit(rows(image))
    rng = np.random.default_rng(0)
    chosen = rng.integers(0, quantizer.n_bins_, size=(30, 56))
    codewords = quantizer.inverse_transform(chosen)
    assert_array_equal(quantizer.dither(codewords, strength=1), chosen)


@pytest.mark.parametrize("n_channels", [1, 3])
def test_mean_of_a_flat_area_is_kept(n_channels):
    # Levels 0 and 255 (and all the corners of the RGB cube for colours).
    corners = np.array(np.meshgrid(*[[0, 255]] * n_channels)).reshape(n_channels, -1)
    train = np.resize(corners.T.ravel(), (2, 256 * n_channels))
    quantizer = ImageVectorQuantizer(n_bins=2**n_channels, n_channels=n_channels).fit(
        train
    )
    colour = np.array([100, 150, 30][:n_channels])
    flat = np.tile(colour, (256, 256)).astype(np.uint8)
    # At strength 1 without the adaptive mode, and at the defaults.
    for codes in (
        quantizer.dither(flat, strength=1, adaptive=False),
        quantizer.dither(flat),
    ):
        restored = quantizer.inverse_transform(codes)
        means = restored.reshape(256, 256, n_channels).mean(axis=(0, 1))
        assert np.all(np.abs(means - colour) <= 0.5)
        # Both levels are used: the flat area is not rendered by one of them.
        assert np.unique(restored).size == 2
    restored = quantizer.inverse_transform(quantizer.dither(flat, strength=1))
    means = restored.reshape(256, 256, n_channels).mean(axis=(0, 1))
    assert np.all(np.abs(means - colour) <= 0.5)
    # Both levels are used: the flat area is not rendered by one of them.
    assert np.unique(restored).size == 2


def test_errors_of_pixels_far_beyond_the_codebook_do_not_run_away():
    train = np.tile([0, 255], (2, 64))
    quantizer = ImageVectorQuantizer(n_bins=2).fit(train)
    image = np.full((128, 128), 100.0)
    image[:, :64] = 1e6  # far brighter than the brightest codeword
    restored = quantizer.inverse_transform(
        quantizer.dither(image, strength=1, adaptive=False)
    )
    # Past the few columns next to the boundary, the flat half keeps its mean.
    assert abs(restored[:, 68:].mean() - 100) <= 0.5


def test_codes_are_in_range_and_of_transform_dtype():
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, size=(60, 300))
    for n_bins, n_channels in [(300, 1), (300, 3), (5, 3)]:
        quantizer = ImageVectorQuantizer(
            n_bins=n_bins, n_channels=n_channels, random_state=0
        ).fit(X)
        codes = quantizer.dither(X)
        assert codes.dtype == quantizer.transform(X).dtype
        assert codes.shape == (60, 300 // n_channels)
        assert codes.min() >= 0 and codes.max() < quantizer.n_bins_
    assert codes.max() > 0


def test_dither_is_deterministic(china):
    X = rows(crop(china))
    quantizer = ImageVectorQuantizer(n_bins=16, n_channels=3, random_state=0)
    first = quantizer.fit(X).dither(X)
    assert_array_equal(quantizer.dither(X), first)
    assert_array_equal(
        ImageVectorQuantizer(n_bins=16, n_channels=3, random_state=0).fit(X).dither(X),
        first,
    )


@pytest.mark.parametrize(
    "dtype", [np.uint8, np.uint16, np.int16, np.int64, np.float32, np.float64]
)
def test_input_is_never_modified(china, dtype):
    X = rows(crop(china)).astype(dtype)
    quantizer = ImageVectorQuantizer(n_bins=8, n_channels=3).fit(X)
    kept = X.copy()
    X.flags.writeable = False  # a read-only image works, and stays as it is
    quantizer.dither(X)
    assert_array_equal(X, kept)


def test_integer_and_float_inputs_give_the_same_codes(china):
    # The same values as uint16, int64, float32 and float64.
    image = gray(crop(china)).astype(np.uint16) * 257
    quantizer = ImageVectorQuantizer(n_bins=6).fit(image)
    expected = quantizer.dither(image.astype(np.float64))
    for dtype in (np.uint16, np.int64, np.float32, ">f8", np.uint32):
        assert_array_equal(quantizer.dither(image.astype(dtype)), expected)
    colour = rows(crop(china)).astype(np.uint16) * 257
    quantizer = ImageVectorQuantizer(n_bins=6, n_channels=3).fit(colour)
    expected = quantizer.dither(colour.astype(np.float64))
    for dtype in (np.uint16, np.float32, np.int32):
        assert_array_equal(quantizer.dither(colour.astype(dtype)), expected)


def test_layout_of_the_input_does_not_matter(china):
    X = rows(crop(china))
    quantizer = ImageVectorQuantizer(n_bins=8, n_channels=3).fit(X)
    expected = quantizer.dither(X)
    assert_array_equal(quantizer.dither(np.asfortranarray(X)), expected)
    wide = np.zeros((X.shape[0] * 2, X.shape[1]), dtype=X.dtype)
    wide[::2] = X
    assert_array_equal(quantizer.dither(wide[::2]), expected)


def test_bool_input():
    X = np.random.default_rng(0).random((20, 30)) < 0.3
    quantizer = ImageVectorQuantizer(n_bins=2).fit(X)
    assert_array_equal(quantizer.dither(X, strength=0), quantizer.transform(X))
    assert_array_equal(quantizer.dither(X), quantizer.dither(X.astype(np.uint8)))


@pytest.mark.parametrize("strength", [-0.1, 1.5, np.nan, np.inf])
def test_strength_out_of_range_is_refused(strength):
    X = np.arange(12, dtype=np.uint8).reshape(3, 4)
    quantizer = ImageVectorQuantizer(n_bins=2).fit(X)
    with pytest.raises(ValueError, match=r"strength must be in \[0, 1\]"):
        quantizer.dither(X, strength=strength)


@pytest.mark.parametrize("strength", ["0.5", None, True, [0.5]])
def test_strength_that_is_not_a_number_is_refused(strength):
    X = np.arange(12, dtype=np.uint8).reshape(3, 4)
    quantizer = ImageVectorQuantizer(n_bins=2).fit(X)
    with pytest.raises(TypeError, match="strength must be a real number"):
        quantizer.dither(X, strength=strength)


def test_strength_of_numpy_types_is_accepted():
    X = np.arange(12, dtype=np.uint8).reshape(3, 4)
    quantizer = ImageVectorQuantizer(n_bins=2).fit(X)
    assert_array_equal(
        quantizer.dither(X, strength=np.float32(0.5)), quantizer.dither(X, strength=0.5)
    )
    assert_array_equal(
        quantizer.dither(X, strength=np.int64(0)), quantizer.transform(X)
    )


def test_unfitted_quantizer_raises_not_fitted():
    with pytest.raises(NotFittedError):
        ImageVectorQuantizer().dither(np.zeros((2, 2)))


def test_wrong_number_of_features_raises_as_transform():
    quantizer = ImageVectorQuantizer(n_bins=2).fit(np.arange(12).reshape(3, 4))
    X = np.zeros((3, 5))
    with pytest.raises(ValueError) as transform_error:
        quantizer.transform(X)
    with pytest.raises(ValueError) as dither_error:
        quantizer.dither(X)
    assert str(dither_error.value) == str(transform_error.value)


def test_dask_array_is_refused():
    da = pytest.importorskip("dask.array")
    X = np.arange(48, dtype=np.uint8).reshape(6, 8)
    quantizer = ImageVectorQuantizer(n_bins=2).fit(X)
    message = r"does not take a dask array.*Compute the image first"
    with pytest.raises(TypeError, match=message):
        quantizer.dither(da.from_array(X, chunks=(3, 8)))


@pytest.mark.parametrize(
    "dtype, high, pixel",
    [
        (np.int64, 2**61, 2**60 - 1),
        (np.int64, -(2**62), -(2**61) + 1),
        (np.uint64, 2**63, 2**62 - 1),
        (np.uint64, 2**64 - 2**11, 2**63 - 2**10 - 1),
    ],
)
@pytest.mark.parametrize("n_channels", [1, 3])
def test_strength_zero_equals_transform_beyond_float64_integers(
    dtype, high, pixel, n_channels
):
    # One below the midpoint of two levels that float64 cannot tell apart
    # from it: its code must come from the integer, not its rounding.
    X = np.array([[0, high]], dtype=dtype).repeat(n_channels, axis=1)
    quantizer = ImageVectorQuantizer(n_bins=2, n_channels=n_channels).fit(X)
    image = np.full((3, 2 * n_channels), pixel, dtype=dtype)
    expected = quantizer.transform(image)
    assert_array_equal(quantizer.dither(image, strength=0), expected)


@pytest.mark.filterwarnings("ignore::skvq.exceptions.FewerCodewordsWarning")
@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    dtype=st.sampled_from([np.int64, np.uint64]),
    n_channels=st.integers(1, 3),
    n_bins=st.integers(2, 5),
)
def test_strength_zero_equals_transform_for_any_64_bit_integers(
    data, dtype, n_channels, n_bins
):
    info = np.iinfo(dtype)
    # Values over the whole range, and big ones, where neighbouring integers
    # share a float64.
    low, high = int(info.min), int(info.max)
    big = st.integers(2**53, high)
    if low < 0:
        big = big | st.integers(low, -(2**53))
    elements = st.integers(low, high) | big
    shape = st.tuples(
        st.integers(1, 4), st.integers(1, 5).map(lambda n: n * n_channels)
    )
    X = data.draw(hnp.arrays(dtype, shape, elements=elements))
    image = data.draw(hnp.arrays(dtype, X.shape, elements=elements))
    quantizer = ImageVectorQuantizer(
        n_bins=n_bins, n_channels=n_channels, random_state=0
    ).fit(X)
    assert_array_equal(quantizer.dither(image, strength=0), quantizer.transform(image))


@pytest.mark.parametrize("n_channels", [1, 3])
@pytest.mark.parametrize("value", [1, 100, 127.5, 254])
def test_flat_areas_keep_their_mean_at_the_core_defaults(n_channels, value):
    codebook = Codebook.from_codewords(
        np.array(np.meshgrid(*[[0.0, 255.0]] * n_channels)).reshape(n_channels, -1).T
    )
    flat = np.full((200, 300 * n_channels), value)
    codes = dither(flat, codebook)
    restored = codebook.codewords[codes]
    assert np.all(np.abs(restored.mean(axis=(0, 1)) - value) <= 0.5)


def test_flat_area_inside_a_photo_keeps_its_mean(china):
    # A flat patch surrounded by texture still gets the whole error.
    image = crop(china, 200, 200).copy()
    image[50:150, 50:150] = (100, 150, 30)
    quantizer = ImageVectorQuantizer(n_bins=8, n_channels=3, random_state=0)
    quantizer.fit(rows(image))
    restored = quantizer.inverse_transform(quantizer.dither(rows(image)))
    patch = restored.reshape(image.shape)[60:140, 60:140]
    assert np.all(np.abs(patch.mean(axis=(0, 1)) - (100, 150, 30)) <= 1.0)


def test_smoothness_map_is_one_on_flat_areas_and_gradients_only():
    rows_, columns = np.mgrid[0:40, 0:60].astype(np.float64)
    gradient = 3.0 * rows_ + 2.0 * columns  # no second differences
    assert_array_equal(smoothness_map(gradient, 1, 10.0), 1.0)
    edge = np.where(columns < 30, 0.0, 200.0)
    strength_map = smoothness_map(edge, 1, 10.0)
    # The two columns at the step, and one more on each side (3 x 3), lose
    # strength, down to 0.7 at most; the others keep all of it.
    assert np.all(strength_map[:, 28:32] < 0.71)
    assert np.all(strength_map[:, 28:32] >= 0.7)
    assert_array_equal(strength_map[:, :27], 1.0)
    assert_array_equal(strength_map[:, 33:], 1.0)
    # Activity is measured against the palette's step.
    texture = np.random.default_rng(0).normal(0, 5, size=(40, 60))
    assert (
        smoothness_map(texture, 1, 1.0).mean()
        < smoothness_map(texture, 1, 100.0).mean()
    )
    assert_array_equal(smoothness_map(texture, 1, np.inf), 1.0)


def reference_smoothness_map(X, n_channels, step, texture=0.7, half_way=0.5):
    """The map written with NumPy: second differences where both neighbours
    exist (border rows and columns take their neighbour's), their maximum
    over channels, directions and the 3 x 3 neighbourhood."""
    pixels = X.astype(np.float64).reshape(X.shape[0], -1, n_channels)
    n_rows, n_columns = pixels.shape[:2]
    activity = np.zeros((n_rows, n_columns))
    if n_columns >= 3:
        along = np.abs(pixels[:, :-2] - 2 * pixels[:, 1:-1] + pixels[:, 2:])
        along = np.pad(along.max(axis=2), ((0, 0), (1, 1)), mode="edge")
        activity = np.maximum(activity, along)
    if n_rows >= 3:
        along = np.abs(pixels[:-2] - 2 * pixels[1:-1] + pixels[2:])
        along = np.pad(along.max(axis=2), ((1, 1), (0, 0)), mode="edge")
        activity = np.maximum(activity, along)
    padded = np.pad(activity.astype(np.float32), 1, mode="edge")
    neighbourhood = np.max(
        [
            padded[di : di + n_rows, dj : dj + n_columns]
            for di in range(3)
            for dj in range(3)
        ],
        axis=0,
    ).astype(np.float64)
    relative = neighbourhood / (half_way * step)
    return (texture + (1 - texture) / (1 + relative**2)).astype(np.float32)


@pytest.mark.parametrize("shape", [(1, 1), (2, 5), (5, 2), (3, 3), (37, 45)])
@pytest.mark.parametrize("n_channels", [1, 3])
@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float64])
def test_smoothness_map_matches_a_numpy_reference(shape, n_channels, dtype):
    rng = np.random.default_rng(0)
    image = rng.normal(100, 20, size=(shape[0], shape[1] * n_channels))
    image = np.clip(image, 0, 255).astype(dtype)
    for step in (3.0, 40.0):
        assert_allclose(
            smoothness_map(image, n_channels, step),
            reference_smoothness_map(image, n_channels, step),
            rtol=1e-6,
        )


def test_smoothness_map_of_extreme_values_is_finite():
    image = np.array([[1e308, -1e308, 1e308], [0, 1e308, -1e308]] * 2)
    strength_map = smoothness_map(image, 1, 1.0)
    assert np.all(np.isfinite(strength_map))
    assert np.all((strength_map >= 0.7) & (strength_map <= 1))


def test_palette_step_is_the_median_gap_to_the_nearest_codeword():
    codebook = np.array([[0.0], [10.0], [10.0], [13.0], [40.0]])
    # Distinct codewords 0, 10, 13, 40: nearest gaps 10, 3, 3, 27.
    assert palette_step(codebook) == 6.5
    assert palette_step(np.array([[5.0, 5.0], [5.0, 5.0]])) == np.inf


@pytest.mark.parametrize("n_channels", [1, 3, 9])
def test_palette_step_against_all_pairwise_distances(n_channels):
    # Copies, a pair whose squared difference underflows to 0, and more than
    # 256 colours; the reference takes every pair by SciPy.
    rng = np.random.default_rng(n_channels)
    codebook = rng.integers(0, 256, size=(300, n_channels)).astype(np.float64)
    codebook[10] = codebook[20]
    codebook[30:32] = 0.0
    codebook[31, 0] = 1e-170
    distinct = np.unique(codebook, axis=0)
    distance = scipy.spatial.distance.cdist(distinct, distinct)
    np.fill_diagonal(distance, np.inf)
    expected = np.median(distance.min(axis=1))
    assert palette_step(codebook) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("adaptive", [True, False])
@pytest.mark.parametrize("n_channels", [1, 3])
def test_core_dither_equals_the_estimator(china, adaptive, n_channels):
    image = crop(china) if n_channels == 3 else gray(crop(china))
    X = rows(image)
    quantizer = ImageVectorQuantizer(n_bins=10, n_channels=n_channels, random_state=0)
    quantizer.fit(X)
    codebook = Codebook.from_codewords(quantizer.codebook_)
    if n_channels == 1:
        codebook = quantizer._codebook()
    assert_array_equal(
        dither(X, codebook, strength=0.7, adaptive=adaptive),
        quantizer.dither(X, strength=0.7, adaptive=adaptive),
    )
    assert_array_equal(dither(X, codebook, strength=0), encode(X, codebook))


@pytest.mark.parametrize("adaptive", ["yes", 1, None])
def test_adaptive_that_is_not_a_boolean_is_refused(adaptive):
    X = np.arange(12, dtype=np.uint8).reshape(3, 4)
    quantizer = ImageVectorQuantizer(n_bins=2).fit(X)
    with pytest.raises(TypeError, match="adaptive must be True or False"):
        quantizer.dither(X, adaptive=adaptive)
