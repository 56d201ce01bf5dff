"""The run of skvq quantize (skvq.cli._main)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from cli_images import (
    blurred_mse,
    colour_pixels,
    decoded,
    digest,
    gray_pixels,
    listing,
    run,
    save,
    table_rows,
)

from skvq import ImageVectorQuantizer, read_palette_png

# ---------------------------------------------------------------- happy path


def test_gray_image_becomes_a_palette_png_and_the_row_tells_the_truth(tmp_path, capsys):
    source = save(tmp_path / "gray.png", gray_pixels())
    before = digest(source)
    out_dir = tmp_path / "out"
    status, out, err = run(capsys, "quantize", source, "-n", 4, "-o", out_dir)

    assert (status, err) == (0, "")
    output = out_dir / "gray.png"
    codes, codebook = read_palette_png(output)
    assert codes.shape == (24, 32)
    assert codebook.shape == (4, 1)

    before_size, after_size, bits, mse, psnr, blurred_psnr = table_rows(out)[
        str(source)
    ]
    assert before_size == source.stat().st_size
    assert after_size == output.stat().st_size
    assert bits == pytest.approx(8 * output.stat().st_size / (24 * 32), abs=1e-3)
    expected_mse = np.mean((decoded(output, "L") - gray_pixels()) ** 2)
    assert mse == pytest.approx(expected_mse, abs=1e-3)
    assert psnr == pytest.approx(10 * np.log10(255**2 / expected_mse), abs=1e-2)
    expected_blurred = blurred_mse(decoded(output, "L"), gray_pixels())
    assert blurred_psnr == pytest.approx(
        10 * np.log10(255**2 / expected_blurred), abs=1e-2
    )
    assert digest(source) == before


def test_without_optimize_the_bit_depth_is_the_smallest_for_the_palette(
    tmp_path, capsys
):
    source = save(tmp_path / "gray.png", gray_pixels())
    out_dir = tmp_path / "out"
    status, _, _ = run(
        capsys, "quantize", source, "-n", 4, "-o", out_dir, "--no-optimize"
    )
    assert status == 0
    assert (out_dir / "gray.png").read_bytes()[24] == 2  # IHDR: 4 levels, 2 bits


def test_colour_jpeg_becomes_an_rgb_palette_png(tmp_path, capsys):
    source = save(tmp_path / "photo.jpg", colour_pixels(), quality=95)
    before = digest(source)
    status, out, err = run(capsys, "quantize", source, "-n", 16, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    codes, codebook = read_palette_png(tmp_path / "o" / "photo.png")
    assert codes.shape == (24, 32)
    assert codebook.shape == (16, 3)
    rows = table_rows(out)
    original = decoded(source, "RGB")
    expected_mse = np.mean(
        (decoded(tmp_path / "o" / "photo.png", "RGB") - original) ** 2
    )
    assert rows[str(source)][3] == pytest.approx(expected_mse, abs=1e-3)
    # 16 colours must beat one colour (the mean) by far.
    assert expected_mse < 0.5 * np.mean((original - original.mean(axis=(0, 1))) ** 2)
    assert digest(source) == before


def test_gray_option_quantizes_colour_inputs_as_gray(tmp_path, capsys):
    source = save(tmp_path / "photo.png", colour_pixels())
    status, _, _ = run(
        capsys, "quantize", source, "-n", 8, "--gray", "-o", tmp_path / "o"
    )
    assert status == 0
    _, codebook = read_palette_png(tmp_path / "o" / "photo.png")
    assert codebook.shape == (8, 1)


@pytest.mark.parametrize("strategy", ["kmeans", "uniform", "quantile"])
def test_every_strategy_writes_a_file(tmp_path, capsys, strategy):
    source = save(tmp_path / "a.png", gray_pixels())
    status, _, err = run(
        capsys, "quantize", source, "-n", 4, "-s", strategy, "-o", tmp_path / "o"
    )
    assert (status, err) == (0, "")
    _, codebook = read_palette_png(tmp_path / "o" / "a.png")
    assert codebook.shape == (4, 1)


def test_several_files_get_a_row_each_and_a_total(tmp_path, capsys):
    sources = [save(tmp_path / f"img{i}.png", gray_pixels(seed=i)) for i in range(3)]
    status, out, _ = run(capsys, "quantize", *sources, "-n", 2, "-o", tmp_path / "o")
    assert status == 0
    assert set(table_rows(out)) == {str(path) for path in sources}
    total = out.splitlines()[-1].split()
    assert total[0] == "total"
    assert int(total[1]) == sum(path.stat().st_size for path in sources)
    outputs = [tmp_path / "o" / path.name for path in sources]
    assert int(total[2]) == sum(path.stat().st_size for path in outputs)


def test_shared_codebook_is_fitted_to_all_files_together(tmp_path, capsys):
    dark = gray_pixels(seed=1) // 2
    bright = 128 + gray_pixels(seed=2) // 2
    sources = [save(tmp_path / "dark.png", dark), save(tmp_path / "bright.png", bright)]
    status, _, _ = run(
        capsys,
        "quantize",
        *sources,
        "-n",
        4,
        "--shared-codebook",
        "--no-optimize",  # oxipng may reorder each file's palette
        "-o",
        tmp_path / "o",
    )
    assert status == 0
    _, dark_codebook = read_palette_png(tmp_path / "o" / "dark.png")
    _, bright_codebook = read_palette_png(tmp_path / "o" / "bright.png")
    np.testing.assert_array_equal(dark_codebook, bright_codebook)
    together = np.concatenate([dark.reshape(-1, 1), bright.reshape(-1, 1)])
    expected = ImageVectorQuantizer(n_bins=4).fit(together).codebook_
    np.testing.assert_array_equal(dark_codebook, np.rint(expected))


def test_shared_codebook_over_gray_and_colour_files_is_colour(tmp_path, capsys):
    sources = [
        save(tmp_path / "gray.png", gray_pixels()),
        save(tmp_path / "colour.png", colour_pixels()),
    ]
    status, _, _ = run(
        capsys, "quantize", *sources, "-n", 8, "--shared-codebook", "-o", tmp_path / "o"
    )
    assert status == 0
    codebooks = [read_palette_png(tmp_path / "o" / path.name)[1] for path in sources]
    # oxipng drops the entries a file does not use, which are fewer for the
    # gray file; the colour file uses all 8.
    assert codebooks[1].shape == (8, 3)
    assert codebooks[0].shape[1] == 3
    assert {tuple(entry) for entry in codebooks[0]} <= {
        tuple(entry) for entry in codebooks[1]
    }


def test_quiet_prints_nothing_and_verbose_prints_more(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    status, out, err = run(
        capsys, "quantize", source, "-n", 4, "-o", tmp_path / "q", "-q"
    )
    assert (status, out, err) == (0, "", "")
    status, out, _ = run(
        capsys, "quantize", source, "-n", 4, "-o", tmp_path / "v", "-v"
    )
    assert status == 0
    assert f"{source} -> {tmp_path / 'v' / 'a.png'}: 4 colours" in out


def test_an_existing_output_is_kept_unless_overwrite(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    (out_dir / "a.png").write_bytes(b"precious")
    status, out, err = run(capsys, "quantize", source, "-n", 4, "-o", out_dir)
    assert status == 1
    assert table_rows(out) == {}
    assert err == (
        f"skvq: error: {source}: {out_dir / 'a.png'} already exists "
        "(use --overwrite to replace it)\n"
    )
    assert (out_dir / "a.png").read_bytes() == b"precious"

    status, _, err = run(
        capsys, "quantize", source, "-n", 4, "-o", out_dir, "--overwrite"
    )
    assert (status, err) == (0, "")
    assert read_palette_png(out_dir / "a.png")[1].shape == (4, 1)
    assert listing(out_dir) == ["a.png"]


def test_output_folder_is_created(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    status, _, _ = run(capsys, "quantize", source, "-n", 2, "-o", tmp_path / "x" / "y")
    assert status == 0
    assert listing(tmp_path / "x" / "y") == ["a.png"]


def test_start_up_imports_no_heavy_module():
    heavy = ("numpy", "PIL", "sklearn", "scipy", "tqdm", "oxipng")
    script = (
        "import sys, contextlib, io\n"
        "import skvq\n"
        "from skvq.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout == "[]\n"


# ------------------------------------------------------------ in a process


def skvq(*argv, **options):
    """``python -m skvq`` in a child process, from this worktree."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return subprocess.run(
        [sys.executable, "-m", "skvq", *map(str, argv)], timeout=120, **options
    )


def test_quantize_imports_no_scikit_learn_scipy_or_pandas(tmp_path):
    source = save(tmp_path / "a.png", colour_pixels())
    script = (
        "import sys\n"
        "from skvq.cli import main\n"
        f"status = main(['quantize', {str(source)!r}, '-n', '8', '-q', "
        f"'-o', {str(tmp_path / 'o')!r}])\n"
        "heavy = ('sklearn', 'scipy', 'pandas')\n"
        "print(status, sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout == "0 []\n"


def test_stdin_to_stdout_gives_the_file_of_a_named_input(tmp_path, capsys):
    source = save(tmp_path / "a.png", colour_pixels())
    with open(source, "rb") as stdin:
        result = skvq("quantize", "-", "-n", 8, stdin=stdin)
    assert result.returncode == 0
    assert result.stderr.decode().startswith("file ")  # the table, on stderr
    status, _, _ = run(
        capsys, "quantize", source, "-n", 8, "--output", tmp_path / "b.png"
    )
    assert status == 0
    assert result.stdout == (tmp_path / "b.png").read_bytes()


def test_outputs_go_beside_their_inputs_with_pngquants_suffix(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    assert run(capsys, "quantize", source, "-n", 4)[0] == 0
    assert run(capsys, "quantize", source, "-n", 4, "--nofs")[0] == 0
    assert run(capsys, "quantize", source, "-n", 4, "--ext", ".q.png")[0] == 0
    assert listing(tmp_path) == ["a-fs8.png", "a-or8.png", "a.png", "a.q.png"]
    # --force replaces, as pngquant's does.
    (tmp_path / "a-fs8.png").write_bytes(b"old")
    assert run(capsys, "quantize", source, "-n", 4)[0] == 1
    assert (tmp_path / "a-fs8.png").read_bytes() == b"old"
    assert run(capsys, "quantize", source, "-n", 4, "--force")[0] == 0
    assert read_palette_png(tmp_path / "a-fs8.png")[1].shape == (4, 1)


def test_jobs_1_and_2_write_the_same_bytes_and_rows(tmp_path, capsys):
    sources = [
        save(
            tmp_path / f"{k}.png",
            colour_pixels(40, 50, seed=k) if k % 2 else gray_pixels(40, 50, seed=k),
        )
        for k in range(5)
    ]
    outputs = {}
    for jobs in (1, 2):
        status, out, err = run(
            capsys,
            "quantize",
            *sources,
            "-n",
            16,
            "-o",
            tmp_path / f"j{jobs}",
            "--jobs",
            jobs,
        )
        assert (status, err) == (0, "")
        outputs[jobs] = (
            out.splitlines(),
            [(tmp_path / f"j{jobs}" / p.name).read_bytes() for p in sources],
        )
    assert outputs[1] == outputs[2]
    names = [line.split()[0] for line in outputs[1][0][1:-1]]
    assert names == [str(path) for path in sources]  # rows in input order


@pytest.mark.parametrize("sink", ["closed pipe", "/dev/full"])
def test_a_closed_or_full_stdout_is_one_line_and_every_file_is_written(tmp_path, sink):
    if sink == "/dev/full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    sources = [save(tmp_path / f"{k}.png", gray_pixels(seed=k)) for k in range(3)]
    if sink == "closed pipe":
        read_end, write_end = os.pipe()
        os.close(read_end)
        stdout, reason = write_end, "Broken pipe"
    else:
        stdout, reason = os.open("/dev/full", os.O_WRONLY), "No space left on device"
    try:
        result = skvq(
            "quantize", *sources, "-n", 4, "-o", tmp_path / "o", stdout=stdout
        )
    finally:
        os.close(stdout)
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"skvq: error: cannot write the report to standard output: {reason}\n"
    )
    for path in sources:
        assert read_palette_png(tmp_path / "o" / path.name)[1].shape == (4, 1)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("delay", [0.01, 0.03, 0.06, 0.1, 0.2])
def test_sigint_at_start_up_prints_no_traceback(tmp_path, delay):
    # The child says when the interpreter is up (Python's own start-up,
    # before any skvq code runs, is not skvq's to guard), then runs
    # "python -m skvq" as runpy does.
    import signal
    import time

    source = save(tmp_path / "a.png", gray_pixels())
    argv = ["skvq", "quantize", str(source), "-o", str(tmp_path / "o")]
    script = (
        "import os, runpy, sys\n"
        f"sys.argv = {argv!r}\n"
        "os.write(2, b'>')\n"
        "runpy.run_module('skvq', run_name='__main__', alter_sys=True)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stderr.read(1) == b">"
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert b"Traceback" not in err
    # -SIGINT: the signal came once the command was done, during the
    # interpreter's exit (Python then dies by the signal, silently).
    assert process.returncode in (0, 130, -signal.SIGINT)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigterm_leaves_no_temporary_file_and_no_partial_output(tmp_path):
    import signal
    import time

    sources = [
        save(tmp_path / f"{k}.png", colour_pixels(300, 300, seed=k)) for k in range(6)
    ]
    for trial, delay in enumerate([0.3, 0.5, 0.7, 0.9, 1.2]):
        out_dir = tmp_path / f"o{trial}"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "skvq",
                "quantize",
                *map(str, sources),
                "-o",
                str(out_dir),
                "--jobs",
                "2",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        assert b"Traceback" not in err
        names = listing(out_dir) if out_dir.exists() else []
        assert not [name for name in names if name.endswith(".tmp")]
        for name in names:
            assert read_palette_png(out_dir / name)[1].shape[0] >= 2


def test_main_leaves_the_unraisable_hook_as_it_found_it(tmp_path):
    # main() drops the interrupts Python would print from callbacks while it
    # runs, and restores the caller's hook when it returns or raises.
    import sys

    from skvq.cli import main

    before = sys.unraisablehook
    source = save(tmp_path / "a.png", gray_pixels())
    assert main(["quantize", str(source), "-o", str(tmp_path / "o"), "-q"]) == 0
    assert sys.unraisablehook is before
    with pytest.raises(SystemExit):
        main(["--version"])
    assert sys.unraisablehook is before
