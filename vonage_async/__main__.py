"""``python -m vonage_async``: the ``vonage-async`` command line."""

import sys

from ._cli import main

sys.exit(main())
