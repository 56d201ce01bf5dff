"""``python -m skvq``: the same as the ``skvq`` command."""

if __name__ == "__main__":
    # Ctrl-C while the command's modules are imported: one line, no traceback
    # (from then on, skvq.cli.main handles it).
    try:
        from .cli import main
    except KeyboardInterrupt:
        import sys

        print("skvq: error: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    raise SystemExit(main())
