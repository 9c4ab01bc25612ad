"""``python -m pbufjax``: the same command line as the ``pbufjax`` console script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
