"""`python -m conformance` and the `vnqr-conformance` console script."""
import sys


def run() -> None:
    from conformance.cli import main

    sys.exit(main())


if __name__ == "__main__":
    run()
