"""Palettes for images with transparency: errors weighted by visibility.

A pixel of colour ``c`` and alpha ``a`` (both on the 0..255 scale) drawn over
a background ``b`` shows ``c * a / 255 + b * (1 - a / 255)``. Two pixels
differ on screen by the difference of their *premultiplied* colours
``c * a / 255`` plus the difference of their alphas times the background, so
a colour error counts in proportion to the pixel's visibility and the
colours of fully transparent pixels do not count at all. libimagequant
(pngquant) measures errors the same way; see Porter & Duff (1984),
"Compositing digital images", for premultiplied alpha.

An image with alpha gets its palette here as follows:

- every fully transparent pixel (alpha 0) takes one shared entry of alpha 0:
  in premultiplied terms they are all the same pixel, ``(0, ..., 0)``;
- the other entries are fitted, by the caller's quantizer, to the
  premultiplied visible pixels (:func:`visible_features`), in which opaque
  pixels are moved ``OPAQUE_GAP`` further along the alpha axis, so that a
  cell mixing opaque and translucent pixels costs at least ``OPAQUE_GAP**2``
  per pixel moved (the error of a full-scale change of one channel) and
  cells come out either opaque or translucent;
- each fitted centre becomes an opaque entry (alpha exactly 255) or a
  translucent one (alpha 1 to 254) with the colour it shows
  (:func:`palette_from_centres`);
- codes are found in premultiplied terms (:func:`premultiply`), and
  :func:`exact_alpha_codes` then maps every fully transparent pixel to the
  transparent entry and every opaque pixel to the nearest opaque entry, so
  alpha 0 and 255 are kept exactly whatever the encoder (error diffusion
  included) chose.
"""

import numpy as np

from ._encode import nearest_codeword

OPAQUE = 255.0
# How far opaque pixels are moved along the alpha axis while the palette is
# fitted (see the module docstring).
OPAQUE_GAP = 255.0


def premultiply(pixels):
    """Colours times alpha / 255, and alpha, as float64.

    Parameters
    ----------
    pixels : ndarray of shape (..., n_channels)
        Gray or RGB colours followed by alpha, on the 0..255 scale.

    Returns
    -------
    premultiplied : ndarray of shape (..., n_channels), dtype float64
    """
    out = np.array(pixels, dtype=np.float64)
    out[..., :-1] *= out[..., -1:] / OPAQUE
    return out


def visible_features(pixels):
    """The pixels a palette is fitted to: visible ones, premultiplied, with
    the opaque ones moved ``OPAQUE_GAP`` further along the alpha axis.

    Parameters
    ----------
    pixels : ndarray of shape (n_pixels, n_channels)
        Colours followed by alpha, on the 0..255 scale.

    Returns
    -------
    features : ndarray of shape (n_visible, n_channels), dtype float64
        One row per pixel of nonzero alpha, in order.
    """
    alpha = pixels[:, -1]
    features = premultiply(pixels[alpha > 0])
    features[features[:, -1] == OPAQUE, -1] += OPAQUE_GAP
    return features


def palette_from_centres(centres, *, transparent, opaque):
    """The 8-bit palette (straight colours and alpha) of fitted centres.

    Parameters
    ----------
    centres : ndarray of shape (n_centres, n_channels)
        Centres fitted to :func:`visible_features`; may be empty.
    transparent : bool
        Whether the image has fully transparent pixels: the palette then
        starts with their entry, ``(0, ..., 0)``.
    opaque : bool
        Whether the image has opaque pixels: at least one entry is then
        opaque, the centre of largest alpha if none is nearer the opaque
        side of the gap.

    Returns
    -------
    palette : ndarray of shape (transparent + n_centres, n_channels)
        Integer values in [0, 255], as float64, ordered by alpha (the
        transparent entry first, opaque entries last): entries of alpha 255
        at the end need no byte in a PNG file's ``tRNS`` chunk. An entry has
        alpha 0 only if it is the transparent entry, and alpha 255 only if
        its centre was opaque.
    """
    centres = np.asarray(centres, dtype=np.float64)
    height = centres[:, -1]
    is_opaque = height >= OPAQUE + OPAQUE_GAP / 2
    if opaque and centres.shape[0] and not is_opaque.any():
        is_opaque[np.argmax(height)] = True
    # An opaque centre's colour is the mean of straight colours (premultiplied
    # by 1); a translucent one's, divided by its alpha, is the alpha-weighted
    # mean colour of its pixels. (Centres of visible pixels have alpha >= 1;
    # one between 255 and the middle of the gap mixes in opaque pixels.)
    divisor = np.where(is_opaque, OPAQUE, np.clip(height, 1.0, OPAQUE))
    colour = centres[:, :-1] * (OPAQUE / divisor)[:, None]
    entries = np.column_stack([colour, np.where(is_opaque, OPAQUE, height)])
    entries = np.clip(np.rint(entries), 0.0, OPAQUE)
    # Rounding must not make a translucent entry transparent or opaque.
    entries[~is_opaque, -1] = np.clip(entries[~is_opaque, -1], 1.0, OPAQUE - 1.0)
    entries = entries[np.argsort(entries[:, -1], kind="stable")]
    if transparent:
        entries = np.vstack([np.zeros((1, centres.shape[1])), entries])
    return entries


def exact_alpha_codes(codes, pixels, palette):
    """``codes`` with transparent pixels on the transparent entry and opaque
    pixels on the nearest opaque entry; other codes are kept.

    Parameters
    ----------
    codes : ndarray of int, shape (n_pixels,)
        Codes into ``palette``, for example found in premultiplied terms by
        error diffusion, which may put a pixel of alpha 0 or 255 on an entry
        of another alpha.
    pixels : ndarray of shape (n_pixels, n_channels)
        Straight colours followed by alpha, on the 0..255 scale.
    palette : ndarray of shape (n_colours, n_channels)
        From :func:`palette_from_centres`.

    Returns
    -------
    codes : ndarray
        A copy of ``codes`` in which every pixel of alpha 0 or 255 has an
        entry of the same alpha.
    """
    codes = np.array(codes)
    alpha = pixels[:, -1]
    entry_alpha = palette[codes, -1]
    transparent = (alpha == 0) & (entry_alpha != 0)
    if transparent.any():
        codes[transparent] = np.flatnonzero(palette[:, -1] == 0)[0]
    opaque = (alpha == OPAQUE) & (entry_alpha != OPAQUE)
    if opaque.any():
        opaque_entries = np.flatnonzero(palette[:, -1] == OPAQUE)
        nearest = nearest_codeword(
            pixels[opaque, :-1], palette[opaque_entries, :-1], np.uint8
        )
        codes[opaque] = opaque_entries[nearest]
    return codes
