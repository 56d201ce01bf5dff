"""The kernels of :mod:`skvq._colour_histogram`, compiled with the POPCNT
instruction of x86 processors (``-mpopcnt``): the same results, a rank in
one instruction instead of a dozen.

Compiled for POPCNT as a whole, it is imported only on a processor that
has the instruction (:mod:`skvq._colour_kernels` checks first). setup.py
builds it where the compiler targets x86 and takes ``-mpopcnt``, and leaves
it out elsewhere.
"""

include "_colour_histogram.pxi"
