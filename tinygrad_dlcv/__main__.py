"""``python -m tinygrad_dlcv``: the same as the ``tinygrad-dlcv`` command."""

import sys

from tinygrad_dlcv.cli import main

if __name__ == "__main__":
    sys.exit(main())
