"""oxipng's optimisation of PNG bytes, with options as plain data: the one
place skvq calls oxipng (palette PNG files, APNG animations).

The options are a dict of plain values (row filters by name), so that they
pickle: the command line can hand the work to a process of its own
(:mod:`skvq.cli._optimizer`). Importing this module imports neither NumPy
nor oxipng.
"""


def optimize(data, options):
    """``data`` (the bytes of a PNG file) through oxipng.

    Parameters
    ----------
    data : bytes
    options : dict
        Keyword arguments of ``oxipng.optimize_from_memory``, except that
        ``"filter"``, when present, lists ``oxipng.RowFilter`` members by
        name.

    Returns
    -------
    data : bytes
    """
    import oxipng

    options = dict(options)
    if "filter" in options:
        options["filter"] = [getattr(oxipng.RowFilter, f) for f in options["filter"]]
    return oxipng.optimize_from_memory(data, **options)
