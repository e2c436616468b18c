"""``python -m spikard run module:app``: the ``spikard`` command."""

import sys

from .cli import main

sys.exit(main())
