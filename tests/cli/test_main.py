import errno
import hashlib
import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from skvq import ImageVectorQuantizer, read_palette_png
from skvq.cli import main


def gray_pixels(height=24, width=32, seed=0):
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 255, width)[None, :] * np.ones((height, 1))
    return np.clip(ramp + rng.normal(0, 20, (height, width)), 0, 255).astype(np.uint8)


def colour_pixels(height=24, width=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def save(path, pixels, mode=None, **options):
    image = Image.fromarray(pixels)
    if mode is not None:
        image = image.convert(mode)
    image.save(path, **options)
    return path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys, *argv):
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def table_rows(out):
    """Rows of the printed table, as
    {file: [before, after, bpp, mse, psnr, blurred psnr]}."""
    rows = {}
    for line in out.splitlines()[1:]:
        fields = line.split()
        if fields[0] != "total":
            rows[fields[0]] = [float(field) for field in fields[1:7]]
    return rows


def blurred_mse(a, b):
    """MSE after a Gaussian blur of 1 pixel of both (height, width[, c]) images."""
    from scipy.ndimage import gaussian_filter

    sigma = (1, 1, 0)[: np.ndim(a)]
    difference = gaussian_filter(np.asarray(a, float), sigma) - gaussian_filter(
        np.asarray(b, float), sigma
    )
    return np.mean(difference**2)


def decoded(path, mode):
    with Image.open(path) as image:
        return np.asarray(image.convert(mode), dtype=np.float64)


def listing(folder):
    return sorted(os.listdir(folder))


# ---------------------------------------------------------------- happy path


def test_gray_image_becomes_a_palette_png_and_the_row_tells_the_truth(tmp_path, capsys):
    source = save(tmp_path / "gray.png", gray_pixels())
    before = digest(source)
    out_dir = tmp_path / "out"
    status, out, err = run(capsys, "quantize", source, "-n", 4, "-o", out_dir)

    assert (status, err) == (0, "")
    output = out_dir / "gray.png"
    codes, codebook = read_palette_png(output)
    assert codes.shape == (24, 32)
    assert codebook.shape == (4, 1)

    before_size, after_size, bits, mse, psnr, blurred_psnr = table_rows(out)[
        str(source)
    ]
    assert before_size == source.stat().st_size
    assert after_size == output.stat().st_size
    assert bits == pytest.approx(8 * output.stat().st_size / (24 * 32), abs=1e-3)
    expected_mse = np.mean((decoded(output, "L") - gray_pixels()) ** 2)
    assert mse == pytest.approx(expected_mse, abs=1e-3)
    assert psnr == pytest.approx(10 * np.log10(255**2 / expected_mse), abs=1e-2)
    expected_blurred = blurred_mse(decoded(output, "L"), gray_pixels())
    assert blurred_psnr == pytest.approx(
        10 * np.log10(255**2 / expected_blurred), abs=1e-2
    )
    assert digest(source) == before


def test_without_optimize_the_bit_depth_is_the_smallest_for_the_palette(
    tmp_path, capsys
):
    source = save(tmp_path / "gray.png", gray_pixels())
    out_dir = tmp_path / "out"
    status, _, _ = run(
        capsys, "quantize", source, "-n", 4, "-o", out_dir, "--no-optimize"
    )
    assert status == 0
    assert (out_dir / "gray.png").read_bytes()[24] == 2  # IHDR: 4 levels, 2 bits


def test_colour_jpeg_becomes_an_rgb_palette_png(tmp_path, capsys):
    source = save(tmp_path / "photo.jpg", colour_pixels(), quality=95)
    before = digest(source)
    status, out, err = run(capsys, "quantize", source, "-n", 16, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    codes, codebook = read_palette_png(tmp_path / "o" / "photo.png")
    assert codes.shape == (24, 32)
    assert codebook.shape == (16, 3)
    rows = table_rows(out)
    original = decoded(source, "RGB")
    expected_mse = np.mean(
        (decoded(tmp_path / "o" / "photo.png", "RGB") - original) ** 2
    )
    assert rows[str(source)][3] == pytest.approx(expected_mse, abs=1e-3)
    # 16 colours must beat one colour (the mean) by far.
    assert expected_mse < 0.5 * np.mean((original - original.mean(axis=(0, 1))) ** 2)
    assert digest(source) == before


def test_gray_option_quantizes_colour_inputs_as_gray(tmp_path, capsys):
    source = save(tmp_path / "photo.png", colour_pixels())
    status, _, _ = run(
        capsys, "quantize", source, "-n", 8, "--gray", "-o", tmp_path / "o"
    )
    assert status == 0
    _, codebook = read_palette_png(tmp_path / "o" / "photo.png")
    assert codebook.shape == (8, 1)


@pytest.mark.parametrize("strategy", ["kmeans", "uniform", "quantile"])
def test_every_strategy_writes_a_file(tmp_path, capsys, strategy):
    source = save(tmp_path / "a.png", gray_pixels())
    status, _, err = run(
        capsys, "quantize", source, "-n", 4, "-s", strategy, "-o", tmp_path / "o"
    )
    assert (status, err) == (0, "")
    _, codebook = read_palette_png(tmp_path / "o" / "a.png")
    assert codebook.shape == (4, 1)


def test_several_files_get_a_row_each_and_a_total(tmp_path, capsys):
    sources = [save(tmp_path / f"img{i}.png", gray_pixels(seed=i)) for i in range(3)]
    status, out, _ = run(capsys, "quantize", *sources, "-n", 2, "-o", tmp_path / "o")
    assert status == 0
    assert set(table_rows(out)) == {str(path) for path in sources}
    total = out.splitlines()[-1].split()
    assert total[0] == "total"
    assert int(total[1]) == sum(path.stat().st_size for path in sources)
    outputs = [tmp_path / "o" / path.name for path in sources]
    assert int(total[2]) == sum(path.stat().st_size for path in outputs)


def test_shared_codebook_is_fitted_to_all_files_together(tmp_path, capsys):
    dark = gray_pixels(seed=1) // 2
    bright = 128 + gray_pixels(seed=2) // 2
    sources = [save(tmp_path / "dark.png", dark), save(tmp_path / "bright.png", bright)]
    status, _, _ = run(
        capsys,
        "quantize",
        *sources,
        "-n",
        4,
        "--shared-codebook",
        "--no-optimize",  # oxipng may reorder each file's palette
        "-o",
        tmp_path / "o",
    )
    assert status == 0
    _, dark_codebook = read_palette_png(tmp_path / "o" / "dark.png")
    _, bright_codebook = read_palette_png(tmp_path / "o" / "bright.png")
    np.testing.assert_array_equal(dark_codebook, bright_codebook)
    together = np.concatenate([dark.reshape(-1, 1), bright.reshape(-1, 1)])
    expected = ImageVectorQuantizer(n_bins=4).fit(together).codebook_
    np.testing.assert_array_equal(dark_codebook, np.rint(expected))


def test_shared_codebook_over_gray_and_colour_files_is_colour(tmp_path, capsys):
    sources = [
        save(tmp_path / "gray.png", gray_pixels()),
        save(tmp_path / "colour.png", colour_pixels()),
    ]
    status, _, _ = run(
        capsys, "quantize", *sources, "-n", 8, "--shared-codebook", "-o", tmp_path / "o"
    )
    assert status == 0
    codebooks = [read_palette_png(tmp_path / "o" / path.name)[1] for path in sources]
    # oxipng drops the entries a file does not use, which are fewer for the
    # gray file; the colour file uses all 8.
    assert codebooks[1].shape == (8, 3)
    assert codebooks[0].shape[1] == 3
    assert {tuple(entry) for entry in codebooks[0]} <= {
        tuple(entry) for entry in codebooks[1]
    }


def test_quiet_prints_nothing_and_verbose_prints_more(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    status, out, err = run(
        capsys, "quantize", source, "-n", 4, "-o", tmp_path / "q", "-q"
    )
    assert (status, out, err) == (0, "", "")
    status, out, _ = run(
        capsys, "quantize", source, "-n", 4, "-o", tmp_path / "v", "-v"
    )
    assert status == 0
    assert f"{source} -> {tmp_path / 'v' / 'a.png'}: 4 colours" in out


def test_an_existing_output_is_kept_unless_overwrite(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    (out_dir / "a.png").write_bytes(b"precious")
    status, out, err = run(capsys, "quantize", source, "-n", 4, "-o", out_dir)
    assert status == 1
    assert table_rows(out) == {}
    assert err == (
        f"skvq: error: {source}: {out_dir / 'a.png'} already exists "
        "(use --overwrite to replace it)\n"
    )
    assert (out_dir / "a.png").read_bytes() == b"precious"

    status, _, err = run(
        capsys, "quantize", source, "-n", 4, "-o", out_dir, "--overwrite"
    )
    assert (status, err) == (0, "")
    assert read_palette_png(out_dir / "a.png")[1].shape == (4, 1)
    assert listing(out_dir) == ["a.png"]


def test_output_folder_is_created(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    status, _, _ = run(capsys, "quantize", source, "-n", 2, "-o", tmp_path / "x" / "y")
    assert status == 0
    assert listing(tmp_path / "x" / "y") == ["a.png"]


# ------------------------------------------------------- unusual image kinds


def test_transparency_is_kept_as_a_palette_alpha_channel(tmp_path, capsys):
    rgba = np.dstack([colour_pixels(), np.zeros((24, 32), np.uint8)])
    rgba[:, 16:, 3] = 255
    source = save(tmp_path / "sprite.png", rgba)
    status, _, err = run(capsys, "quantize", source, "-n", 8, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    output = tmp_path / "o" / "sprite.png"
    _, codebook = read_palette_png(output)
    assert codebook.shape[1] == 4
    alpha = decoded(output, "RGBA")[..., 3]
    np.testing.assert_array_equal(alpha, rgba[..., 3])


def test_opaque_alpha_is_dropped(tmp_path, capsys):
    source = save(tmp_path / "opaque.png", colour_pixels(), mode="RGBA")
    status, _, _ = run(capsys, "quantize", source, "-n", 8, "-o", tmp_path / "o")
    assert status == 0
    _, codebook = read_palette_png(tmp_path / "o" / "opaque.png")
    assert codebook.shape == (8, 3)


def test_gray_with_alpha_stays_gray(tmp_path, capsys):
    la = np.dstack([gray_pixels(), np.full((24, 32), 255, np.uint8)])
    la[:4, :, 1] = 0
    source = save(tmp_path / "la.png", la)
    status, _, _ = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert status == 0
    _, codebook = read_palette_png(tmp_path / "o" / "la.png")
    assert codebook.shape[1] == 2


def test_palette_input_is_quantized_in_colour(tmp_path, capsys):
    source = save(tmp_path / "pal.png", colour_pixels(), mode="P")
    status, _, err = run(capsys, "quantize", source, "-n", 16, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    _, codebook = read_palette_png(tmp_path / "o" / "pal.png")
    assert codebook.shape == (16, 3)


def test_sixteen_bit_gray_is_scaled_to_eight_bits(tmp_path, capsys):
    deep = gray_pixels().astype(np.uint16) * 256 + 100
    source = tmp_path / "deep.png"
    Image.fromarray(deep).save(source)
    with Image.open(source) as image:
        assert image.mode in ("I;16", "I")  # really a 16-bit file
    status, out, err = run(capsys, "quantize", source, "-n", 8, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    output = tmp_path / "o" / "deep.png"
    _, codebook = read_palette_png(output)
    assert codebook.shape == (8, 1)
    # 0..65535 maps to 0..255: the levels lie within the image's range.
    assert codebook.min() >= np.floor(deep.min() / 257)
    assert codebook.max() <= np.ceil(deep.max() / 257)
    expected_mse = np.mean((decoded(output, "L") - deep / 257.0) ** 2)
    assert table_rows(out)[str(source)][3] == pytest.approx(expected_mse, abs=1e-3)


def test_bilevel_input_is_reproduced_exactly(tmp_path, capsys):
    source = save(tmp_path / "bw.png", gray_pixels(), mode="1")
    status, out, _ = run(capsys, "quantize", source, "-n", 2, "-o", tmp_path / "o")
    assert status == 0
    assert table_rows(out)[str(source)][3] == 0.0
    np.testing.assert_array_equal(
        decoded(tmp_path / "o" / "bw.png", "L"), decoded(source, "L")
    )


def test_cmyk_jpeg_is_quantized_as_rgb(tmp_path, capsys):
    source = save(tmp_path / "print.jpg", colour_pixels(), mode="CMYK")
    status, _, err = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    assert read_palette_png(tmp_path / "o" / "print.png")[1].shape == (4, 3)


def test_fewer_colours_than_bins_is_a_one_line_warning(tmp_path, capsys):
    pixels = np.zeros((8, 8), np.uint8)
    pixels[:, 4:] = 200
    source = save(tmp_path / "two.png", pixels)
    status, out, err = run(capsys, "quantize", source, "-n", 8, "-o", tmp_path / "o")
    assert status == 0
    assert err == (
        f"skvq: warning: {source}: only 2 distinct gray levels, fewer than "
        "--n-bins 8: each has its own palette entry, without loss\n"
    )
    assert table_rows(out)[str(source)][3] == 0.0


# ------------------------------------------------------------ failures


def encoded(pixels, format, **options):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=format, **options)
    return buffer.getvalue()


def corrupt(data, start, stop):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, size=stop - start, dtype=np.uint8).tobytes()
    return data[:start] + noise + data[stop:]


PNG = encoded(colour_pixels(), "PNG")
JPEG = encoded(colour_pixels(), "JPEG")

BAD_FILES = {
    "truncated.png": (PNG[: len(PNG) // 2], "damaged or truncated image"),
    "header-only.png": (PNG[:20], "damaged or truncated image"),
    "corrupt-data.png": (corrupt(PNG, 60, 260), "damaged or truncated image"),
    "corrupt-header.png": (corrupt(PNG, 16, 24), "not an image file that Pillow"),
    "truncated.jpg": (JPEG[: len(JPEG) // 2], "damaged or truncated image"),
    "header-only.jpg": (JPEG[:30], "damaged or truncated image"),
    "corrupt-header.jpg": (corrupt(JPEG, 2, 150), "not an image file that Pillow"),
    "notes.txt": (b"not an image\n", "not an image file that Pillow can read"),
    "empty.png": (b"", "not an image file that Pillow can read"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_gets_one_line_and_the_others_are_done(tmp_path, capsys, name):
    data, reason = BAD_FILES[name]
    bad = tmp_path / name
    bad.write_bytes(data)
    good = save(tmp_path / "good.png", gray_pixels())
    before = {path: digest(path) for path in (bad, good)}
    status, out, err = run(capsys, "quantize", bad, good, "-n", 4, "-o", tmp_path / "o")
    assert status == 1
    assert err.startswith(f"skvq: error: {bad}: {reason}")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert listing(tmp_path / "o") == ["good.png"]
    assert set(table_rows(out)) == {str(good)}
    assert {path: digest(path) for path in before} == before


def test_missing_file_and_folder_are_reported(tmp_path, capsys):
    good = save(tmp_path / "good.png", gray_pixels())
    (tmp_path / "folder").mkdir()
    status, _, err = run(
        capsys,
        "quantize",
        tmp_path / "missing.png",
        tmp_path / "folder",
        good,
        "-n",
        4,
        "-o",
        tmp_path / "o",
    )
    assert status == 1
    assert err.splitlines() == [
        f"skvq: error: {tmp_path / 'missing.png'}: no such file",
        f"skvq: error: {tmp_path / 'folder'}: is a directory, not an image file",
    ]
    assert listing(tmp_path / "o") == ["good.png"]


def test_shared_codebook_skips_bad_files(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(PNG[:100])
    good = save(tmp_path / "good.png", gray_pixels())
    status, _, err = run(
        capsys,
        "quantize",
        bad,
        good,
        "-n",
        4,
        "--shared-codebook",
        "-o",
        tmp_path / "o",
    )
    assert status == 1
    assert err.count(f"skvq: error: {bad}:") == 1
    assert listing(tmp_path / "o") == ["good.png"]


@pytest.fixture
def unwritable(monkeypatch, tmp_path):
    """Make creating files in tmp_path/'o' fail as in a read-only folder.

    Tests run as root, for whom chmod does not forbid anything.
    """
    real_open = os.open
    out_dir = str(tmp_path / "o")

    def guarded_open(path, *args, **kwargs):
        if os.fspath(path).startswith(out_dir):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)


def test_unwritable_output_folder(tmp_path, capsys, unwritable):
    sources = [save(tmp_path / f"{name}.png", gray_pixels()) for name in "ab"]
    (tmp_path / "o").mkdir()
    status, out, err = run(capsys, "quantize", *sources, "-n", 4, "-o", tmp_path / "o")
    assert status == 1
    assert err.splitlines() == [
        f"skvq: error: {path}: cannot write {tmp_path / 'o' / path.name}: "
        "Permission denied"
        for path in sources
    ]
    assert listing(tmp_path / "o") == []
    assert table_rows(out) == {}


@pytest.mark.parametrize("failing", ["fsync", "link"])
def test_full_disk_leaves_no_partial_output(tmp_path, capsys, monkeypatch, failing):
    source = save(tmp_path / "a.png", gray_pixels())
    before = digest(source)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, disk_full)
    status, _, err = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert status == 1
    assert err == (
        f"skvq: error: {source}: cannot write {tmp_path / 'o' / 'a.png'}: "
        "No space left on device\n"
    )
    assert listing(tmp_path / "o") == []
    assert digest(source) == before


def test_full_disk_keeps_the_previous_output(tmp_path, capsys, monkeypatch):
    source = save(tmp_path / "a.png", gray_pixels())
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "a.png").write_bytes(b"previous run")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    status, _, _ = run(
        capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o", "--overwrite"
    )
    assert status == 1
    assert listing(tmp_path / "o") == ["a.png"]
    assert (tmp_path / "o" / "a.png").read_bytes() == b"previous run"


def test_interrupt_leaves_no_partial_output(tmp_path, capsys, monkeypatch):
    source = save(tmp_path / "a.png", gray_pixels())

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    status, _, err = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert status == 130
    assert err == "skvq: error: interrupted; no output was left half-written\n"
    assert listing(tmp_path / "o") == []


def test_output_folder_that_is_a_file(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    (tmp_path / "o").write_bytes(b"a file")
    status, _, err = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert status == 1
    assert err.startswith(
        f"skvq: error: cannot create the output folder {tmp_path / 'o'}:"
    )
    assert (tmp_path / "o").read_bytes() == b"a file"


# ------------------------------------------------------------ usage errors


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: COMMAND"),
        (["squash", "a.png"], "invalid choice: 'squash'"),
        (
            ["quantize", "-n", "4", "--random-state", "-1", "-o", "o", "a.png"],
            "--random-state: must be an integer from 0 to 4294967295",
        ),
        (
            ["quantize", "--random-state", str(2**32), "-o", "o", "a.png"],
            "--random-state: must be an integer from 0 to 4294967295",
        ),
        (
            ["quantize", "--random-state", str(2**70), "-o", "o", "a.png"],
            "--random-state: must be an integer from 0 to 4294967295",
        ),
        (
            ["quantize", "--output", "x.png", "a.png", "b.png"],
            "--output names the file of one input, got 2 inputs",
        ),
        (["quantize", "-", "a.png"], "must be the only INPUT"),
        (["quantize", "--quality", "80-60", "a.png"], "must be MIN-MAX"),
        (["quantize", "--quality", "101", "a.png"], "must be MIN-MAX"),
        (["quantize", "--posterize", "5", "a.png"], "from 0 to 4"),
        (["quantize", "--jobs", "0", "a.png"], "--jobs/-j: must be an integer"),
        (
            ["quantize", "-n", "4", "-o", "o"],
            "the following arguments are required: INPUT",
        ),
        (
            ["quantize", "-n", "1", "-o", "o", "a.png"],
            "must be an integer from 2 to 256 .* got '1'",
        ),
        (
            ["quantize", "-n", "257", "-o", "o", "a.png"],
            "a PNG palette holds at most 256 colours\\), got '257'",
        ),
        (["quantize", "-n", "four", "-o", "o", "a.png"], "got 'four'"),
        (
            ["quantize", "-n", "4", "-s", "median", "-o", "o", "a.png"],
            "invalid choice: 'median'",
        ),
        (
            ["quantize", "-n", "4", "-q", "-v", "-o", "o", "a.png"],
            "not allowed with argument",
        ),
        (
            ["quantize", "-n", "4", "-o", "o", "a.png", "b/a.jpg"],
            "a.png and b/a.jpg would both be written to o/a.png",
        ),
        (["quantize", "-n", "4", "-o", "o", "a.png", "a.png"], "would both be written"),
        (
            ["quantize", "-n", "4", "--dither", "1.5", "-o", "o", "a.png"],
            "--dither: must be a number from 0 .* to 1 .* got '1.5'",
        ),
        (
            ["quantize", "-n", "4", "--dither", "nan", "-o", "o", "a.png"],
            "got 'nan'",
        ),
        (
            ["quantize", "-n", "4", "--dither", ".5", "--no-dither", "-o", "o", "a"],
            "not allowed with argument",
        ),
        (
            ["quantize", "-n", "4", "--optimize", "7", "-o", "o", "a.png"],
            "--optimize: must be oxipng's level, an integer from 0 to 6, got '7'",
        ),
        (
            ["quantize", "-n", "4", "--optimize", "1", "--no-optimize", "-o", "o", "a"],
            "not allowed with argument",
        ),
    ],
)
def test_usage_errors_exit_2_with_argparse_message(
    tmp_path, capsys, monkeypatch, argv, message
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: skvq")
    assert re.search(message, err)
    assert listing(tmp_path) == []


def test_output_that_would_replace_its_input_is_a_usage_error(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    before = digest(source)
    with pytest.raises(SystemExit) as exit_info:
        main(["quantize", str(source), "-n", "4", "-o", str(tmp_path), "--overwrite"])
    assert exit_info.value.code == 2
    assert f"the output for {source} would replace the input {source}" in (
        capsys.readouterr().err
    )
    assert digest(source) == before


def test_output_of_one_input_that_would_replace_another_is_a_usage_error(
    tmp_path, capsys
):
    (tmp_path / "o").mkdir()
    target = save(tmp_path / "o" / "a.png", gray_pixels())
    other = save(tmp_path / "a.jpg", colour_pixels())
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["quantize", str(other), str(target), "-n", "4", "-o", str(tmp_path / "o")]
        )
    assert exit_info.value.code == 2
    assert listing(tmp_path / "o") == ["a.png"]


# ------------------------------------------------------------ help and bar


def test_python_m_skvq_help_lists_commands_with_examples():
    result = subprocess.run(
        [sys.executable, "-m", "skvq", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: skvq")
    assert "quantize" in result.stdout
    assert "examples:" in result.stdout


def test_quantize_help_explains_every_option_with_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["quantize", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in [
        "--n-bins",
        "--strategy",
        "--gray",
        "--output-dir",
        "--shared-codebook",
        "--overwrite",
        "--random-state",
        "--dither",
        "--no-dither",
        "--optimize",
        "--no-optimize",
        "--quiet",
        "--verbose",
        "examples:",
        "exit status:",
    ]:
        assert option in text


def test_progress_bar_only_on_a_terminal_with_several_files(
    tmp_path, capsys, monkeypatch
):
    pytest.importorskip("tqdm")
    sources = [save(tmp_path / f"{i}.png", gray_pixels(seed=i)) for i in range(3)]
    status, _, err = run(capsys, "quantize", *sources, "-n", 2, "-o", tmp_path / "a")
    assert (status, err) == (0, "")  # stderr is not a terminal here

    monkeypatch.setattr("skvq.cli._report.isatty", lambda stream: True)
    status, out, err = run(capsys, "quantize", *sources, "-n", 2, "-o", tmp_path / "b")
    assert status == 0
    assert "quantizing:" in err and "0/3" in err
    assert set(table_rows(out)) == {str(path) for path in sources}

    status, _, err = run(capsys, "quantize", sources[0], "-n", 2, "-o", tmp_path / "c")
    assert (status, err) == (0, "")


def test_no_progress_bar_without_tqdm(tmp_path, capsys, monkeypatch):
    sources = [save(tmp_path / f"{i}.png", gray_pixels(seed=i)) for i in range(2)]
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    monkeypatch.setattr("skvq.cli._report.isatty", lambda stream: True)
    status, out, err = run(capsys, "quantize", *sources, "-n", 2, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    assert set(table_rows(out)) == {str(path) for path in sources}


def test_exif_orientation_is_applied(tmp_path, capsys):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    source = save(tmp_path / "camera.jpg", colour_pixels(), exif=exif.tobytes())
    status, _, _ = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert status == 0
    codes, _ = read_palette_png(tmp_path / "o" / "camera.png")
    assert codes.shape == (32, 24)


def test_only_the_first_frame_of_an_animation_is_used_with_a_warning(tmp_path, capsys):
    frames = [Image.fromarray(gray_pixels(seed=i)) for i in range(3)]
    source = tmp_path / "anim.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:])
    status, _, err = run(
        capsys, "quantize", source, "-n", 4, "--shared-codebook", "-o", tmp_path / "o"
    )
    assert status == 0
    assert err == (
        f"skvq: warning: {source}: only the first of its 3 frames is quantized\n"
    )


# ------------------------------------------------------------ dithering


def default_strength():
    import inspect

    return inspect.signature(ImageVectorQuantizer.dither).parameters["strength"].default


def ramp_pixels(height=32, width=256):
    """A smooth horizontal ramp over the whole 0..255 range, uint8 gray."""
    row = np.rint(np.linspace(0, 255, width)).astype(np.uint8)
    return np.tile(row, (height, 1))


@pytest.mark.parametrize("n_channels", [1, 3])
def test_no_dither_gives_the_codes_of_transform(tmp_path, capsys, n_channels):
    pixels = gray_pixels() if n_channels == 1 else colour_pixels()
    source = save(tmp_path / "a.png", pixels)
    status, _, _ = run(
        capsys, "quantize", source, "-n", 6, "--no-dither", "-o", tmp_path / "o"
    )
    assert status == 0
    samples = pixels.reshape(-1, n_channels)
    quantizer = ImageVectorQuantizer(n_bins=6, n_channels=n_channels, random_state=0)
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
    quantizer = ImageVectorQuantizer(n_bins=4, n_channels=n_channels, random_state=0)
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


# ------------------------------------------------------------ optimize


def test_optimize_is_on_by_default_when_oxipng_is_installed(tmp_path, capsys):
    pytest.importorskip("oxipng")
    source = save(tmp_path / "ramp.png", ramp_pixels(64, 256))
    sizes, images = {}, {}
    from skvq.cli._arguments import DEFAULT_OPTIMIZE_LEVEL as _DEFAULT_OPTIMIZE_LEVEL

    for name, option in [
        ("default", []),
        ("level", ["--optimize", _DEFAULT_OPTIMIZE_LEVEL]),
        ("plain", ["--no-optimize"]),
    ]:
        status, _, err = run(
            capsys, "quantize", source, "-n", 64, *option, "-o", tmp_path / name
        )
        assert (status, err) == (0, "")
        sizes[name] = (tmp_path / name / "ramp.png").stat().st_size
        images[name] = decoded(tmp_path / name / "ramp.png", "L")
    assert sizes["default"] == sizes["level"] < sizes["plain"]
    np.testing.assert_array_equal(images["default"], images["plain"])


def test_without_oxipng_files_are_written_by_pillow_alone(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr("skvq.cli._arguments.oxipng_installed", lambda: False)
    monkeypatch.setitem(sys.modules, "oxipng", None)  # import oxipng now fails
    source = save(tmp_path / "a.png", gray_pixels())
    status, _, err = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    assert read_palette_png(tmp_path / "o" / "a.png")[1].shape == (4, 1)

    with pytest.raises(SystemExit) as exit_info:
        main(["quantize", str(source), "-n", "4", "-o", "x", "--optimize", "3"])
    assert exit_info.value.code == 2
    assert "--optimize needs oxipng, which is not installed: pip install pyoxipng" in (
        capsys.readouterr().err
    )


# ------------------------------------------------------------ the report


def test_a_file_name_with_a_newline_stays_on_one_row(tmp_path, capsys):
    sources = [
        save(tmp_path / "two\nlines.png", gray_pixels()),
        save(tmp_path / "tab\there.png", gray_pixels(seed=1)),
    ]
    status, out, err = run(capsys, "quantize", *sources, "-n", 4, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 4  # header, two rows, total
    assert lines[1].startswith(str(tmp_path / "two\\nlines.png") + " ")
    assert lines[2].startswith(str(tmp_path / "tab\\there.png") + " ")
    assert sorted(os.listdir(tmp_path / "o")) == ["tab\there.png", "two\nlines.png"]


def test_errors_about_a_file_name_with_a_newline_are_one_line(tmp_path, capsys):
    missing = tmp_path / "no\nsuch.png"
    status, _, err = run(capsys, "quantize", missing, "-n", 4, "-o", tmp_path / "o")
    assert status == 1
    assert err == f"skvq: error: {tmp_path / 'no'}\\nsuch.png: no such file\n"


def test_no_table_when_nothing_is_written_whatever_the_reason(tmp_path, capsys):
    missing = [tmp_path / "a.png", tmp_path / "b.png"]
    status, out, _ = run(capsys, "quantize", *missing, "-n", 4, "-o", tmp_path / "o")
    assert (status, out) == (1, "")

    sources = [save(tmp_path / f"{name}.png", gray_pixels()) for name in "ab"]
    for path in sources:
        (tmp_path / "o" / path.name).write_bytes(b"exists")
    status, out, _ = run(capsys, "quantize", *sources, "-n", 4, "-o", tmp_path / "o")
    assert (status, out) == (1, "")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_a_fifo_is_refused_and_the_others_are_done(tmp_path):
    # In a child process with a timeout: opening a FIFO for reading waits for
    # a writer, so a regression would hang, not fail.
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    good = save(tmp_path / "good.png", gray_pixels())
    for shared in ([], ["--shared-codebook"]):
        out_dir = tmp_path / f"o{len(shared)}"
        command = ["quantize", str(fifo), str(good), "-n", "4", "-o", str(out_dir)]
        result = subprocess.run(
            [sys.executable, "-m", "skvq", *command, *shared],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 1
        assert result.stderr == (
            f"skvq: error: {fifo}: is not a regular file (a FIFO)\n"
        )
        assert listing(out_dir) == ["good.png"]


def test_start_up_imports_no_heavy_module():
    heavy = ("numpy", "PIL", "sklearn", "scipy", "tqdm", "oxipng")
    script = (
        "import sys, contextlib, io\n"
        "import skvq\n"
        "from skvq.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout == "[]\n"
