"""`python -m services.jobs`: see `services.jobs.cli`."""

import sys

from services.jobs.cli import main

sys.exit(main())
