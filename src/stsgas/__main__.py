"""Allow ``python -m stsgas``."""

import sys

from stsgas.cli import main

sys.exit(main())
