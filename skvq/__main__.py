"""``python -m skvq``: the same as the ``skvq`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
