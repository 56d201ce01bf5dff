"""The report (skvq.cli._report)."""

import os
import sys

import numpy as np
import pytest
from cli_images import (
    gray_pixels,
    run,
    save,
    table_rows,
)


def test_progress_bar_only_on_a_terminal_with_several_files(
    tmp_path, capsys, monkeypatch
):
    pytest.importorskip("tqdm")
    sources = [save(tmp_path / f"{i}.png", gray_pixels(seed=i)) for i in range(3)]
    status, _, err = run(capsys, "quantize", *sources, "-n", 2, "-o", tmp_path / "a")
    assert (status, err) == (0, "")  # stderr is not a terminal here

    monkeypatch.setattr("skvq.cli._report.isatty", lambda stream: True)
    status, out, err = run(capsys, "quantize", *sources, "-n", 2, "-o", tmp_path / "b")
    assert status == 0
    assert "quantizing:" in err and "0/3" in err
    assert set(table_rows(out)) == {str(path) for path in sources}

    status, _, err = run(capsys, "quantize", sources[0], "-n", 2, "-o", tmp_path / "c")
    assert (status, err) == (0, "")


def test_no_progress_bar_without_tqdm(tmp_path, capsys, monkeypatch):
    sources = [save(tmp_path / f"{i}.png", gray_pixels(seed=i)) for i in range(2)]
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    monkeypatch.setattr("skvq.cli._report.isatty", lambda stream: True)
    status, out, err = run(capsys, "quantize", *sources, "-n", 2, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    assert set(table_rows(out)) == {str(path) for path in sources}


# ------------------------------------------------------------ the report


def test_a_file_name_with_a_newline_stays_on_one_row(tmp_path, capsys):
    sources = [
        save(tmp_path / "two\nlines.png", gray_pixels()),
        save(tmp_path / "tab\there.png", gray_pixels(seed=1)),
    ]
    status, out, err = run(capsys, "quantize", *sources, "-n", 4, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 4  # header, two rows, total
    assert lines[1].startswith(str(tmp_path / "two\\nlines.png") + " ")
    assert lines[2].startswith(str(tmp_path / "tab\\there.png") + " ")
    assert sorted(os.listdir(tmp_path / "o")) == ["tab\there.png", "two\nlines.png"]


def test_errors_about_a_file_name_with_a_newline_are_one_line(tmp_path, capsys):
    missing = tmp_path / "no\nsuch.png"
    status, _, err = run(capsys, "quantize", missing, "-n", 4, "-o", tmp_path / "o")
    assert status == 1
    assert err == f"skvq: error: {tmp_path / 'no'}\\nsuch.png: no such file\n"


def test_no_table_when_nothing_is_written_whatever_the_reason(tmp_path, capsys):
    missing = [tmp_path / "a.png", tmp_path / "b.png"]
    status, out, _ = run(capsys, "quantize", *missing, "-n", 4, "-o", tmp_path / "o")
    assert (status, out) == (1, "")

    sources = [save(tmp_path / f"{name}.png", gray_pixels()) for name in "ab"]
    for path in sources:
        (tmp_path / "o" / path.name).write_bytes(b"exists")
    status, out, _ = run(capsys, "quantize", *sources, "-n", 4, "-o", tmp_path / "o")
    assert (status, out) == (1, "")


def test_the_blur_is_scipys_gaussian_filter():
    from scipy.ndimage import gaussian_filter

    from skvq.cli._report import blur, gaussian_kernel

    rng = np.random.default_rng(0)
    for shape in [(1, 1, 1), (3, 7, 3), (30, 20, 4)]:
        image = rng.normal(size=shape).astype(np.float32)
        np.testing.assert_allclose(
            blur(image, gaussian_kernel()),
            gaussian_filter(image.astype(float), sigma=(1, 1, 0)),
            atol=1e-5,
        )


OXIPNG_MISSING = (
    "oxipng is not installed: files are encoded by Pillow alone and are larger "
    '(pip install "skvq[optimize]")'
)


@pytest.mark.parametrize("verbosity", [[], ["--verbose"]])
def test_missing_oxipng_is_said_once_under_the_table(
    tmp_path, capsys, monkeypatch, verbosity
):
    sources = [save(tmp_path / f"{i}.png", gray_pixels(seed=i)) for i in range(3)]
    monkeypatch.setattr("skvq.cli._arguments.oxipng_installed", lambda: False)
    argv = ["quantize", *sources, "-n", 4, "-o", tmp_path / "o", *verbosity]
    status, out, err = run(capsys, *argv)
    assert status == 0
    lines = out.splitlines()
    assert lines.count(OXIPNG_MISSING) == 1
    assert lines[-1] == OXIPNG_MISSING  # the footer, after the total
    assert OXIPNG_MISSING not in err
    if not verbosity:
        assert set(table_rows(out)) == {str(path) for path in sources}


def test_missing_oxipng_is_not_said_with_quiet_no_optimize_or_oxipng(
    tmp_path, capsys, monkeypatch
):
    source = save(tmp_path / "a.png", gray_pixels())
    monkeypatch.setattr("skvq.cli._arguments.oxipng_installed", lambda: False)
    status, out, err = run(capsys, "quantize", source, "-o", tmp_path / "q", "-q")
    assert (status, out, err) == (0, "", "")
    # Asked for: the files are Pillow's because the user said so.
    argv = ["quantize", source, "-o", tmp_path / "n", "--no-optimize"]
    status, out, _ = run(capsys, *argv)
    assert status == 0 and OXIPNG_MISSING not in out
    monkeypatch.undo()
    pytest.importorskip("oxipng")
    status, out, _ = run(capsys, "quantize", source, "-o", tmp_path / "x")
    assert status == 0 and OXIPNG_MISSING not in out


def test_missing_oxipng_is_not_said_when_nothing_was_written(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr("skvq.cli._arguments.oxipng_installed", lambda: False)
    argv = ["quantize", tmp_path / "none.png", "-o", tmp_path / "o"]
    status, out, err = run(capsys, *argv)
    assert status == 1
    assert "no such file" in err and OXIPNG_MISSING not in out + err
