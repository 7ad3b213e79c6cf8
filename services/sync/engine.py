"""The sync: fills the local store from Amazon, fast, correct and unbreakable.

- fast: every report of a run is requested up front (at most `max_in_flight` at once), all are polled
  concurrently by a pool of worker threads, and each is written as soon as it arrives;
- correct: a re-fetched window replaces the stored one (natural keys, no duplicates);
- unbreakable: HTTP retries live in the clients (429/5xx), a FAILED report is requested again, an expired
  download link is re-polled, a 425 reuses the report in flight; every report is written atomically together
  with its task record, so a killed run resumes from what it completed. invalid_grant marks the account
  'reconnect_needed' and stops.

Reports are streamed: once one is ready, a worker process (`services.sync.ingest_pool`; threads with
`ingest_processes=0`) downloads it, parses it incrementally and writes it in bounded chunks (`services.sync.ingest`),
swapping it in with its task's 'done' in one short BEGIN IMMEDIATE transaction, so no report is ever whole in
memory and parsing never holds the interpreter lock the sync's threads need. Everything else (profiles, entities,
promotions, run bookkeeping) is written by the main thread, also in short transactions.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from services import store
from services.accounts import registry as accounts_mod
from services.amazon.regions import REGIONS
from services.errors import (
    AmazonRequestError,
    AmazonUnavailable,
    AuthorizationExpired,
    DashboardError,
    DownloadExpired,
    InvalidCredentials,
    ReportFailed,
)
from services.store import open_db, write
from services.sync import sales
from services.sync.ingest import ReportWriter
from services.sync.ingest_pool import INGEST_PROCESSES, IngestPool
from services.sync.plan import (
    COUPON_LOOKBACK_DAYS,
    DOWNLOAD_SLOTS,
    MAX_IN_FLIGHT,
    PROMO_LOOKAHEAD_DAYS,
    REPORT_ATTEMPTS,
    ProgressFn,
    covered_dates,
    plan_range,
    windows,
)
from services.sync.records import ENTITY_FILTERS, ENTITY_KINDS, _coupon_rows, _deal_rows, _entity_rows, _profile_row
from services.sync.reports import GRAINS, report_body
from services.sync.runs import (
    _OWNER,
    SyncSummary,
    _active_lock,
    _active_runs,
    _now_iso,
    _profile_today,
    _ReportSlots,
    _resumable_run,
    _sandbox_today,
    _Stop,
)
from services.sync.summaries import rebuild_target_spans, rebuild_term_spans

logger = logging.getLogger(__name__)


def sync_account(
    db_path,
    account_id: str,
    vault,
    profile_ids: list[str] | None = None,
    days: int | None = None,
    progress: ProgressFn | None = None,
    poll: float | None = None,
    now: datetime | date | None = None,
    *,
    policy=None,
    max_in_flight: int = MAX_IN_FLIGHT,
    report_timeout: float = 3 * 3600,
    ingest_processes: int = INGEST_PROCESSES,
) -> SyncSummary:
    """Sync one account into the store at `db_path`; returns the summary (also stored in sync_runs).

    `ingest_processes`: worker processes that read and write the reports (`services.sync.ingest_pool`); 0 does it
    in the sync's own threads."""
    t0 = time.monotonic()
    db = open_db(db_path)
    clients = accounts_mod.clients_for(db, vault, account_id, policy=policy)
    account = clients.account
    if account.get("status") == "reconnect_needed":
        # Amazon already refused this authorization: cron runs stop here instead of hammering LWA.
        return SyncSummary(
            run_id="",
            account_id=account_id,
            status="reconnect_needed",
            errors=["This Amazon authorization has expired or was revoked. Reconnect the account."],
        )
    sandbox = account["backend"] == "sandbox"
    if poll is None:
        poll = 0.25 if sandbox else 15.0
    profile_ids = sorted({str(p) for p in profile_ids}) if profile_ids else None
    params = {"profile_ids": profile_ids, "days": days, "owner": _OWNER}

    resumed = _resumable_run(db, account_id, params)
    run_id = resumed or uuid.uuid4().hex
    with _active_lock:
        _active_runs.add(run_id)
    summary = SyncSummary(run_id=run_id, account_id=account_id, resumed=bool(resumed))
    with write(db):
        if resumed:
            db.conn.execute("UPDATE sync_runs SET params = ? WHERE run_id = ?", [json.dumps(params), run_id])
        else:
            db.conn.execute(
                "INSERT INTO sync_runs (run_id, account_id, started_at, status, params) VALUES (?, ?, ?, 'running', ?)",
                [run_id, account_id, _now_iso(), json.dumps(params)],
            )

    stop = threading.Event()
    job_retries = [0]
    job_retry_lock = threading.Lock()
    rows_total = 0
    done_jobs = 0
    total_jobs = 0

    def report(stage: str) -> None:
        if progress:
            try:
                progress(stage, done_jobs, total_jobs, rows_total)
            except Exception:  # noqa: BLE001 - a broken progress bar must not break the sync
                pass

    def sleeper(seconds: float) -> None:
        if stop.wait(seconds):
            raise _Stop()

    executor = ThreadPoolExecutor(max_workers=max(1, max_in_flight), thread_name_prefix="sync")
    writer = ReportWriter(db_path)
    ingest_pool: IngestPool | None = None
    try:
        # ---- profiles (one call per region)
        report("profiles")
        profiles: list[dict] = []
        futures = {executor.submit(clients.ads(r).list_profiles): r for r in REGIONS}
        for fut, region in futures.items():
            try:
                items = fut.result()
            except AmazonRequestError as e:  # a region the seller has no access to
                summary.errors.append(f"profiles {region}: {e}")
                continue
            profiles.extend(_profile_row(account_id, region, p) for p in items)
        # only the profiles this account may hold (issue 12): another account's, or another seller's, stay put
        profiles, refused = accounts_mod.claim_profiles(db, account_id, profiles)
        summary.errors.extend(r.sentence for r in refused)
        summary.failures += len(refused)  # not synced: the run is partial, and cron sees a non-zero exit
        selected = [p for p in profiles if not profile_ids or p["profile_id"] in profile_ids]
        summary.profiles = len(selected)

        # ---- dates
        if isinstance(now, datetime):
            base_now = now if now.tzinfo else now.replace(tzinfo=UTC)
            fixed_today = None
        elif isinstance(now, date):
            base_now, fixed_today = None, now
        else:
            base_now = datetime.now(UTC)
            fixed_today = _sandbox_today(account["sandbox_url"], clients.session) if sandbox else None

        def today_for(p: dict) -> date:
            return fixed_today or _profile_today(p.get("timezone"), base_now)

        # ---- report tasks: reuse the interrupted run's plan, or plan anew
        by_id = {p["profile_id"]: p for p in selected}
        if resumed:
            tasks = [
                dict(zip(("task_key", "profile_id", "report_type", "start", "end", "status", "attempts"), r))
                for r in db.conn.execute(
                    "SELECT task_key, profile_id, report_type, start, end, status, attempts FROM sync_tasks "
                    "WHERE run_id = ?",
                    [run_id],
                )
            ]
            tasks = [t for t in tasks if t["profile_id"] in by_id]
        if not resumed or not tasks:  # killed before its plan was stored: plan now
            tasks = []
            for p in selected:
                td = today_for(p)
                for grain in GRAINS:
                    rng = plan_range(covered_dates(db, p["profile_id"], grain), td, days)
                    if rng is None:
                        continue
                    for ws, we in windows(*rng):
                        tasks.append(
                            {
                                "task_key": f"{p['profile_id']}:{grain}:{ws}:{we}",
                                "profile_id": p["profile_id"],
                                "report_type": grain,
                                "start": ws.isoformat(),
                                "end": we.isoformat(),
                                "status": "pending",
                                "attempts": 0,
                            }
                        )
            with write(db):
                store.upsert_rows(
                    db,
                    "sync_tasks",
                    [dict(t, run_id=run_id) for t in tasks],
                    ["run_id", "task_key", "profile_id", "report_type", "start", "end", "status", "attempts"],
                )
        pending = [t for t in tasks if t["status"] != "done"]
        if pending and ingest_processes > 0:  # started here, by the thread that runs the sync: they die with it
            try:
                ingest_pool = IngestPool(db_path, ingest_processes)
            except OSError:  # no processes to be had here: the sync's threads read the reports themselves
                logger.warning("report worker processes could not start; reading reports in threads", exc_info=True)
        summary.reports_skipped = len(tasks) - len(pending)
        for t in tasks:
            rng = summary.date_ranges.setdefault(t["profile_id"], [t["start"], t["end"]])
            rng[0], rng[1] = min(rng[0], t["start"]), max(rng[1], t["end"])

        # ---- jobs: promotions, entities, reports, all in one pool; results written as they arrive
        jobs: dict[Future, tuple] = {}

        def retrying(fn: Callable, *args, **kwargs):
            """Job-level retries, above the HTTP ones of the clients: a FAILED report, a download link that stays
            expired, Amazon unavailable after the HTTP retries, or an access token that died between our refresh
            and its use (401/403): do the whole job again, REPORT_ATTEMPTS in all."""
            for attempt in range(REPORT_ATTEMPTS):
                if stop.is_set():
                    raise _Stop()
                try:
                    return fn(*args, **kwargs)
                except (ReportFailed, DownloadExpired, AmazonUnavailable, AmazonRequestError) as e:
                    retry = (
                        not isinstance(e, AmazonRequestError)
                        or isinstance(e, DownloadExpired)
                        or e.status in (401, 403)
                    )
                    if not retry or attempt == REPORT_ATTEMPTS - 1:
                        raise
                    with job_retry_lock:
                        job_retries[0] += 1
                    if isinstance(e, AmazonRequestError) and e.status in (401, 403):
                        clients.tokens.invalidate()
                    sleeper(min(poll * (2**attempt), 30.0))
            raise AssertionError("unreachable")

        download_gate = _ReportSlots(DOWNLOAD_SLOTS, stop)

        def fetch_report(task: dict, profile: dict):
            ads = clients.ads(profile["region"])
            report_id = ads.create_report(
                profile["profile_id"], report_body(task["report_type"], task["start"], task["end"])
            )

            # Downloaded, parsed and written as a stream by the worker (process, or else thread) holding a download
            # slot: at most DOWNLOAD_SLOTS reports are being read at once (each holds one chunk of rows), all are
            # polled together.
            def in_worker_process(url: str):
                return ingest_pool.ingest(url, task, profile, report_id, run_id, policy=ads.policy, stop=stop)

            return ads.wait_report(
                profile["profile_id"],
                report_id,
                poll=poll,
                timeout=report_timeout,
                sleep=sleeper,
                download_gate=download_gate,
                consume=lambda rows: writer.write_report(task, profile, report_id, run_id, rows),
                consume_url=in_worker_process if ingest_pool is not None else None,
            )

        def run_report(task: dict, profile: dict):
            return retrying(fetch_report, task, profile)

        def promo_range(today: date) -> tuple[datetime, datetime]:
            # Amazon selects coupons and deals by start date. Looking ahead as far as a coupon may be
            # scheduled (180 days) lets an exported coupon show as "scheduled" before it starts.
            end_dt = datetime.combine(today + timedelta(days=PROMO_LOOKAHEAD_DAYS), dtime(23, 59, 59), UTC)
            return datetime.combine(today - timedelta(days=COUPON_LOOKBACK_DAYS), dtime(0, 0), UTC), end_dt

        def run_coupons(profile: dict, today: date) -> list[dict]:
            return retrying(
                clients.spapi(profile["region"]).coupon_report,
                profile["marketplace_id"],
                *promo_range(today),
                poll=poll,
                timeout=report_timeout,
            )

        def run_deals(profile: dict, today: date) -> list[dict]:
            return retrying(
                clients.spapi(profile["region"]).promotion_report,
                profile["marketplace_id"],
                *promo_range(today),
                poll=poll,
                timeout=report_timeout,
            )

        for p in selected:
            if p.get("marketplace_id") and (p.get("account_type") or "seller") == "seller":
                jobs[executor.submit(run_coupons, p, today_for(p))] = ("coupons", p)
                jobs[executor.submit(run_deals, p, today_for(p))] = ("deals", p)
        for p in selected:
            for kind in ENTITY_KINDS:
                lister = clients.ads(p["region"]).list_entities
                jobs[executor.submit(retrying, lister, p["profile_id"], kind, ENTITY_FILTERS.get(kind))] = (
                    "entities",
                    p,
                    kind,
                )
        for t in pending:
            jobs[executor.submit(run_report, t, by_id[t["profile_id"]])] = ("reports", by_id[t["profile_id"]], t)
        jobs.update(
            sales.submit_jobs(
                executor, clients, db, selected, today_for, retrying, days=days, poll=poll, timeout=report_timeout
            )
        )
        total_jobs = len(jobs)
        report("reports" if pending else "entities")
        # Once every job but the reports is written (entities, promotions, sales: where the seller's own ASINs
        # come from), their names are asked for while the reports still come in; after the reports, only the
        # names still missing (other sellers' ASINs, ranked by the reports' clicks).
        not_reports = sum(1 for kind, *_ in jobs.values() if kind != "reports")
        early_names: Future | None = None

        def product_names(other_sellers: bool) -> None:
            names_db = open_db(db_path)  # a thread of the pool: a connection of its own
            try:
                sales.fetch_product_names(names_db, clients, selected, summary, other_sellers=other_sellers)
            finally:
                names_db.conn.close()

        def names_written(fut: Future) -> None:
            try:
                fut.result()
            except (DashboardError, OSError, sqlite3.Error):  # cosmetic: the next sync asks again
                logger.exception("product names were not all fetched")

        remaining = set(jobs)
        while remaining:
            finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for fut in finished:
                kind, profile, *extra = jobs.pop(fut)  # the future holds its result: let both go once written
                not_reports -= kind != "reports"
                pid, cur = profile["profile_id"], profile.get("currency_code")
                try:
                    result = fut.result()
                except (AuthorizationExpired, InvalidCredentials):
                    raise
                except _Stop:
                    continue
                except (DashboardError, OSError) as e:
                    summary.failures += 1
                    label = extra[0]["task_key"] if kind == "reports" else f"{kind} {pid} {extra[0] if extra else ''}"
                    summary.errors.append(f"{label}: {e}")
                    if kind == "reports":
                        with write(db):
                            db.conn.execute(
                                "UPDATE sync_tasks SET status = 'failed', error = ?, attempts = attempts + 1 "
                                "WHERE run_id = ? AND task_key = ?",
                                [str(e)[:500], run_id, extra[0]["task_key"]],
                            )
                    done_jobs += 1
                    report(kind)
                    continue
                if kind == "entities":
                    table, rows = _entity_rows(extra[0], pid, cur, result)
                    with write(db):
                        db.conn.execute(f"DELETE FROM [{table}] WHERE profile_id = ?", [pid])
                        store.upsert_rows(db, table, rows)
                    summary.entity_rows += len(rows)
                elif kind == "reports":  # already written by its worker, with its task's 'done'
                    summary.reports += 1
                    summary.rows += result.rows
                    rows_total += result.rows
                elif kind == "coupons":
                    latest, snaps = _coupon_rows(account_id, profile, result, today_for(profile).isoformat())
                    with write(db):
                        store.upsert_rows(db, "coupons", latest)
                        store.upsert_rows(db, "coupon_snapshots", snaps)
                    summary.coupons += len(latest)
                elif kind == sales.KIND:
                    rows_total += sales.write_result(db, profile, extra[0], result, summary)
                elif kind == "deals":
                    drows, products = _deal_rows(account_id, profile, result)
                    with write(db):
                        store.upsert_rows(db, "deals", drows)
                        db.conn.executemany(
                            "DELETE FROM deal_products WHERE promotion_id = ?", [(d["promotion_id"],) for d in drows]
                        )
                        store.upsert_rows(db, "deal_products", products)
                    summary.deals += len(drows)
                done_jobs += 1
                result = None
                report(kind)
            if not not_reports and early_names is None and any(k == "reports" for k, *_ in jobs.values()):
                early_names = executor.submit(product_names, False)  # what the finished jobs gave is written by now
        if ingest_pool is not None:  # every report is in: its workers exit (their connections close with them)
            ingest_pool.close()
            ingest_pool = None
        if early_names is not None:
            names_written(early_names)  # what it named, the last pass skips
        last_names = executor.submit(product_names, True)  # a wait on the Catalog API's pace: sums built meanwhile

        def summaries(profile_id: str) -> None:
            """After every report: the sums of the sidebar's default range and the optimizer's windows
            (summaries.py). A connection per thread, so that profiles are summed side by side: SQLite leaves the
            interpreter lock while it reads, and a large seller's profiles take seconds each."""
            sums_db = open_db(db_path)
            try:
                rebuild_term_spans(sums_db, profile_id)
                rebuild_target_spans(sums_db, profile_id)
            finally:
                sums_db.conn.close()

        summing = {executor.submit(summaries, p["profile_id"]): p["profile_id"] for p in selected}
        for fut, profile_id in summing.items():
            try:
                fut.result()
            except sqlite3.Error:  # the page and the optimizer sum the days meanwhile; the next sync builds them again
                logger.exception("the summaries of profile %s were not rebuilt", profile_id)
        names_written(last_names)
        # every job has finished: no worker uses its connection any more. (After an error, workers may still be
        # in a write; closing a connection under them would crash, so theirs close when their threads end.)
        writer.close()
        summary.status = "partial" if summary.failures else "ok"
    except (AuthorizationExpired, InvalidCredentials) as e:
        stop.set()
        summary.status = "reconnect_needed"
        summary.errors.append(str(e))
        if isinstance(e, AuthorizationExpired):
            accounts_mod.mark_reconnect_needed(db, account_id)
    except BaseException:
        stop.set()
        raise
    finally:
        if ingest_pool is not None:  # stopped or failed: a report still in a worker's hands is not written
            ingest_pool.terminate()
        executor.shutdown(wait=False, cancel_futures=True)
        with _active_lock:
            _active_runs.discard(run_id)
        stats = clients.stats()
        summary.job_retries = job_retries[0]
        summary.retries = stats.get("retries", 0) + job_retries[0]
        summary.requests = stats.get("requests", 0)
        summary.throttled = stats.get("throttled", 0)
        summary.seconds = round(time.monotonic() - t0, 3)
    # a run that ends (ok, partial, reconnect) is finished; failed tasks are planned again next time via coverage
    with write(db):
        db.conn.execute(
            "UPDATE sync_runs SET status = ?, finished_at = ?, summary = ? WHERE run_id = ?",
            [summary.status, _now_iso(), json.dumps(summary.as_dict()), run_id],
        )
    report("done")
    return summary
