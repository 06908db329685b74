"""``python -m triggers_cli``: the ``vertex-triggers`` command without the installed script."""

import sys

from triggers_cli.main import main

sys.exit(main())
