"""oxipng in a worker process (skvq.cli._optimizer)."""

import io
import multiprocessing
import os
import signal

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
        assert optimizer._pool is not None
        assert optimizer(data, OPTIONS) == optimize(data, OPTIONS)
    assert optimizer._pool is None
    assert len(optimize(data, OPTIONS)) < len(data)


def test_without_processes_oxipng_runs_in_the_calling_thread(monkeypatch):
    def refuse(method):
        raise OSError("no processes here")

    monkeypatch.setattr(multiprocessing, "get_context", refuse)
    data = _png()
    with Optimizer(in_worker=True) as optimizer:
        assert optimizer._pool is None
        assert optimizer(data, OPTIONS) == optimize(data, OPTIONS)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_a_dead_worker_leaves_the_work_to_the_calling_thread():
    data = _png()
    with Optimizer(in_worker=True) as optimizer:
        assert optimizer(data, OPTIONS) == optimize(data, OPTIONS)
        (process,) = optimizer._pool._processes.values()
        os.kill(process.pid, signal.SIGKILL)
        process.join()
        assert optimizer(data, OPTIONS) == optimize(data, OPTIONS)
        assert optimizer._pool is None


def test_an_error_of_oxipng_is_raised_as_without_the_worker():
    with pytest.raises(oxipng.PngError):
        optimize(b"not a PNG file", OPTIONS)
    with Optimizer(in_worker=True) as optimizer:
        with pytest.raises(oxipng.PngError):
            optimizer(b"not a PNG file", OPTIONS)
        # The worker stays for the next file.
        assert optimizer._pool is not None
        assert optimizer(_png(), OPTIONS) == optimize(_png(), OPTIONS)
