"""Entry point: `python main.py --mode=MODE`; see `python main.py --help`."""

import sys

from srgan.cli import main

if __name__ == "__main__":
    sys.exit(main())
