"""Animated inputs through ``skvq quantize`` (skvq/cli/_animation.py); named
test_cli_animation so as not to clash with tests/test_animation.py (the
library's), as pytest imports test modules by their basename."""

import numpy as np
import pytest
from cli_images import digest, run
from PIL import Image

from skvq import learn_codebook


def clip_frames(n_frames=6, height=30, width=40, alpha=False):
    """A still gradient with a red square moving right: static pixels
    everywhere but along the square's path. With ``alpha``, the left
    quarter is fully transparent."""
    rows, columns = np.mgrid[0:height, 0:width]
    background = np.dstack(
        [rows * 255 // height, columns * 255 // width, np.full_like(rows, 90)]
    ).astype(np.uint8)
    frames = []
    for index in range(n_frames):
        frame = background.copy()
        frame[5:12, 10 + 3 * index : 17 + 3 * index] = [230, 20, 20]
        if alpha:
            frame = np.dstack([frame, np.full((height, width), 255, np.uint8)])
            frame[:, : width // 4, 3] = 0
        frames.append(frame)
    return frames


def save_clip(path, frames, **options):
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:], **options)
    return path


def decoded(path):
    """Every frame of an output as Pillow composites it, RGBA."""
    with Image.open(path) as image:
        frames = []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGBA")))
        return image.format, frames, image.info


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_round_trip_keeps_frames_durations_and_loop(tmp_path, capsys, suffix):
    durations = [40, 60, 80, 100, 120, 140]
    source = save_clip(
        tmp_path / f"clip{suffix}", clip_frames(), duration=durations, loop=2
    )
    status, out, err = run(capsys, "quantize", source, "-n", 16, "-o", tmp_path / "o")
    assert status == 0, err
    output = tmp_path / "o" / f"clip{suffix}"
    image_format, frames, _ = decoded(output)
    assert image_format == ("GIF" if suffix == ".gif" else "PNG")
    assert len(frames) == 6
    with Image.open(output) as image:
        shown = []
        for index in range(image.n_frames):
            image.seek(index)
            shown.append(image.info["duration"])
        loop = image.info["loop"]
    with Image.open(source) as image:
        # GIF's repeat count, or APNG's number of plays: each as the input's
        assert loop == image.info["loop"] == 2
    assert shown == durations
    assert f"clip{suffix}" in out


@pytest.mark.parametrize("suffix", [".webp", ".tif"])
def test_webp_and_tiff_animations_become_apng(tmp_path, capsys, suffix):
    source = save_clip(tmp_path / f"clip{suffix}", clip_frames(), duration=80)
    status, _, err = run(capsys, "quantize", source, "-n", 16, "-o", tmp_path / "o")
    assert status == 0, err
    image_format, frames, _ = decoded(tmp_path / "o" / "clip.png")
    assert image_format == "PNG"
    assert len(frames) == 6


def test_transparent_pixels_share_one_transparent_entry(tmp_path, capsys):
    frames = clip_frames(alpha=True)
    source = save_clip(tmp_path / "clip.png", frames, duration=50)
    output = tmp_path / "clip.gif"
    status, _, err = run(capsys, "quantize", source, "-n", 8, "--output", output)
    assert status == 0, err
    _, shown, _ = decoded(output)
    assert len(shown) == len(frames)
    for frame, result in zip(frames, shown, strict=True):
        transparent = frame[..., 3] == 0
        assert np.all(result[transparent, 3] == 0)
        assert np.all(result[~transparent, 3] == 255)
        # 7 colours for the opaque pixels, one entry for the transparent ones
        assert len(np.unique(result[~transparent, :3], axis=0)) <= 7


def test_one_palette_is_the_codebook_of_all_frames(tmp_path, capsys):
    frames = clip_frames()
    source = save_clip(tmp_path / "clip.png", frames, duration=50)
    output = tmp_path / "out.png"
    status, _, err = run(
        capsys, "quantize", source, "-n", 12, "--no-dither", "--output", output
    )
    assert status == 0, err
    # The reference: one image made of every frame stacked, fitted at once.
    stacked = np.concatenate(frames).reshape(-1, 3 * frames[0].shape[1])
    expected = np.clip(
        np.rint(
            learn_codebook(stacked, 12, n_channels=3, color_space="oklab").codewords
        ),
        0,
        255,
    )
    with Image.open(output) as image:
        palette = np.array(image.getpalette()[: 3 * 12]).reshape(-1, 3)
    assert np.array_equal(
        np.unique(palette, axis=0), np.unique(expected.astype(int), axis=0)
    )


@pytest.mark.parametrize("method", ["bayer", "blue-noise"])
def test_ordered_dithering_keeps_static_pixels(tmp_path, capsys, method):
    frames = clip_frames()
    source = save_clip(tmp_path / "clip.gif", frames, duration=50)
    output = tmp_path / "out.gif"
    status, _, err = run(
        capsys,
        "quantize",
        source,
        "-n",
        8,
        "--dither-method",
        method,
        "--output",
        output,
    )
    assert status == 0, err
    inputs = decoded(source)[1]
    _, shown, _ = decoded(output)
    for index in range(1, len(shown)):
        static = np.all(inputs[index] == inputs[index - 1], axis=-1)
        assert static.any()
        assert np.array_equal(shown[index][static], shown[index - 1][static])


def test_per_frame_palette_gives_local_palettes(tmp_path, capsys):
    frames = clip_frames()
    frames[3] = 255 - frames[3]  # a frame of other colours
    source = save_clip(tmp_path / "clip.gif", frames, duration=50)
    output = tmp_path / "out.gif"
    status, _, err = run(
        capsys, "quantize", source, "-n", 4, "--per-frame-palette", "--output", output
    )
    assert status == 0, err
    _, shown, _ = decoded(output)
    assert len(shown) == 6
    colours = [set(map(tuple, frame[..., :3].reshape(-1, 3))) for frame in shown]
    assert all(len(c) <= 4 for c in colours)
    assert colours[3] != colours[2]


def test_per_frame_palette_needs_a_gif(tmp_path, capsys):
    source = save_clip(tmp_path / "clip.gif", clip_frames(), duration=50)
    output = tmp_path / "out.png"
    status, _, err = run(
        capsys, "quantize", source, "--per-frame-palette", "--output", output
    )
    assert status == 1
    assert "--per-frame-palette needs a GIF output" in err
    assert not output.exists()


def test_jobs_give_the_same_files(tmp_path, capsys):
    sources = [
        save_clip(tmp_path / f"clip{i}.gif", clip_frames(n_frames=3 + i), duration=50)
        for i in range(3)
    ]
    for jobs in (1, 2):
        status, _, err = run(
            capsys,
            "quantize",
            *sources,
            "-n",
            8,
            "-j",
            jobs,
            "-o",
            tmp_path / f"j{jobs}",
        )
        assert status == 0, err
    for i in range(3):
        name = f"clip{i}.gif"
        assert digest(tmp_path / "j1" / name) == digest(tmp_path / "j2" / name)


def test_too_many_frames_is_refused_in_the_options_terms(tmp_path, capsys):
    source = save_clip(tmp_path / "clip.gif", clip_frames(), duration=50)
    status, _, err = run(
        capsys, "quantize", source, "--max-frames", 5, "-o", tmp_path / "o"
    )
    assert status == 1
    assert "6 frames, more than the 5 allowed (--max-frames)" in err
    assert not (tmp_path / "o" / "clip.gif").exists()
    status, _, err = run(
        capsys, "quantize", source, "--max-total-pixels", 1000, "-o", tmp_path / "o"
    )
    assert status == 1
    assert "(--max-total-pixels)" in err


def test_truncated_animation_is_an_error_and_nothing_is_written(tmp_path, capsys):
    source = save_clip(tmp_path / "clip.gif", clip_frames(), duration=50)
    data = source.read_bytes()
    source.write_bytes(data[: len(data) * 2 // 3])
    good = save_clip(tmp_path / "good.gif", clip_frames(), duration=50)
    status, _, err = run(capsys, "quantize", source, good, "-o", tmp_path / "o")
    assert status == 1
    assert f"{source}: " in err and "truncated or damaged" in err
    assert not (tmp_path / "o" / "clip.gif").exists()
    assert (tmp_path / "o" / "good.gif").exists()
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["good.gif"]


def test_a_page_of_another_size_is_refused(tmp_path, capsys):
    pages = [Image.fromarray(frame) for frame in clip_frames(n_frames=2)]
    pages.append(Image.fromarray(clip_frames(height=10, width=10)[0]))
    source = tmp_path / "pages.tif"
    pages[0].save(source, save_all=True, append_images=pages[1:])
    status, _, err = run(capsys, "quantize", source, "-o", tmp_path / "o")
    assert status == 1
    assert "frame 3 is 10 x 10 pixels" in err
    assert not (tmp_path / "o" / "pages.png").exists()


def test_a_page_of_another_mode_is_refused(tmp_path, capsys):
    pages = [Image.fromarray(clip_frames(n_frames=1)[0])]
    pages.append(Image.fromarray(np.zeros((30, 40), np.uint16)).convert("I;16"))
    source = tmp_path / "pages.tif"
    pages[0].save(source, save_all=True, append_images=pages[1:])
    status, _, err = run(capsys, "quantize", source, "-o", tmp_path / "o")
    assert status == 1
    assert "frame 2 has mode" in err
    assert not (tmp_path / "o" / "pages.png").exists()


def test_an_animation_to_an_unknown_format_is_refused(tmp_path, capsys):
    source = save_clip(tmp_path / "clip.gif", clip_frames(), duration=50)
    status, _, err = run(capsys, "quantize", source, "--output", tmp_path / "out.webp")
    assert status == 1
    assert "GIF (.gif) or APNG (.png, .apng)" in err
    assert not (tmp_path / "out.webp").exists()


def test_the_limits_defaults_are_the_librarys():
    from skvq import _animation
    from skvq.cli import _arguments

    assert _arguments.DEFAULT_MAX_FRAMES == _animation.DEFAULT_MAX_FRAMES
    assert _arguments.DEFAULT_MAX_TOTAL_PIXELS == _animation.DEFAULT_MAX_TOTAL_PIXELS


def test_dither_method_applies_to_still_images(tmp_path, capsys):
    from cli_images import colour_pixels, save

    from skvq import read_palette_png

    flat = np.full((16, 16, 3), [100, 50, 200], np.uint8)
    flat[:, :8] = colour_pixels(16, 8)
    source = save(tmp_path / "still.png", flat)
    results = {}
    for method in ("floyd-steinberg", "bayer"):
        output = tmp_path / f"{method}.png"
        status, _, err = run(
            capsys,
            "quantize",
            source,
            "-n",
            4,
            "--dither-method",
            method,
            "--output",
            output,
        )
        assert status == 0, err
        results[method] = read_palette_png(output)[0]
    assert not np.array_equal(results["floyd-steinberg"], results["bayer"])


def test_a_gif_without_frames_is_an_error(tmp_path, capsys):
    import struct

    # The header and a 4 x 4 logical screen, then the trailer: no frame.
    source = tmp_path / "empty.gif"
    source.write_bytes(b"GIF89a" + struct.pack("<HHBBB", 4, 4, 0, 0, 0) + b";")
    status, _, err = run(capsys, "quantize", source, "-o", tmp_path / "o")
    assert status == 1
    assert f"{source}: not an image file that Pillow can read" in err
    assert list((tmp_path / "o").iterdir()) == []


# ------------------------------------------------ options of still images


def gray_frames(n_frames=6, height=30, width=40):
    """A still gray ramp with a bright square moving right, uint8 gray."""
    return [frame[..., 0] for frame in clip_frames(n_frames, height, width)]


def palette_of(path):
    """The palette of an output (GIF global table or APNG PLTE), as
    (n_entries, 3) ints, and its transparent index (or None)."""
    with Image.open(path) as image:
        entries = np.array(image.getpalette()).reshape(-1, 3)
        transparency = image.info.get("transparency")
    return entries, transparency


def shown_colours(frames):
    return np.unique(
        np.concatenate([f[..., :3].reshape(-1, 3) for f in frames]), axis=0
    )


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_quality_picks_the_fewest_gray_levels_of_all_frames(tmp_path, capsys, suffix):
    from skvq import mean_squared_error
    from skvq.cli._quality import quality_to_mse

    frames = gray_frames()
    source = save_clip(tmp_path / f"clip{suffix}", frames, duration=50)
    output = tmp_path / f"out{suffix}"
    status, _, err = run(
        capsys, "quantize", source, "--quality", "0-80", "--no-dither",
        "--output", output,
    )  # fmt: skip
    assert status == 0, err
    image_format, shown, _ = decoded(output)
    assert image_format == ("GIF" if suffix == ".gif" else "PNG")
    assert len(shown) == len(frames)
    # The fewest gray levels (exact 1-D k-means) whose error over every
    # frame reaches quality 80.
    stacked = np.concatenate(frames)
    bound = quality_to_mse(80)
    fewest = next(
        n
        for n in range(2, 256)
        if mean_squared_error(stacked, learn_codebook(stacked, n)) <= bound
    )
    assert len(shown_colours(shown)) == fewest


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_quality_below_its_minimum_refuses_the_animation(tmp_path, capsys, suffix):
    frames = clip_frames()
    frames[0][:] = 40  # a first frame of one colour: the others are refused
    source = save_clip(tmp_path / f"clip{suffix}", frames, duration=50)
    output = tmp_path / f"out{suffix}"
    status, _, err = run(
        capsys, "quantize", source, "-n", 4, "--quality", "90-100", "--output", output
    )
    assert status == 99
    assert "refused" in err and "--quality minimum 90" in err
    assert not output.exists()


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_map_gives_its_palette_to_every_frame(tmp_path, capsys, suffix):
    entries = np.array([[250, 250, 250], [0, 0, 0], [230, 20, 20], [0, 90, 200]])
    palette_file = tmp_path / "palette.png"
    Image.fromarray(entries[None].astype(np.uint8)).quantize(4).save(palette_file)
    from skvq import read_palette_png

    given = read_palette_png(palette_file)[1]
    source = save_clip(tmp_path / f"clip{suffix}", clip_frames(), duration=50)
    output = tmp_path / f"out{suffix}"
    status, _, err = run(
        capsys, "quantize", source, "--map", palette_file, "--output", output
    )
    assert status == 0, err
    _, shown, _ = decoded(output)
    assert len(shown) == 6
    written, _ = palette_of(output)
    assert np.array_equal(written[: len(given)], given)  # as given, in order
    colours = {tuple(c) for c in shown_colours(shown)}
    assert colours <= {tuple(c) for c in given.astype(int)}


def test_map_keeps_transparency_in_an_entry_of_its_own(tmp_path, capsys):
    palette_file = tmp_path / "palette.png"
    colours = np.array([[[0, 0, 0], [255, 255, 255], [230, 20, 20]]], np.uint8)
    Image.fromarray(colours).save(palette_file)
    frames = clip_frames(alpha=True)
    source = save_clip(tmp_path / "clip.png", frames, duration=50)
    output = tmp_path / "out.gif"
    # In sRGB: in Oklab two frames of this clip code alike and are stored
    # once, and the frames would no longer pair up.
    status, _, err = run(
        capsys, "quantize", source, "--map", palette_file, "--color-space", "rgb",
        "--output", output,
    )  # fmt: skip
    assert status == 0, err
    _, shown, _ = decoded(output)
    for frame, result in zip(frames, shown, strict=True):
        transparent = frame[..., 3] == 0
        assert np.all(result[transparent, 3] == 0)
        assert np.all(result[~transparent, 3] == 255)
        assert {tuple(c) for c in result[~transparent, :3]} <= {
            tuple(c) for c in colours[0].astype(int)
        }


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_posterize_applies_to_the_palette_of_all_frames(tmp_path, capsys, suffix):
    bits = 3
    values = np.arange(256)
    allowed = set((values & ~((1 << bits) - 1)) | (values >> (8 - bits)))
    source = save_clip(tmp_path / f"clip{suffix}", clip_frames(), duration=50)
    output = tmp_path / f"out{suffix}"
    status, _, err = run(
        capsys, "quantize", source, "-n", 16, "--posterize", bits, "--output", output
    )
    assert status == 0, err
    _, shown, _ = decoded(output)
    assert len(shown) == 6
    assert set(np.unique(shown_colours(shown))) <= allowed


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_gray_animation_gets_the_exact_gray_levels_of_all_frames(
    tmp_path, capsys, suffix
):
    frames = gray_frames()
    source = save_clip(tmp_path / f"clip{suffix}", frames, duration=50)
    output = tmp_path / f"out{suffix}"
    status, _, err = run(
        capsys, "quantize", source, "-n", 6, "--no-dither", "--output", output
    )
    assert status == 0, err
    _, shown, _ = decoded(output)
    assert len(shown) == 6
    # As a still gray image: the exact 1-D k-means of every frame's values
    # (the GIF leaves one entry free).
    n_levels = 5 if suffix == ".gif" else 6
    expected = np.rint(learn_codebook(np.concatenate(frames), n_levels).codewords)
    colours = shown_colours(shown)
    assert np.all(colours == colours[:, :1])  # gray
    assert np.array_equal(colours[:, 0], np.sort(expected.ravel()).astype(int))


def test_gray_option_makes_colour_animations_gray(tmp_path, capsys):
    source = save_clip(tmp_path / "clip.gif", clip_frames(), duration=50)
    output = tmp_path / "out.gif"
    status, _, err = run(
        capsys, "quantize", source, "-n", 8, "--gray", "--no-dither", "--output", output
    )
    assert status == 0, err
    _, shown, _ = decoded(output)
    assert len(shown) == 6
    # The frames as the GIF holds them (Pillow made its colours 256), in luma.
    frames = [frame[..., :3] for frame in decoded(source)[1]]
    luma = [np.asarray(Image.fromarray(f).convert("L")) for f in frames]
    expected = np.rint(learn_codebook(np.concatenate(luma), 7).codewords).ravel()
    colours = shown_colours(shown)
    assert np.all(colours == colours[:, :1])
    assert np.array_equal(colours[:, 0], np.sort(expected).astype(int))


def test_optimize_makes_apng_smaller_and_keeps_its_frames(tmp_path, capsys):
    pytest.importorskip("oxipng")
    frames = clip_frames(height=60, width=80)
    source = save_clip(tmp_path / "clip.png", frames, duration=50)
    sizes, frames = {}, {}
    for name, option in [("plain", ["--no-optimize"]), ("oxipng", ["--optimize", 2])]:
        output = tmp_path / f"{name}.png"
        status, _, err = run(
            capsys, "quantize", source, "-n", 16, *option, "--output", output
        )
        assert status == 0, err
        sizes[name] = output.stat().st_size
        image_format, frames[name], _ = decoded(output)
        assert image_format == "PNG" and len(frames[name]) == 6
    assert sizes["oxipng"] < sizes["plain"]
    for a, b in zip(frames["plain"], frames["oxipng"], strict=True):
        assert np.array_equal(a, b)


def test_optimize_given_for_a_gif_says_it_does_not_apply(tmp_path, capsys):
    pytest.importorskip("oxipng")
    source = save_clip(tmp_path / "clip.gif", clip_frames(), duration=50)
    status, _, err = run(
        capsys, "quantize", source, "--optimize", 3, "--output", tmp_path / "o.gif"
    )
    assert status == 0
    assert "--optimize applies to PNG and APNG outputs" in err


def test_color_space_given_applies_to_animations(tmp_path, capsys):
    source = save_clip(tmp_path / "clip.png", clip_frames(), duration=50)
    palettes = {}
    for space in (None, "rgb", "oklab"):
        output = tmp_path / f"{space}.png"
        option = [] if space is None else ["--color-space", space]
        status, _, err = run(
            capsys, "quantize", source, "-n", 8, "--no-dither", *option,
            "--output", output,
        )  # fmt: skip
        assert status == 0, err
        palettes[space] = palette_of(output)[0][:8]
    frames = clip_frames()
    stacked = np.concatenate(frames).reshape(-1, 3 * frames[0].shape[1])
    oklab = learn_codebook(stacked, 8, n_channels=3, color_space="oklab")
    assert np.array_equal(palettes["oklab"], np.rint(oklab.codewords).astype(int))
    # Animations are fitted in Oklab unless --color-space rgb is given.
    assert np.array_equal(palettes[None], palettes["oklab"])
    assert not np.array_equal(palettes["rgb"], palettes["oklab"])


@pytest.mark.parametrize("option", [["--map", "palette.png"], ["--quality", "50-80"]])
def test_one_palette_options_refuse_per_frame_palettes(tmp_path, capsys, option):
    source = save_clip(tmp_path / "clip.gif", clip_frames(), duration=50)
    with pytest.raises(SystemExit) as exit_info:
        run(capsys, "quantize", source, "--per-frame-palette", *option)
    assert exit_info.value.code == 2
    assert f"{option[0]} chooses one palette" in capsys.readouterr().err


@pytest.mark.parametrize("alpha", [False, True])
def test_one_palette_of_many_colours_is_the_codebook_of_all_frames(
    tmp_path, capsys, alpha
):
    # More than 65536 colours in all frames: the summary is a grid of cells,
    # still exactly that of every frame at once.
    rng = np.random.default_rng(0)
    frames = []
    background = rng.integers(0, 256, (200, 400, 3), dtype=np.uint8)
    for index in range(8):
        frame = background.copy()
        frame[20:80, 10 * index : 10 * index + 60] = rng.integers(0, 256, (60, 60, 3))
        if alpha:
            opacity = np.full((200, 400), 255, np.uint8)
            opacity[:, 380 - 5 * index :] = 0  # a transparent band that grows
            frame = np.dstack([frame, opacity])
        frames.append(frame)
    source = save_clip(tmp_path / "clip.png", frames, duration=50)
    output = tmp_path / "out.png"
    status, _, err = run(
        capsys, "quantize", source, "-n", 12, "--no-dither", "--output", output
    )
    assert status == 0, err
    visible = [f[f[..., 3] > 0][:, :3] if alpha else f.reshape(-1, 3) for f in frames]
    stacked = np.concatenate(visible)
    assert len(np.unique(stacked, axis=0)) > 65536
    expected = np.rint(
        learn_codebook(stacked, 12 - alpha, n_channels=3, color_space="oklab").codewords
    )
    written, _ = palette_of(output)
    assert np.array_equal(written[: 12 - alpha], expected.astype(int))


def test_jobs_give_the_same_files_with_the_options_of_stills(tmp_path, capsys):
    sources = [
        save_clip(tmp_path / f"clip{i}.png", clip_frames(n_frames=3 + i), duration=50)
        for i in range(3)
    ]
    options = ["--quality", "0-85", "--posterize", 2, "--color-space", "oklab"]
    for jobs in (1, 2):
        status, _, err = run(
            capsys,
            "quantize",
            *sources,
            *options,
            "-j",
            jobs,
            "-o",
            tmp_path / f"j{jobs}",
        )
        assert status == 0, err
    for i in range(3):
        name = f"clip{i}.png"
        assert digest(tmp_path / "j1" / name) == digest(tmp_path / "j2" / name)
