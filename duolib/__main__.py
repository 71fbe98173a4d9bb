"""``python -m duolib``: see ``duolib.cli``."""

import sys

from .cli import main

sys.exit(main())
