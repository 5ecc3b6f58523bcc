"""``python -m layoutkit``."""

import sys

from .cli import main

sys.exit(main())
