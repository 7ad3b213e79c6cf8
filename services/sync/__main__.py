"""`python -m services.sync`: the cron entry point (see `services.sync.cli`)."""

import sys

from services.sync.cli import main

sys.exit(main())
