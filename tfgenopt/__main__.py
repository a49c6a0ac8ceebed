"""``python -m tfgenopt`` runs the command line."""

import sys

from tfgenopt.cli import main

sys.exit(main())
