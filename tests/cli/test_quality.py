"""--quality (skvq.cli._quality) and --skip-if-larger."""

import itertools

import numpy as np
import pytest
from cli_images import gray_pixels, listing, run, save

from skvq import ImageVectorQuantizer, read_palette_png
from skvq.cli._quality import quality_to_mse


def test_quality_to_mse_is_pngquants_curve_on_the_0_255_scale():
    # libimagequant: quality_to_mse(80) = 2.5 / 290**1.2 * 20.1 / 100 in its
    # units, times 65536 / 6 per channel of 0..255 values.
    assert quality_to_mse(80) == pytest.approx(2.5 / 290**1.2 * 0.201 * 65536 / 6)
    assert quality_to_mse(100) == 0
    assert quality_to_mse(0) == np.inf
    bounds = [quality_to_mse(q) for q in range(101)]
    assert all(a > b for a, b in itertools.pairwise(bounds))


def fewest_by_trying_every_number(pixels, target, most):
    """The fewest levels whose exact k-means error is at most ``target``."""
    for n_levels in range(2, most + 1):
        quantizer = ImageVectorQuantizer(n_levels).fit(pixels.reshape(-1, 1))
        if -quantizer.score(pixels.reshape(-1, 1)) <= target:
            return n_levels
    return most


@pytest.mark.parametrize("quality", [50, 70, 85, 95])
@pytest.mark.parametrize("seed", [0, 1])
def test_gray_levels_are_the_fewest_reaching_the_quality(
    tmp_path, capsys, quality, seed
):
    pixels = gray_pixels(40, 48, seed=seed)
    source = save(tmp_path / "a.png", pixels)
    status, _, err = run(
        capsys,
        "quantize",
        source,
        "--quality",
        f"0-{quality}",
        "-n",
        64,
        "--no-optimize",
        "--output",
        tmp_path / "out.png",
    )
    assert (status, err) == (0, "")
    _, codebook = read_palette_png(tmp_path / "out.png")
    expected = fewest_by_trying_every_number(pixels, quality_to_mse(quality), 64)
    assert codebook.shape[0] == expected


def test_below_the_minimum_quality_nothing_is_written_and_the_status_is_99(
    tmp_path, capsys
):
    source = save(tmp_path / "a.png", gray_pixels())
    status, out, err = run(
        capsys, "quantize", source, "--quality", "99-100", "-n", 2, "-o", tmp_path / "o"
    )
    assert status == 99
    assert out == ""
    assert err.startswith(f"skvq: error: {source}: refused: its error with 2 colours")
    assert listing(tmp_path / "o") == []


def test_skip_if_larger_writes_nothing_and_the_status_is_98(tmp_path, capsys):
    # A tiny, already small input: its palette file is not smaller.
    source = save(tmp_path / "a.png", np.zeros((2, 2), np.uint8), optimize=True)
    status, _, err = run(
        capsys, "quantize", source, "--skip-if-larger", "-o", tmp_path / "o"
    )
    assert status == 98
    assert "skipped: its output" in err
    assert listing(tmp_path / "o") == []
    status, _, _ = run(capsys, "quantize", source, "-o", tmp_path / "p")
    assert status == 0
    assert listing(tmp_path / "p") == ["a.png"]
