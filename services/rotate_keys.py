"""`python -m services.rotate_keys`: kept for cron jobs and scripts; the command lives in `services.secrets.rotate_keys`."""

import sys

from services.secrets.rotate_keys import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
