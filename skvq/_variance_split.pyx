"""Greedy variance split of weighted points into boxes (Wu 1991b).

Starting from one box holding every point, the box whose best cut lowers the
weighted squared error most is cut in two, until there are ``n_clusters``
boxes or no box can be cut. A cut is a threshold on one channel between two
of ``n_steps`` even steps of that channel's range; a box's best cut is found
from the per-step sums of its points (weight and weighted coordinates), the
error of a part with weight ``W`` and weighted sum ``S`` being its sum of
squares less ``|S|**2 / W``, so that a cut lowers the error by::

    |S_left|**2 / W_left + |S_right|**2 / W_right - |S|**2 / W

The kernel validates nothing: the caller (``skvq._vector_codebook``) passes
C-contiguous arrays of matching shapes, steps in ``[0, n_steps)`` and
positive weights.
"""

from libc.stdlib cimport free, malloc
from libc.string cimport memset


cdef struct Box:
    Py_ssize_t start, end  # its points are order[start:end]
    double decrease  # of its best cut; 0 when it cannot be cut
    Py_ssize_t channel, step  # the cut: channel's step <= step goes left


cdef void _best_cut(
    Box* box,
    const Py_ssize_t* order,
    const Py_ssize_t* steps,
    const double* mass,
    Py_ssize_t n_channels,
    Py_ssize_t n_steps,
    double* sums,
    Py_ssize_t* counts,
) noexcept nogil:
    """Find the best cut of ``box``: the first (by channel, then step) of
    largest decrease among cuts leaving points on both sides. ``sums`` has
    room for ``(n_channels * n_steps + 2) * (n_channels + 1)`` values."""
    cdef Py_ssize_t width = n_channels + 1
    cdef Py_ssize_t t, p, c, k, n_left, slot, step, lowest, highest
    cdef double* total = sums + n_channels * n_steps * width
    cdef double* left = total + width
    cdef double after, best = -1.0, squares, right_w, right
    cdef const double* m
    box.decrease, box.channel, box.step = 0.0, -1, -1
    for k in range(width):
        total[k] = 0.0
    for c in range(n_channels):
        # Only the steps the box's points span: deeper boxes are narrower.
        lowest, highest = n_steps, 0
        for t in range(box.start, box.end):
            step = steps[order[t] * n_channels + c]
            lowest, highest = min(lowest, step), max(highest, step)
        memset(sums + (c * n_steps + lowest) * width, 0,
               (highest - lowest + 1) * width * sizeof(double))
        memset(counts + c * n_steps + lowest, 0,
               (highest - lowest + 1) * sizeof(Py_ssize_t))
        for t in range(box.start, box.end):
            p = order[t]
            m = mass + p * width
            slot = c * n_steps + steps[p * n_channels + c]
            counts[slot] += 1
            for k in range(width):
                sums[slot * width + k] += m[k]
                if c == 0:
                    total[k] += m[k]
        for k in range(width):
            left[k] = 0.0
        n_left = 0
        # A cut below the lowest step or at the highest leaves a side empty.
        for t in range(lowest, highest):
            slot = c * n_steps + t
            n_left += counts[slot]
            for k in range(width):
                left[k] += sums[slot * width + k]
            squares = 0.0
            for k in range(1, width):
                squares += left[k] * left[k]
            after = squares / left[0]
            squares = 0.0
            right_w = total[0] - left[0]
            for k in range(1, width):
                right = total[k] - left[k]
                squares += right * right
            after += squares / right_w
            if after > best:
                best, box.channel, box.step = after, c, t
    if box.channel < 0:
        return
    squares = 0.0
    for k in range(1, width):
        squares += total[k] * total[k]
    if best - squares / total[0] > 0:
        box.decrease = best - squares / total[0]
    else:
        box.channel, box.step = -1, -1


def variance_split(
    const Py_ssize_t[:, ::1] steps,  # IN (n_points, n_channels)
    const double[:, ::1] mass,  # IN (n_points, n_channels + 1)
    Py_ssize_t n_steps,
    Py_ssize_t n_clusters,
    double[:, ::1] totals,  # OUT (n_clusters, n_channels + 1)
    Py_ssize_t[::1] labels,  # OUT (n_points,)
):
    """Cut the points into at most ``n_clusters`` boxes, greedily.

    Parameters
    ----------
    steps : ndarray of shape (n_points, n_channels)
        The step of every point in every channel, in ``[0, n_steps)``.
    mass : ndarray of shape (n_points, n_channels + 1)
        Weight (positive), then weighted coordinates, of every point.
    n_steps : int
    n_clusters : int
        At most 65536.
    totals : ndarray of shape (n_clusters, n_channels + 1)
        Receives the mass of each box (its points' ``mass`` summed) in its
        first ``n_boxes`` rows, boxes in the order of their cuts (a box's
        two parts replace it, left first).
    labels : ndarray of shape (n_points,)
        Receives the box of every point.

    Returns
    -------
    n_boxes : int
        Number of boxes, at least 1 (for at least one point).
    """
    cdef Py_ssize_t n_points = steps.shape[0], n_channels = steps.shape[1]
    cdef Py_ssize_t width = n_channels + 1
    cdef Py_ssize_t n_boxes = 1, b, i, t, n_low, n_high, k
    cdef Box* boxes = NULL
    cdef Py_ssize_t* order = NULL
    cdef Py_ssize_t* high = NULL
    cdef Py_ssize_t* counts = NULL
    cdef double* sums = NULL
    cdef Box cut
    cdef bint failed = False
    with nogil:
        boxes = <Box*>malloc(max(n_clusters, 1) * sizeof(Box))
        order = <Py_ssize_t*>malloc(2 * max(n_points, 1) * sizeof(Py_ssize_t))
        counts = <Py_ssize_t*>malloc(n_channels * n_steps * sizeof(Py_ssize_t))
        sums = <double*>malloc((n_channels * n_steps + 2) * width * sizeof(double))
        if boxes == NULL or order == NULL or counts == NULL or sums == NULL:
            failed = True
        else:
            high = order + n_points
            for i in range(n_points):
                order[i] = i
            boxes[0].start, boxes[0].end = 0, n_points
            _best_cut(&boxes[0], order, &steps[0, 0], &mass[0, 0], n_channels, n_steps, sums, counts)
            while n_boxes < n_clusters:
                b = 0
                for i in range(1, n_boxes):
                    if boxes[i].decrease > boxes[b].decrease:
                        b = i
                if boxes[b].channel < 0:
                    break
                # Stable partition: points at or below the cut first.
                cut = boxes[b]
                n_low = cut.start
                n_high = 0
                for t in range(cut.start, cut.end):
                    i = order[t]
                    if steps[i, cut.channel] <= cut.step:
                        order[n_low] = i
                        n_low += 1
                    else:
                        high[n_high] = i
                        n_high += 1
                for t in range(n_high):
                    order[n_low + t] = high[t]
                for i in range(n_boxes, b + 1, -1):
                    boxes[i] = boxes[i - 1]
                n_boxes += 1
                boxes[b].start, boxes[b].end = cut.start, n_low
                boxes[b + 1].start, boxes[b + 1].end = n_low, cut.end
                _best_cut(&boxes[b], order, &steps[0, 0], &mass[0, 0], n_channels, n_steps, sums, counts)
                _best_cut(&boxes[b + 1], order, &steps[0, 0], &mass[0, 0], n_channels, n_steps, sums, counts)
            for b in range(n_boxes):
                for k in range(width):
                    totals[b, k] = 0.0
                for t in range(boxes[b].start, boxes[b].end):
                    i = order[t]
                    labels[i] = b
                    for k in range(width):
                        totals[b, k] += mass[i, k]
        free(boxes)
        free(order)
        free(counts)
        free(sums)
    if failed:
        raise MemoryError("Not enough memory for the variance split.")
    return n_boxes
