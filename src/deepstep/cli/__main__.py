"""``python -m deepstep.cli``: the ``deepstep`` command."""

import sys

from deepstep.cli import main

sys.exit(main())
