"""The palette of an image, and the codes of its pixels.

Everything here goes through skvq's public core (:func:`skvq.learn_codebook`,
:func:`skvq.encode`, :func:`skvq.dither`, :class:`skvq.Codebook`) and the one
palette module for transparency, :mod:`skvq._transparency`.

``--color-space oklab`` (the command's default) learns, codes and dithers
RGB colours in Oklab through the core's ``color_space="oklab"``. Oklab is
defined for colours only, on the 0..255 sRGB scale, so:

- gray images are coded in their own values (one channel has no Oklab);
- 16-bit RGB pictures are fitted and coded on their values divided by 257
  (floats on the 0..255 scale, unrounded);
- RGBA images whose alpha is only 0 or 255 get one transparent entry and
  opaque entries fitted in Oklab to the opaque pixels' colours;
- images with translucent pixels are fitted on premultiplied colours and
  alpha, in sRGB units, as with ``--color-space rgb``: a premultiplied
  colour with its alpha has no Oklab value (see :func:`working_space`).
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
    smoothness_weights,
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
    # "oklab": ``codebook`` is an Oklab codebook of sRGB codewords on the
    # 0..255 scale, whatever ``scale``; with ``alpha``, of the opaque
    # entries only (the image's alpha is only 0 or 255).
    color_space: str = "rgb"

    @property
    def _opaque_oklab(self):
        return self.alpha and self.color_space == "oklab"

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
            if self.color_space == "oklab" and self.scale != 1:
                return pixels / float(self.scale)
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
        if self._opaque_oklab:
            return self._encode_opaque_oklab(pixels, strength)
        coded = self.coded(pixels)
        if strength > 0:
            codes = dither(coded, self.codebook, strength=strength, method=method)
        else:
            codes = encode(coded, self.codebook)
        if self.alpha:
            straight = on_8_bit_scale(pixels, self.scale)
            codes = _exact_alpha(codes, straight, self.entries)
        return codes

    def _encode_opaque_oklab(self, pixels, strength):
        """Codes of an image whose alpha is only 0 and 255, with an Oklab
        codebook of its opaque entries (which follow the transparent one,
        if any, in ``entries``)."""
        straight = on_8_bit_scale(pixels, self.scale)
        colours = straight[..., :-1]
        hidden = straight[..., -1] == 0
        first = int(self.entries[0, -1] == 0)  # the transparent entry
        if hidden.any():
            # Transparent pixels take the colour of an entry, which they
            # code to with no error of their own to diffuse; they are then
            # put on the transparent entry.
            colours = colours.copy()
            colours[hidden] = self.entries[first, :-1]
        if strength > 0:
            codes = dither(colours, self.codebook, strength=strength)
        else:
            codes = encode(colours, self.codebook)
        codes = codes.astype(np.uint8) + np.uint8(first)
        codes[hidden] = 0
        return codes

    def error(self, pixels):
        """MSE (0..255 scale) of every pixel on its nearest codeword, before
        the 8-bit rounding of the entries: what ``--quality`` bounds."""
        if self._opaque_oklab:
            codes = self.encode(pixels, 0.0)
            difference = self.shown[codes] - self.visible(pixels)
            return float(np.mean(np.square(difference)))
        mse = mean_squared_error(self.coded(pixels), self.codebook)
        if self.alpha or self.color_space == "oklab":
            return mse  # coded on the 0..255 scale already
        return mse / float(self.scale) ** 2


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


def working_space(color_space, n_channels, translucent=False):
    """The space an image is quantized in under ``--color-space``.

    Oklab is defined for RGB colours: "oklab" gives "oklab" for RGB images,
    and for RGBA images without ``translucent`` pixels (alpha strictly
    between 0 and 255); "rgb" otherwise (gray images, premultiplied
    translucent colours), in which the image's own values are fitted.
    """
    if color_space == "oklab" and (
        n_channels == 3 or (n_channels == 4 and not translucent)
    ):
        return "oklab"
    return "rgb"


def learn(
    pixels_or_summary,
    n_colours,
    options,
    *,
    n_channels=None,
    space="rgb",
    sample_weight=None,
):
    """:func:`skvq.learn_codebook` with the command's options; ``space``
    from :func:`working_space`."""
    return learn_codebook(
        pixels_or_summary,
        n_colours,
        sample_weight=sample_weight,
        n_channels=n_channels or 1,
        strategy=options.strategy,
        random_state=options.random_state,
        color_space=space,
    )


def colour_weights(pixels, scale):
    """Weights of the pixels of an image of shape (height, width, channels)
    whose values are ``scale`` times the 0..255 scale, for fitting its
    palette: :func:`skvq.smoothness_weights` of its colour channels for
    colour images (colours in smooth areas count more, where errors show;
    chosen by SSIMULACRA2 in benchmarks/bench_pngquant.py), None for gray
    ones, whose levels stay the exact minimum of the plain squared error."""
    if pixels.shape[-1] < 3:
        return None
    return smoothness_weights(pixels[..., :3], n_channels=3, scale=16.0 * scale)


def opaque_palette(codebook, scale, posterize):
    """The palette of a codebook fitted to opaque pixels (an Oklab codebook
    holds codewords on the 0..255 scale, whatever the picture's)."""
    space = codebook.color_space
    fitted_scale = 1 if space == "oklab" else scale
    entries = np.clip(np.rint(codebook.codewords / fitted_scale), 0, 255)
    if posterize:
        entries = posterized(entries, posterize)
        codebook = Codebook.from_codewords(entries * fitted_scale, color_space=space)
    return Palette(entries, codebook, alpha=False, scale=scale, color_space=space)


def opaque_oklab_palette(codebook, transparent, scale, posterize):
    """The palette of an image whose alpha is only 0 and 255: the
    transparent entry if ``transparent``, then the opaque colours of an
    Oklab ``codebook`` fitted to the opaque pixels, which code by the
    rounded (and posterized) entries."""
    colours = np.clip(np.rint(codebook.codewords), 0, 255)
    if posterize:
        colours = posterized(colours, posterize)
    entries = np.column_stack([colours, np.full(len(colours), OPAQUE)])
    if transparent:
        entries = np.vstack([np.zeros((1, 4)), entries])
    return Palette(
        entries,
        Codebook.from_codewords(colours, color_space="oklab"),
        alpha=True,
        scale=scale,
        color_space="oklab",
    )


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
        space = working_space(options.color_space, n_channels)
        scale = picture.scale
        if space == "oklab" and picture.scale != 1:
            pixels, scale = pixels / float(picture.scale), 1
        codebook = learn(
            pixels.reshape(-1, n_channels),  # one weight per pixel
            n_colours,
            options,
            n_channels=n_channels,
            space=space,
            sample_weight=colour_weights(pixels, scale),
        )
        return opaque_palette(codebook, picture.scale, options.posterize)
    alpha = pixels[..., -1]
    transparent = bool(np.any(alpha == 0))
    opaque = bool(np.any(alpha == OPAQUE))
    translucent = not np.all((alpha == 0) | (alpha == OPAQUE))
    if opaque and working_space(options.color_space, n_channels, translucent) == (
        "oklab"
    ):
        colours = on_8_bit_scale(pixels[alpha == OPAQUE], picture.scale)[:, :-1]
        n_fitted = max(1, n_colours - transparent)
        if n_fitted >= 2:
            weights = colour_weights(pixels, picture.scale)[(alpha == OPAQUE).ravel()]
            codebook = learn(
                colours,
                n_fitted,
                options,
                n_channels=3,
                space="oklab",
                sample_weight=weights,
            )
        else:
            mean = np.mean(colours, axis=0, dtype=np.float64)[None]
            codebook = Codebook.from_codewords(mean, color_space="oklab")
        return opaque_oklab_palette(
            codebook, transparent, picture.scale, options.posterize
        )
    summary = visible_summary(pixels, picture.scale)
    # One entry for all fully transparent pixels, the others for the
    # visible ones.
    n_fitted = n_colours - transparent
    if summary is None:
        centres = np.empty((0, n_channels))
    elif n_fitted >= 2:
        centres = learn(summary, n_fitted, options).codewords
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


def map_palette(entries, picture, color_space="rgb"):
    """The palette of the colours of a --map file, for ``picture``; RGB
    pixels find their nearest entry in ``color_space`` (a palette with alpha
    codes in premultiplied sRGB).

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
    space = working_space(color_space, n_channels, translucent=True)
    if n_channels in (2, 4):
        return Palette(
            entries,
            Codebook.from_codewords(premultiply(entries)),
            alpha=True,
            scale=picture.scale,
        )
    if space == "oklab":
        codebook = Codebook.from_codewords(entries, color_space="oklab")
    else:
        codebook = Codebook.from_codewords(entries * picture.scale)
    return Palette(
        entries, codebook, alpha=False, scale=picture.scale, color_space=space
    )
