"""Throughput of pack_codes / unpack_codes for every n_bits.

Run: ``python benchmarks/bench_packing.py [n_codes]``. Prints, per n_bits,
millions of codes per second and MB/s of code arrays (the uint8/uint16 input of
pack_codes, the output of unpack_codes), best of several repeats.
"""

import sys
import timeit

import numpy as np

from skvq._packing import pack_codes, unpack_codes


def best_time(func, *args, repeat):
    return min(timeit.repeat(lambda: func(*args), number=1, repeat=repeat))


def main(n_codes=2**24, repeat=5):
    rng = np.random.default_rng(0)
    print(f"{n_codes} codes, best of {repeat}")
    print(
        f"{'n_bits':>6} {'pack Mcode/s':>13} {'pack MB/s':>10} "
        f"{'unpack Mcode/s':>15} {'unpack MB/s':>12}"
    )
    for n_bits in range(1, 17):
        dtype = np.uint8 if n_bits <= 8 else np.uint16
        codes = rng.integers(0, 1 << n_bits, size=n_codes).astype(dtype)
        packed = pack_codes(codes, n_bits)
        assert np.array_equal(unpack_codes(packed, n_bits, codes.shape), codes)
        t_pack = best_time(pack_codes, codes, n_bits, repeat=repeat)
        t_unpack = best_time(unpack_codes, packed, n_bits, codes.shape, repeat=repeat)
        print(
            f"{n_bits:>6} {n_codes / t_pack / 1e6:>13.0f} "
            f"{codes.nbytes / t_pack / 1e6:>10.0f} "
            f"{n_codes / t_unpack / 1e6:>15.0f} "
            f"{codes.nbytes / t_unpack / 1e6:>12.0f}"
        )


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:2]))
