"""Images and runs shared by the tests of skvq.cli."""

import hashlib
import os

import numpy as np
from PIL import Image

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
        if fields[0] not in ("total", "oxipng"):  # "oxipng": the footer
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


def ramp_pixels(height=32, width=256):
    """A smooth horizontal ramp over the whole 0..255 range, uint8 gray."""
    row = np.rint(np.linspace(0, 255, width)).astype(np.uint8)
    return np.tile(row, (height, 1))
