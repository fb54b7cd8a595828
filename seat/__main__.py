"""The `seat` command (the console script) and `python -m seat`."""

import gc


def run() -> int:
    # The collector is off while the seat starts: start-up makes many objects that live as long
    # as the process and frees few, and the passes over them cost every start ~20 ms before the
    # command line is even read. seat.cli.main turns it back on for a command, and run_app once
    # the seat is built.
    gc.disable()
    from seat.cli import main  # imported after gc.disable(), for start-up speed

    return main()


if __name__ == "__main__":
    raise SystemExit(run())
