"""Writing files whole or not at all, and never over a file not asked for.

The one home of skvq's file writing (:func:`skvq.write_palette_png`,
:func:`skvq.write_animation` and ``skvq quantize``). A file is written to a
temporary file in its folder, flushed to disk, then given its name:

- with ``overwrite``, by :func:`os.replace` (atomic: the name holds the old
  file or the new one, never a part);
- without, by :func:`os.link` of the temporary file to the name, which fails
  if the name exists, whoever created it and when (then the temporary file
  is removed). On a file system without hard links (FAT, some network
  shares), :func:`os.rename`, which on Windows never replaces a file, and
  elsewhere replaces one created by another process between the check and
  the rename: that window is all that is lost.

Temporary names are short (``.skvq-XXXXXXXX.tmp``), so that a name of up to
NAME_MAX bytes can be written.
"""

import contextlib
import errno
import os
import secrets

# errno values of link(2) meaning "no hard links here".
_NO_LINKS = {
    errno.EPERM,
    errno.EXDEV,
    errno.EMLINK,
    getattr(errno, "ENOTSUP", errno.EPERM),
    getattr(errno, "EOPNOTSUPP", errno.EPERM),
    errno.ENOSYS,
}


def write_atomically(path, write, *, overwrite, before_naming=None):
    """Call ``write(file)`` on a temporary file beside ``path``, then give
    it the name ``path``.

    Parameters
    ----------
    path : path-like
    write : callable
        Called with the temporary file, open for writing bytes.
    overwrite : bool
        Replace an existing ``path``; without it an existing ``path`` (also
        one created meanwhile by another process) raises FileExistsError.
    before_naming : callable, default=None
        Called after the data are on disk and before the file is named; an
        exception it raises (e.g. that the program is stopping) leaves
        nothing behind.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False; nothing was written.
    OSError
        The file could not be written; nothing is left beside ``path``.
    """
    path = os.fspath(path)
    if not overwrite and os.path.lexists(path):
        raise _exists(path)
    temp_path = _create_temp_file(os.path.dirname(os.path.abspath(path)))
    try:
        with open(temp_path, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        if before_naming is not None:
            before_naming()
        if overwrite:
            os.replace(temp_path, path)
        else:
            _name_without_replacing(temp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise


def _exists(path):
    return FileExistsError(f"{path} already exists; pass overwrite=True to replace it.")


def _name_without_replacing(temp_path, path):
    try:
        os.link(temp_path, path)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        if os.name != "nt" and os.path.lexists(path):
            raise _exists(path) from None
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
