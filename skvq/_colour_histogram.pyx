"""Distinct colours of uint8 images of two or three channels, and their cells.

A colour is keyed by its channels' bytes, the first channel most significant,
so that keys sort colours lexicographically. The colours present are marked
in a bitmap over every possible key (2 MiB for three channels), which is then
read in key order: counting needs no sort, and costs two passes over the
pixels plus one over the bitmap. A colour's rank among those present (the
index of its count) is the number of bits set before its own.

The cell of a colour with cell exponent ``e`` is ``floor(v / 2**e)`` per
channel (``v >> e``), keyed the same way with ``8 - e`` bits per channel;
cells are counted and pooled from the distinct colours, the same way.

Marking and (unweighted) counting split the pixels into chunks of fixed
size shared among ``n_threads`` OpenMP threads (``prange``), each with a
bitmap or counts of its own, which are then merged: bits by OR (the
channels' bounds are then read from the merged bitmap), counts (in int64)
by addition, all exact in any order, so the results are the same for any
thread count. Weighted counts are added in the pixels' order, on one thread
(a sum of floats depends on its order). Cells are marked and pooled by threads taking runs of the
sorted colours that share no cell (cut where the first channel's cell
changes), each cell's colours added in their order: the same for any
thread count too.

The kernels validate nothing: the caller (``skvq._summary``) passes
C-contiguous arrays of two or three channels, allocates the outputs with the
sizes the docstrings give, and passes ``weight`` of the pixels' length, or
``None`` to weigh every pixel one. Pixels of weight zero are skipped.

This module is compiled for every processor of its platform. On x86,
where that leaves out the POPCNT instruction (x86-64 before its v2 level),
counting the bits below a colour's own (its rank, once per pixel) takes a
dozen instructions instead of one: the same kernels compiled with POPCNT
are in :mod:`skvq._colour_histogram_popcnt`, and :mod:`skvq._colour_kernels`
picks them where the processor has it (:func:`cpu_has_popcnt`).
"""

include "_colour_histogram.pxi"


cdef extern from *:
    """
    /* Whether this x86 processor has POPCNT; 0 elsewhere. */
    static int skvq_cpu_has_popcnt(void) {
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("popcnt") != 0;
    #else
        return 0;
    #endif
    }
    """
    int _cpu_has_popcnt "skvq_cpu_has_popcnt"() noexcept nogil


def cpu_has_popcnt():
    """Whether the processor running this is an x86 one with the POPCNT
    instruction, which :mod:`skvq._colour_histogram_popcnt` needs (False
    on other processors, and where the compiler cannot tell)."""
    return bool(_cpu_has_popcnt())
