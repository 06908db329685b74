"""`python -m pipelines.drift`: the drift check's command line."""

import sys

from pipelines.drift.cli import main

sys.exit(main())
