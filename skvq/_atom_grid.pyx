"""Atoms pooled in the cells of a power-of-two grid.

k-means of colours first runs on a coarse version of the atoms: the atoms
falling in one cell of a grid are pooled into one, with their total weight,
weighted sum and spread. The grid is the finest of a sequence of nested
grids (each cell of the next one holding ``2**n_channels`` cells of the
previous one) with at most a given number of non-empty cells.

The kernels validate nothing: the caller (``skvq._vector_codebook``) passes
C-contiguous arrays of matching shapes, and a scale at which the points'
coordinates are below 2**62.
"""

from libc.math cimport sqrt
from libc.stdlib cimport calloc, free, malloc
from libc.stdint cimport int64_t, uint32_t
from libc.string cimport memset


cdef inline Py_ssize_t _cell_key(
    const int64_t* coordinates, const Py_ssize_t* extent, const Py_ssize_t n_channels,
    int shift,
) noexcept nogil:
    """Index of the cell of a point's coordinates at ``shift``, the first
    channel most significant."""
    cdef Py_ssize_t c, key = 0
    for c in range(n_channels):
        key = key * extent[c] + (coordinates[c] >> shift)
    return key


cdef inline void _mark_cells(
    const int64_t* coordinates, const Py_ssize_t* extent, Py_ssize_t n_points,
    const Py_ssize_t n_channels, int shift, uint32_t* scratch,
) noexcept nogil:
    """Set ``scratch`` to 1 at the cell of every point (called with a
    constant channel count, which the compiler unrolls)."""
    cdef Py_ssize_t i
    for i in range(n_points):
        scratch[_cell_key(coordinates + i * n_channels, extent, n_channels, shift)] = 1


def grid_cells(
    const double[:, ::1] points,  # IN (n_points, n_channels)
    const double[::1] low,  # IN (n_channels,): the points' minimum
    double scale,
    Py_ssize_t max_cells,
    Py_ssize_t[::1] cells,  # OUT (n_points,)
    uint32_t[::1] scratch,  # scratch, (max_size,)
):
    """Cell of every point in the finest grid with at most ``max_cells``
    non-empty cells, among the grids of integer coordinates
    ``floor((points - low) * scale) >> shift`` for shift 0, 1, 2, ...

    Cells are numbered from 0 in the lexicographic order of their
    coordinates.

    Returns
    -------
    shift : int
        The shift of the grid chosen; -1 when a grid with more than
        ``max_cells`` cells had more possible cells than ``scratch`` holds
        (``cells`` is then undefined), or memory ran out.
    """
    cdef Py_ssize_t n_points = points.shape[0], n_channels = points.shape[1]
    cdef Py_ssize_t max_size = scratch.shape[0]
    cdef Py_ssize_t i, c, key, size, n_cells
    cdef uint32_t mark
    cdef int shift = 0
    cdef double possible
    cdef int64_t* coordinates = NULL
    cdef int64_t* largest = NULL
    cdef Py_ssize_t* extent = NULL
    with nogil:
        coordinates = <int64_t*>malloc(max(n_points * n_channels, 1) * sizeof(int64_t))
        largest = <int64_t*>calloc(max(n_channels, 1), sizeof(int64_t))
        extent = <Py_ssize_t*>malloc(max(n_channels, 1) * sizeof(Py_ssize_t))
        if coordinates == NULL or largest == NULL or extent == NULL:
            shift = -1
        else:
            for i in range(n_points):
                for c in range(n_channels):
                    # Truncation is the floor: points are at least ``low``.
                    coordinates[i * n_channels + c] = <int64_t>(
                        (points[i, c] - low[c]) * scale
                    )
                    largest[c] = max(largest[c], coordinates[i * n_channels + c])
        while shift >= 0:
            possible = 1.0
            for c in range(n_channels):
                extent[c] = (largest[c] >> shift) + 1
                possible *= extent[c]
            if possible > max_size:
                shift = -1
                break
            size = <Py_ssize_t>possible
            memset(&scratch[0], 0, size * sizeof(uint32_t))
            if n_channels == 3:
                _mark_cells(coordinates, extent, n_points, 3, shift, &scratch[0])
            else:
                _mark_cells(coordinates, extent, n_points, n_channels, shift, &scratch[0])
            # Each cell's number in place of its mark: the count of marks
            # before it (written for empty cells too, never read there; no
            # branch to mispredict at every cell).
            n_cells = 0
            for key in range(size):
                mark = scratch[key]
                scratch[key] = <uint32_t>n_cells
                n_cells += mark
            if n_cells <= max_cells:
                for i in range(n_points):
                    cells[i] = scratch[
                        _cell_key(coordinates + i * n_channels, extent, n_channels, shift)
                    ]
                break
            shift += 1
        free(coordinates)
        free(largest)
        free(extent)
    return shift


def pool_atoms(
    const Py_ssize_t[::1] cells,  # IN (n_atoms,), in [0, n_cells)
    const double[:, ::1] points,  # IN (n_atoms, n_channels)
    const double[::1] weight,  # IN (n_atoms,)
    const double[::1] spread,  # IN (n_atoms,)
    double half_width,
    double[:, ::1] means,  # OUT (n_cells, n_channels)
    double[::1] pooled_weight,  # OUT (n_cells,)
    double[:, ::1] pooled_sums,  # OUT (n_cells, n_channels)
    double[::1] pooled_spread,  # OUT (n_cells,)
):
    """Pool the atoms of every cell: total weight, weighted sum, mean, and
    spread (standard deviation per channel of the pixels, from the atoms'
    own spreads and the scatter of their means), at most ``half_width``
    (the pixels of a cell are within it, whatever rounding says)."""
    cdef Py_ssize_t n_atoms = points.shape[0], n_channels = points.shape[1]
    cdef Py_ssize_t n_cells = means.shape[0]
    cdef Py_ssize_t i, j, c
    cdef double w, squares, scatter
    with nogil:
        memset(&pooled_weight[0], 0, n_cells * sizeof(double))
        memset(&pooled_sums[0, 0], 0, n_cells * n_channels * sizeof(double))
        memset(&pooled_spread[0], 0, n_cells * sizeof(double))
        for i in range(n_atoms):
            j = cells[i]
            w = weight[i]
            pooled_weight[j] += w
            squares = n_channels * spread[i] * spread[i]
            for c in range(n_channels):
                pooled_sums[j, c] += w * points[i, c]
                squares += points[i, c] * points[i, c]
            # Weighted sum of squares, for now.
            pooled_spread[j] += w * squares
        for j in range(n_cells):
            scatter = pooled_spread[j]
            for c in range(n_channels):
                means[j, c] = pooled_sums[j, c] / pooled_weight[j]
                scatter -= pooled_sums[j, c] * means[j, c]
            pooled_spread[j] = min(
                sqrt(max(scatter, 0.0) / pooled_weight[j] / n_channels), half_width
            )
