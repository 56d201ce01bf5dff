"""Oklab: the conversions (skvq._color_space) and quantizing in it.

References are published values (Ottosson 2020; CSS Color 4's examples;
IEC 61966-2-1's sRGB matrix), and nearest codewords are checked against a
brute force in exact rational arithmetic on the float64 Oklab values the
code uses, which is how "nearest" is defined.
"""

import itertools
import warnings
from fractions import Fraction

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from threadpoolctl import threadpool_limits

from skvq import (
    Codebook,
    ImageVectorQuantizer,
    decode,
    dither,
    encode,
    learn_codebook,
    mean_squared_error,
    merge_summaries,
    summarize,
)
from skvq._color_space import (
    linear_srgb_to_oklab,
    linear_to_srgb,
    oklab_to_linear_srgb,
    oklab_to_srgb,
    pixels_to_oklab,
    srgb_to_linear,
    srgb_to_oklab,
)
from skvq.exceptions import FewerCodewordsWarning

# --- conversions ------------------------------------------------------------

# sRGB (8-bit) -> Oklab, as CSS Color 4 and colorjs print them (6 digits).
SRGB_REFERENCE = [
    ((255, 255, 255), (1.0, 0.0, 0.0)),
    ((0, 0, 0), (0.0, 0.0, 0.0)),
    ((255, 0, 0), (0.627955, 0.224863, 0.125846)),
    ((0, 255, 0), (0.866440, -0.233888, 0.179498)),
    ((0, 0, 255), (0.452014, -0.032457, -0.311528)),
]

# Ottosson's (2020) table of XYZ (D65) -> Oklab, 3 decimals.
XYZ_REFERENCE = [
    ((0.950, 1.000, 1.089), (1.000, 0.000, 0.000)),
    ((1.000, 0.000, 0.000), (0.450, 1.236, -0.019)),
    ((0.000, 1.000, 0.000), (0.922, -0.671, 0.263)),
    ((0.000, 0.000, 1.000), (0.153, -1.415, -0.449)),
]
# XYZ -> linear sRGB, IEC 61966-2-1.
XYZ_TO_LINEAR_SRGB = np.array(
    [
        [3.2406, -1.5372, -0.4986],
        [-0.9689, 1.8758, 0.0415],
        [0.0557, -0.2040, 1.0570],
    ]
)
# Ottosson's printed inverse matrices (Oklab -> LMS', LMS -> linear sRGB).
OKLAB_TO_LMS = np.array(
    [
        [1.0, 0.3963377774, 0.2158037573],
        [1.0, -0.1055613458, -0.0638541728],
        [1.0, -0.0894841775, -1.2914855480],
    ]
)
LMS_TO_LINEAR_SRGB = np.array(
    [
        [4.0767416621, -3.3077115913, 0.2309699292],
        [-1.2684380046, 2.6097574011, -0.3413193965],
        [-0.0041960863, -0.7034186147, 1.7076147010],
    ]
)


@pytest.mark.parametrize(("rgb", "lab"), SRGB_REFERENCE)
def test_srgb_to_oklab_matches_published_values(rgb, lab):
    for dtype in (np.uint8, np.float64, np.float32):
        got = srgb_to_oklab(np.array([rgb], dtype=dtype))[0]
        assert_allclose(got, lab, atol=1e-6)


@pytest.mark.parametrize(("xyz", "lab"), XYZ_REFERENCE)
def test_linear_srgb_to_oklab_matches_ottossons_xyz_table(xyz, lab):
    linear = XYZ_TO_LINEAR_SRGB @ np.array(xyz)
    assert_allclose(linear_srgb_to_oklab(linear[None])[0], lab, atol=2e-3)


def test_srgb_transfer_function_published_values():
    # IEC 61966-2-1: linear below the knee, a 2.4 power above.
    encoded = [0.0, 0.04045, 0.5, 1.0]
    linear = [0.0, 0.04045 / 12.92, 0.214041140482232, 1.0]
    assert_allclose(srgb_to_linear(encoded), linear, rtol=1e-12)
    # The two pieces meet only to 3e-8 at the knee; away from it they invert.
    assert_allclose(linear_to_srgb([0.002, 0.214041140482232]), [0.02584, 0.5],
                    rtol=1e-12)  # fmt: skip


def test_inverse_matrices_agree_with_published_ones():
    # Ottosson's inverses are printed to 10 digits: they agree to 1e-6 in
    # linear light (under 1e-3 of an 8-bit step).
    lab = np.random.default_rng(0).uniform([0, -0.3, -0.3], [1, 0.3, 0.3], (50, 3))
    lms = (lab @ OKLAB_TO_LMS.T) ** 3
    assert_allclose(oklab_to_linear_srgb(lab), lms @ LMS_TO_LINEAR_SRGB.T,
                    rtol=0, atol=1e-6)  # fmt: skip


def _cube_extremes():
    """The 8 corners of the uint8 cube, every colour of one or two channels
    at an extreme, and the whole gray axis."""
    levels = [0, 1, 2, 127, 128, 253, 254, 255]
    grid = np.array(list(itertools.product(levels, repeat=3)))
    gray = np.repeat(np.arange(256)[:, None], 3, axis=1)
    return np.concatenate([grid, gray])


def test_round_trip_of_uint8_cube_extremes():
    rgb = _cube_extremes()
    back = oklab_to_srgb(srgb_to_oklab(rgb.astype(np.uint8)))
    assert_allclose(back, rgb, atol=1e-9)
    lab = srgb_to_oklab(rgb.astype(np.float64))
    assert_allclose(srgb_to_oklab(oklab_to_srgb(lab)), lab, atol=1e-12)


def test_round_trip_of_random_floats():
    rgb = np.random.default_rng(1).uniform(0, 255, (2000, 3))
    assert_allclose(oklab_to_srgb(srgb_to_oklab(rgb)), rgb, atol=1e-9)


def test_every_dtype_gives_the_same_oklab_value():
    rgb = _cube_extremes()
    reference = srgb_to_oklab(rgb.astype(np.float64))
    for dtype in (np.uint8, np.uint16, np.int64, np.float32):
        assert_array_equal(srgb_to_oklab(rgb.astype(dtype)), reference)


def test_out_of_gamut_oklab_is_clipped_to_srgb():
    rgb = oklab_to_srgb([[0.5, 0.4, 0.4], [2.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
    assert np.all((rgb >= 0) & (rgb <= 255))
    assert_allclose(rgb[1:], [[255, 255, 255], [0, 0, 0]])


# --- nearest codeword in Oklab ------------------------------------------------


def _brute_force_codes(lab_pixels, lab_codewords):
    """First codeword of least squared distance, in exact rational
    arithmetic on the float64 values."""
    words = [[Fraction(float(v)) for v in word] for word in lab_codewords]
    codes = []
    for pixel in lab_pixels:
        p = [Fraction(float(v)) for v in pixel]
        distances = [
            sum((a - b) ** 2 for a, b in zip(p, w, strict=True)) for w in words
        ]
        codes.append(distances.index(min(distances)))
    return np.array(codes)


def _near_tie_case(seed=0, n_pixels=60):
    """Pixels and codewords such that, for each of a few pixels, two
    codewords are equally far in Oklab up to float rounding (the second is
    the first rotated about the pixel), plus random codewords."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(30, 226, (n_pixels, 3)).astype(np.uint8)
    lab_pixels = srgb_to_oklab(pixels)
    words = [rng.uniform(0, 255, 3) for _ in range(6)]
    for i in range(8):
        p = lab_pixels[i]
        a = srgb_to_oklab(np.clip(pixels[i] + rng.uniform(-6, 6, 3), 0, 255))
        offset = a - p
        # Swap a and b offsets (a rotation in the a-b plane keeps |offset|).
        b = p + np.array([offset[0], -offset[2], offset[1]])
        words += [oklab_to_srgb(a), oklab_to_srgb(b)]
    # A duplicate: of equal codewords the first is chosen.
    words.append(words[0])
    return pixels, np.array(words)


def test_encode_is_exact_nearest_in_oklab_incl_near_ties():
    pixels, words = _near_tie_case()
    codebook = Codebook.from_codewords(words, color_space="oklab")
    expected = _brute_force_codes(srgb_to_oklab(pixels), codebook.working_codewords)
    # Margins of the near ties really are at float rounding.
    lab = srgb_to_oklab(pixels[:8])
    d = ((lab[:, None] - codebook.working_codewords[None]) ** 2).sum(-1)
    gaps = np.sort(d, axis=1)[:, 1] - np.sort(d, axis=1)[:, 0]
    assert np.all(gaps < 1e-12)
    for dtype in (np.uint8, np.float64, np.float32, np.uint16):
        got = encode(pixels.astype(dtype).reshape(1, -1), codebook)
        assert_array_equal(got.ravel(), expected, err_msg=str(dtype))


def test_encode_of_large_uint8_image_is_nearest_in_oklab():
    # Enough pixels for the table of colours, and many repeated colours.
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (300, 300, 3)).astype(np.uint8) // 16 * 16
    codebook = learn_codebook(image, 16, n_channels=3, color_space="oklab",
                              random_state=0)  # fmt: skip
    codes = encode(image, codebook).ravel()
    colours, inverse = np.unique(image.reshape(-1, 3), axis=0, return_inverse=True)
    expected = _brute_force_codes(srgb_to_oklab(colours), codebook.working_codewords)
    assert_array_equal(codes, expected[inverse.ravel()])


@pytest.mark.parametrize("limit", [1, 2])
def test_uint8_pixels_to_oklab_equal_the_conversion_of_every_pixel(limit):
    # uint8 images are converted once per distinct colour: the values must
    # be those of converting every pixel, bit for bit, whatever the threads.
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (300, 500, 3)).astype(np.uint8)
    image[:100] = rng.integers(0, 8, (100, 500, 3)) * 36  # repeated colours
    image[0, :2] = [[0, 0, 0], [255, 255, 255]]
    rows = image.reshape(300, -1)
    before = rows.copy()
    with threadpool_limits(limits=limit):
        lab = pixels_to_oklab(rows)
    expected = srgb_to_oklab(image).reshape(rows.shape)
    assert lab.dtype == np.float64 and lab.flags.c_contiguous
    assert lab.tobytes() == expected.tobytes()
    assert_array_equal(rows, before)


def test_dither_at_strength_zero_equals_encode_in_oklab():
    pixels, words = _near_tie_case(seed=4, n_pixels=64)
    codebook = Codebook.from_codewords(words, color_space="oklab")
    image = pixels.reshape(8, 24)
    for dtype in (np.uint8, np.float64):
        assert_array_equal(
            dither(image.astype(dtype), codebook, strength=0.0),
            encode(image.astype(dtype), codebook),
        )


# --- learning -------------------------------------------------------------------


def _photo_like(n_rows=40, n_columns=50, seed=0):
    rng = np.random.default_rng(seed)
    rows = np.linspace(0, 1, n_rows)[:, None, None]
    columns = np.linspace(0, 1, n_columns)[None, :, None]
    smooth = 0.5 + 0.45 * np.sin(3 * rows + 5 * columns + rng.uniform(0, 6, 3))
    noisy = smooth + rng.normal(0, 0.08, (n_rows, n_columns, 3))
    return np.clip(np.rint(noisy * 255), 0, 255).astype(np.uint8)


def test_oklab_codebook_is_in_srgb_units_and_lowers_oklab_error():
    image = _photo_like()
    X = image.reshape(image.shape[0], -1)
    rgb = ImageVectorQuantizer(16, n_channels=3, random_state=0).fit(X)
    oklab = ImageVectorQuantizer(16, n_channels=3, color_space="oklab",
                                 random_state=0).fit(X)  # fmt: skip
    assert np.all((oklab.codebook_ >= 0) & (oklab.codebook_ <= 255))
    decoded = oklab.inverse_transform(oklab.transform(X))
    assert decoded.shape == X.shape
    assert_allclose(-oklab.score(X), np.mean((decoded - X) ** 2))

    def oklab_error(q):
        out = q.inverse_transform(q.transform(X)).reshape(-1, 3)
        return np.mean((srgb_to_oklab(out) - srgb_to_oklab(X.reshape(-1, 3))) ** 2)

    assert oklab_error(oklab) < oklab_error(rgb)
    # And the MSE in sRGB is rgb's, the space where it is minimised.
    assert rgb.score(X) > oklab.score(X)


def test_core_functions_agree_with_estimator():
    image = _photo_like(seed=2)
    X = image.reshape(image.shape[0], -1)
    q = ImageVectorQuantizer(8, n_channels=3, color_space="oklab",
                             random_state=0).fit(X)  # fmt: skip
    codebook = learn_codebook(image, 8, n_channels=3, color_space="oklab",
                              random_state=0)  # fmt: skip
    assert codebook.color_space == "oklab"
    assert_array_equal(codebook.codewords, q.codebook_)
    assert_array_equal(encode(X, codebook), q.transform(X))
    assert_array_equal(dither(X, codebook), q.dither(X))
    assert_array_equal(
        decode(q.transform(X), codebook), q.inverse_transform(q.transform(X))
    )
    assert mean_squared_error(X, codebook) == -q.score(X)


@pytest.mark.parametrize("max_atoms", [65536, 64])
def test_partial_fit_over_splits_equals_fit_in_oklab(max_atoms):
    image = _photo_like(n_rows=30, seed=5)
    X = image.reshape(image.shape[0], -1)
    kwargs = dict(n_channels=3, color_space="oklab", max_atoms=max_atoms,
                  random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewerCodewordsWarning)
        whole = ImageVectorQuantizer(16, **kwargs).fit(X)
        for bounds in ([0, 1, 30], [0, 7, 12, 13, 29, 30]):
            streamed = ImageVectorQuantizer(16, **kwargs)
            parts = list(itertools.pairwise(bounds))
            for a, b in parts[::-1]:
                streamed.partial_fit(X[a:b])
            assert_array_equal(streamed.codebook_, whole.codebook_)
            assert_array_equal(streamed.transform(X), whole.transform(X))
    # Pooled atoms: the sRGB summary is pooled, as fit says.
    assert (whole._summary.cell_exponent is None) == (max_atoms == 65536)


def test_merged_summaries_give_the_codebook_of_the_whole():
    image = _photo_like(seed=6)
    a = summarize(image[:10], n_channels=3)
    b = summarize(image[10:], n_channels=3)
    merged = learn_codebook(merge_summaries(a, b), 8, color_space="oklab",
                            random_state=0)  # fmt: skip
    whole = learn_codebook(image, 8, n_channels=3, color_space="oklab",
                           random_state=0)  # fmt: skip
    assert_array_equal(merged.codewords, whole.codewords)


def test_dask_fit_equals_numpy_fit_in_oklab():
    da = pytest.importorskip("dask.array")
    import dask

    image = _photo_like(n_rows=32, seed=7)
    X = image.reshape(image.shape[0], -1)
    kwargs = dict(n_channels=3, color_space="oklab", random_state=0)
    whole = ImageVectorQuantizer(16, **kwargs).fit(X)
    with dask.config.set(scheduler="synchronous"):
        lazy = ImageVectorQuantizer(16, **kwargs).fit(da.from_array(X, chunks=(8, 30)))
        assert_array_equal(lazy.codebook_, whole.codebook_)
        codes = lazy.transform(da.from_array(X, chunks=(8, 30))).compute()
        score = lazy.score(da.from_array(X, chunks=(8, 30)))
    assert_array_equal(codes, whole.transform(X))
    assert_allclose(score, whole.score(X))


def test_fewer_colours_than_codewords_are_kept_exactly():
    colours = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0], [12, 200, 99]])
    image = colours[np.arange(40) % 4].reshape(4, 30).astype(np.uint8)
    with pytest.warns(FewerCodewordsWarning):
        codebook = learn_codebook(image, 8, n_channels=3, color_space="oklab")
    assert_allclose(np.sort(codebook.codewords, axis=0), np.sort(colours, axis=0),
                    atol=1e-9)  # fmt: skip


@pytest.mark.parametrize("strategy", ["kmeans", "uniform", "quantile"])
@pytest.mark.parametrize("reconstruction", ["centroid", "midpoint", "median"])
def test_extreme_colours_never_give_nan_codewords(strategy, reconstruction):
    # Saturated primaries and the cube's corners: centroids in Oklab fall
    # outside the sRGB gamut, and are clipped to it.
    corners = np.array(list(itertools.product([0, 255], repeat=3)))
    image = np.tile(corners, (20, 1)).reshape(10, -1).astype(np.float64)
    q = ImageVectorQuantizer(4, n_channels=3, color_space="oklab",
                             strategy=strategy, reconstruction=reconstruction,
                             random_state=0).fit(image)  # fmt: skip
    assert np.all(np.isfinite(q.codebook_))
    assert np.all((q.codebook_ >= 0) & (q.codebook_ <= 255))
    assert np.all(np.isfinite(q.dither(image)))


# --- bad input ---------------------------------------------------------------


def test_unknown_color_space_is_refused():
    image = _photo_like()
    with pytest.raises(ValueError, match="color_space must be one of 'rgb', 'oklab'"):
        learn_codebook(image, 4, n_channels=3, color_space="lab")
    with pytest.raises(ValueError, match="color_space must be one of"):
        Codebook.from_codewords([[0, 0, 0]], color_space="xyz")
    with pytest.raises(ValueError):
        ImageVectorQuantizer(4, n_channels=3, color_space="lab").fit(
            image.reshape(40, -1)
        )


@pytest.mark.parametrize("n_channels", [1, 2, 4])
def test_oklab_refuses_other_than_three_channels(n_channels):
    X = np.zeros((4, 12), dtype=np.uint8)
    message = "color_space='oklab' takes pixels of 3 channels"
    with pytest.raises(ValueError, match=message):
        ImageVectorQuantizer(2, n_channels=n_channels, color_space="oklab").fit(X)
    with pytest.raises(ValueError, match=message):
        learn_codebook(X, 2, n_channels=n_channels, color_space="oklab")
    with pytest.raises(ValueError, match=message):
        Codebook.from_codewords(np.zeros((2, n_channels)), color_space="oklab")


@pytest.mark.parametrize("bad", [-0.5, 255.5, 65535])
def test_oklab_refuses_values_outside_0_255(bad):
    X = np.array([[100.0, 10, 30, 200, 90, 40], [100, 10, 30, 200, 90, 40]])
    X[1, 4] = bad
    message = "takes sRGB values from 0 to 255"
    with pytest.raises(ValueError, match=message):
        learn_codebook(X, 2, n_channels=3, color_space="oklab")
    with pytest.raises(ValueError, match=message):
        ImageVectorQuantizer(2, n_channels=3, color_space="oklab").fit(X)
    good = ImageVectorQuantizer(2, n_channels=3, color_space="oklab").fit(X[:1])
    before = X.copy()
    for method in (good.transform, good.dither, good.score):
        with pytest.raises(ValueError, match=message):
            method(X)
    assert_array_equal(X, before)
    with pytest.raises(ValueError, match=message):
        Codebook.from_codewords([[0, 0, 300]], color_space="oklab")


def test_changing_color_space_after_fit_is_refused():
    X = _photo_like().reshape(40, -1)
    q = ImageVectorQuantizer(4, n_channels=3, random_state=0).fit(X)
    q.set_params(color_space="oklab")
    with pytest.raises(ValueError, match="color_space changed from 'rgb' to 'oklab'"):
        q.transform(X)
