import importlib.util
from pathlib import Path

import pytest


def _seed_face():
    """Put face.dat in pooch's cache when a local copy exists (see
    tools/seed_data.py), so scipy.datasets.face() works offline."""
    path = Path(__file__).resolve().parents[1] / "tools" / "seed_data.py"
    spec = importlib.util.spec_from_file_location("seed_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.seed_face()


@pytest.fixture(scope="session")
def face_gray():
    """The raccoon face in gray, through scipy's real loading code."""
    pytest.importorskip("pooch")
    from scipy import datasets

    _seed_face()
    return datasets.face(gray=True)


@pytest.fixture(scope="session")
def face_color():
    """The raccoon face in colour, through scipy's real loading code."""
    pytest.importorskip("pooch")
    from scipy import datasets

    _seed_face()
    return datasets.face()
