"""The test images of the benchmarks, made reproducibly from images that ship
with SciPy, scikit-learn and Matplotlib, or generated (no download beyond
scipy's raccoon face).

Every function returns a fresh C-contiguous array; results are cached, so
callers must not modify them.
"""

import functools

import matplotlib.cbook
import numpy as np
import scipy.datasets
import scipy.ndimage
from PIL import Image
from sklearn.datasets import load_sample_image


@functools.cache
def raccoon_gray():
    """The raccoon face, 768 x 1024 uint8 gray (``scipy.datasets.face``)."""
    return np.ascontiguousarray(scipy.datasets.face(gray=True))


@functools.cache
def raccoon_color():
    """The raccoon face, 768 x 1024 x 3 uint8 RGB."""
    return np.ascontiguousarray(scipy.datasets.face())


@functools.cache
def sample_image(name):
    """``"china.jpg"`` or ``"flower.jpg"`` from scikit-learn, 427 x 640 x 3 uint8."""
    return np.ascontiguousarray(load_sample_image(name))


@functools.cache
def grace_hopper():
    """Grace Hopper's portrait from Matplotlib's sample data, 600 x 512 x 3
    uint8 (a JPEG photograph: skin, uniform, a flag)."""
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        with Image.open(file) as image:
            return np.ascontiguousarray(np.asarray(image.convert("RGB")))


@functools.cache
def sky(height=360, width=480):
    """A generated sky, uint8 RGB: a smooth blue gradient toward a pale
    horizon with soft clouds (smoothed noise, fixed seed), and the light
    sensor noise of a photograph (sigma 0.6 of a level). Where banding
    shows: few colours span wide, slow gradients."""
    rows = np.linspace(0.0, 1.0, height)[:, None, None]
    top = np.array([40.0, 90.0, 170.0])
    horizon = np.array([200.0, 215.0, 230.0])
    image = top + (horizon - top) * rows**0.8
    rng = np.random.default_rng(0)
    clouds = scipy.ndimage.gaussian_filter(
        rng.normal(size=(height, width)), (height / 12, width / 8)
    )
    clouds = np.clip((clouds - clouds.mean()) / clouds.std() - 0.6, 0, None)
    image = image + 60.0 * np.minimum(clouds, 1.5)[..., None] * (1 - 0.5 * rows)
    image = image + rng.normal(0.0, 0.6, image.shape)
    return np.ascontiguousarray(np.clip(np.rint(image), 0, 255).astype(np.uint8))


@functools.cache
def gradient(height=256, width=512):
    """A generated smooth gradient, uint8 RGB: dark red to teal left to
    right, darker toward the bottom, every colour step below one level per
    pixel (no noise): the worst case for banding."""
    columns = np.linspace(0.0, 1.0, width)[None, :, None]
    rows = np.linspace(0.0, 1.0, height)[:, None, None]
    left, right = np.array([120.0, 20.0, 30.0]), np.array([20.0, 160.0, 150.0])
    image = (left + (right - left) * columns) * (1.0 - 0.5 * rows)
    return np.ascontiguousarray(np.rint(image).astype(np.uint8))


@functools.cache
def sample_image_gray(name):
    """A scikit-learn sample photograph converted to uint8 gray (ITU-R 601 luma)."""
    luma = sample_image(name) @ np.array([0.299, 0.587, 0.114])
    return np.ascontiguousarray(np.rint(luma).astype(np.uint8))


@functools.cache
def raccoon_gray_16bit():
    """A 768 x 1024 uint16 gray image with tens of thousands of distinct values.

    The raccoon scaled to 16 bits, plus a smooth diagonal gradient and Gaussian
    noise (fixed seed), so that its histogram is dense over most of the
    65,536 possible values rather than 256 spikes.
    """
    gray = raccoon_gray().astype(np.float64) * 240.0
    rows, cols = np.indices(gray.shape, dtype=np.float64)
    gradient = 2500.0 * (rows / gray.shape[0] + cols / gray.shape[1])
    noise = np.random.default_rng(0).normal(0.0, 120.0, size=gray.shape)
    image = np.clip(np.rint(gray + gradient + noise), 0, 65535)
    return image.astype(np.uint16)


@functools.cache
def raccoon_gray_upsampled(factor):
    """The gray raccoon enlarged ``factor`` times per axis (bilinear), uint8.

    ``factor=4`` gives 3072 x 4096 = 12.6 megapixels, ``factor=8`` gives
    6144 x 8192 = 50.3 megapixels.
    """
    return scipy.ndimage.zoom(raccoon_gray(), factor, order=1, output=np.uint8)


def gray_images(smoke=False):
    """Name -> 2-D gray image (uint8 or uint16) used by the gray benchmark."""
    images = {
        "raccoon": raccoon_gray(),
        "china (gray)": sample_image_gray("china.jpg"),
        "flower (gray)": sample_image_gray("flower.jpg"),
        "raccoon 16-bit": raccoon_gray_16bit(),
    }
    if smoke:
        images = {name: _crop(image) for name, image in images.items()}
    return images


def color_images(smoke=False):
    """Name -> (h, w, 3) uint8 RGB image used by the colour benchmark."""
    images = {
        "china": sample_image("china.jpg"),
        "flower": sample_image("flower.jpg"),
        "raccoon": raccoon_color(),
    }
    if smoke:
        images = {name: _crop(image) for name, image in images.items()}
    return images


def perceptual_images(smoke=False):
    """Name -> (h, w, 3) uint8 RGB image of the perceptual comparisons: the
    colour photos, Grace Hopper's portrait, and the generated sky and
    gradient (where banding shows)."""
    images = {
        **color_images(),
        "grace hopper": grace_hopper(),
        "sky": sky(),
        "gradient": gradient(),
    }
    if smoke:
        images = {name: _crop(image, 64) for name, image in images.items()}
    return images


def _crop(image, size=128):
    """A ``size`` x ``size`` centre crop, for the smoke runs."""
    h, w = image.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(image[top : top + size, left : left + size])
