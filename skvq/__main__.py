"""``python -m skvq``: the same as the ``skvq`` command."""

if __name__ == "__main__":
    # Ctrl-C while the command's modules are imported: one line, no traceback
    # (from then on, skvq.cli.main handles it). This process is the command,
    # so it may also drop the interrupts Python would print as "Exception
    # ignored" when Ctrl-C lands in an import's callback.
    import sys

    def _drop_interrupts(unraisable, previous=sys.unraisablehook):
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous(unraisable)

    sys.unraisablehook = _drop_interrupts
    try:
        from .cli import main
    except KeyboardInterrupt:
        print("skvq: error: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    raise SystemExit(main())
