"""Many accounts through a real job queue (Huey): syncs enqueued per account on a schedule stored per account,
run by a worker, each outcome recorded for the Connect page.

The queue's storage is SQLite beside the database by default (no server to run) and Redis when an agency
outgrows one machine (`DASHBOARD_QUEUE_URL=redis://…`); the job code is the same on both.
May import `services.sync`, `services.optimizer` (the autopilot), `services.accounts`, `services.secrets` and `services.store`.
"""
