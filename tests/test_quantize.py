"""The public core (skvq._quantize): plain functions on arrays, without
scikit-learn."""

import ast
import subprocess
import sys
import warnings
import weakref

import numpy as np
import pytest
from frames import moving_frames
from numpy.testing import assert_array_equal

import skvq._quantize
from skvq import (
    Codebook,
    ImageVectorQuantizer,
    PixelSummary,
    decode,
    dither,
    dither_frames,
    encode,
    learn_codebook,
    learn_codebook_from_frames,
    mean_squared_error,
    merge_summaries,
    smoothness_weights,
    summarize,
)
from skvq.exceptions import FewerCodewordsWarning

RNG = np.random.default_rng(0)
GRAY = RNG.integers(0, 256, size=(40, 50), dtype=np.uint8)
COLOUR = RNG.integers(0, 256, size=(30, 20, 3), dtype=np.uint8)


def test_core_imports_no_scikit_learn_scipy_or_pandas():
    code = """
import sys
import numpy as np
from skvq import learn_codebook, encode, decode, dither, mean_squared_error
image = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
codebook = learn_codebook(image, 4, n_channels=3)
codes = dither(image, codebook)
decode(encode(image, codebook), codebook)
mean_squared_error(image, codebook)
heavy = sorted(
    name for name in sys.modules if name.split(".")[0] in ("sklearn", "scipy", "pandas")
)
print(heavy)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_dir_lists_the_public_names_and_no_helper():
    code = """
import skvq
names = dir(skvq)
assert set(skvq.__all__) <= set(names), set(skvq.__all__) - set(names)
print(sorted(name for name in names if name not in skvq.__all__))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    # Nothing but the public names, dunders and submodules imported so far.
    extra = ast.literal_eval(result.stdout)
    assert all(name.startswith("__") or name in ("cli", "exceptions") for name in extra)
    assert "importlib" not in extra


@pytest.mark.parametrize("strategy", ["kmeans", "uniform", "quantile"])
def test_learn_codebook_gives_the_estimators_codebook(strategy):
    gray = learn_codebook(GRAY, 8, strategy=strategy)
    quantizer = ImageVectorQuantizer(8, strategy=strategy).fit(GRAY)
    assert_array_equal(gray.codewords, quantizer.codebook_)
    assert_array_equal(gray.bin_edges, quantizer.bin_edges_)
    assert_array_equal(encode(GRAY, gray), quantizer.transform(GRAY))

    colour = learn_codebook(COLOUR, 16, n_channels=3, strategy=strategy)
    quantizer = ImageVectorQuantizer(16, n_channels=3, strategy=strategy)
    quantizer.fit(COLOUR.reshape(30, -1))
    assert_array_equal(colour.codewords, quantizer.codebook_)
    assert colour.bin_edges is None
    assert_array_equal(
        encode(COLOUR, colour), quantizer.transform(COLOUR.reshape(30, -1))
    )
    assert_array_equal(dither(COLOUR, colour), quantizer.dither(COLOUR.reshape(30, -1)))


def test_a_three_dimensional_image_is_its_rows():
    codebook = learn_codebook(COLOUR, 16, n_channels=3)
    assert_array_equal(
        codebook.codewords,
        learn_codebook(COLOUR.reshape(30, -1), 16, n_channels=3).codewords,
    )
    codes = encode(COLOUR, codebook)
    assert codes.shape == (30, 20)
    assert_array_equal(codes, encode(COLOUR.reshape(-1, 3), codebook).reshape(30, 20))


def test_summaries_of_parts_merge_into_the_summary_of_the_whole():
    parts = [summarize(GRAY[:13]), summarize(GRAY[13:31]), summarize(GRAY[31:])]
    merged = merge_summaries(merge_summaries(parts[0], parts[1]), parts[2])
    whole = summarize(GRAY)
    assert isinstance(merged, PixelSummary)
    for name in ("key", "weight", "sum", "sumsq"):
        assert_array_equal(getattr(merged, name), getattr(whole, name))
    assert_array_equal(
        learn_codebook(merged, 5).codewords, learn_codebook(GRAY, 5).codewords
    )


def test_decode_and_score_agree_with_the_codewords():
    codebook = learn_codebook(GRAY, 4)
    codes = encode(GRAY, codebook)
    restored = decode(codes, codebook)
    assert_array_equal(restored, codebook.codewords[codes, 0])
    expected = np.mean((GRAY - restored) ** 2)
    assert mean_squared_error(GRAY, codebook) == pytest.approx(expected, rel=1e-12)
    assert decode(codes, codebook, dtype=np.uint8).dtype == np.uint8
    assert codebook.n_bits == 2
    assert codebook.code_dtype == np.uint8


@pytest.mark.parametrize("n_channels", [1, 3])
def test_a_given_palette_codes_every_pixel_to_its_nearest_codeword(n_channels):
    palette = RNG.integers(0, 256, size=(17, n_channels)).astype(float)
    codebook = Codebook.from_codewords(palette)
    pixels = RNG.integers(0, 256, size=(25, 8 * n_channels), dtype=np.uint8)
    codes = encode(pixels, codebook)
    flat = pixels.reshape(-1, n_channels).astype(float)
    distances = ((flat[:, None, :] - palette[None]) ** 2).sum(axis=2)
    # The first of equally near codewords, as argmin takes it.
    assert_array_equal(codes.ravel(), np.argmin(distances, axis=1))
    assert_array_equal(codebook.codewords, palette)


def test_fewer_distinct_values_than_n_bins_warn_with_a_class():
    image = np.array([[0, 0, 5, 5]], dtype=np.uint8)
    with pytest.warns(FewerCodewordsWarning, match="2 distinct value"):
        codebook = learn_codebook(image, 4)
    assert codebook.n_codes == 2
    with pytest.warns(UserWarning):
        ImageVectorQuantizer(4).fit(image)


def test_the_functions_never_modify_their_input():
    image = COLOUR.copy()
    codebook = learn_codebook(image, 8, n_channels=3)
    encode(image, codebook)
    dither(image, codebook, strength=1.0)
    mean_squared_error(image, codebook)
    assert_array_equal(image, COLOUR)


@pytest.mark.parametrize(
    "kwargs, exception, message",
    [
        ({"n_bins": 1}, ValueError, "n_bins must be an int from 2 to 65536, got 1"),
        ({"n_bins": 2.5}, TypeError, "n_bins must be an int, got 2.5"),
        ({"strategy": "median"}, ValueError, "strategy must be one of 'kmeans'"),
        ({"reconstruction": "mean"}, ValueError, "reconstruction must be one of"),
        ({"max_atoms": 4}, ValueError, "max_atoms must be at least n_bins=8"),
        ({"max_iter": 0}, ValueError, "max_iter must be an int >= 1, got 0"),
        ({"random_state": -1}, ValueError, r"random_state must be an int in \[0"),
        ({"random_state": "a"}, TypeError, "random_state must be None, an int"),
        ({"n_channels": 7}, ValueError, "not a multiple of n_channels=7"),
        ({"sample_weight": [1.0]}, ValueError, r"sample_weight must have shape \(40"),
    ],
)
def test_bad_parameters_are_refused_in_the_callers_terms(kwargs, exception, message):
    with pytest.raises(exception, match=message):
        learn_codebook(GRAY, **{"n_bins": 8, **kwargs})


@pytest.mark.parametrize(
    "X, exception, message",
    [
        (np.zeros((0, 4)), ValueError, "X has no pixels"),
        (np.array([[1.0, np.nan]]), ValueError, "X must be finite"),
        (np.zeros(5), ValueError, r"For a single row use X.reshape\(1, -1\)"),
        (np.zeros((2, 3, 4)), ValueError, "For an image of shape"),
        (np.array([["a", "b"]]), TypeError, "X must hold real numbers"),
        (np.ma.masked_array([[1, 2]]), TypeError, "X is a masked array"),
    ],
)
def test_bad_pixels_are_refused(X, exception, message):
    codebook = learn_codebook(GRAY, 4)
    with pytest.raises(exception, match=message):
        encode(X, codebook)


def test_bad_codebooks_strengths_and_codes_are_refused():
    codebook = learn_codebook(GRAY, 4)
    with pytest.raises(TypeError, match="codebook must be a Codebook"):
        encode(GRAY, codebook.codewords)
    with pytest.raises(ValueError, match=r"strength must be in \[0, 1\]"):
        dither(GRAY, codebook, strength=2)
    with pytest.raises(ValueError, match=r"Codes must be integers in \[0, 4\)"):
        decode(np.array([[4]]), codebook)
    with pytest.raises(ValueError, match="codewords must be finite"):
        Codebook.from_codewords([[0.0], [np.inf]])
    with pytest.raises(ValueError, match="codewords must be a 2-D array"):
        Codebook.from_codewords([0.0, 1.0])
    with pytest.raises(ValueError, match="sample_weight applies to pixels"):
        with warnings.catch_warnings():
            learn_codebook(summarize(GRAY), 4, sample_weight=np.ones(40))


# ------------------------------------------------------------ fixed codewords


def brute_force_nearest(pixels, codewords):
    """Index of the nearest codeword of every pixel (first of equals), by
    exact rational arithmetic on the values as given."""
    from fractions import Fraction

    codes = []
    for pixel in pixels:
        distances = [
            sum(
                (Fraction(float(p)) - Fraction(float(c))) ** 2
                for p, c in zip(pixel, w, strict=True)
            )
            for w in codewords
        ]
        codes.append(distances.index(min(distances)))
    return np.array(codes)


@pytest.mark.parametrize("n_channels", [1, 3])
def test_fixed_codewords_of_every_bin_are_the_codebook_bit_for_bit(n_channels):
    rng = np.random.default_rng(1)
    fixed = rng.normal(100, 60, size=(5, n_channels)) + 1 / 3
    pixels = rng.integers(0, 256, size=(400, n_channels)).astype(np.float64)
    codebook = learn_codebook(pixels, 5, n_channels=n_channels, fixed_codewords=fixed)
    assert codebook.codewords.tobytes() == fixed.tobytes()
    assert codebook.bin_edges is None
    codes = encode(pixels, codebook).ravel()
    assert_array_equal(codes, brute_force_nearest(pixels, fixed))


@pytest.mark.parametrize("n_channels", [1, 3])
def test_fixed_codewords_are_kept_in_order_and_the_rest_learned(n_channels):
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, size=(300, n_channels)).astype(np.uint8)
    fixed = np.array([[255.0] * n_channels, [0.5] * n_channels])
    codebook = learn_codebook(pixels, 6, n_channels=n_channels, fixed_codewords=fixed)
    assert codebook.n_codes == 6
    assert codebook.codewords[:2].tobytes() == fixed.tobytes()
    codes = encode(pixels, codebook).ravel()
    assert_array_equal(codes, brute_force_nearest(pixels, codebook.codewords))
    # Lloyd's fixed point: every learned codeword is the mean of its cell.
    for code in range(2, 6):
        cell = pixels[codes == code]
        if len(cell):
            np.testing.assert_allclose(codebook.codewords[code], cell.mean(axis=0))


@pytest.mark.parametrize(
    "fixed, exception, message",
    [
        ([[1.0, 2.0]], ValueError, r"shape \(n_fixed, n_channels\) with n_channels=1"),
        (np.zeros((5, 1)), ValueError, "1 to n_bins=4 codewords, got 5"),
        (np.zeros((0, 1)), ValueError, "1 to n_bins=4 codewords, got 0"),
        ([[np.nan]], ValueError, "fixed_codewords must be finite"),
        ([["a"]], TypeError, "fixed_codewords must be real numbers"),
    ],
)
def test_bad_fixed_codewords_are_refused(fixed, exception, message):
    with pytest.raises(exception, match=message):
        learn_codebook(GRAY, 4, fixed_codewords=fixed)


# One codebook for many frames (learn_codebook_from_frames) and their codes
# (dither_frames).


@pytest.mark.parametrize(
    ("n_channels", "color_space"), [(1, "rgb"), (3, "rgb"), (3, "oklab")]
)
@pytest.mark.parametrize("max_atoms", [65536, 300])
def test_frames_codebook_equals_the_codebook_of_all_frames(
    n_channels, color_space, max_atoms, face_color
):
    image = face_color if n_channels == 3 else face_color[:, :, 1]
    frames = moving_frames(image, n_frames=5)
    stacked = frames.reshape(-1, *frames.shape[2:])  # one tall image
    expected = learn_codebook(
        stacked,
        n_bins=16,
        n_channels=n_channels,
        max_atoms=max_atoms,
        random_state=0,
        color_space=color_space,
    )
    for given in (frames, iter(list(frames))):
        codebook = learn_codebook_from_frames(
            given,
            n_bins=16,
            max_atoms=max_atoms,
            random_state=0,
            color_space=color_space,
        )
        assert codebook.color_space == color_space
        assert_array_equal(codebook.codewords, expected.codewords)
        if n_channels == 1:
            assert_array_equal(codebook.bin_edges, expected.bin_edges)


def test_frames_array_summarised_a_few_frames_at_a_time(face_color, monkeypatch):
    frames = moving_frames(face_color, n_frames=7)
    expected = learn_codebook(
        frames.reshape(-1, *frames.shape[2:]), n_bins=32, n_channels=3
    )
    # Two frames per summary, then merged: the same codebook.
    monkeypatch.setattr(skvq._quantize, "_VALUES_PER_SUMMARY", 2 * 48 * 64 * 3)
    codebook = learn_codebook_from_frames(frames, n_bins=32)
    assert_array_equal(codebook.codewords, expected.codewords)


def test_frames_codebook_of_16_bit_frames_of_several_sizes():
    rng = np.random.RandomState(0)
    frames = [rng.randint(0, 65536, size=(h, 40)).astype(np.uint16) for h in (3, 7, 5)]
    expected = learn_codebook(np.vstack(frames), n_bins=9)
    codebook = learn_codebook_from_frames(iter(frames), n_bins=9)
    assert_array_equal(codebook.codewords, expected.codewords)
    assert_array_equal(codebook.bin_edges, expected.bin_edges)


def test_frames_codebook_holds_one_frame_at_a_time():
    # Each frame is summarised and released before the next one is asked
    # for, so a reader decoding frames on demand never has two in memory.
    previous = []

    def frames():
        for k in range(4):
            if previous:
                assert previous[-1]() is None, f"frame {k - 1} is still held"
            frame = np.full((8, 8), 40 * k, dtype=np.uint8)
            previous.append(weakref.ref(frame))
            yield frame
            del frame

    codebook = learn_codebook_from_frames(frames(), n_bins=4)
    assert_array_equal(codebook.codewords.ravel(), [0, 40, 80, 120])


@pytest.mark.parametrize(
    ("frames", "match"),
    [
        (iter([]), "holds no frame"),
        (np.zeros((0, 4, 4), dtype=np.uint8), "holds no frame"),
        (np.zeros((4, 4), dtype=np.uint8), r"frames must be an array of shape"),
        ([np.zeros((4, 4, 3)), np.zeros((4, 4))], "frame 1 has 1 channel"),
        ([np.zeros(4)], "frame 0 has shape"),
    ],
)
def test_bad_frames_for_a_codebook_are_refused(frames, match):
    with pytest.raises(ValueError, match=match):
        learn_codebook_from_frames(frames, n_bins=2)


@pytest.mark.parametrize("frames", [np.zeros((2, 4, 4), np.uint8), iter([])])
def test_frames_codebook_refuses_a_colour_space_it_does_not_know(frames):
    with pytest.raises(ValueError, match="color_space must be one of"):
        learn_codebook_from_frames(frames, n_bins=2, color_space="lab")
    if isinstance(frames, np.ndarray):
        # Oklab is for RGB: gray frames say so.
        with pytest.raises(ValueError, match="oklab"):
            learn_codebook_from_frames(frames, n_bins=2, color_space="oklab")


@pytest.mark.parametrize("method", ["bayer", "blue-noise", "floyd-steinberg"])
@pytest.mark.parametrize(
    ("n_channels", "color_space"), [(1, "rgb"), (3, "rgb"), (3, "oklab")]
)
def test_dither_frames_gives_the_codes_of_dither_on_each_frame(
    method, n_channels, color_space, face_color
):
    image = face_color if n_channels == 3 else face_color[:, :, 2]
    frames = moving_frames(image, n_frames=5)
    frames[3] = frames[2]  # a frame that repeats the one before
    frames[4, 40:, 60:] = 0  # a change in a corner, off the mask's tiling
    codebook = learn_codebook_from_frames(frames, n_bins=20, random_state=0)
    if color_space == "oklab":
        # Pixels coded in Oklab: changed rectangles converted on their own.
        codebook = Codebook.from_codewords(
            np.clip(codebook.codewords, 0, 255), color_space="oklab"
        )
    given = iter(list(frames))
    for codes, frame in zip(
        dither_frames(given, codebook, method=method, strength=0.9),
        frames,
        strict=True,
    ):
        expected = dither(frame, codebook, method=method, strength=0.9)
        assert_array_equal(codes, expected)


def test_dither_frames_refuses_frames_of_other_channels(face_color):
    codebook = learn_codebook(face_color[:50], n_bins=4, n_channels=3)
    with pytest.raises(ValueError, match=r"frame 1 has shape \(48, 64\)"):
        list(dither_frames([face_color[:48, :64], face_color[:48, :64, 0]], codebook))


def test_smoothness_weights_are_full_where_bands_show():
    # Flat areas and linear gradients, where quantization makes bands,
    # count fully, in every layout.
    gradient = np.tile(np.arange(0, 240, 3, dtype=np.uint8), (12, 1))
    colour = np.dstack([gradient, np.full_like(gradient, 7), 255 - gradient])
    for X, n_channels in [(gradient, 1), (colour, 3), (colour.reshape(12, -1), 3)]:
        weights = smoothness_weights(X, n_channels=n_channels)
        assert weights.shape == (gradient.size,) and weights.dtype == np.float64
        assert_array_equal(weights, 1.0)


@pytest.mark.parametrize("scale, floor", [(16.0, 0.3), (4.0, 0.5), (100.0, 0.1)])
def test_smoothness_weights_follow_the_activity_of_texture(scale, floor):
    # A zigzag along the rows, 0, 8, 0, 8, ...: every second difference is
    # 16 in magnitude, so every pixel has activity 16.
    zigzag = np.tile([0.0, 8.0], (6, 5))
    expected = floor + (1 - floor) / (1 + (16.0 / scale) ** 2)
    weights = smoothness_weights(zigzag, scale=scale, floor=floor)
    np.testing.assert_allclose(weights, expected, rtol=1e-6)
    # Stronger texture weighs less, down to the floor.
    strong = smoothness_weights(zigzag * 100, scale=scale, floor=floor)
    assert np.all((floor <= strong) & (strong < weights))


def test_smoothness_weights_leave_the_image_unchanged():
    image = np.random.default_rng(0).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    copy = image.copy()
    smoothness_weights(image, n_channels=3)
    assert_array_equal(image, copy)


@pytest.mark.parametrize(
    "kwargs, exception, message",
    [
        ({"floor": 0}, ValueError, r"floor must be in \(0, 1\]"),
        ({"floor": 1.5}, ValueError, r"floor must be in \(0, 1\]"),
        ({"scale": -1}, ValueError, "scale must be a positive finite number"),
        ({"scale": np.inf}, ValueError, "scale must be a positive finite number"),
        ({"scale": "16"}, TypeError, "scale must be a real number"),
        ({"n_channels": 4}, ValueError, "not a multiple of n_channels=4"),
    ],
)
def test_bad_smoothness_weights_arguments_are_refused(kwargs, exception, message):
    with pytest.raises(exception, match=message):
        smoothness_weights(np.zeros((3, 6)), **kwargs)
    with pytest.raises(ValueError, match="X must be finite"):
        smoothness_weights(np.array([[0.0, np.nan]]))
