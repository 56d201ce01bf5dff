"""Seed pooch's cache with the raccoon face so ``scipy.datasets.face()`` runs offline.

``scipy.datasets.face()`` reads ``face.dat`` from ``pooch.os_cache("scipy-data")``
and downloads it only when the file is missing or its SHA-256 differs. Machines
that build the documentation or run the tests may have no internet access, so
this script copies a local copy of the file into that cache first. The real
SciPy loading code then runs unchanged and still verifies the hash.

The local copy is looked up, in order, at the path in the environment variable
``SKVQ_FACE_DAT`` and at ``<repository>/../shared/data/face.dat``. When neither
exists nothing is copied, and pooch downloads the file on first use as usual.

Run it as ``python tools/seed_data.py``; ``doc/conf.py`` and
``tests/conftest.py`` import :func:`seed_face` from this file.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

# The hash SciPy's dataset registry pins for face.dat; a cached file with any
# other content would make pooch try to download it again.
FACE_SHA256 = "9d8b0b4d081313e2b485748c770472e5a95ed1738146883d84c7030493e82886"

REPOSITORY = Path(__file__).resolve().parents[1]


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _local_copies():
    from_env = os.environ.get("SKVQ_FACE_DAT")
    if from_env:
        yield Path(from_env)
    yield REPOSITORY.parent / "shared" / "data" / "face.dat"


def seed_face(verbose=False):
    """Make ``face.dat`` available in pooch's ``scipy-data`` cache.

    Parameters
    ----------
    verbose : bool, default=False
        Print what was found and done.

    Returns
    -------
    path : pathlib.Path or None
        The cached file when it is in place with the expected hash, or None
        when no local copy was found (pooch will then download on first use).
    """
    import pooch

    target = Path(pooch.os_cache("scipy-data")) / "face.dat"
    if target.is_file() and _sha256(target) == FACE_SHA256:
        if verbose:
            print(f"face.dat already cached at {target}")
        return target

    for source in _local_copies():
        if not source.is_file():
            continue
        if _sha256(source) != FACE_SHA256:
            if verbose:
                print(f"ignoring {source}: its SHA-256 is not face.dat's")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # Copy under a temporary name in the same folder, then rename, so a
        # concurrent reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".face.dat.")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            # mkstemp creates the file private to its owner; a cache is not.
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
        if verbose:
            print(f"copied {source} to {target}")
        return target

    if verbose:
        print(
            "no local face.dat found (set SKVQ_FACE_DAT to its path); "
            "scipy.datasets.face() will download it through pooch"
        )
    return None


if __name__ == "__main__":
    # Finding no local copy is not an error: with internet access pooch
    # downloads the file on first use.
    seed_face(verbose=True)
