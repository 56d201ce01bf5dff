"""Fit and transform a several-GB uint8 dask array on a 2-worker LocalCluster.

The array is a synthetic gray image (a gradient plus noise, a different noise
per block, see ``make_block``) made block by block on the workers by
``map_blocks``: it never exists in memory as a whole, and each worker's memory
limit is well below its size. Five passes over it are timed:

- the anchor: making every block and reducing it to its maximum, which is
  what any computation on this array must pay at least;
- the anchor of a real job: making every block and writing it to a Zarr
  store (``dask.array.to_zarr``, a temporary directory);
- ``fit``: per-block statistics merged in a tree of tasks;
- ``transform``: codes made blockwise and reduced to their histogram on the
  workers, so that no code reaches the client;
- ``transform`` writing the codes to a Zarr store, against the second anchor
  (the target: within 2x, worker memory below its limit).

Each pass runs twice (``--repeat``) and the best time is kept; the first run
of a pass also pays for the workers' first allocations. During each pass the
resident memory of every worker process and of the client is polled. Then the
same blocks are made locally, one by one, and streamed through
``partial_fit`` in one process (a second anchor, and the reference): the
cluster's codebook and code histogram must equal the local ones exactly.

Run: ``python benchmarks/bench_dask.py [--smoke] [--gigabytes 4]
[--chunk-megabytes 64] [--memory-limit 1GiB] [--n-bins 16] [--repeat 2]``.
"""

import argparse
import os
import resource
import sys
import tempfile
import threading
import time

import numpy as np
from tables import Table, Target, megabytes, seconds

N_WORKERS = 2
WIDTH = 16384  # pixels per row: one row is 16 KiB
SLAB = 64  # rows of noise repeated down a block
# Transform + write of the codes to Zarr, against making + writing the raw
# blocks (issue 19).
ZARR_TARGET = 2.0


def make_block(index, n_rows, rows_per_block):
    """Row block ``index`` of the synthetic image: a gradient plus noise.

    The noise is a slab of ``SLAB`` random rows, its own for each block,
    repeated down the block; so a block costs little more than writing it,
    and the anchor pass measures reading the array more than making it.
    """
    start = index * rows_per_block
    stop = min(start + rows_per_block, n_rows)
    noise = np.random.default_rng(index).integers(
        0, 56, size=(SLAB, WIDTH), dtype=np.uint8
    )
    columns = ((np.arange(WIDTH) // 64) % 100).astype(np.uint8)
    block = np.empty((stop - start, WIDTH), dtype=np.uint8)
    for top in range(start, stop, SLAB):
        rows = slice(top - start, min(top + SLAB, stop) - start)
        gradient = columns + np.uint8((top // SLAB) % 100)
        np.add(noise[: rows.stop - rows.start], gradient, out=block[rows])
    return block


def _make_block_for_dask(n_rows, rows_per_block, block_id=None):
    return make_block(block_id[0], n_rows, rows_per_block)


def dask_image(n_rows, rows_per_block):
    import dask.array as da

    n_blocks = -(-n_rows // rows_per_block)
    row_chunks = tuple(
        min(rows_per_block, n_rows - i * rows_per_block) for i in range(n_blocks)
    )
    return da.map_blocks(
        _make_block_for_dask,
        n_rows,
        rows_per_block,
        chunks=(row_chunks, (WIDTH,)),
        dtype=np.uint8,
        meta=np.empty((0, 0), dtype=np.uint8),
    )


def code_counts(codes, n_codes):
    """Histogram of a block of codes, counted in slices through one int64
    buffer: ``np.bincount`` would make an int64 copy of each slice, and dask
    workers, which return freed memory to the system at once
    (``MALLOC_TRIM_THRESHOLD_``), pay page faults for every new copy."""
    flat = codes.ravel()
    counts = np.zeros(n_codes, dtype=np.int64)
    buffer = np.empty(min(flat.size, 1 << 20), dtype=np.intp)
    for start in range(0, flat.size, buffer.size):
        part = flat[start : start + buffer.size]
        index = buffer[: part.size]
        np.copyto(index, part)
        counts += np.bincount(index, minlength=n_codes)
    return counts


def _block_counts(codes, n_codes):
    return code_counts(codes, n_codes)[None, :]


def _code_histogram(quantizer, X):
    """Histogram of the codes of X, counted on the workers block by block."""
    codes = quantizer.transform(X)
    n_codes = quantizer.n_bins_
    per_block = codes.map_blocks(
        _block_counts,
        n_codes,
        chunks=((1,) * codes.numblocks[0], (n_codes,)),
        dtype=np.int64,
        meta=np.empty((0, 0), dtype=np.int64),
    )
    return per_block.sum(axis=0).compute()


def _timed(work):
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _rss():
    import psutil

    return psutil.Process().memory_info().rss


class MemoryPoller:
    """Peak resident memory of each worker and of the client while active."""

    def __init__(self, client, interval=0.1):
        self.client = client
        self.interval = interval

    def __enter__(self):
        self.worker_peak = {}
        self.client_peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def _sample(self):
        for worker, rss in self.client.run(_rss).items():
            self.worker_peak[worker] = max(self.worker_peak.get(worker, 0), rss)
        self.client_peak = max(self.client_peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def peak_worker(self):
        return max(self.worker_peak.values())


def stream_locally(n_rows, rows_per_block, n_bins, fitted):
    """partial_fit over the blocks made locally one by one, and the
    histogram of ``fitted``'s codes of the same blocks."""
    from skvq import ImageVectorQuantizer

    local = ImageVectorQuantizer(n_bins=n_bins)
    counts = np.zeros(fitted.n_bins_, dtype=np.int64)
    for index in range(-(-n_rows // rows_per_block)):
        block = make_block(index, n_rows, rows_per_block)
        local.partial_fit(block)
        counts += code_counts(fitted.transform(block), counts.size)
    return local, counts


def run(
    smoke=False,
    gigabytes=4.0,
    chunk_megabytes=64,
    memory_limit="1GiB",
    n_bins=16,
    repeat=2,
):
    """Measure; return (tables, targets)."""
    import cloudpickle
    import dask
    import distributed
    from dask.utils import format_bytes, parse_bytes

    from skvq import ImageVectorQuantizer

    if smoke:
        gigabytes, chunk_megabytes = 0.0625, 8
    # Workers import what they run; this module is not on their path when
    # imported by run_all.py, so its functions travel by value.
    if __name__ != "__main__":
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    rows_per_block = max(1, int(chunk_megabytes * 2**20) // WIDTH)
    n_rows = int(gigabytes * 2**30) // WIDTH
    X = dask_image(n_rows, rows_per_block)
    size = X.nbytes
    limit = parse_bytes(memory_limit)

    passes = []
    load_before = os.getloadavg()[0]
    # The Zarr stores the passes below write (one directory, removed after).
    stores = tempfile.TemporaryDirectory(prefix="skvq-bench-dask-")
    with (
        distributed.LocalCluster(
            n_workers=N_WORKERS,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
        dask.config.set(scheduler=client),
    ):
        # Warm up: imports, and the first tasks of each kind on each worker.
        warm_up = dask_image(4 * rows_per_block, rows_per_block)
        _code_histogram(ImageVectorQuantizer(n_bins=n_bins).fit(warm_up), warm_up)
        idle = max(client.run(_rss).values())

        quantizer = ImageVectorQuantizer(n_bins=n_bins)
        cluster_counts = None

        def histogram():
            nonlocal cluster_counts
            cluster_counts = _code_histogram(quantizer, X)

        def write(array, name):
            # A real job writes the codes somewhere: to a Zarr store, in the
            # array's blocks, each worker writing its own.
            import dask.array as da

            da.to_zarr(array, os.path.join(stores.name, name), overwrite=True)

        for name, work in [
            ("make blocks + max (anchor)", lambda: X.max().compute()),
            ("make blocks + write them to Zarr (anchor)", lambda: write(X, "raw")),
            ("fit", lambda: quantizer.fit(X)),
            ("transform + histogram of codes", histogram),
            (
                "transform + write codes to Zarr",
                lambda: write(quantizer.transform(X), "codes"),
            ),
        ]:
            with MemoryPoller(client) as poll:
                best = min(_timed(work) for _ in range(1 if smoke else repeat))
            passes.append((name, best, poll.peak_worker, poll.client_peak))

    stores.cleanup()
    start = time.perf_counter()
    local, local_counts = stream_locally(n_rows, rows_per_block, n_bins, quantizer)
    local_seconds = time.perf_counter() - start
    same_codebook = np.array_equal(local.codebook_, quantizer.codebook_) and (
        np.array_equal(local.bin_edges_, quantizer.bin_edges_)
    )
    same_counts = np.array_equal(local_counts, cluster_counts)

    table = Table(
        f"Dask: {X.shape[0]} x {X.shape[1]} uint8 array ({size / 1e9:.2f} GB, "
        f"{X.npartitions} blocks of {format_bytes(rows_per_block * WIDTH)}) on "
        f"{N_WORKERS} worker processes of 1 thread, memory limit "
        f"{format_bytes(limit)} each, {n_bins} bins",
        ["pass", "time", "throughput", "peak worker RSS", "peak client RSS"],
        note=(
            f"Worker RSS when idle: {megabytes(idle)}. Load average "
            f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after. The "
            "codebook fitted on the cluster "
            + ("equals" if same_codebook else "DIFFERS FROM")
            + " the one of partial_fit over the same blocks made locally one by "
            "one; the histogram of the codes "
            + ("equals" if same_counts else "DIFFERS FROM")
            + " that of the blocks encoded locally. The client's RSS in the last "
            "row is its peak over the whole run."
        ),
    )
    for name, elapsed, worker_peak, client_peak in passes:
        table.add(
            name,
            seconds(elapsed),
            f"{size / 1e9 / elapsed:.2f} GB/s",
            megabytes(worker_peak),
            megabytes(client_peak),
        )
    table.add(
        "one process: make blocks + partial_fit + transform + histogram",
        seconds(local_seconds),
        f"{size / 1e9 / local_seconds:.2f} GB/s",
        "n/a",
        megabytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024),
    )
    if not (same_codebook and same_counts):
        raise AssertionError(table.note)
    by_name = {name: elapsed for name, elapsed, _, _ in passes}
    raw = by_name["make blocks + write them to Zarr (anchor)"]
    codes = by_name["transform + write codes to Zarr"]
    peak = max(worker_peak for _, _, worker_peak, _ in passes)
    targets = [
        Target(
            "Dask transform + write to Zarr",
            f"<= {ZARR_TARGET:g}x making + writing the raw blocks ({seconds(raw)}), "
            "worker memory bounded",
            f"{codes / raw:.2f}x ({seconds(codes)}); peak worker RSS "
            f"{megabytes(peak)} of {format_bytes(limit)}",
            codes / raw <= ZARR_TARGET and peak <= limit,
        )
    ]
    return [table], targets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a 64 MiB array")
    parser.add_argument("--gigabytes", type=float, default=4.0)
    parser.add_argument("--chunk-megabytes", type=float, default=64)
    parser.add_argument("--memory-limit", default="1GiB")
    parser.add_argument("--n-bins", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each pass")
    args = parser.parse_args()
    tables, _ = run(
        args.smoke,
        args.gigabytes,
        args.chunk_megabytes,
        args.memory_limit,
        args.n_bins,
        args.repeat,
    )
    for table in tables:
        print(table.to_markdown())


if __name__ == "__main__":
    main()
