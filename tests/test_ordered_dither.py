"""Ordered dithering (skvq._ordered_dither): Bayer and blue-noise masks."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from skvq._ordered_dither import (
    bayer_matrix,
    blue_noise_mask,
    make_blue_noise_mask,
    threshold_mask,
)

from skvq import Codebook, ImageVectorQuantizer, decode, dither, encode, learn_codebook

METHODS = ["bayer", "blue-noise"]


def lattice_codebook(levels):
    """Every RGB colour whose channels are among ``levels``."""
    grid = np.meshgrid(levels, levels, levels, indexing="ij")
    return Codebook.from_codewords(np.stack([g.ravel() for g in grid], axis=1))


def reference_ordered(image, codebook, strength, mask):
    """Ordered dithering written plainly, pixel by pixel, independently of
    the kernels: offset by the mask's cell, kept between the bracketing
    codewords (one channel) or within the codebook's range (several), then
    coded by bin edges or as the nearest codeword (first of equals)."""
    height, width = image.shape[:2]
    words = codebook.codewords
    codes = np.zeros((height, width), dtype=np.intp)
    if codebook.bin_edges is None:
        distances = np.sqrt(
            np.square(words[:, None, :] - words[None, :, :]).sum(axis=2)
        )
        np.fill_diagonal(distances, np.inf)
        spacing = np.median(distances.min(axis=1))
    for i in range(height):
        for j in range(width):
            x = image[i, j].astype(np.float64)
            m = mask[i % mask.shape[0], j % mask.shape[1]]
            if codebook.bin_edges is not None:
                column = words[:, 0]
                v = x[0]
                if column[0] <= v < column[-1]:
                    k = np.searchsorted(column, v, side="right")
                    a, b = column[k - 1], column[k]
                    v = min(max(v + strength * (b - a) * m, a), b)
                codes[i, j] = np.sum(codebook.bin_edges[1:-1] <= v)
            else:
                low = np.minimum(words.min(axis=0), x)
                high = np.maximum(words.max(axis=0), x)
                v = np.clip(x + strength * spacing * m, low, high)
                codes[i, j] = np.argmin(np.square(words - v).sum(axis=1))
    return codes


def test_bayer_matrix_is_bayers():
    # The 4 x 4 matrix as printed in Bayer (1973) and Ulichney (1987).
    expected = [[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]
    assert_array_equal(bayer_matrix(4), expected)
    assert_array_equal(np.sort(bayer_matrix(8).ravel()), np.arange(64))


def test_blue_noise_mask_is_a_deterministic_blue_noise_ranking():
    ranks = blue_noise_mask()
    assert ranks.shape == (64, 64)
    assert_array_equal(np.sort(ranks.ravel()), np.arange(64 * 64))
    # The shipped file is the mask void-and-cluster makes (if not, write it
    # again as blue_noise_mask's docstring says).
    assert_array_equal(make_blue_noise_mask(), ranks)
    assert not ranks.flags.writeable
    # Blue noise: little power at low frequencies, for every threshold,
    # against an order drawn at random (white noise).
    frequency = np.fft.fftfreq(64)
    radius = np.hypot(frequency[:, None], frequency[None, :])
    low = (radius > 0) & (radius < 0.1)
    white = np.random.RandomState(0).permutation(64 * 64).reshape(64, 64)
    for threshold in (205, 1024, 2048, 3500):
        powers = []
        for order in (ranks, white):
            pattern = (order < threshold) - threshold / order.size
            power = np.abs(np.fft.fft2(pattern)) ** 2
            powers.append(power[low].mean() / power[radius > 0].mean())
        assert powers[0] < 0.25 * powers[1]


@pytest.mark.parametrize("method", METHODS)
def test_masks_are_centred_offsets(method):
    mask = threshold_mask(method)
    assert np.all(np.abs(mask) < 0.5)
    assert mask.mean() == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError):
        mask[0, 0] = 0.0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int64, np.float32])
def test_strength_zero_gives_the_codes_of_encode(method, dtype, face_gray):
    image = face_gray[:100, :130].astype(dtype)
    codebook = learn_codebook(image, n_bins=6)
    assert_array_equal(
        dither(image, codebook, strength=0, method=method), encode(image, codebook)
    )


@pytest.mark.parametrize("method", METHODS)
def test_strength_zero_gives_transform_in_colour(method, face_color):
    image = face_color[:60, :90]
    quantizer = ImageVectorQuantizer(n_bins=16, n_channels=3, random_state=0)
    X = image.reshape(image.shape[0], -1)
    quantizer.fit(X)
    assert_array_equal(
        quantizer.dither(X, strength=0, method=method), quantizer.transform(X)
    )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("strength", [1.0, 0.6])
def test_gray_codes_match_a_plain_reference(method, strength, face_gray):
    image = face_gray[200:237, 300:371]
    codebook = learn_codebook(image, n_bins=5)
    expected = reference_ordered(
        image[:, :, None], codebook, strength, threshold_mask(method)
    )
    assert_array_equal(
        dither(image, codebook, strength=strength, method=method), expected
    )


@pytest.mark.parametrize("method", METHODS)
def test_colour_codes_match_a_plain_reference(method, face_color):
    image = face_color[100:131, 400:453]
    codebook = learn_codebook(image, n_bins=12, n_channels=3, random_state=0)
    expected = reference_ordered(image, codebook, 1.0, threshold_mask(method))
    assert_array_equal(dither(image, codebook, strength=1, method=method), expected)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("value", [17, 40, 77, 100, 128, 201, 238])
def test_flat_gray_area_keeps_its_mean(method, value):
    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    # 8 levels 32 apart, from 15.5 to 239.5; every value between two of them.
    codebook = learn_codebook(ramp, n_bins=8)
    flat = np.full((128, 192), value, dtype=np.uint8)
    codes = dither(flat, codebook, strength=1, method=method)
    assert abs(decode(codes, codebook).mean() - value) <= 0.5


@pytest.mark.parametrize(
    ("method", "levels"),
    [("bayer", np.arange(0, 256, 51)), ("blue-noise", np.arange(0, 256, 85))],
)
@pytest.mark.parametrize("colour", [(100, 30, 200), (12, 250, 140)])
def test_flat_colour_area_keeps_its_mean(method, levels, colour):
    codebook = lattice_codebook(levels)
    flat = np.empty((128, 128, 3), dtype=np.uint8)
    flat[:] = colour
    codes = dither(flat, codebook, strength=1, method=method)
    shown = decode(codes, codebook).reshape(128, 128, 3)
    assert np.all(np.abs(shown.mean(axis=(0, 1)) - colour) <= 0.5)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n_channels", [1, 3])
def test_static_pixels_keep_their_codes_between_frames(method, n_channels, face_color):
    first = face_color[:96, :160] if n_channels == 3 else face_color[:96, :160, 0]
    second = first.copy()
    # Something moves in the middle of the second frame.
    second[30:60, 50:110] = np.roll(first[30:60, 50:110], 7, axis=1)
    codebook = learn_codebook(first, n_bins=16, n_channels=n_channels, random_state=0)
    codes_first = dither(first, codebook, strength=1, method=method)
    again = dither(first.copy(), codebook, strength=1, method=method)
    assert_array_equal(again, codes_first)
    codes_second = dither(second, codebook, strength=1, method=method)
    static = np.ones(codes_first.shape, dtype=bool)
    static[30:60, 50:110] = False
    assert_array_equal(codes_second[static], codes_first[static])


@pytest.mark.parametrize("method", METHODS)
def test_input_is_not_modified_and_may_be_read_only(method, face_color):
    image = face_color[:50, :70].copy()
    image.flags.writeable = False
    codebook = learn_codebook(image, n_bins=8, n_channels=3, random_state=0)
    before = image.copy()
    dither(image, codebook, method=method)
    assert_array_equal(image, before)


@pytest.mark.parametrize("method", METHODS)
def test_codes_are_in_range_with_many_codewords(method):
    rng = np.random.RandomState(0)
    image = rng.randint(0, 65536, size=(70, 90)).astype(np.uint16)
    codebook = learn_codebook(image, n_bins=300)
    codes = dither(image, codebook, strength=1, method=method)
    assert codes.dtype == np.uint16
    assert codes.shape == image.shape
    assert codes.max() < 300


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 37), (41, 1), (3, 200)])
def test_odd_shapes_and_non_contiguous_input(method, shape, face_gray):
    # Every other row and every third column: a strided view.
    image = face_gray[::2, ::3][: shape[0], : shape[1]]
    codebook = learn_codebook(face_gray[:50], n_bins=4)
    expected = reference_ordered(
        image[:, :, None], codebook, 0.8, threshold_mask(method)
    )
    assert_array_equal(dither(image, codebook, strength=0.8, method=method), expected)


def test_values_beyond_the_codewords_are_not_pushed_further():
    codebook = learn_codebook(np.array([[50, 60, 190, 200]]), n_bins=2)
    image = np.array([[0, 255, 0, 255] * 16] * 16)
    for method in METHODS:
        codes = dither(image, codebook, strength=1, method=method)
        assert_array_equal(codes, encode(image, codebook))


@pytest.mark.parametrize("method", ["Bayer", "ordered", None, 1])
def test_unknown_method_is_refused(method):
    codebook = Codebook.from_codewords([[0], [255]])
    with pytest.raises(ValueError, match="method must be one of 'floyd-steinberg'"):
        dither([[1, 2]], codebook, method=method)
    quantizer = ImageVectorQuantizer(n_bins=2).fit([[0, 255], [10, 20]])
    with pytest.raises(ValueError, match="method must be one of"):
        quantizer.dither([[1, 2]], method=method)
