"""Test frames of animations, shared by test_quantize.py (one codebook for
many frames) and test_animation.py (frames in and out through Pillow)."""

import numpy as np


def moving_frames(image, n_frames=6, step=5, size=(48, 64)):
    """Frames of a crop moving right over a still copy of ``image``."""
    height, width = size
    frames = []
    for k in range(n_frames):
        frame = image[:height, :width].copy()
        x = 8 + k * step
        frame[10:30, 5:25] = image[100:120, 200 + x : 220 + x]
        frames.append(frame)
    return np.stack(frames)
