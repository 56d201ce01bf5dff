"""Writing outputs (skvq.cli._write)."""

import errno
import os
import re
import sys

import numpy as np
import pytest
from cli_images import (
    decoded,
    digest,
    gray_pixels,
    listing,
    ramp_pixels,
    run,
    save,
    table_rows,
)

from skvq import read_palette_png
from skvq.cli import main


@pytest.fixture
def unwritable(monkeypatch, tmp_path):
    """Make creating files in tmp_path/'o' fail as in a read-only folder.

    Tests run as root, for whom chmod does not forbid anything.
    """
    real_open = os.open
    out_dir = str(tmp_path / "o")

    def guarded_open(path, *args, **kwargs):
        if os.fspath(path).startswith(out_dir):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)


def test_unwritable_output_folder(tmp_path, capsys, unwritable):
    sources = [save(tmp_path / f"{name}.png", gray_pixels()) for name in "ab"]
    (tmp_path / "o").mkdir()
    status, out, err = run(capsys, "quantize", *sources, "-n", 4, "-o", tmp_path / "o")
    assert status == 1
    assert err.splitlines() == [
        f"skvq: error: {path}: cannot write {tmp_path / 'o' / path.name}: "
        "Permission denied"
        for path in sources
    ]
    assert listing(tmp_path / "o") == []
    assert table_rows(out) == {}


@pytest.mark.parametrize("failing", ["fsync", "link"])
def test_full_disk_leaves_no_partial_output(tmp_path, capsys, monkeypatch, failing):
    source = save(tmp_path / "a.png", gray_pixels())
    before = digest(source)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, disk_full)
    status, _, err = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert status == 1
    assert err == (
        f"skvq: error: {source}: cannot write {tmp_path / 'o' / 'a.png'}: "
        "No space left on device\n"
    )
    assert listing(tmp_path / "o") == []
    assert digest(source) == before


def test_full_disk_keeps_the_previous_output(tmp_path, capsys, monkeypatch):
    source = save(tmp_path / "a.png", gray_pixels())
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "a.png").write_bytes(b"previous run")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    status, _, _ = run(
        capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o", "--overwrite"
    )
    assert status == 1
    assert listing(tmp_path / "o") == ["a.png"]
    assert (tmp_path / "o" / "a.png").read_bytes() == b"previous run"


def test_interrupt_leaves_no_partial_output(tmp_path, capsys, monkeypatch):
    source = save(tmp_path / "a.png", gray_pixels())

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    status, _, err = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert status == 130
    assert err == "skvq: error: interrupted; no output was left half-written\n"
    assert listing(tmp_path / "o") == []


def test_output_folder_that_is_a_file(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    (tmp_path / "o").write_bytes(b"a file")
    status, _, err = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert status == 1
    assert err.startswith(
        f"skvq: error: cannot create the output folder {tmp_path / 'o'}:"
    )
    assert (tmp_path / "o").read_bytes() == b"a file"


# ------------------------------------------------------------ optimize


def test_optimize_is_on_by_default_when_oxipng_is_installed(tmp_path, capsys):
    pytest.importorskip("oxipng")
    source = save(tmp_path / "ramp.png", ramp_pixels(64, 256))
    sizes, images = {}, {}
    from skvq.cli._arguments import DEFAULT_OPTIMIZE_LEVEL as _DEFAULT_OPTIMIZE_LEVEL

    for name, option in [
        ("default", []),
        ("level", ["--optimize", _DEFAULT_OPTIMIZE_LEVEL]),
        ("plain", ["--no-optimize"]),
    ]:
        status, _, err = run(
            capsys, "quantize", source, "-n", 64, *option, "-o", tmp_path / name
        )
        assert (status, err) == (0, "")
        sizes[name] = (tmp_path / name / "ramp.png").stat().st_size
        images[name] = decoded(tmp_path / name / "ramp.png", "L")
    assert sizes["default"] == sizes["level"] < sizes["plain"]
    np.testing.assert_array_equal(images["default"], images["plain"])


def test_without_oxipng_files_are_written_by_pillow_alone(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr("skvq.cli._arguments.oxipng_installed", lambda: False)
    monkeypatch.setitem(sys.modules, "oxipng", None)  # import oxipng now fails
    source = save(tmp_path / "a.png", gray_pixels())
    status, _, err = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert (status, err) == (0, "")
    assert read_palette_png(tmp_path / "o" / "a.png")[1].shape == (4, 1)

    with pytest.raises(SystemExit) as exit_info:
        main(["quantize", str(source), "-n", "4", "-o", "x", "--optimize", "3"])
    assert exit_info.value.code == 2
    assert "--optimize needs oxipng, which is not installed: pip install pyoxipng" in (
        capsys.readouterr().err
    )


# ------------------------------------------------------------ no replacing


def test_an_output_name_of_255_bytes_is_written(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    name = "x" * 251 + ".png"
    status, _, err = run(
        capsys, "quantize", source, "--output", tmp_path / name, "-n", 4
    )
    assert (status, err) == (0, "")
    assert listing(tmp_path) == sorted(["a.png", name])
    assert read_palette_png(tmp_path / name)[1].shape == (4, 1)


def test_an_output_created_while_writing_is_never_replaced(
    tmp_path, capsys, monkeypatch
):
    # Another process creates the output after skvq checked that it was
    # free and before skvq names its own file: that file must be kept.
    source = save(tmp_path / "a.png", gray_pixels())
    output = tmp_path / "o" / "a.png"
    real_fsync = os.fsync

    def another_writer(fd):
        real_fsync(fd)
        if not output.exists():
            output.write_bytes(b"the other run's file")

    monkeypatch.setattr(os, "fsync", another_writer)
    status, _, err = run(capsys, "quantize", source, "-n", 4, "-o", tmp_path / "o")
    assert status == 1
    assert err == (
        f"skvq: error: {source}: {output} already exists (use --overwrite to "
        "replace it)\n"
    )
    assert output.read_bytes() == b"the other run's file"
    assert listing(tmp_path / "o") == ["a.png"]


def test_concurrent_writers_of_one_name_never_replace_each_other(tmp_path):
    import threading

    from skvq.cli._write import FileError, write_output

    path = str(tmp_path / "out.png")
    won, barrier = [], threading.Barrier(8)

    def writer(k):
        barrier.wait()
        try:
            write_output(path, f"writer {k}".encode() * 1000, overwrite=False)
            won.append(k)
        except FileError:
            pass

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert (tmp_path / "out.png").read_bytes() == f"writer {won[0]}".encode() * 1000
    assert listing(tmp_path) == ["out.png"]


def test_without_hard_links_the_output_is_renamed(tmp_path, monkeypatch):
    from skvq.cli._write import FileError, write_output

    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "out.png"
    write_output(str(path), b"data", overwrite=False)
    assert path.read_bytes() == b"data"
    assert listing(tmp_path) == ["out.png"]
    with pytest.raises(FileError, match="already exists"):
        write_output(str(path), b"other", overwrite=False)
    assert path.read_bytes() == b"data"
    assert listing(tmp_path) == ["out.png"]


def test_the_temporary_name_is_short_and_hidden(tmp_path, monkeypatch):
    from skvq.cli import _write

    names = []
    real_open = os.open

    def recording_open(path, *args, **kwargs):
        names.append(os.path.basename(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    _write.write_output(str(tmp_path / ("y" * 255)), b"data", overwrite=False)
    assert len(names) == 1
    assert re.fullmatch(r"\.skvq-[0-9a-f]{8}\.tmp", names[0])
