"""``python -m tfgenopt.cli`` runs the command line (as ``python -m tfgenopt`` does)."""

import sys

from tfgenopt.cli import main

sys.exit(main())
