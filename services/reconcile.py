"""`python -m services.reconcile --db PATH --account NAME`: settle changes an interrupted apply left unrecorded.

A thin forwarder for cron jobs and operators; the logic lives in `services.optimizer.reconcile`.
"""

import sys

from services.optimizer.reconcile import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
