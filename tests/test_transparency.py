"""The palette maths of images with transparency (skvq._transparency)."""

import numpy as np

from skvq._transparency import (
    OPAQUE_GAP,
    exact_alpha_codes,
    palette_from_centres,
    premultiply,
    visible_features,
)


def test_premultiply_scales_colours_by_alpha_and_copies():
    pixels = np.array([[200, 100, 51], [10, 20, 0], [255, 255, 255]], np.uint8)
    rgba = np.column_stack([pixels, [255, 0, 51]])
    before = rgba.copy()
    np.testing.assert_allclose(
        premultiply(rgba),
        [[200, 100, 51, 255], [0, 0, 0, 0], [51, 51, 51, 51]],
    )
    np.testing.assert_array_equal(rgba, before)


def test_visible_features_drop_transparent_pixels_and_lift_opaque_ones():
    rgba = np.array([[10, 20, 30, 0], [10, 20, 30, 255], [100, 0, 50, 51]])
    features = visible_features(rgba)
    np.testing.assert_allclose(
        features, [[10, 20, 30, 255 + OPAQUE_GAP], [20, 0, 10, 51]]
    )


def test_palette_from_centres_snaps_alpha_and_unpremultiplies():
    centres = np.array(
        [
            [20.0, 0.0, 10.0, 51.0],  # translucent: colour 100, 0, 50
            [10.0, 20.0, 30.0, 255 + OPAQUE_GAP - 3],  # mostly opaque
            [0.4, 0.4, 0.4, 1.2],  # nearly transparent, stays visible
            [250.0, 250.0, 250.0, 254.8],  # nearly opaque, stays translucent
        ]
    )
    palette = palette_from_centres(centres, transparent=True, opaque=True)
    np.testing.assert_array_equal(
        palette,
        [
            [0, 0, 0, 0],
            [85, 85, 85, 1],
            [100, 0, 50, 51],
            [250, 250, 250, 254],
            [10, 20, 30, 255],
        ],
    )


def test_palette_from_centres_makes_an_opaque_entry_when_some_pixels_are():
    centres = np.array([[10.0, 100.0], [100.0, 200.0]])
    palette = palette_from_centres(centres, transparent=False, opaque=True)
    np.testing.assert_array_equal(palette[:, 1], [100, 255])
    palette = palette_from_centres(centres, transparent=False, opaque=False)
    np.testing.assert_array_equal(palette[:, 1], [100, 200])


def test_exact_alpha_codes_moves_only_pixels_of_alpha_0_and_255():
    palette = np.array(
        [[0, 0, 0, 0], [200, 0, 0, 128], [10, 10, 10, 255], [250, 0, 0, 255]], float
    )
    pixels = np.array(
        [
            [90, 90, 90, 0],  # transparent, coded as visible: to entry 0
            [255, 0, 0, 255],  # opaque on the translucent red: nearest opaque
            [0, 0, 0, 255],  # opaque on the transparent entry
            [200, 0, 0, 100],  # translucent: kept
            [0, 0, 0, 3],  # translucent on the transparent entry: kept
        ]
    )
    codes = np.array([2, 1, 0, 3, 0], np.uint8)
    before = codes.copy()
    np.testing.assert_array_equal(
        exact_alpha_codes(codes, pixels, palette), [0, 3, 2, 3, 0]
    )
    np.testing.assert_array_equal(codes, before)
