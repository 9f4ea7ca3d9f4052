"""``python -m minigrad EXPR NAME=VALUE ...``: the same as the ``minigrad`` command."""

import sys

from minigrad.cli import main

sys.exit(main())
