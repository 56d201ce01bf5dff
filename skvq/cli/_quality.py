"""``--quality MIN-MAX``: pngquant's scale, and the fewest colours reaching it.

pngquant's quality ``q`` (0 to 100) stands for an error bound: libimagequant's
``quality_to_mse(q)``, in its internal units (the sum over four channels of
squared errors of values in [0, 1]), converted to the usual per-channel MSE
of 0..255 values by its own ``mse_to_standard_mse`` (times 65536 / 6).
"""

import math

# libimagequant's MAX_DIFF: quality 0 accepts any error.
_MAX_DIFF = 1e20


def quality_to_mse(quality):
    """The per-channel MSE (0..255 scale) that pngquant's quality bounds.

    Parameters
    ----------
    quality : int from 0 to 100

    Returns
    -------
    mse : float
        ``inf`` for 0, 0 for 100, decreasing in between.
    """
    if quality == 0:
        return math.inf
    if quality == 100:
        return 0.0
    # libimagequant's curve, "fudged to be roughly similar to quality of
    # libjpeg, except lowest 10 for really low number of colors".
    extra_low_quality_fudge = max(0.0, 0.016 / (0.001 + quality) - 0.001)
    internal = (
        extra_low_quality_fudge
        + 2.5 / (210.0 + quality) ** 1.2 * (100.1 - quality) / 100.0
    )
    return internal * 65536.0 / 6.0


def fewest_colours(fit, error, most, target):
    """The palette of the fewest colours, up to ``most``, whose error is at
    most ``target``, by bisection; the palette of ``most`` colours if none.

    Parameters
    ----------
    fit : callable
        ``fit(n)`` is the palette of at most ``n`` colours.
    error : callable
        ``error(palette)`` is its error.
    most : int
        The most colours, at least 2.
    target : float

    Returns
    -------
    palette, error : the palette found and its error.

    Notes
    -----
    Exact when the error never grows with more colours, as for the optimal
    gray levels of the exact 1-D k-means: the bisection then returns the
    fewest colours reaching ``target``. For colour k-means, a heuristic,
    the error is nearly but not exactly monotone.
    """
    palette = fit(most)
    found = (palette, error(palette))
    if found[1] > target:
        return found
    low, high = 2, most
    while low < high:
        middle = (low + high) // 2
        palette = fit(middle)
        mse = error(palette)
        if mse <= target:
            high, found = middle, (palette, mse)
        else:
            low = middle + 1
    return found
