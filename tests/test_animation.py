"""Animations (skvq._animation): frames in and out through Pillow, every
frame, its timing, loop and disposal. (One codebook for many frames,
learn_codebook_from_frames and dither_frames of skvq._quantize, is tested
in test_quantize.py.)"""

import io
import os
import struct
from contextlib import nullcontext

import numpy as np
import pytest
from frames import moving_frames
from numpy.testing import assert_array_equal
from PIL import Image

from skvq import (
    dither,
    iter_frames,
    learn_codebook,
    learn_codebook_from_frames,
    read_animation,
    read_animation_info,
    write_animation,
)

# ---------------------------------------------------------------- round trip


def quantized(face_color, n_bins=24, transparent=False):
    """Codes of moving frames and their RGB(A) palette."""
    frames = moving_frames(face_color)
    codebook = learn_codebook_from_frames(frames, n_bins=n_bins, random_state=0)
    codes = np.stack([dither(f, codebook, method="blue-noise") for f in frames])
    palette = np.clip(np.rint(codebook.codewords), 0, 255)
    if transparent:
        # A transparent entry, and a transparent hole in every frame.
        palette = np.vstack([np.hstack([palette, np.full((n_bins, 1), 255)]), [0] * 4])
        codes[:, :6, :9] = n_bins
    return codes, palette


@pytest.mark.parametrize("suffix", [".gif", ".png", ".apng"])
@pytest.mark.parametrize("transparent", [False, True])
def test_round_trip_through_pillow(suffix, transparent, face_color, tmp_path):
    codes, palette = quantized(face_color, transparent=transparent)
    durations = [40, 60, 80, 100, 120, 140]
    path = tmp_path / f"anim{suffix}"
    write_animation(path, codes, palette, durations=durations, loop=0)
    info = read_animation_info(path)
    assert info.n_frames == len(codes)
    assert info.durations == tuple(durations)
    assert info.loop == 0
    assert info.has_transparency == transparent
    # Pillow itself (no skvq code) composites every frame as a viewer would.
    with Image.open(path) as image:
        assert image.format == ("GIF" if suffix == ".gif" else "PNG")
        for index in range(len(codes)):
            image.seek(index)
            shown = np.asarray(image.convert("RGBA"))
            expected = palette[codes[index]]
            if not transparent:
                assert_array_equal(shown[..., :3], expected)
                assert np.all(shown[..., 3] == 255)
            else:
                opaque = expected[..., 3] == 255
                assert_array_equal(shown[opaque], expected[opaque])
                assert np.all(shown[~opaque][:, 3] == 0)
    frames, _ = read_animation(path)
    assert frames.shape == (*codes.shape, 4 if transparent else 3)


def test_gif_with_a_palette_per_frame(face_color, tmp_path):
    frames = moving_frames(face_color, n_frames=4)
    codebooks = [learn_codebook(f, n_bins=12, n_channels=3) for f in frames]
    codes = [
        dither(frame, codebook, method="bayer")
        for frame, codebook in zip(frames, codebooks, strict=True)
    ]
    palettes = [np.clip(np.rint(c.codewords), 0, 255) for c in codebooks]
    path = tmp_path / "local.gif"
    write_animation(path, iter(codes), palettes, durations=50)
    shown, info = read_animation(path)
    assert info.n_frames == 4
    for index in range(4):
        assert_array_equal(shown[index], palettes[index][codes[index]])


def test_a_palette_per_frame_must_match_the_frames(tmp_path):
    codes = np.zeros((3, 2, 2), dtype=np.uint8)
    palettes = [[[0], [255]]] * 2
    with pytest.raises(ValueError, match="2 palettes for 3 frames"):
        write_animation(tmp_path / "a.gif", codes, palettes, durations=5)
    with pytest.raises(ValueError, match="more frames than palette has palettes"):
        write_animation(tmp_path / "a.gif", iter(codes), palettes, durations=5)
    with pytest.raises(ValueError, match="an APNG has one palette"):
        write_animation(tmp_path / "a.png", codes, [[[0], [255]]] * 3, durations=5)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("loop", [None, 0, 1, 5])
@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_loop_count_is_kept(loop, suffix, tmp_path):
    codes = np.array([[[0, 1]], [[1, 0]]])
    path = tmp_path / f"loop{suffix}"
    write_animation(path, codes, [[0], [255]], durations=50, loop=loop)
    assert read_animation_info(path).loop == loop


def test_disposal_is_kept_in_gif(tmp_path):
    codes = np.array([[[0, 1]], [[1, 0]], [[1, 1]]])
    disposal = ("none", "background", "previous")
    path = tmp_path / "disposal.gif"
    write_animation(path, codes, [[0], [255]], durations=50, disposal=disposal)
    assert read_animation_info(path).disposal == disposal


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_repeated_frames_are_stored_once_with_their_durations_added(suffix, tmp_path):
    codes = np.array([[[0, 1]], [[1, 0]], [[1, 0]], [[1, 0]], [[0, 0]]])
    path = tmp_path / f"repeat{suffix}"
    write_animation(path, codes, [[0], [255]], durations=[10, 20, 30, 40, 50])
    info = read_animation_info(path)
    assert info.durations == (10, 90, 50)


def test_frames_from_an_iterator_are_written(face_color, tmp_path):
    codes, palette = quantized(face_color)
    path = tmp_path / "lazy.gif"
    write_animation(path, iter(codes), palette, durations=[30] * len(codes))
    frames, info = read_animation(path)
    assert info.n_frames == len(codes)
    assert_array_equal(frames, palette[codes])


@pytest.mark.parametrize("image_format", ["WEBP", "TIFF"])
def test_webp_and_tiff_frames_are_read(image_format, face_color, tmp_path):
    frames = moving_frames(face_color, n_frames=4)
    path = tmp_path / f"anim.{image_format.lower()}"
    images = [Image.fromarray(frame) for frame in frames]
    options = {"lossless": True} if image_format == "WEBP" else {}
    images[0].save(
        path,
        format=image_format,
        save_all=True,
        append_images=images[1:],
        duration=[70, 80, 90, 100],
        loop=0,
        **options,
    )
    read, info = read_animation(path)
    assert_array_equal(read, frames)
    assert info.n_frames == 4
    if image_format == "WEBP":
        assert info.durations == (70, 80, 90, 100)
        assert info.loop == 0
    assert not info.has_transparency
    assert [f.shape for f in iter_frames(path)] == [frames[0].shape] * 4


# ---------------------------------------------------------------- bad input


def small_gif():
    file = io.BytesIO()
    codes = np.random.RandomState(0).randint(0, 4, size=(5, 40, 40))
    write_animation(file, codes, [[0], [80], [160], [255]], durations=20, format="GIF")
    return file.getvalue()


def test_truncated_animation_is_refused(tmp_path):
    data = small_gif()
    path = tmp_path / "cut.gif"
    path.write_bytes(data[: int(len(data) * 0.7)])
    with pytest.raises(ValueError, match=r"cut\.gif is truncated or damaged"):
        read_animation(path)


def test_not_an_image_is_refused(tmp_path):
    path = tmp_path / "text.gif"
    path.write_bytes(b"GIF? no, just text")
    with pytest.raises(ValueError, match="is not an image Pillow can read"):
        read_animation_info(path)


def test_too_many_frames_and_pixels_are_refused(tmp_path):
    path = tmp_path / "five.gif"
    path.write_bytes(small_gif())
    with pytest.raises(ValueError, match=r"has 5 frames, more than the 4 allowed"):
        read_animation_info(path, max_frames=4)
    with pytest.raises(ValueError, match=r"8000 in all, more than the 7999 allowed"):
        read_animation(path, max_total_pixels=7999)
    assert read_animation_info(path, max_frames=5).n_frames == 5


def gif_of_size(width, height):
    """A GIF whose screen is ``width`` x ``height`` and whose one frame is a
    single pixel: a few bytes that would decode to a huge image."""
    data = b"GIF89a" + struct.pack("<HH", width, height) + bytes([0x80, 0, 0])
    data += bytes([0, 0, 0, 255, 255, 255])  # a global table of two colours
    data += b"," + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00"
    return data + b"\x02\x02\x44\x01\x00;"


@pytest.mark.parametrize("side", [10_000, 20_000])
def test_decompression_bomb_is_refused(side, tmp_path):
    # 10,000 x 10,000 is above Pillow's limit (Pillow only warns), 20,000 x
    # 20,000 above twice its limit (Pillow refuses).
    path = tmp_path / "bomb.gif"
    path.write_bytes(gif_of_size(side, side))
    with (
        pytest.warns(Image.DecompressionBombWarning)
        if side == 10_000
        else nullcontext()
    ):
        with pytest.raises(
            ValueError, match=r"bomb\.gif is refused as a possible decompression bomb"
        ):
            read_animation_info(path)
    path.write_bytes(gif_of_size(30, 20))
    assert read_animation_info(path).width == 30


def test_tiff_pages_of_another_size_or_depth_are_refused(tmp_path):
    path = tmp_path / "sizes.tiff"
    first = Image.new("RGB", (20, 10))
    first.save(path, save_all=True, append_images=[Image.new("RGB", (20, 11))])
    with pytest.raises(
        ValueError, match="frame 2 is 20 x 11 pixels, frame 1 is 20 x 10"
    ):
        read_animation(path)
    path = tmp_path / "depth.tiff"
    deep = Image.fromarray(np.zeros((10, 20), dtype=np.uint16))
    first.save(path, save_all=True, append_images=[deep])
    with pytest.raises(ValueError, match="frame 2 has mode 'I;16'"):
        read_animation(path)


def leftovers(folder):
    return sorted(os.listdir(folder))


def test_bad_frames_leave_nothing_written(tmp_path):
    good = np.zeros((3, 4, 5), dtype=np.uint8)
    path = tmp_path / "out.gif"

    def frames(last):
        yield good[0]
        yield good[1]
        yield last

    for last, error, match in [
        (np.zeros((4, 6), dtype=np.uint8), ValueError, "frame 3 of codes has shape"),
        (np.full((4, 5), 9), ValueError, "codes from 9 to 9"),
        (np.zeros((4, 5)), TypeError, "frame 3 has dtype float64"),
    ]:
        with pytest.raises(error, match=match):
            write_animation(path, frames(last), [[0], [255]], durations=10)
        assert leftovers(tmp_path) == []
    with pytest.raises(ValueError, match="holds no frame"):
        write_animation(path, iter([]), [[0], [255]], durations=10)
    with pytest.raises(ValueError, match=r"shape \(n_frames, height, width\)"):
        write_animation(path, np.zeros((0, 4, 5), int), [[0], [255]], durations=10)
    with pytest.raises(ValueError, match=r"one per frame \(3\), got 2"):
        write_animation(path, good, [[0], [255]], durations=[10, 20])
    with pytest.raises(ValueError, match="durations has 2 values but codes has"):
        write_animation(path, iter(good), [[0], [255]], durations=[10, 20])
    assert leftovers(tmp_path) == []


def test_existing_file_is_not_overwritten_unless_asked(tmp_path):
    path = tmp_path / "old.gif"
    path.write_bytes(b"old")
    codes = np.zeros((2, 3, 3), dtype=np.uint8)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_animation(path, codes, [[0], [255]], durations=10)
    assert path.read_bytes() == b"old"
    write_animation(path, codes, [[0], [255]], durations=10, overwrite=True)
    assert read_animation_info(path).format == "GIF"


def test_gif_refuses_translucent_colours(tmp_path):
    codes = np.zeros((2, 3, 3), dtype=np.uint8)
    translucent = [[0, 0, 0, 128], [255, 255, 255, 255]]
    with pytest.raises(ValueError, match="Write an APNG"):
        write_animation(tmp_path / "a.gif", codes, translucent, durations=10)
    write_animation(tmp_path / "a.png", codes, translucent, durations=10)
    frames, info = read_animation(tmp_path / "a.png")
    assert info.has_transparency
    assert np.all(frames[..., 3] == 128)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"format": "WEBP"}, ValueError, "format must be 'GIF' or 'PNG'"),
        ({"loop": -1}, ValueError, "loop must be None"),
        ({"disposal": ["none", "clear"]}, ValueError, "disposal must hold"),
        ({"durations": "fast"}, TypeError, "durations must be numbers"),
        ({"durations": -5}, ValueError, "non-negative"),
    ],
)
def test_bad_options_are_refused(options, error, match, tmp_path):
    codes = np.zeros((2, 3, 3), dtype=np.uint8)
    arguments = {"durations": 10, **options}
    with pytest.raises(error, match=match):
        write_animation(tmp_path / "x.gif", codes, [[0], [255]], **arguments)
    assert leftovers(tmp_path) == []


def test_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"written as \.gif, \.png or \.apng"):
        write_animation(
            tmp_path / "x.mp4", np.zeros((1, 2, 2), int), [[0]], durations=1
        )
