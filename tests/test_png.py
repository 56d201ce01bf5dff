"""Quantized images as palette PNG files (skvq._png): writing, reading,
optimizing, and files never half-written or overwritten unless asked."""

import errno
import os
import struct
import sys

import numpy as np
import pytest
from PIL import Image

from skvq import read_palette_png, write_palette_png


def png_chunks(path):
    """Return {chunk type: data} of a PNG file, parsed by hand."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = {}, 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8].decode("ascii")
        chunks.setdefault(kind, data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return chunks


def ihdr(path):
    width, height, bit_depth, colour_type = struct.unpack(
        ">IIBB", png_chunks(path)["IHDR"][:10]
    )
    return {"size": (width, height), "bit_depth": bit_depth, "colour_type": colour_type}


def distinct_codebook(n_colours, n_channels, seed=0):
    """Distinct 8-bit entries, never gray when n_channels >= 3."""
    rng = np.random.default_rng(seed)
    values = rng.permutation(256)[:n_colours].astype(np.float64)
    if n_channels in (1, 2):
        columns = [values]
    else:
        columns = [values, (values + 1) % 256, (values + 100) % 256]
    if n_channels in (2, 4):
        columns.append(rng.integers(0, 256, size=n_colours).astype(np.float64))
    return np.stack(columns, axis=1)


def code_image(n_colours, shape=(7, 13), seed=0):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, n_colours, size=shape)
    codes.flat[:n_colours] = np.arange(n_colours)[: codes.size]
    return codes


# Smallest PNG bit depth for each palette size, from the PNG specification.
BIT_DEPTHS = [(1, 1), (2, 1), (3, 2), (4, 2), (5, 4), (16, 4), (17, 8), (256, 8)]


@pytest.mark.parametrize("n_channels", [1, 2, 3, 4])
@pytest.mark.parametrize("n_colours, bit_depth", BIT_DEPTHS)
def test_round_trip_at_the_smallest_bit_depth(
    tmp_path, n_colours, bit_depth, n_channels
):
    codes = code_image(n_colours, shape=(9, 40))
    codebook = distinct_codebook(n_colours, n_channels)
    path = tmp_path / "image.png"
    write_palette_png(path, codes, codebook)

    header = ihdr(path)
    assert header == {"size": (40, 9), "bit_depth": bit_depth, "colour_type": 3}
    assert len(png_chunks(path)["PLTE"]) == 3 * n_colours
    assert ("tRNS" in png_chunks(path)) == (n_channels in (2, 4))

    read_codes, read_codebook = read_palette_png(path)
    assert read_codes.dtype == np.uint8
    assert read_codebook.dtype == np.float64
    np.testing.assert_array_equal(read_codes, codes)
    np.testing.assert_array_equal(read_codebook, codebook)


@pytest.mark.parametrize(
    "n_channels, mode", [(1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")]
)
def test_other_readers_see_the_codebook_colours(tmp_path, n_channels, mode):
    codes = code_image(6)
    codebook = distinct_codebook(6, n_channels)
    path = tmp_path / "image.png"
    write_palette_png(path, codes, codebook)
    with Image.open(path) as image:
        pixels = np.asarray(image.convert(mode))
    expected = codebook[codes].reshape(pixels.shape)
    np.testing.assert_array_equal(pixels, expected)


def test_codebook_values_are_rounded_and_clipped_to_bytes(tmp_path):
    codebook = np.array([[-5.0], [127.6], [300.0], [0.4]])
    write_palette_png(tmp_path / "a.png", [[0, 1, 2, 3]], codebook)
    _, read_codebook = read_palette_png(tmp_path / "a.png")
    np.testing.assert_array_equal(read_codebook, [[0.0], [128.0], [255.0], [0.0]])


def test_codes_and_codebook_are_not_modified(tmp_path):
    codes = code_image(4)
    codebook = np.array([[0.4], [10.6], [-3.0], [999.0]])
    codes_before, codebook_before = codes.copy(), codebook.copy()
    write_palette_png(tmp_path / "a.png", codes, codebook)
    np.testing.assert_array_equal(codes, codes_before)
    np.testing.assert_array_equal(codebook, codebook_before)


def test_an_existing_file_is_not_overwritten_by_default(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"precious")
    with pytest.raises(
        FileExistsError, match=r"a\.png already exists; pass overwrite=True"
    ):
        write_palette_png(path, [[0, 1]], [[0], [255]])
    assert path.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["a.png"]


def test_overwrite_true_replaces_the_file(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"old")
    write_palette_png(path, [[0, 1]], [[0], [255]], overwrite=True)
    codes, _ = read_palette_png(path)
    np.testing.assert_array_equal(codes, [[0, 1]])
    assert os.listdir(tmp_path) == ["a.png"]


def test_the_file_gets_the_usual_permissions(tmp_path):
    old_umask = os.umask(0o027)
    try:
        write_palette_png(tmp_path / "a.png", [[0]], [[0]])
    finally:
        os.umask(old_umask)
    assert (tmp_path / "a.png").stat().st_mode & 0o777 == 0o640


def raise_disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_leaves_no_partial_file_and_keeps_the_old_one(
    tmp_path, monkeypatch, failing
):
    path = tmp_path / "a.png"
    path.write_bytes(b"old")
    monkeypatch.setattr(os, failing, raise_disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        write_palette_png(path, [[0, 1]], [[0], [255]], overwrite=True)
    assert os.listdir(tmp_path) == ["a.png"]
    assert path.read_bytes() == b"old"


def test_a_file_created_meanwhile_by_another_writer_is_kept(tmp_path, monkeypatch):
    # Another process creates the file after the check that the name is free
    # and before write_palette_png names its own: without overwrite, the
    # other file stays and the call fails, leaving nothing of its own.
    path = tmp_path / "a.png"
    real_fsync = os.fsync

    def another_writer(fd):
        real_fsync(fd)
        if not path.exists():
            path.write_bytes(b"the other writer's file")

    monkeypatch.setattr(os, "fsync", another_writer)
    with pytest.raises(FileExistsError, match="already exists; pass overwrite=True"):
        write_palette_png(path, np.zeros((2, 2), np.uint8), np.zeros((1, 1)))
    assert path.read_bytes() == b"the other writer's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_names_of_255_bytes_are_written(tmp_path):
    path = tmp_path / ("a" * 251 + ".png")
    write_palette_png(path, np.zeros((2, 2), np.uint8), np.zeros((1, 1)))
    assert read_palette_png(path)[0].shape == (2, 2)


def test_a_missing_folder_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_palette_png(tmp_path / "missing" / "a.png", [[0]], [[0]])


@pytest.mark.parametrize(
    "codes, codebook, error, match",
    [
        (
            [[0, 2]],
            [[0], [1]],
            ValueError,
            r"smaller than the number of codebook entries \(2\), found 2",
        ),
        ([[0, -1]], [[0], [1]], ValueError, "codes must be non-negative, found -1"),
        (
            [[0.0, 1.0]],
            [[0], [1]],
            TypeError,
            "codes must be an array of integers, got dtype float64",
        ),
        (
            [0, 1],
            [[0], [1]],
            ValueError,
            r"codes must be a 2-D image .* got shape \(2,\)",
        ),
        (
            np.zeros((0, 3), dtype=int),
            [[0]],
            ValueError,
            r"at least one row and one column, got codes of shape \(0, 3\)",
        ),
        (
            [[0]],
            np.zeros((257, 3)),
            ValueError,
            "a PNG palette holds 1 to 256 colours, the codebook has 257",
        ),
        (
            [[0]],
            np.zeros((0, 3)),
            ValueError,
            "a PNG palette holds 1 to 256 colours, the codebook has 0",
        ),
        (
            [[0]],
            [[1, 2, 3, 4, 5]],
            ValueError,
            r"n_channels 1 \(gray\), 2 \(gray \+ alpha\), 3 \(RGB\) or 4 \(RGBA\), "
            r"got shape \(1, 5\)",
        ),
        (
            [[0]],
            [1, 2, 3],
            ValueError,
            r"codebook must have shape \(n_colours, n_channels\)",
        ),
        ([[0]], [[np.nan]], ValueError, "codebook must contain only finite values"),
        (
            [[0]],
            [["red"]],
            TypeError,
            "codebook must be an array of real numbers, got dtype <U3",
        ),
        (
            [[0]],
            [[1j]],
            TypeError,
            "codebook must be an array of real numbers, got dtype complex128",
        ),
    ],
)
def test_invalid_codes_or_codebook_are_rejected_before_writing(
    tmp_path, codes, codebook, error, match
):
    with pytest.raises(error, match=match):
        write_palette_png(tmp_path / "a.png", codes, codebook)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "I;16"])
def test_reading_a_png_that_is_not_indexed_is_an_error(tmp_path, mode):
    path = tmp_path / "a.png"
    Image.new(mode, (3, 2)).save(path)
    with pytest.raises(
        ValueError, match=f"a.png is not an indexed \\(palette\\) PNG: .* mode '{mode}'"
    ):
        read_palette_png(path)


def test_reading_a_palette_image_that_is_not_a_png_is_an_error(tmp_path):
    path = tmp_path / "a.gif"
    Image.new("P", (3, 2)).save(path)
    with pytest.raises(ValueError, match=r"a\.gif is not a PNG file .* GIF"):
        read_palette_png(path)


def test_reading_a_pixel_beyond_the_palette_is_an_error(tmp_path):
    # 17 palette entries make an 8-bit file, which can hold index 200.
    image = Image.frombytes("P", (2, 1), bytes([0, 200]))
    image.putpalette(bytes(range(17 * 3)), "RGB")
    path = tmp_path / "a.png"
    image.save(path)
    with pytest.raises(
        ValueError,
        match="damaged: a pixel refers to palette entry 200 but the palette has 17",
    ):
        read_palette_png(path)


def test_reading_a_truncated_file_is_an_os_error(tmp_path):
    path = tmp_path / "a.png"
    write_palette_png(path, code_image(200, shape=(64, 64)), distinct_codebook(200, 3))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(OSError):
        read_palette_png(path)


def test_single_transparent_entry_is_read_as_alpha(tmp_path):
    # Pillow's own files often mark one palette entry as fully transparent.
    image = Image.frombytes("P", (3, 1), bytes([0, 1, 2]))
    image.putpalette(bytes([10, 20, 30, 40, 50, 60, 70, 80, 90]), "RGB")
    path = tmp_path / "a.png"
    image.save(path, transparency=1)
    _, codebook = read_palette_png(path)
    np.testing.assert_array_equal(
        codebook, [[10, 20, 30, 255], [40, 50, 60, 0], [70, 80, 90, 255]]
    )


def test_trailing_opaque_entries_are_left_out_of_trns(tmp_path):
    codebook = [[10, 0], [20, 128], [30, 255], [40, 255]]
    path = tmp_path / "a.png"
    write_palette_png(path, [[0, 1, 2, 3]], codebook)
    assert png_chunks(path)["tRNS"] == bytes([0, 128])
    _, read_codebook = read_palette_png(path)
    np.testing.assert_array_equal(read_codebook, codebook)


def test_an_opaque_alpha_channel_is_kept(tmp_path):
    codebook = [[10, 255], [20, 255]]
    path = tmp_path / "a.png"
    write_palette_png(path, [[0, 1]], codebook)
    _, read_codebook = read_palette_png(path)
    np.testing.assert_array_equal(read_codebook, codebook)


def test_large_incompressible_image_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 256, size=(1100, 1000))
    path = tmp_path / "noise.png"
    write_palette_png(path, codes, distinct_codebook(256, 3))
    read_codes, _ = read_palette_png(path)
    np.testing.assert_array_equal(read_codes, codes)


# ------------------------------------------------------------ optimize


def rgba_of(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


@pytest.mark.parametrize("level", [0, 2, True])
@pytest.mark.parametrize("n_channels", [1, 2, 3, 4])
@pytest.mark.parametrize("n_colours", [2, 5, 16, 200])
def test_optimized_files_show_the_same_pixels_and_stay_indexed(
    tmp_path, n_colours, n_channels, level
):
    pytest.importorskip("oxipng")
    codes = code_image(n_colours, shape=(31, 45))
    codebook = distinct_codebook(n_colours, n_channels)
    plain, optimized = tmp_path / "plain.png", tmp_path / "optimized.png"
    write_palette_png(plain, codes, codebook)
    write_palette_png(optimized, codes, codebook, optimize=level)

    np.testing.assert_array_equal(rgba_of(optimized), rgba_of(plain))
    read_codes, read_codebook = read_palette_png(optimized)
    np.testing.assert_array_equal(read_codebook[read_codes], codebook[codes])


def smooth_codes(n_colours, shape=(120, 160), seed=1):
    """A diagonal ramp of indices with a little noise."""
    rng = np.random.default_rng(seed)
    ramp = np.add.outer(np.arange(shape[0]), np.arange(shape[1]))
    ramp = ramp * (n_colours - 1) / (shape[0] + shape[1] - 2)
    codes = np.rint(ramp + rng.normal(0, 0.3, ramp.shape))
    return np.clip(codes, 0, n_colours - 1).astype(np.uint8)


@pytest.mark.parametrize("n_colours", [16, 64, 256])
def test_optimize_makes_smooth_gray_images_smaller(tmp_path, n_colours):
    # Neighbouring indices mean neighbouring grays: PNG's row filters, which
    # Pillow does not use for palette images, pay.
    pytest.importorskip("oxipng")
    codes = smooth_codes(n_colours)
    codebook = np.linspace(0, 255, n_colours)[:, None]
    plain, optimized = tmp_path / "plain.png", tmp_path / "optimized.png"
    write_palette_png(plain, codes, codebook)
    write_palette_png(optimized, codes, codebook, optimize=True)
    assert optimized.stat().st_size < 0.9 * plain.stat().st_size
    np.testing.assert_array_equal(rgba_of(optimized), rgba_of(plain))


@pytest.mark.parametrize(
    "optimize, error, match",
    [
        (7, ValueError, "oxipng's level from 0 to 6, got 7"),
        (-1, ValueError, "oxipng's level from 0 to 6, got -1"),
        (2.0, TypeError, "optimize must be a bool or an int .* got float 2.0"),
        ("max", TypeError, "optimize must be a bool or an int .* got str 'max'"),
    ],
)
def test_invalid_optimize_is_rejected_before_writing(tmp_path, optimize, error, match):
    with pytest.raises(error, match=match):
        write_palette_png(tmp_path / "a.png", [[0, 1]], [[0], [255]], optimize=optimize)
    assert os.listdir(tmp_path) == []


def test_optimize_without_oxipng_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "oxipng", None)  # import oxipng now fails
    with pytest.raises(ImportError, match=r"pip install pyoxipng"):
        write_palette_png(tmp_path / "a.png", [[0, 1]], [[0], [255]], optimize=True)
    assert os.listdir(tmp_path) == []
    write_palette_png(tmp_path / "a.png", [[0, 1]], [[0], [255]])
    np.testing.assert_array_equal(read_palette_png(tmp_path / "a.png")[0], [[0, 1]])
