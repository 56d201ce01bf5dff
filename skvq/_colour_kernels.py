"""The colour histogram's kernels, compiled for this processor.

:mod:`skvq._colour_histogram` runs on every processor of its platform;
:mod:`skvq._colour_histogram_popcnt`, the same kernels compiled with x86's
POPCNT instruction, counts a colour's rank in one instruction instead of a
dozen (counting the colours of a 12.6-megapixel photo: about 1.6x faster).
It is picked where the processor has POPCNT and the build made it (setup.py
leaves it out where the compiler cannot target it); both give the same
results.
"""

from . import _colour_histogram as kernels

if kernels.cpu_has_popcnt():
    try:
        from . import _colour_histogram_popcnt as kernels
    except ImportError:  # not built: a compiler without -mpopcnt
        pass

count_cells = kernels.count_cells
count_colours = kernels.count_colours
list_colours = kernels.list_colours
mark_colours = kernels.mark_colours
pool_colours = kernels.pool_colours
take_by_colour = kernels.take_by_colour
