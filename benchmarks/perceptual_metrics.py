"""Quality measures skvq did not write: SSIMULACRA2 and ꟻLIP.

- SSIMULACRA2 (PyPI ``ssimulacra2``, Cloudinary's metric in a Python port):
  100 means identical, higher is better; it tracks human scores with a rank
  correlation of 0.84-0.88 on the CID22 and TID2013 sets.
- ꟻLIP (PyPI ``flip-evaluator``, NVIDIA's metric, Andersson et al. 2020):
  the mean of a per-pixel error map in [0, 1] for a viewer at 67 pixels per
  degree; lower is better.

Both take 8-bit sRGB images of the same shape; gray images are compared as
RGB. Either function returns None when its package is not installed (the
extra ``skvq[benchmark]`` installs both).
"""

import io

import numpy as np
from PIL import Image


def _rgb(image):
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image)


def available():
    """Names of the metrics whose packages are installed."""
    names = []
    for name, module in (("SSIMULACRA2", "ssimulacra2"), ("FLIP", "flip_evaluator")):
        try:
            __import__(module)
        except ImportError:
            continue
        names.append(name)
    return names


def ssimulacra2(reference, output):
    """SSIMULACRA2 score of ``output`` against ``reference`` (higher is
    better), or None."""
    try:
        from ssimulacra2 import compute_ssimulacra2
    except ImportError:
        return None
    files = []
    for image in (reference, output):
        # The package reads images through Pillow: lossless PNG in memory.
        buffer = io.BytesIO()
        Image.fromarray(_rgb(image)).save(buffer, format="PNG", compress_level=1)
        buffer.seek(0)
        files.append(buffer)
    return float(compute_ssimulacra2(*files))


def flip(reference, output):
    """Mean ꟻLIP error of ``output`` against ``reference`` (lower is
    better), or None."""
    try:
        import flip_evaluator
    except ImportError:
        return None
    _, mean_error, _ = flip_evaluator.evaluate(
        _rgb(reference).astype(np.float32) / 255,
        _rgb(output).astype(np.float32) / 255,
        "LDR",
        applyMagma=False,
    )
    return float(mean_error)
