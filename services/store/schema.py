"""The store's tables and their migrations: every table has a natural primary key, so re-fetched rows replace
and never duplicate; every money table carries `currency_code`.

The schema lives in `migrations` (a `sqlite_utils.Migrations`); others add tables with new `@migrations()`
functions (append only, never edit an applied one).
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("ppc_dashboard")
# --------------------------------------------------------------------------------------------
# schema

ENTITY_TABLES = ("campaigns", "ad_groups", "keywords", "targets", "negative_keywords", "product_ads")
REPORT_TABLES = (
    "campaign_day",
    "placement_day",
    "target_day",
    "search_term_day",
    "advertised_product_day",
    "purchased_product_day",
)

# metric columns shared by every report-grain table: Amazon column -> our column
METRIC_COLUMNS: dict[str, str] = {
    "impressions": "impressions",
    "clicks": "clicks",
    "cost": "cost",
    "purchases1d": "purchases_1d",
    "purchases7d": "purchases_7d",
    "purchases14d": "purchases_14d",
    "purchases30d": "purchases_30d",
    "sales1d": "sales_1d",
    "sales7d": "sales_7d",
    "sales14d": "sales_14d",
    "sales30d": "sales_30d",
    "unitsSoldClicks1d": "units_1d",
    "unitsSoldClicks7d": "units_7d",
    "unitsSoldClicks14d": "units_14d",
    "unitsSoldClicks30d": "units_30d",
}
MONEY_METRICS = {"cost", "sales_1d", "sales_7d", "sales_14d", "sales_30d"}

_METRICS_SQL = """
    impressions INTEGER NOT NULL DEFAULT 0,
    clicks INTEGER NOT NULL DEFAULT 0,
    cost REAL NOT NULL DEFAULT 0,
    purchases_1d INTEGER, purchases_7d INTEGER, purchases_14d INTEGER, purchases_30d INTEGER,
    sales_1d REAL, sales_7d REAL, sales_14d REAL, sales_30d REAL,
    units_1d INTEGER, units_7d INTEGER, units_14d INTEGER, units_30d INTEGER,
    currency_code TEXT
"""

_SCHEMA_V1 = [
    """CREATE TABLE accounts (
        account_id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        region TEXT NOT NULL,
        backend TEXT NOT NULL DEFAULT 'amazon' CHECK (backend IN ('amazon','sandbox')),
        sandbox_url TEXT,
        client_id TEXT NOT NULL,
        client_secret_enc TEXT NOT NULL,
        refresh_token_enc TEXT,
        authorized_on TEXT,
        status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok','reconnect_needed')),
        created_at TEXT NOT NULL,
        updated_at TEXT
    )""",
    """CREATE TABLE profiles (
        profile_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(account_id) ON DELETE CASCADE,
        region TEXT,
        country_code TEXT,
        currency_code TEXT,
        timezone TEXT,
        marketplace_id TEXT,
        seller_id TEXT,
        account_name TEXT,
        account_type TEXT,
        daily_budget REAL,
        raw TEXT
    )""",
    "CREATE INDEX idx_profiles_account ON profiles(account_id)",
    # ---- entities
    """CREATE TABLE campaigns (
        profile_id TEXT NOT NULL, campaign_id TEXT NOT NULL,
        name TEXT, state TEXT, targeting_type TEXT, start_date TEXT, end_date TEXT,
        budget REAL, budget_type TEXT, bidding_strategy TEXT,
        placement_top_pct REAL, placement_product_page_pct REAL, placement_rest_of_search_pct REAL,
        portfolio_id TEXT, serving_status TEXT, currency_code TEXT, raw TEXT,
        PRIMARY KEY (profile_id, campaign_id)
    )""",
    """CREATE TABLE ad_groups (
        profile_id TEXT NOT NULL, ad_group_id TEXT NOT NULL, campaign_id TEXT,
        name TEXT, state TEXT, default_bid REAL, currency_code TEXT, raw TEXT,
        PRIMARY KEY (profile_id, ad_group_id)
    )""",
    "CREATE INDEX idx_ad_groups_campaign ON ad_groups(profile_id, campaign_id)",
    """CREATE TABLE keywords (
        profile_id TEXT NOT NULL, keyword_id TEXT NOT NULL, campaign_id TEXT, ad_group_id TEXT,
        keyword_text TEXT, match_type TEXT, state TEXT, bid REAL, currency_code TEXT, raw TEXT,
        PRIMARY KEY (profile_id, keyword_id)
    )""",
    "CREATE INDEX idx_keywords_ad_group ON keywords(profile_id, ad_group_id)",
    """CREATE TABLE targets (
        profile_id TEXT NOT NULL, target_id TEXT NOT NULL, campaign_id TEXT, ad_group_id TEXT,
        expression_type TEXT, expression TEXT, resolved_expression TEXT, targeting TEXT,
        state TEXT, bid REAL, currency_code TEXT, raw TEXT,
        PRIMARY KEY (profile_id, target_id)
    )""",
    "CREATE INDEX idx_targets_ad_group ON targets(profile_id, ad_group_id)",
    """CREATE TABLE negative_keywords (
        profile_id TEXT NOT NULL, keyword_id TEXT NOT NULL, campaign_id TEXT, ad_group_id TEXT,
        keyword_text TEXT, match_type TEXT, state TEXT, raw TEXT,
        PRIMARY KEY (profile_id, keyword_id)
    )""",
    "CREATE INDEX idx_negative_keywords_ad_group ON negative_keywords(profile_id, ad_group_id)",
    """CREATE TABLE product_ads (
        profile_id TEXT NOT NULL, ad_id TEXT NOT NULL, campaign_id TEXT, ad_group_id TEXT,
        asin TEXT, sku TEXT, state TEXT, raw TEXT,
        PRIMARY KEY (profile_id, ad_id)
    )""",
    "CREATE INDEX idx_product_ads_asin ON product_ads(profile_id, asin)",
    # ---- report grains (DAILY)
    f"""CREATE TABLE campaign_day (
        profile_id TEXT NOT NULL, date TEXT NOT NULL, campaign_id TEXT NOT NULL,
        campaign_name TEXT, campaign_status TEXT, budget REAL, budget_type TEXT, bidding_strategy TEXT,
        top_of_search_impression_share REAL,
        {_METRICS_SQL},
        PRIMARY KEY (profile_id, date, campaign_id)
    )""",
    "CREATE INDEX idx_campaign_day_campaign ON campaign_day(profile_id, campaign_id, date)",
    f"""CREATE TABLE placement_day (
        profile_id TEXT NOT NULL, date TEXT NOT NULL, campaign_id TEXT NOT NULL, placement TEXT NOT NULL,
        campaign_name TEXT, bidding_strategy TEXT,
        {_METRICS_SQL},
        PRIMARY KEY (profile_id, date, campaign_id, placement)
    )""",
    f"""CREATE TABLE target_day (
        profile_id TEXT NOT NULL, date TEXT NOT NULL, keyword_id TEXT NOT NULL,
        keyword TEXT, targeting TEXT, match_type TEXT, keyword_type TEXT, keyword_bid REAL,
        ad_keyword_status TEXT, ad_group_id TEXT, ad_group_name TEXT, campaign_id TEXT, campaign_name TEXT,
        {_METRICS_SQL},
        PRIMARY KEY (profile_id, date, keyword_id)
    )""",
    "CREATE INDEX idx_target_day_keyword ON target_day(profile_id, keyword_id, date)",
    "CREATE INDEX idx_target_day_campaign ON target_day(profile_id, campaign_id, date)",
    f"""CREATE TABLE search_term_day (
        profile_id TEXT NOT NULL, date TEXT NOT NULL, keyword_id TEXT NOT NULL, search_term TEXT NOT NULL,
        keyword TEXT, targeting TEXT, match_type TEXT, keyword_type TEXT, keyword_bid REAL,
        ad_group_id TEXT, ad_group_name TEXT, campaign_id TEXT, campaign_name TEXT,
        {_METRICS_SQL},
        PRIMARY KEY (profile_id, date, keyword_id, search_term)
    )""",
    "CREATE INDEX idx_search_term_day_term ON search_term_day(profile_id, search_term, date)",
    "CREATE INDEX idx_search_term_day_campaign ON search_term_day(profile_id, campaign_id, date)",
    f"""CREATE TABLE advertised_product_day (
        profile_id TEXT NOT NULL, date TEXT NOT NULL, ad_id TEXT NOT NULL,
        asin TEXT, sku TEXT, ad_group_id TEXT, ad_group_name TEXT, campaign_id TEXT, campaign_name TEXT,
        {_METRICS_SQL},
        PRIMARY KEY (profile_id, date, ad_id)
    )""",
    "CREATE INDEX idx_advertised_product_day_asin ON advertised_product_day(profile_id, asin, date)",
    """CREATE TABLE purchased_product_day (
        profile_id TEXT NOT NULL, date TEXT NOT NULL, ad_group_id TEXT NOT NULL, keyword_id TEXT NOT NULL,
        advertised_asin TEXT NOT NULL, purchased_asin TEXT NOT NULL,
        advertised_sku TEXT, keyword TEXT, keyword_type TEXT, match_type TEXT, campaign_id TEXT, campaign_name TEXT,
        purchases_other_sku_7d INTEGER, purchases_other_sku_14d INTEGER,
        sales_other_sku_7d REAL, sales_other_sku_14d REAL,
        units_other_sku_7d INTEGER, units_other_sku_14d INTEGER,
        currency_code TEXT,
        PRIMARY KEY (profile_id, date, ad_group_id, keyword_id, advertised_asin, purchased_asin)
    )""",
    "CREATE INDEX idx_purchased_product_day_asin ON purchased_product_day(profile_id, advertised_asin, date)",
    # ---- promotions (SP-API)
    """CREATE TABLE coupons (
        coupon_id TEXT PRIMARY KEY,
        account_id TEXT, profile_id TEXT, marketplace_id TEXT, merchant_id TEXT, currency_code TEXT,
        name TEXT, website_message TEXT, start_date_time TEXT, end_date_time TEXT, customer_segment TEXT,
        discount_type TEXT, discount_amount REAL, budget REAL,
        clips INTEGER, redemptions INTEGER, total_discount REAL, budget_spent REAL, budget_remaining REAL,
        budget_percentage_used REAL, sales REAL, asins TEXT, raw TEXT
    )""",
    "CREATE INDEX idx_coupons_profile ON coupons(profile_id, start_date_time)",
    """CREATE TABLE coupon_snapshots (
        coupon_id TEXT NOT NULL, snapshot_date TEXT NOT NULL,
        clips INTEGER, redemptions INTEGER, total_discount REAL, budget_spent REAL, budget_remaining REAL,
        budget_percentage_used REAL, sales REAL, budget REAL, currency_code TEXT,
        PRIMARY KEY (coupon_id, snapshot_date)
    )""",
    """CREATE TABLE deals (
        promotion_id TEXT PRIMARY KEY,
        account_id TEXT, profile_id TEXT, marketplace_id TEXT, merchant_id TEXT,
        name TEXT, type TEXT, status TEXT, creation_channel TEXT,
        start_date_time TEXT, end_date_time TEXT, created_date_time TEXT, last_updated_date_time TEXT,
        units_sold INTEGER, revenue REAL, currency_code TEXT, glance_views INTEGER, raw TEXT
    )""",
    "CREATE INDEX idx_deals_profile ON deals(profile_id, start_date_time)",
    """CREATE TABLE deal_products (
        promotion_id TEXT NOT NULL, asin TEXT NOT NULL,
        product_name TEXT, glance_views INTEGER, units_sold INTEGER, revenue REAL, currency_code TEXT,
        PRIMARY KEY (promotion_id, asin)
    )""",
    # ---- sync bookkeeping
    """CREATE TABLE sync_runs (
        run_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        params TEXT,
        summary TEXT
    )""",
    "CREATE INDEX idx_sync_runs_account ON sync_runs(account_id, started_at)",
    """CREATE TABLE sync_tasks (
        run_id TEXT NOT NULL,
        task_key TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        report_type TEXT NOT NULL,
        start TEXT NOT NULL,
        end TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        report_id TEXT,
        rows INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        finished_at TEXT,
        PRIMARY KEY (run_id, task_key)
    )""",
    "CREATE INDEX idx_sync_tasks_coverage ON sync_tasks(profile_id, report_type, status)",
]


@migrations()
def m001_initial_schema(db: Database) -> None:
    for stmt in _SCHEMA_V1:
        db.conn.execute(stmt)


@migrations()
def m002_lean_report_indexes(db: Database) -> None:
    """Every secondary index costs a b-tree write per row on the biggest tables (search terms, targets: ~100k
    rows per profile-month). The primary keys (profile_id, date, …) already serve the dashboard's
    profile + date-range scans; keep only the keyword drill-down index."""
    for name in ("idx_search_term_day_term", "idx_search_term_day_campaign", "idx_target_day_campaign"):
        db.conn.execute(f"DROP INDEX IF EXISTS {name}")


DATA_TABLES = ("profiles",) + ENTITY_TABLES + REPORT_TABLES + ("coupons", "coupon_snapshots", "deals", "deal_products")


@migrations()
def m003_oauth_pending_states(db: Database) -> None:
    """Pending "Connect with Amazon" flows. The consent redirect opens a new Streamlit session, so `state` and the
    PKCE verifier live here: single use, ten minutes. Only a SHA-256 of `state` is stored; the verifier and the
    pending client secret are Fernet ciphertext (services/vault.py SECRET_COLUMNS)."""
    db.conn.execute(
        """CREATE TABLE oauth_states (
            state_hash TEXT PRIMARY KEY,
            verifier_enc TEXT NOT NULL,
            name TEXT NOT NULL,
            region TEXT NOT NULL,
            backend TEXT NOT NULL DEFAULT 'amazon',
            sandbox_url TEXT,
            client_id TEXT NOT NULL,
            client_secret_enc TEXT,
            redirect_uri TEXT NOT NULL,
            account_id TEXT,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            used_at REAL
        )"""
    )


@migrations()
def m004_account_seller_identity(db: Database) -> None:
    """The Amazon seller an account was connected as: the `accountInfo.id` values of its profiles (comma-separated),
    recorded at first connect. A reconnect or a sync that shows another seller is refused instead of moving that
    seller's profiles (and, on removal, their data) to this account (issue 12)."""
    db.conn.execute("ALTER TABLE accounts ADD COLUMN seller_ids TEXT")


# per-profile sales tables (account data: removed with the account); `products` is a shared cache of public
# catalogue data keyed by marketplace, so it is not among them
SALES_TABLES = ("sales_traffic_day", "sales_traffic_account_day", "sales_traffic_status")


@migrations()
def m005_sales_traffic_and_products(db: Database) -> None:
    """Total sales and traffic from the SP-API (GET_SALES_AND_TRAFFIC_REPORT) and product names from Catalog Items.

    `sales_traffic_day` holds per-ASIN figures, one report per day (Amazon aggregates its per-ASIN section over the
    whole requested range); `sales_traffic_account_day` the account's daily totals (salesAndTrafficByDate), which
    also carry refunds (Amazon has none per ASIN). Percentages are Amazon's 0-100. `sales_traffic_status` remembers
    per profile whether the authorization may read the report ('ok' or 'no_role') and which days were fetched, so a
    missing role is a sentence on the Connect page, not a failed sync. `products` caches names per marketplace."""
    db.conn.execute(
        """CREATE TABLE sales_traffic_day (
            profile_id TEXT NOT NULL, date TEXT NOT NULL, asin TEXT NOT NULL,
            parent_asin TEXT, sku TEXT,
            ordered_product_sales REAL NOT NULL DEFAULT 0, units_ordered INTEGER NOT NULL DEFAULT 0,
            total_order_items INTEGER NOT NULL DEFAULT 0,
            sessions INTEGER NOT NULL DEFAULT 0, page_views INTEGER NOT NULL DEFAULT 0,
            buy_box_percentage REAL, unit_session_percentage REAL,
            currency_code TEXT,
            PRIMARY KEY (profile_id, date, asin)
        )"""
    )
    db.conn.execute(
        """CREATE TABLE sales_traffic_account_day (
            profile_id TEXT NOT NULL, date TEXT NOT NULL,
            ordered_product_sales REAL NOT NULL DEFAULT 0, units_ordered INTEGER NOT NULL DEFAULT 0,
            total_order_items INTEGER NOT NULL DEFAULT 0,
            units_refunded INTEGER, refund_rate REAL, shipped_product_sales REAL,
            sessions INTEGER NOT NULL DEFAULT 0, page_views INTEGER NOT NULL DEFAULT 0,
            buy_box_percentage REAL, unit_session_percentage REAL, order_item_session_percentage REAL,
            currency_code TEXT,
            PRIMARY KEY (profile_id, date)
        )"""
    )
    db.conn.execute(
        """CREATE TABLE sales_traffic_status (
            profile_id TEXT NOT NULL, date TEXT NOT NULL,
            status TEXT NOT NULL, updated_at TEXT NOT NULL,
            PRIMARY KEY (profile_id, date)
        )"""
    )
    db.conn.execute(
        """CREATE TABLE products (
            marketplace_id TEXT NOT NULL, asin TEXT NOT NULL,
            name TEXT, brand TEXT, image_url TEXT, fetched_at TEXT NOT NULL,
            PRIMARY KEY (marketplace_id, asin)
        )"""
    )


DATA_TABLES = DATA_TABLES + SALES_TABLES


@migrations()
def m006_dashboard_grants(db: Database) -> None:
    """Who may see and change which account when people sign in (issue 12, "nobody let in").

    `grants`: one row per person and account (natural key), role 'viewer' (read and export) or 'approver' (may
    also approve, apply, undo and sync). A person is the OpenID Connect email, lower-cased, or the `sub` claim when
    the provider gives no email. Removing an account removes its grants (foreign key). `dashboard_admins`: people
    who see every account, connect and remove accounts and grant access; the first is added with the CLI
    (`python -m services.accounts.grants`). Without a login configured nobody is looked up: the local user has
    every right, as before."""
    db.conn.execute(
        """CREATE TABLE grants (
            user TEXT NOT NULL,
            account_id TEXT NOT NULL REFERENCES accounts(account_id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('viewer','approver')),
            granted_at TEXT NOT NULL,
            granted_by TEXT,
            PRIMARY KEY (user, account_id)
        )"""
    )
    db.conn.execute("CREATE INDEX idx_grants_account ON grants(account_id)")
    db.conn.execute(
        """CREATE TABLE dashboard_admins (
            user TEXT PRIMARY KEY,
            added_at TEXT NOT NULL,
            added_by TEXT
        )"""
    )


# the rows of search_term_day that m008's partial index holds (a query must state it verbatim to use the index)
CONVERTED_ROW = "(purchases_7d <> 0 OR purchases_14d <> 0)"

# per-profile summaries the sync rebuilds from the report tables (removed with the account, like its reports)
SUMMARY_TABLES = ("search_term_span", "search_term_spans", "target_span", "target_spans")
# the listing of the current spans summed from each day table (a write over their days deletes their entries)
SPAN_LISTINGS = {"search_term_day": "search_term_spans", "target_day": "target_spans"}


@migrations()
def m007_search_term_spans(db: Database) -> None:
    """Search-term sums per (keyword or target, term) over the sidebar's default range, built by the sync (issue 15).

    Why: the Search terms page sums ~600k search-term-day rows into ~200k (keyword, term) rows for a 30-day range;
    that GROUP BY (a sort of every row) was most of the page's cold start. Search terms are a long tail, so
    day-to-week rollups would save little (see services/sync/summaries.py); the ranges the sidebar offers
    (`summaries.SPAN_CHOICES`, by default "Last 30 days", ending on the last day with data) are summed once per
    sync instead.

    `search_term_spans` lists the spans that are current: (profile, start, end). A report written into
    `search_term_day` deletes the entries its window overlaps in the same transaction, so an entry is present only
    while its sums equal what the day table would give; the page falls back to summing the days otherwise.
    `search_term_span` holds the sums, both attribution windows, each keyword's labels (from its latest row in the
    span, as the live query takes them) and its ad group's orders and clicks (the wasted-spend threshold's CVR;
    the account's CVR is on the span's entry), so reading a span needs no GROUP BY at all. WITHOUT ROWID: one span
    of one profile is one contiguous range."""
    db.conn.execute(
        """CREATE TABLE search_term_span (
            profile_id TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL,
            keyword_id TEXT NOT NULL, search_term TEXT NOT NULL,
            triggered_by TEXT, match_type TEXT, keyword_type TEXT,
            campaign_id TEXT, campaign_name TEXT, ad_group_id TEXT, ad_group_name TEXT,
            impressions INTEGER, clicks INTEGER, cost REAL,
            orders_7d INTEGER, sales_7d REAL, units_7d INTEGER,
            orders_14d INTEGER, sales_14d REAL, units_14d INTEGER,
            ad_group_orders_7d INTEGER, ad_group_orders_14d INTEGER, ad_group_clicks INTEGER,
            PRIMARY KEY (profile_id, start, end, keyword_id, search_term)
        ) WITHOUT ROWID"""
    )
    db.conn.execute(
        """CREATE TABLE search_term_spans (
            profile_id TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL,
            rows INTEGER NOT NULL, account_cvr_7d REAL, account_cvr_14d REAL, built_at TEXT NOT NULL,
            PRIMARY KEY (profile_id, start, end)
        )"""
    )


@migrations()
def m008_search_term_converted_index(db: Database) -> None:
    """The search-term rows that had an order, indexed by (ad group, term) with their orders (issue 15: speed).

    Why: every optimizer run asks "did this term ever convert in this ad group" over the whole history; without an
    index that read every search-term row the profile ever had (2 of the optimizer's seconds on the 95-day large
    profile). Partial: only rows with an order in either attribution window, about one in eight, so the sync pays
    one small b-tree write for those rows only (measured: see README Performance). Covering, so the question is
    answered from the index alone, already in (ad group, term) order. `data._search_term_history` repeats the
    WHERE clause verbatim: SQLite uses a partial index only for a query that states its condition."""
    db.conn.execute(
        f"CREATE INDEX IF NOT EXISTS idx_search_term_day_converted ON search_term_day(profile_id, ad_group_id, "
        f"search_term, date, purchases_7d, purchases_14d) WHERE {CONVERTED_ROW}"
    )


@migrations()
def m009_search_term_span_first_day(db: Database) -> None:
    """Each span row's first day with the term (issue 15: the optimizer's speed).

    Why: the optimizer's search-term rules sum 57 days of search terms (1.4 M rows on the large profile, 6 of its
    seconds); the sync now also builds the span of that window (`sync.summaries`), and the rules name a term seen
    under several spellings by its first day, which the span must therefore carry. The spans built before this
    column existed are dropped: the page sums the days until the next sync builds them again."""
    db.conn.execute("ALTER TABLE search_term_span ADD COLUMN first_date TEXT")
    db.conn.execute("DELETE FROM search_term_span")
    db.conn.execute("DELETE FROM search_term_spans")


@migrations()
def m010_target_spans(db: Database) -> None:
    """Keyword and target sums over the optimizer's two default windows, built by the sync (issue 15: speed).

    Why: every optimizer run read half a million keyword-day rows of the bid rule's 30 days and summed 2.7 M more
    over the search-term rules' 60 (for the ad groups' conversion rates): 7 of its seconds on the large profile.
    Keywords whose bid never changed need only their sums (their days at one bid say nothing more to the response
    curve), so the sync sums each keyword once per window (`sync.summaries`), and the optimizer reads ~44k rows.
    `target_spans` lists the current spans; a keyword report written over their days deletes the entries in the
    same transaction (as for search terms, m007), and the optimizer then sums the days itself. `one_parent` is 0
    when a keyword's rows name more than one campaign or ad group: the optimizer then reads its days."""
    db.conn.execute(
        """CREATE TABLE target_span (
            profile_id TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL, keyword_id TEXT NOT NULL,
            campaign_id TEXT, ad_group_id TEXT, one_parent INTEGER NOT NULL, days INTEGER NOT NULL,
            impressions INTEGER, clicks INTEGER, cost REAL,
            orders_7d INTEGER, sales_7d REAL, orders_14d INTEGER, sales_14d REAL,
            PRIMARY KEY (profile_id, start, end, keyword_id)
        ) WITHOUT ROWID"""
    )
    db.conn.execute(
        """CREATE TABLE target_spans (
            profile_id TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL, rows INTEGER NOT NULL,
            built_at TEXT NOT NULL, PRIMARY KEY (profile_id, start, end)
        )"""
    )
