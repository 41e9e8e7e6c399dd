"""`python -m services.backtester`."""

import sys

from services.backtester.cli import main

sys.exit(main())
