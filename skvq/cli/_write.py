"""Writing outputs whole or not at all, and never over a file not asked for.

Each output is written to a temporary file in its folder, flushed to disk,
then given its name:

- with ``overwrite``, by :func:`os.replace` (atomic: the name holds the old
  file or the new one, never a part);
- without, by :func:`os.link` of the temporary file to the name, which fails
  if the name exists, whoever created it and when (then the temporary file
  is removed). On a file system without hard links (FAT, some network
  shares), :func:`os.rename`, which on Windows never replaces a file, and
  elsewhere replaces one created by another process between the check and
  the rename: that window is all that is lost.

Temporary names are short (``.skvq-XXXXXXXX.tmp``), so that an output name
of up to NAME_MAX bytes can be written.
"""

import contextlib
import errno
import os
import secrets
import sys
import threading

from ._arguments import STDIN

# Set when the command is stopped (SIGINT, SIGTERM): an output not yet
# named is then removed instead.
stopping = threading.Event()

# errno values of link(2) meaning "no hard links here".
_NO_LINKS = {
    errno.EPERM,
    errno.EXDEV,
    errno.EMLINK,
    getattr(errno, "ENOTSUP", errno.EPERM),
    getattr(errno, "EOPNOTSUPP", errno.EPERM),
    errno.ENOSYS,
}


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
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(path)
    directory = os.path.dirname(os.path.abspath(path))
    temp_path = _create_temp_file(directory)
    try:
        with open(temp_path, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if stopping.is_set():
            raise Stopped
        if overwrite:
            os.replace(temp_path, path)
        else:
            _name_without_replacing(temp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise


def _name_without_replacing(temp_path, path):
    try:
        os.link(temp_path, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        if os.name != "nt" and os.path.lexists(path):
            raise FileExistsError(path) from None
        os.rename(temp_path, path)
        return
    os.unlink(temp_path)


def _create_temp_file(directory):
    # Not tempfile.mkstemp: it creates files readable by the owner only,
    # whereas the final file should get the usual permissions (0o666 minus
    # the umask), as if it had been opened directly.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp_path = os.path.join(directory, f".skvq-{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(temp_path, flags, 0o666))
        except FileExistsError:
            continue
        return temp_path
    raise FileExistsError(f"could not create a temporary file in {directory}.")
