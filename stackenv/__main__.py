"""``python -m stackenv`` runs the ``stackenv`` command line (see :mod:`stackenv.cli`)."""

import sys

from stackenv.cli import main

sys.exit(main())
