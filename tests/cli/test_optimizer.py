"""oxipng in a worker process (skvq.cli._optimizer)."""

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from skvq._oxipng import optimize
from skvq.cli._optimizer import Optimizer

oxipng = pytest.importorskip("oxipng")

OPTIONS = {"level": 1, "color_type_reduction": False, "filter": ["NoOp"]}


def _png():
    rng = np.random.default_rng(0)
    codes = (np.arange(64)[:, None] // 4 + np.arange(96) // 8) % 16
    image = Image.fromarray(codes.astype(np.uint8), "P")
    image.putpalette(rng.integers(0, 256, 48).astype(np.uint8).tobytes(), "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()


def test_the_worker_gives_the_bytes_of_oxipng_in_this_process():
    data = _png()
    with Optimizer(in_worker=True) as optimizer:
        process = optimizer._process
        assert process is not None
        for _ in range(3):
            assert optimizer(data, OPTIONS) == optimize(data, OPTIONS)
        assert process.poll() is None  # the same worker answered every time
    assert optimizer._process is None
    assert process.poll() == 0  # ended when its input closed
    assert len(optimize(data, OPTIONS)) < len(data)


def test_without_processes_oxipng_runs_in_the_calling_thread(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no processes here")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    data = _png()
    with Optimizer(in_worker=True) as optimizer:
        assert optimizer._process is None
        assert optimizer(data, OPTIONS) == optimize(data, OPTIONS)


def test_a_frozen_application_starts_no_worker(monkeypatch):
    # There sys.executable is the application itself, not an interpreter.
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    data = _png()
    with Optimizer(in_worker=True) as optimizer:
        assert optimizer._process is None
        assert optimizer(data, OPTIONS) == optimize(data, OPTIONS)


def test_a_dead_worker_leaves_the_work_to_the_calling_thread():
    data = _png()
    with Optimizer(in_worker=True) as optimizer:
        assert optimizer(data, OPTIONS) == optimize(data, OPTIONS)
        optimizer._process.kill()
        optimizer._process.wait()
        assert optimizer(data, OPTIONS) == optimize(data, OPTIONS)
        assert optimizer._process is None


def test_an_error_of_oxipng_is_raised_as_without_the_worker():
    with pytest.raises(oxipng.PngError):
        optimize(b"not a PNG file", OPTIONS)
    with Optimizer(in_worker=True) as optimizer:
        with pytest.raises(oxipng.PngError):
            optimizer(b"not a PNG file", OPTIONS)
        # The worker stays for the next file.
        assert optimizer._process is not None
        assert optimizer(_png(), OPTIONS) == optimize(_png(), OPTIONS)


def test_a_script_without_a_main_guard_runs_once(tmp_path):
    # The worker is a fresh interpreter that never imports the caller's
    # main module (multiprocessing's "spawn" would run this script again).
    for k in range(2):
        Image.fromarray(np.full((8, 8, 3), 40 * k, np.uint8)).save(
            tmp_path / f"{k}.png"
        )
    script = tmp_path / "batch.py"
    log = tmp_path / "runs.txt"
    script.write_text(
        "from skvq.cli import main\n"
        f"with open({str(log)!r}, 'a') as file:\n"
        "    file.write('run\\n')\n"
        f"main(['quantize', {str(tmp_path / '0.png')!r}, "
        f"{str(tmp_path / '1.png')!r}, '-n', '4', '-o', "
        f"{str(tmp_path / 'out')!r}, '--jobs', '2', '-q'])\n"
    )
    subprocess.run([sys.executable, str(script)], check=True, cwd=tmp_path)
    assert log.read_text() == "run\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0.png", "1.png"]
