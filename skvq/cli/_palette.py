"""The palette of an image, and the codes of its pixels.

Everything here goes through skvq's public core (:func:`skvq.learn_codebook`,
:func:`skvq.encode`, :func:`skvq.dither`, :class:`skvq.Codebook`) and the one
palette module for transparency, :mod:`skvq._transparency`.
"""

from dataclasses import dataclass

import numpy as np

from .._quantize import (
    Codebook,
    dither,
    encode,
    learn_codebook,
    mean_squared_error,
    merge_summaries,
    summarize,
)
from .._transparency import (
    OPAQUE,
    exact_alpha_codes,
    palette_from_centres,
    premultiply,
    visible_features,
)
from ._read import with_channels
from ._write import FileError

# Pixels summarised at a time for images with alpha, whose features are
# float64 copies: bounds their memory whatever the image's size.
_BLOCK_PIXELS = 1 << 18


@dataclass
class Palette:
    """The colours of one or more outputs, and how pixels find theirs.

    ``entries`` are what the file holds: 8-bit values (as float64), colours
    followed by alpha if any, not premultiplied. ``codebook`` finds the code
    of a pixel on the scale the pixels are coded on: the picture's own
    (0..65535 for 16-bit inputs) without alpha, premultiplied colours and
    alpha on the 0..255 scale with alpha.
    """

    entries: np.ndarray
    codebook: Codebook
    alpha: bool
    scale: int = 1

    @property
    def n_channels(self):
        return self.entries.shape[1]

    @property
    def shown(self):
        """The entries as errors are measured (premultiplied with alpha)."""
        return premultiply(self.entries) if self.alpha else self.entries

    def coded(self, pixels):
        """``pixels`` on the scale of ``codebook``.

        With alpha, 8-bit pixels are premultiplied and rounded back to
        uint8 (a quarter of float64's memory, and errors of at most half a
        level, far below the palette's), by blocks of rows.
        """
        if not self.alpha:
            return pixels
        if self.scale != 1:
            return premultiply(on_8_bit_scale(pixels, self.scale))
        out = np.empty_like(pixels)
        rows = max(1, _BLOCK_PIXELS // pixels.shape[1])
        for start in range(0, pixels.shape[0], rows):
            block = premultiply(pixels[start : start + rows])
            np.rint(block, out=block)
            out[start : start + rows] = block
        return out

    def visible(self, pixels):
        """Pixels as errors are measured, on the 0..255 scale."""
        if self.alpha:
            return premultiply(on_8_bit_scale(pixels, self.scale))
        if self.scale == 1:
            return pixels
        return pixels / float(self.scale)

    def encode(self, pixels, strength, method="floyd-steinberg"):
        """Codes of an image of shape (height, width, n_channels)."""
        coded = self.coded(pixels)
        if strength > 0:
            codes = dither(coded, self.codebook, strength=strength, method=method)
        else:
            codes = encode(coded, self.codebook)
        if self.alpha:
            straight = on_8_bit_scale(pixels, self.scale)
            codes = _exact_alpha(codes, straight, self.entries)
        return codes

    def error(self, pixels):
        """MSE (0..255 scale) of every pixel on its nearest codeword, before
        the 8-bit rounding of the entries: what ``--quality`` bounds."""
        mse = mean_squared_error(self.coded(pixels), self.codebook)
        return mse if self.alpha else mse / float(self.scale) ** 2


def on_8_bit_scale(pixels, scale):
    """Colours of a 16-bit picture divided by 257 (alpha is 0..255 already)."""
    if scale == 1:
        return pixels
    out = pixels.astype(np.float64)
    out[..., :-1] /= scale
    return out


def _exact_alpha(codes, pixels, entries):
    """Alpha 0 and 255 kept exactly, when the palette has such entries (a
    fitted palette always does; a --map palette may not); by blocks of
    rows, in place."""
    alpha = pixels[..., -1]
    entry_alpha = entries[:, -1]
    if (np.any(alpha == 0) and not np.any(entry_alpha == 0)) or (
        np.any(alpha == OPAQUE) and not np.any(entry_alpha == OPAQUE)
    ):
        return codes
    height, width, n_channels = pixels.shape
    rows = max(1, _BLOCK_PIXELS // width)
    for start in range(0, height, rows):
        block = slice(start, start + rows)
        codes[block] = exact_alpha_codes(
            codes[block].reshape(-1), pixels[block].reshape(-1, n_channels), entries
        ).reshape(codes[block].shape)
    return codes


def posterized(entries, bits):
    """pngquant's --posterize: each value on 8 - bits significant bits, the
    nearest of ``(v & ~mask) | (v >> (8 - bits))`` over 8-bit ``v``
    (libimagequant's rule; alpha 0 and 255 map to themselves)."""
    if not bits:
        return entries
    values = np.arange(256)
    levels = np.unique((values & ~((1 << bits) - 1)) | (values >> (8 - bits)))
    right = np.clip(np.searchsorted(levels, entries), 1, len(levels) - 1)
    below, above = levels[right - 1], levels[right]
    nearer_above = (above - entries) < (entries - below)
    return np.where(nearer_above, above, below).astype(np.float64)


def _learn(pixels_or_summary, n_colours, n_channels, options):
    return learn_codebook(
        pixels_or_summary,
        n_colours,
        n_channels=n_channels,
        strategy=options.strategy,
        random_state=options.random_state,
    )


def opaque_palette(codebook, scale, posterize):
    """The palette of a codebook fitted to opaque pixels."""
    entries = np.clip(np.rint(codebook.codewords / scale), 0, 255)
    if posterize:
        entries = posterized(entries, posterize)
        codebook = Codebook.from_codewords(entries * scale)
    return Palette(entries, codebook, alpha=False, scale=scale)


def alpha_palette(centres, transparent, opaque, scale, posterize):
    """The palette of centres fitted to visible pixels (see
    :func:`skvq._transparency.palette_from_centres`)."""
    entries = palette_from_centres(centres, transparent=transparent, opaque=opaque)
    if posterize:
        entries = posterized(entries, posterize)
    codebook = Codebook.from_codewords(premultiply(entries))
    return Palette(entries, codebook, alpha=True, scale=scale)


def fit_palette(picture, n_colours, options):
    """The palette of one picture, ``n_colours`` entries at most.

    Warns :class:`skvq.exceptions.FewerCodewordsWarning` (from the core)
    when the picture has fewer distinct colours.
    """
    pixels = picture.pixels
    n_channels = pixels.shape[-1]
    if not picture.has_alpha:
        codebook = _learn(pixels, n_colours, n_channels, options)
        return opaque_palette(codebook, picture.scale, options.posterize)
    alpha = pixels[..., -1]
    transparent = bool(np.any(alpha == 0))
    opaque = bool(np.any(alpha == OPAQUE))
    summary = visible_summary(pixels, picture.scale)
    # One entry for all fully transparent pixels, the others for the
    # visible ones.
    n_fitted = n_colours - transparent
    if summary is None:
        centres = np.empty((0, n_channels))
    elif n_fitted >= 2:
        centres = _learn(summary, n_fitted, n_channels, options).codewords
    else:
        centres = visible_mean(summary)
    return alpha_palette(centres, transparent, opaque, picture.scale, options.posterize)


def visible_summary(pixels, scale):
    """The summary of :func:`skvq._transparency.visible_features` of an
    image with alpha, made by blocks of rows; None if nothing is visible."""
    height, width, n_channels = pixels.shape
    rows = max(1, _BLOCK_PIXELS // width)
    summary = None
    for start in range(0, height, rows):
        block = on_8_bit_scale(pixels[start : start + rows], scale)
        features = visible_features(block.reshape(-1, n_channels))
        if not len(features):
            continue
        if scale == 1:
            # Premultiplied 8-bit colours rounded to integers (at most half a
            # level off): summarised as integers, many times faster than
            # distinct floats, and as the pixels are coded (Palette.coded).
            features = np.rint(features).astype(np.uint16)
        part = summarize(features, n_channels=n_channels)
        summary = part if summary is None else merge_summaries(summary, part)
    return summary


def visible_mean(summary):
    """The mean of the pixels of a summary, as a one-row array."""
    total = np.ldexp(summary.sum.sum(axis=0), summary.value_exponent)
    return (total / summary.weight.sum())[None]


def map_palette(entries, picture):
    """The palette of the colours of a --map file, for ``picture``.

    ``entries``: shape (n_colours, n_channels), 8-bit values; the picture
    is widened to the map's channels (gray to RGB, opaque alpha added).
    """
    n_channels = entries.shape[1]
    if picture.has_alpha and n_channels in (1, 3):
        raise FileError(
            "has transparency, but the --map palette has no alpha; give a "
            "palette with alpha (a tRNS chunk), or flatten the image first"
        )
    picture.pixels = with_channels(picture.pixels, n_channels)
    if n_channels in (2, 4):
        return Palette(
            entries,
            Codebook.from_codewords(premultiply(entries)),
            alpha=True,
            scale=picture.scale,
        )
    codebook = Codebook.from_codewords(entries * picture.scale)
    return Palette(entries, codebook, alpha=False, scale=picture.scale)
