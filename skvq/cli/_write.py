"""Writing the command's outputs: to standard output, or as files written
whole or not at all and never over a file not asked for
(:mod:`skvq._atomic_write`), stopping cleanly when the command is.
"""

import sys
import threading

from .._atomic_write import write_atomically
from ._arguments import STDIN

# Set when the command is stopped (SIGINT, SIGTERM): an output not yet
# named is then removed instead.
stopping = threading.Event()


class FileError(Exception):
    """A file that cannot be read or written; the message says why."""


class Stopped(BaseException):
    """The command was stopped while a file was being written."""


def reason(exc):
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def write_output(path, data, overwrite):
    """Write the bytes ``data`` to ``path`` (``"-"``: standard output).

    Raises
    ------
    FileError
        If ``path`` exists and ``overwrite`` is False, or it cannot be
        written; nothing is left at ``path`` or beside it.
    """
    if path == STDIN:
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except OSError as exc:
            raise FileError(f"cannot write to standard output: {reason(exc)}") from None
        return
    try:
        _write_atomically(path, data, overwrite)
    except FileExistsError:
        raise FileError(
            f"{path} already exists (use --overwrite to replace it)"
        ) from None
    except OSError as exc:
        raise FileError(f"cannot write {path}: {reason(exc)}") from None


def _write_atomically(path, data, overwrite):
    def write(file):
        file.write(data)

    write_atomically(path, write, overwrite=overwrite, before_naming=_unless_stopping)


def _unless_stopping():
    if stopping.is_set():
        raise Stopped
