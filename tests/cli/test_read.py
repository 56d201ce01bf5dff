"""Reading images (skvq.cli._read)."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from cli_images import (
    colour_pixels,
    decoded,
    digest,
    gray_pixels,
    listing,
    run,
    save,
    table_rows,
)
from PIL import Image

from skvq import read_palette_png

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


def test_exif_orientation_is_applied(tmp_path, capsys):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    source = save(tmp_path / "camera.jpg", colour_pixels(), exif=exif.tobytes())
    status, _, _ = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert status == 0
    codes, _ = read_palette_png(tmp_path / "o" / "camera.png")
    assert codes.shape == (32, 24)


def test_shared_codebook_refuses_animations_by_name(tmp_path, capsys):
    # --shared-codebook fits still images: an animation is a usage error
    # naming the option (it was quantized as its first frame, to a PNG).
    frames = [Image.fromarray(gray_pixels(seed=i)) for i in range(3)]
    source = tmp_path / "anim.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:])
    with pytest.raises(SystemExit) as exit_info:
        run(
            capsys,
            "quantize",
            source,
            "-n",
            4,
            "--shared-codebook",
            "-o",
            tmp_path / "o",
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--shared-codebook" in err and "is an animation" in err
    assert not (tmp_path / "o").exists()
    # A GIF of one frame is a still image, as before.
    frames[0].save(tmp_path / "still.gif")
    status, _, err = run(
        capsys, "quantize", tmp_path / "still.gif", "-n", 4, "--shared-codebook",
        "-o", tmp_path / "o",
    )  # fmt: skip
    assert status == 0, err
    assert (tmp_path / "o" / "still.png").exists()


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


# ------------------------------------------------------------ 16 bits


def png_16_bit(path, pixels, colour_type, trns=None):
    """A 16-bit PNG file written by hand (Pillow writes no 16-bit RGB):
    colour type 0 (gray) or 2 (RGB), an optional tRNS chunk."""
    import struct
    import zlib

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    height, width = pixels.shape[:2]
    rows = b"".join(b"\0" + pixels[i].astype(">u2").tobytes() for i in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    if trns is not None:
        data += chunk(b"tRNS", struct.pack(f">{len(trns)}H", *trns))
    data += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(data)
    return path


def best_levels(values, counts, n_levels):
    """Optimal 1-D levels by trying every partition of the sorted values
    into contiguous runs (an optimal partition is contiguous)."""
    import itertools

    values, counts = np.asarray(values, float), np.asarray(counts, float)
    best = (np.inf, None)
    for cuts in itertools.combinations(range(1, len(values)), n_levels - 1):
        bounds = [0, *cuts, len(values)]
        means, sse = [], 0.0
        for a, b in itertools.pairwise(bounds):
            mean = np.average(values[a:b], weights=counts[a:b])
            means.append(mean)
            sse += np.sum(counts[a:b] * (values[a:b] - mean) ** 2)
        best = min(best, (sse, means), key=lambda pair: pair[0])
    return np.array(best[1])


def test_sixteen_bit_gray_is_fitted_on_its_16_bit_values(tmp_path, capsys):
    # Levels fitted to the values rounded to 8 bits would be 4, 5 and 8.
    values, counts = [1007, 1213, 1298, 1825, 1941], [3, 3, 3, 3, 4]
    deep = np.repeat(values, counts).astype(np.uint16).reshape(2, 8)
    coarse, inverse = np.unique(np.rint(deep.ravel() / 257), return_inverse=True)
    assert not np.array_equal(
        np.rint(best_levels(values, counts, 3) / 257),
        np.rint(best_levels(coarse, np.bincount(inverse), 3)),
    )
    source = png_16_bit(tmp_path / "deep.png", deep, 0)
    status, out, err = run(
        capsys, "quantize", source, "-n", 3, "--no-dither", "-o", tmp_path / "o"
    )
    assert (status, err) == (0, "")
    _, codebook = read_palette_png(tmp_path / "o" / "deep.png")
    np.testing.assert_array_equal(
        np.sort(codebook.ravel()), np.rint(best_levels(values, counts, 3) / 257)
    )
    written = decoded(tmp_path / "o" / "deep.png", "L")
    expected_mse = np.mean((written - deep / 257.0) ** 2)
    assert table_rows(out)[str(source)][3] == pytest.approx(expected_mse, abs=1e-3)


def test_sixteen_bit_gray_keeps_its_trns_transparency(tmp_path, capsys):
    deep = (gray_pixels().astype(np.uint16) * 257) | 3
    key = int(deep[0, 0])
    source = png_16_bit(tmp_path / "key.png", deep, 0, trns=[key])
    status, _, err = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    alpha = decoded(tmp_path / "o" / "key.png", "LA")[..., 1]
    np.testing.assert_array_equal(alpha, np.where(deep == key, 0, 255))


def test_sixteen_bit_rgb_keeps_its_trns_transparency_exactly(tmp_path, capsys):
    deep = colour_pixels().astype(np.uint16) * 257
    key = (1000, 2000, 3000)
    deep[:4, :] = key
    # Same high bytes as the key, other low bytes: opaque.
    deep[4:6, :] = (1000 + 1, 2000, 3000)
    source = png_16_bit(tmp_path / "key.png", deep, 2, trns=list(key))
    status, _, err = run(capsys, "quantize", source, "-n", 8, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    alpha = decoded(tmp_path / "o" / "key.png", "RGBA")[..., 3]
    expected = np.full(deep.shape[:2], 255)
    expected[:4] = 0
    np.testing.assert_array_equal(alpha, expected)


def test_sixteen_bit_rgb_is_read_with_its_low_bytes():
    from skvq.cli._read import read_picture

    deep = np.array([[[1000, 2000, 3001], [65535, 0, 257]]], np.uint16)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = png_16_bit(Path(folder) / "rgb.png", deep, 2)
        picture = read_picture(str(path), gray=False)
    assert picture.scale == 257
    np.testing.assert_array_equal(picture.pixels, deep)


# ------------------------------------------------------------ what is not a file


def test_a_symbolic_link_loop_is_called_so(tmp_path, capsys):
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    status, _, err = run(capsys, "quantize", loop, "-o", tmp_path / "o")
    assert status == 1
    assert err == (
        f"skvq: error: {loop}: is a symbolic link loop (too many levels of "
        "symbolic links)\n"
    )


@pytest.mark.skipif(not hasattr(__import__("socket"), "AF_UNIX"), reason="POSIX")
def test_a_unix_socket_is_called_so(tmp_path, capsys):
    import socket

    path = tmp_path / "sock.png"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        status, _, err = run(capsys, "quantize", path, "-o", tmp_path / "o")
    finally:
        server.close()
    assert status == 1
    assert err == f"skvq: error: {path}: is not a regular file (a socket)\n"
