"""oxipng in a process of its own while a batch runs on several threads.

pyoxipng (9.1) holds the GIL while it optimises a file, so the threads of
:mod:`._pipeline` wait for it unless they are inside a kernel: measured with
``benchmarks/bench_pngquant.py``'s batch of 12 photos on 2 cores, oxipng's
0.45 s of work added 0.46 s to the wall time, as if run alone. One worker
process, started when the batch starts (its start-up overlaps the first
file's decoding and fitting), runs oxipng on every file instead, while the
threads go on. It receives the bytes Pillow encoded and returns oxipng's;
files are still named by the threads (:mod:`._write`), so an interruption
leaves no half-written file.

The worker is a fresh interpreter that runs :func:`skvq._oxipng.optimize`
from its source file in a loop over requests on its standard input (not
:mod:`multiprocessing`, whose "spawn" start would import the caller's main
module again, running a script that calls :func:`skvq.cli.main` without a
``__main__`` guard a second time, and whose "fork" start copies whatever
threads hold). It imports only the standard library and oxipng, ignores
SIGINT and SIGTERM (the command handles them; the worker ends when its
input closes, with the command or at its end), and writes nothing but its
replies. Should it fail to start or die, oxipng runs in the calling thread
instead; an error of oxipng's own is raised there, as without the worker.
"""

import json
import os
import struct
import subprocess
import sys
import threading

from .. import _oxipng

# The worker: requests are a header of two lengths (little-endian uint64),
# the options as JSON, then the PNG bytes; replies a status byte (0: the
# optimised bytes follow, 1: oxipng failed), a length and the bytes.
_WORKER = """
import sys
del sys.path[0]  # the current directory, whose files must not shadow modules
import json, signal, struct
for name in ("SIGINT", "SIGTERM"):
    if hasattr(signal, name):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
namespace = {}
with open(sys.argv[1], encoding="utf-8") as file:
    exec(compile(file.read(), sys.argv[1], "exec"), namespace)
optimize = namespace["optimize"]
import oxipng
read, write = sys.stdin.buffer.read, sys.stdout.buffer.write
def exactly(n):
    data = read(n)
    if len(data) != n:
        raise SystemExit(0)
    return data
while True:
    n_options, n_data = struct.unpack("<QQ", exactly(16))
    options = json.loads(exactly(n_options))
    data = exactly(n_data)
    try:
        reply, status = optimize(data, options), 0
    except Exception as exc:
        reply, status = repr(exc).encode(), 1
    write(struct.pack("<BQ", status, len(reply)))
    write(reply)
    sys.stdout.buffer.flush()
"""


class Optimizer:
    """``optimizer(data, options)``: :func:`skvq._oxipng.optimize` in a
    worker process when ``in_worker``, else in the calling thread. A context
    manager: the worker ends on exit."""

    def __init__(self, in_worker):
        self._lock = threading.Lock()
        self._process = self._start() if in_worker else None

    @staticmethod
    def _start():
        source = getattr(_oxipng, "__file__", None)
        if (
            not sys.executable
            or getattr(sys, "frozen", False)  # the executable is the application
            or not source
            or not os.path.isfile(source)
        ):
            return None
        try:
            return subprocess.Popen(
                [sys.executable, "-c", _WORKER, source],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, ValueError):  # no processes here: in the threads
            return None

    def __call__(self, data, options):
        with self._lock:
            process = self._process
            if process is not None:
                try:
                    status, reply = self._ask(process, data, options)
                except (OSError, ValueError, struct.error, EOFError):
                    # The worker is gone: from now on in the threads.
                    self._stop_locked()
                else:
                    if status == 0:
                        return reply
                    # oxipng failed on this file: again below, which raises
                    # its own error as it would without the worker.
        return _oxipng.optimize(data, options)

    @staticmethod
    def _ask(process, data, options):
        header = json.dumps(options).encode()
        process.stdin.write(struct.pack("<QQ", len(header), len(data)))
        process.stdin.write(header)
        process.stdin.write(data)
        process.stdin.flush()
        head = process.stdout.read(9)
        if len(head) != 9:
            raise EOFError("the oxipng worker ended")
        status, length = struct.unpack("<BQ", head)
        reply = process.stdout.read(length)
        if len(reply) != length:
            raise EOFError("the oxipng worker ended")
        return status, reply

    def _stop_locked(self):
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        with self._lock:
            self._stop_locked()
