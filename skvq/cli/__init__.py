"""The ``skvq`` command: quantize image files to palette PNG files.

One module per job: :mod:`._arguments` (the options and their checks),
:mod:`._read` (decoding files, alpha and 16 bits), :mod:`._palette` (the
palette of an image, with or without alpha, from the public core
:mod:`skvq._quantize`), :mod:`._quality` (``--quality``), :mod:`._report`
(the table and the errors it shows), :mod:`._pipeline` (files in parallel,
rows in order) and :mod:`._write` (files written whole or not at all).

Start-up stays light: importing this package imports only the standard
library, so that ``skvq --help`` answers at once. The command imports NumPy,
Pillow and skvq's core, never scikit-learn, SciPy or pandas.
"""

from ._main import main

__all__ = ["main"]
