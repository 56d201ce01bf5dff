"""Images with transparency through the command line: alpha palettes
(skvq.cli._palette)."""

import numpy as np
import pytest
from cli_images import (
    blurred_mse,
    colour_pixels,
    decoded,
    digest,
    gray_pixels,
    ramp_pixels,
    run,
    save,
    table_rows,
)
from PIL import Image
from sklearn.datasets import load_sample_image

from skvq import ImageVectorQuantizer, read_palette_png, smoothness_weights
from skvq._transparency import premultiply
from skvq.cli import main


def photo(size=160):
    """A square crop of scikit-learn's china.jpg, uint8 RGB."""
    china = load_sample_image("china.jpg")
    return np.ascontiguousarray(china[100 : 100 + size, 200 : 200 + size])


def disc_alpha(size, edge=0.0):
    """Alpha of an opaque disc, fully transparent outside; ``edge`` pixels
    of anti-aliasing ramp."""
    yy, xx = np.mgrid[:size, :size]
    distance = np.hypot(yy - size / 2 + 0.5, xx - size / 2 + 0.5)
    inside = 0.45 * size - distance
    if edge == 0:
        return np.where(inside > 0, 255, 0).astype(np.uint8)
    return np.clip(np.rint(128 + 255 * inside / edge), 0, 255).astype(np.uint8)


def quantize(tmp_path, rgba, *options):
    source = tmp_path / "input.png"
    Image.fromarray(rgba).save(source)
    out_dir = tmp_path / "out"
    status = main(["quantize", str(source), "-o", str(out_dir), "-q", *options])
    assert status == 0
    return out_dir / "input.png"


def read_rgba(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


@pytest.mark.parametrize("dither", [[], ["--no-dither"], ["--dither", "1"]])
def test_disc_transparent_outside_gets_one_entry_and_15_visible_colours(
    tmp_path, dither
):
    size = 160
    rgba = np.dstack([photo(size), disc_alpha(size)])
    # Colours under alpha 0 are invisible; make them as varied as possible.
    outside = rgba[..., 3] == 0
    rgba[outside, :3] = np.random.default_rng(0).integers(0, 256, (outside.sum(), 3))
    output = quantize(tmp_path, rgba, "-n", "16", *dither)

    codes, codebook = read_palette_png(output)
    assert codebook.shape[1] == 4
    assert np.unique(codes[outside]).size == 1
    assert codebook[codes[outside][0], 3] == 0
    assert np.sum(codebook[:, 3] == 0) == 1
    written = read_rgba(output)
    np.testing.assert_array_equal(written[..., 3], rgba[..., 3])
    visible = np.unique(written[~outside, :3], axis=0)
    assert len(visible) == 15


@pytest.mark.parametrize("space", ["rgb", "oklab"])
def test_disc_visible_colours_are_as_good_as_a_palette_of_the_disc_alone(
    tmp_path, space
):
    # The invisible colours must not take palette entries from the visible
    # ones: the disc is quantized as well as its own pixels in 15 colours.
    size = 160
    rgba = np.dstack([photo(size), disc_alpha(size)])
    inside = rgba[..., 3] == 255
    rgba[~inside, :3] = 255 - rgba[~inside, :3]
    output = quantize(tmp_path, rgba, "-n", "16", "--no-dither", "--color-space", space)
    written = read_rgba(output)

    error = written[inside, :3].astype(float) - rgba[inside, :3]
    disc = rgba[inside, :3]
    # In Oklab, opaque colours count by the smoothness_weights of the whole
    # picture, which the command fits with.
    weights = None
    if space == "oklab":
        weights = smoothness_weights(rgba[..., :3], n_channels=3)[inside.ravel()]
    reference = ImageVectorQuantizer(
        n_bins=15, n_channels=3, random_state=0, color_space=space
    ).fit(disc, sample_weight=weights)
    if space == "rgb":
        reference_mse = -reference.score(disc)
        assert np.mean(error**2) <= 1.02 * reference_mse + 1 / 12
    else:
        # Alpha only 0 and 255: the opaque entries are the Oklab palette of
        # the disc alone, rounded to 8 bits.
        _, entries = read_palette_png(output)
        opaque = entries[entries[:, 3] == 255, :3]
        expected = np.clip(np.rint(reference.codebook_), 0, 255)
        np.testing.assert_array_equal(
            np.unique(opaque, axis=0), np.unique(expected, axis=0)
        )


@pytest.mark.parametrize("dither", [["--no-dither"], ["--dither", "1"]])
@pytest.mark.parametrize("n_bins", ["4", "16", "256"])
def test_alpha_gradient_keeps_alpha_0_and_255_exactly(tmp_path, n_bins, dither):
    size = 128
    gradient = np.tile(np.rint(np.linspace(0, 255, size)).astype(np.uint8), (size, 1))
    rgba = np.dstack([photo(size), gradient])
    written = read_rgba(quantize(tmp_path, rgba, "-n", n_bins, *dither))
    alpha = written[..., 3]
    np.testing.assert_array_equal(alpha[gradient == 0], 0)
    np.testing.assert_array_equal(alpha[gradient == 255], 255)
    translucent = (gradient > 0) & (gradient < 255)
    if n_bins == "256" and dither == ["--no-dither"]:
        # Enough entries for every alpha of the gradient to be close.
        assert (
            np.max(np.abs(alpha[translucent] - gradient[translucent].astype(int))) < 40
        )


def test_anti_aliased_edge_keeps_exact_alpha_and_the_row_measures_visible_error(
    tmp_path, capsys
):
    size = 160
    alpha = disc_alpha(size, edge=3.0)
    rgba = np.dstack([photo(size), alpha])
    assert np.any((alpha > 0) & (alpha < 255))
    source = tmp_path / "input.png"
    Image.fromarray(rgba).save(source)
    status = main(["quantize", str(source), "-o", str(tmp_path / "out"), "-n", "8"])
    assert status == 0
    written = read_rgba(tmp_path / "out" / "input.png")
    np.testing.assert_array_equal(written[alpha == 0, 3], 0)
    np.testing.assert_array_equal(written[alpha == 255, 3], 255)

    # The row's MSE is over premultiplied colours and alpha: what is visible.
    expected = np.mean((premultiply(written) - premultiply(rgba)) ** 2)
    row = capsys.readouterr().out.splitlines()[1].split()
    assert float(row[4]) == pytest.approx(expected, abs=1e-3)


def test_gray_and_alpha_stays_gray_with_one_transparent_entry(tmp_path):
    size = 96
    gray = photo(size).mean(axis=2).astype(np.uint8)
    alpha = disc_alpha(size)
    output = quantize(tmp_path, np.dstack([gray, alpha]), "-n", "4")
    codes, codebook = read_palette_png(output)
    assert codebook.shape[1] == 2
    assert np.unique(codes[alpha == 0]).size == 1
    with Image.open(output) as image:
        written = np.asarray(image.convert("LA"))
    np.testing.assert_array_equal(written[..., 1], alpha)
    assert len(np.unique(written[alpha == 255, 0])) == 3


def test_fully_transparent_image_is_one_transparent_entry(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., :3] = np.arange(64).reshape(8, 8, 1)
    codes, codebook = read_palette_png(quantize(tmp_path, rgba, "-n", "4"))
    np.testing.assert_array_equal(codes, 0)
    # One entry of alpha 0 (read as gray, since its colour is black).
    np.testing.assert_array_equal(codebook, [[0, 0]])


def test_two_entries_with_transparency_are_transparent_and_the_mean(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[:2, :, :] = [200, 100, 50, 255]
    rgba[2:3, :, :] = [100, 50, 0, 255]
    _, codebook = read_palette_png(quantize(tmp_path, rgba, "-n", "2"))
    np.testing.assert_array_equal(
        codebook[np.argsort(codebook[:, 3])], [[0, 0, 0, 0], [167, 83, 33, 255]]
    )


def test_shared_codebook_with_transparency(tmp_path, capsys):
    size = 64
    sprite = np.dstack([photo(size), disc_alpha(size)])
    opaque = photo(size)[::-1]
    sources = [tmp_path / "sprite.png", tmp_path / "opaque.png"]
    Image.fromarray(sprite).save(sources[0])
    Image.fromarray(opaque).save(sources[1])
    out_dir = tmp_path / "out"
    options = ["-n", "8", "--shared-codebook", "--no-optimize"]
    status = main(["quantize", *map(str, sources), *options, "-o", str(out_dir)])
    assert status == 0
    _, sprite_codebook = read_palette_png(out_dir / "sprite.png")
    _, opaque_codebook = read_palette_png(out_dir / "opaque.png")
    np.testing.assert_array_equal(sprite_codebook, opaque_codebook)
    assert np.sum(sprite_codebook[:, 3] == 0) == 1
    np.testing.assert_array_equal(read_rgba(out_dir / "opaque.png")[..., 3], 255)
    np.testing.assert_array_equal(
        read_rgba(out_dir / "sprite.png")[..., 3], sprite[..., 3]
    )


# ------------------------------------------------------------ dithering


def default_strength():
    from skvq._quantize import DEFAULT_DITHER_STRENGTH

    return DEFAULT_DITHER_STRENGTH


@pytest.mark.parametrize("n_channels", [1, 3])
@pytest.mark.parametrize("space", ["rgb", "oklab"])
def test_no_dither_gives_the_codes_of_transform(tmp_path, capsys, n_channels, space):
    pixels = gray_pixels() if n_channels == 1 else colour_pixels()
    source = save(tmp_path / "a.png", pixels)
    status, _, _ = run(
        capsys,
        "quantize",
        source,
        "-n",
        6,
        "--no-dither",
        "--color-space",
        space,
        "-o",
        tmp_path / "o",
    )
    assert status == 0
    samples = pixels.reshape(-1, n_channels)
    # Gray images have no Oklab: they are quantized in their own values.
    quantizer = ImageVectorQuantizer(
        n_bins=6,
        n_channels=n_channels,
        random_state=0,
        color_space=space if n_channels == 3 else "rgb",
    )
    codes = quantizer.fit(samples).transform(samples)
    expected = np.rint(quantizer.codebook_)[codes.ravel()].reshape(pixels.shape)
    mode = "L" if n_channels == 1 else "RGB"
    np.testing.assert_array_equal(decoded(tmp_path / "o" / "a.png", mode), expected)


@pytest.mark.parametrize("n_channels", [1, 3])
def test_default_dither_is_the_dither_method_at_its_default_strength(
    tmp_path, capsys, n_channels
):
    pixels = ramp_pixels() if n_channels == 1 else colour_pixels()
    source = save(tmp_path / "a.png", pixels)
    status, _, _ = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert status == 0
    rows = pixels.reshape(pixels.shape[0], -1)
    # The command's default colour space is Oklab, for colour images only.
    quantizer = ImageVectorQuantizer(
        n_bins=4,
        n_channels=n_channels,
        random_state=0,
        color_space="oklab" if n_channels == 3 else "rgb",
    )
    codes = quantizer.fit(rows).dither(rows)
    expected = np.rint(quantizer.codebook_)[codes].reshape(pixels.shape)
    mode = "L" if n_channels == 1 else "RGB"
    np.testing.assert_array_equal(decoded(tmp_path / "o" / "a.png", mode), expected)

    status, _, _ = run(
        capsys,
        "quantize",
        source,
        "-n",
        4,
        "--dither",
        repr(default_strength()),
        "-o",
        tmp_path / "explicit",
    )
    assert status == 0
    np.testing.assert_array_equal(
        decoded(tmp_path / "explicit" / "a.png", mode), expected
    )


def test_dithering_lowers_the_blurred_error_of_a_smooth_ramp(tmp_path, capsys):
    pixels = ramp_pixels()
    source = save(tmp_path / "ramp.png", pixels)
    errors = {}
    for name, option in [("plain", ["--no-dither"]), ("dithered", ["--dither", 1])]:
        status, out, _ = run(
            capsys, "quantize", source, "-n", 4, *option, "-o", tmp_path / name
        )
        assert status == 0
        written = decoded(tmp_path / name / "ramp.png", "L")
        errors[name] = blurred_mse(written, pixels)
        row = table_rows(out)[str(source)]
        assert row[5] == pytest.approx(10 * np.log10(255**2 / errors[name]), abs=1e-2)
    assert errors["dithered"] < 0.5 * errors["plain"]


def test_dither_zero_is_no_dither(tmp_path, capsys):
    source = save(tmp_path / "a.png", colour_pixels())
    for name, option in [("zero", ["--dither", "0"]), ("none", ["--no-dither"])]:
        status, _, _ = run(
            capsys, "quantize", source, "-n", 5, *option, "-o", tmp_path / name
        )
        assert status == 0
    np.testing.assert_array_equal(
        decoded(tmp_path / "zero" / "a.png", "RGB"),
        decoded(tmp_path / "none" / "a.png", "RGB"),
    )


# ------------------------------------------------------------ given palettes


def nearest_by_brute_force(pixels, palette):
    """Index of the nearest entry (squared distance, first of equals)."""
    distances = ((pixels[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(distances, axis=1)


@pytest.mark.parametrize("optimize", [[], ["--no-optimize"]])
def test_map_keeps_the_given_colours_bit_for_bit_in_order(tmp_path, optimize):
    # A palette file whose last entries no pixel will use.
    palette = np.array(
        [[250, 10, 10], [10, 250, 10], [10, 10, 250], [128, 128, 128], [1, 2, 3]],
        dtype=np.uint8,
    )
    Image.frombytes("P", (5, 1), bytes(range(5))).save(tmp_path / "map.png")
    with Image.open(tmp_path / "map.png") as image:
        image.putpalette(palette.tobytes())
        image.save(tmp_path / "map.png")
    rgb = photo(64)
    Image.fromarray(rgb).save(tmp_path / "input.png")
    status = main(
        [
            "quantize",
            str(tmp_path / "input.png"),
            "--map",
            str(tmp_path / "map.png"),
            "--no-dither",
            "--color-space",
            "rgb",
            "-q",
            "-o",
            str(tmp_path / "out"),
            *optimize,
        ]
    )
    assert status == 0
    codes, codebook = read_palette_png(tmp_path / "out" / "input.png")
    np.testing.assert_array_equal(codebook, palette.astype(float))
    expected = nearest_by_brute_force(rgb.reshape(-1, 3).astype(float), codebook)
    np.testing.assert_array_equal(codes.ravel(), expected)


def test_map_with_dithering_uses_only_the_given_colours(tmp_path):
    colours = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)
    # Not an indexed PNG: its distinct colours in order of appearance.
    swatch = np.repeat(colours[None], 2, axis=0)
    Image.fromarray(swatch).save(tmp_path / "map.png")
    Image.fromarray(photo(48)).save(tmp_path / "input.png")
    status = main(
        [
            "quantize",
            str(tmp_path / "input.png"),
            "--map",
            str(tmp_path / "map.png"),
            "-q",
            "--no-optimize",
            "-o",
            str(tmp_path / "out"),
        ]
    )
    assert status == 0
    _, codebook = read_palette_png(tmp_path / "out" / "input.png")
    np.testing.assert_array_equal(codebook, colours.astype(float))


def test_posterize_puts_every_entry_on_pngquants_levels(tmp_path):
    Image.fromarray(photo(64)).save(tmp_path / "input.png")
    for bits in (1, 2, 3, 4):
        out = tmp_path / f"out{bits}"
        status = main(
            [
                "quantize",
                str(tmp_path / "input.png"),
                "-n",
                "16",
                "--posterize",
                str(bits),
                "-q",
                "-o",
                str(out),
            ]
        )
        assert status == 0
        _, codebook = read_palette_png(out / "input.png")
        # libimagequant: (v & ~mask) | (v >> (8 - bits)) for 8-bit v.
        levels = {(v & ~((1 << bits) - 1)) | (v >> (8 - bits)) for v in range(256)}
        assert set(np.unique(codebook).astype(int)) <= levels


# ------------------------------------------------------------ --color-space


def oklab_reference(srgb):
    """Oklab of 8-bit sRGB values, written here from the published
    definition (IEC 61966-2-1 transfer function, Ottosson's 2020 matrices)."""
    c = np.asarray(srgb, dtype=np.float64) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m1 = np.array(
        [
            [0.4122214708, 0.5363325363, 0.0514459929],
            [0.2119034982, 0.6806995451, 0.1073969566],
            [0.0883024619, 0.2817188376, 0.6299787005],
        ]
    )
    m2 = np.array(
        [
            [0.2104542553, 0.7936177850, -0.0040720468],
            [1.9779984951, -2.4285922050, 0.4505937099],
            [0.0259040371, 0.7827717662, -0.8086757660],
        ]
    )
    return np.cbrt(linear @ m1.T) @ m2.T


def test_oklab_without_dithering_gives_each_pixel_its_nearest_entry_in_oklab(
    tmp_path,
):
    rgb = photo(64)
    options = ["-n", "16", "--no-dither", "--overwrite", "--color-space"]
    output = quantize(tmp_path, rgb, *options, "oklab")
    codes, entries = read_palette_png(output)
    assert entries.shape == (16, 3)
    pixels = oklab_reference(rgb.reshape(-1, 3))
    distances = np.sum(
        (pixels[:, None, :] - oklab_reference(entries)[None]) ** 2, axis=2
    )
    chosen = distances[np.arange(len(pixels)), codes.ravel()]
    # Each pixel's entry is its nearest in Oklab (up to the rounding of the
    # 8-bit entries: codes are found by the fitted, unrounded colours).
    assert np.mean(chosen <= distances.min(axis=1) + 1e-12) > 0.97
    # and differs from the rgb choice: the space is really used.
    rgb_entries = read_palette_png(quantize(tmp_path, rgb, *options, "rgb"))[1]
    assert rgb_entries.tolist() != entries.tolist()


@pytest.mark.parametrize("space", ["rgb", "oklab"])
def test_oklab_output_decodes_to_its_palette_with_every_option(tmp_path, space):
    rgb = photo(64)
    for options in [[], ["--no-dither"], ["--posterize", "2"], ["-n", "2"]]:
        output = quantize(
            tmp_path, rgb, "--color-space", space, "--overwrite", *options
        )
        codes, entries = read_palette_png(output)
        assert np.all(np.isfinite(entries))
        with Image.open(output) as image:
            written = np.asarray(image.convert("RGB")).reshape(-1, 3)
        np.testing.assert_array_equal(written, entries[codes.ravel()])


def test_oklab_jobs_1_and_2_write_the_same_files(tmp_path, capsys):
    sources = [save(tmp_path / f"{i}.png", photo(48 + 8 * i)) for i in range(3)]
    sources.append(save(tmp_path / "alpha.png", np.dstack([photo(64), disc_alpha(64)])))
    for jobs in ("1", "2"):
        status, _, _ = run(
            capsys, "quantize", *sources, "-n", 16, "-j", jobs, "-o", tmp_path / jobs
        )
        assert status == 0
    for source in sources:
        assert digest(tmp_path / "1" / source.name) == digest(
            tmp_path / "2" / source.name
        )


@pytest.mark.parametrize("dither", [[], ["--no-dither"]])
def test_oklab_binary_alpha_keeps_alpha_and_fits_the_opaque_pixels(tmp_path, dither):
    size = 96
    rgba = np.dstack([photo(size), disc_alpha(size)])
    output = quantize(tmp_path, rgba, "-n", "8", "--color-space", "oklab", *dither)
    _, entries = read_palette_png(output)
    assert entries.shape == (8, 4)
    assert np.all(np.isfinite(entries))
    written = read_rgba(output)
    np.testing.assert_array_equal(written[..., 3], rgba[..., 3])
    assert np.sum(entries[:, 3] == 0) == 1 and np.sum(entries[:, 3] == 255) == 7


def test_translucent_pixels_are_quantized_as_with_rgb(tmp_path):
    # Premultiplied colours with alpha have no Oklab: the same file as rgb.
    size = 96
    rgba = np.dstack([photo(size), disc_alpha(size, edge=12.0)])
    assert np.any((rgba[..., 3] > 0) & (rgba[..., 3] < 255))
    oklab = quantize(tmp_path, rgba, "-n", "16", "--color-space", "oklab")
    oklab_bytes = oklab.read_bytes()
    rgb = quantize(tmp_path, rgba, "-n", "16", "--color-space", "rgb", "--overwrite")
    assert rgb.read_bytes() == oklab_bytes


def test_oklab_sixteen_bit_rgb_is_fitted_on_the_8_bit_scale(tmp_path, capsys):
    from test_read import png_16_bit

    deep = photo(48).astype(np.uint16) * 257
    deep[deep < 65000] += 100  # not a multiple of 257
    source = png_16_bit(tmp_path / "deep.png", deep, 2)
    argv = ["quantize", source, "-n", 16, "--color-space", "oklab", "--no-dither"]
    status, _, err = run(capsys, *argv, "-o", tmp_path / "o")
    assert status == 0, err
    _, entries = read_palette_png(tmp_path / "o" / "deep.png")
    # Oklab is defined on the 0..255 scale: the 16-bit values divided by 257.
    # Colours count by their smoothness_weights on that scale too.
    samples = deep.reshape(-1, 3) / 257.0
    weights = smoothness_weights(deep / 257.0, n_channels=3)
    reference = ImageVectorQuantizer(
        n_bins=16, n_channels=3, random_state=0, color_space="oklab"
    ).fit(samples, sample_weight=weights)
    np.testing.assert_array_equal(
        np.unique(entries, axis=0), np.unique(np.rint(reference.codebook_), axis=0)
    )


def test_colours_of_smooth_areas_count_more_than_those_of_noise(tmp_path):
    # Half a smooth ramp, where too few colours show as bands, half noise,
    # which hides them: the command's palette spends its colours on the
    # ramp (skvq.smoothness_weights), where a palette of the plain squared
    # error spends them on the noise's spread.
    rng = np.random.default_rng(0)
    height, width = 64, 128
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    ramp = np.linspace(0, 255, width // 2)
    rgb[:, : width // 2] = np.stack([ramp, ramp / 2 + 60, 255 - ramp], -1)
    rgb[:, width // 2 :] = rng.integers(0, 256, (height, width // 2, 3))
    source = tmp_path / "ramp.png"
    Image.fromarray(rgb).save(source)
    argv = ["quantize", str(source), "-n", "8", "--no-dither", "-q"]
    status = main([*argv, "-o", str(tmp_path / "o")])
    assert status == 0
    written = read_rgba(tmp_path / "o" / "ramp.png")[..., :3].astype(float)
    plain = ImageVectorQuantizer(8, n_channels=3, random_state=0, color_space="oklab")
    pixels = rgb.reshape(-1, 3)
    unweighted = plain.fit(pixels).inverse_transform(plain.transform(pixels))
    unweighted = unweighted.reshape(rgb.shape)
    ramp_error = np.mean((written - rgb)[:, : width // 2] ** 2)
    assert ramp_error < 0.75 * np.mean((unweighted - rgb)[:, : width // 2] ** 2)
