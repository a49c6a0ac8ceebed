"""``python -m tfgenopt`` runs the command line (after ``import tfgenopt``; see ``_tfgenopt_entry``)."""

import sys

from _tfgenopt_entry import main

sys.exit(main())
