"""The optimizer's tables exist in every store it is handed, however many stores a process opens."""

from __future__ import annotations

from services import optimizer as sugg
from services import store


def test_many_fresh_stores_in_a_loop_are_all_migrated(tmp_path):
    """Regression: `ensure_schema` once cached migrated connections by `id(db.conn)`; a new store whose connection
    reused a freed address was never migrated and failed with "no such table: product_margins"."""
    failures = []
    for i in range(30):
        db = store.open_db(tmp_path / f"store-{i}.db")
        try:
            sugg.set_margin(db, "acct", "B000TEST01", 0.3, sku="SKU-1", source="seller")
            got = sugg.margins_frame(db, "acct")
            assert list(got["asin"]) == ["B000TEST01"]
        except Exception as exc:  # collect every failing store, not only the first
            failures.append(f"store {i}: {exc}")
        finally:
            db.conn.close()
            del db
    assert failures == []


def test_a_store_migrated_elsewhere_is_not_migrated_twice(tmp_path):
    path = tmp_path / "store.db"
    first = store.open_db(path)
    sugg.set_margin(first, "acct", "B000TEST01", 0.3)
    second = store.open_db(path)
    sugg.set_margin(second, "acct", "B000TEST02", 0.2)
    applied = [
        r[0]
        for r in second.conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ?", ["suggestions"])
    ]
    assert len(applied) == len(set(applied)) and applied
    assert sorted(sugg.margins_frame(second, "acct")["asin"]) == ["B000TEST01", "B000TEST02"]
