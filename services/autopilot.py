"""`python -m services.autopilot --db PATH --account NAME [--dry-run]`: one scheduled optimization run from cron.

A thin forwarder, as the issue spells the command; the logic (sync, suggest, guardrails, apply through the journal,
undo with `--undo RUN_ID`) lives in `services.optimizer.autopilot`.
"""

import sys

from services.optimizer.autopilot import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(prog="python -m services.autopilot"))
