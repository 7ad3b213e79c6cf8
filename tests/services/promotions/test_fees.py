from datetime import date, datetime

import pytest

from services.promotions import fees as pf


@pytest.mark.parametrize(
    "start,model",
    [
        (date(2025, 6, 1), "until 1 Jun"),
        (date(2025, 6, 2), "from 2 Jun"),
        (date(2025, 11, 4), "from 2 Jun"),
        (date(2025, 11, 5), "from 5 Nov"),
    ],
)
def test_coupon_model_by_start_date(start, model):
    assert model in pf.coupon_fee_model(start).name


def test_old_coupon_model_is_60_cents_per_redemption():
    fee = pf.coupon_fee(redemptions=100, sales=5000, start=date(2025, 6, 1))
    assert fee.total == 60.0 and fee.fixed == 0 and fee.variable == 0


def test_new_coupon_model_on_2_june():
    fee = pf.coupon_fee(redemptions=100, sales=5000, start="2025-06-02")
    assert fee.total == 5 + 125 and fee.per_unit == 0


def test_uncapped_before_5_november_and_capped_from_it():
    big = 200_000.0  # 2.5 % = 5,000
    before = pf.coupon_fee(10, big, date(2025, 11, 4))
    after = pf.coupon_fee(10, big, datetime(2025, 11, 5, 0, 0))
    assert before.total == 5005.0 and not before.capped
    assert after.total == 2005.0 and after.capped and after.variable_uncapped == 5000.0


def test_cap_boundary_exactly_at_2000():
    at = pf.coupon_fee(1, 80_000, date(2026, 1, 1))  # exactly 2,000
    over = pf.coupon_fee(1, 80_000.4, date(2026, 1, 1))
    assert at.total == 2005.0 and not at.capped
    assert over.total == 2005.0 and over.capped


def test_coupon_cost_adds_discount():
    assert pf.coupon_cost(400, 100, 2000, date(2025, 1, 1)) == 460.0
    assert pf.coupon_cost(400, 100, 2000, date(2025, 7, 1)) == 455.0


def test_other_marketplace_unconfigured_then_configurable():
    fee = pf.coupon_fee(10, 1000, date(2025, 7, 1), marketplace="A1F83G8C2ARO7P")
    assert fee.total is None and "UK" in fee.note
    sched = {"UK": [pf.FeeModel("UK test", date(2020, 1, 1), fixed=4.0, variable_rate=0.02, currency="GBP")]}
    fee = pf.coupon_fee(10, 1000, date(2025, 7, 1), marketplace="UK", schedules=sched)
    assert fee.total == 24.0 and fee.currency == "GBP"


def test_deal_fee_before_and_after_2_june():
    assert pf.deal_fee(date(2025, 6, 1), date(2025, 6, 1), 10_000).total is None
    one_day = pf.deal_fee(date(2025, 6, 2), date(2025, 6, 2), 10_000)
    assert one_day.total == 70 + 100
    week = pf.deal_fee(date(2025, 7, 1), date(2025, 7, 7), 1_000_000)
    assert week.total == 7 * 70 + 2000 and week.capped
    old = {"US": [pf.FeeModel("US deals old", date(2020, 1, 1), fixed=150.0)]}
    assert pf.deal_fee(date(2025, 6, 1), date(2025, 6, 1), 10_000, schedules=old).total == 150.0


def test_lightning_deal_hours_count_as_one_day():
    assert pf.deal_days(datetime(2025, 7, 1, 8), datetime(2025, 7, 1, 20)) == 1
    assert pf.deal_days(datetime(2025, 7, 1, 8), datetime(2025, 7, 2, 20)) == 2
    assert pf.deal_days(date(2025, 7, 1), date(2025, 7, 7)) == 7


def test_break_even_price_is_24_dollars():
    assert pf.break_even_price() == pytest.approx(24.0)


def test_incremental_return():
    r = pf.incremental_return(
        promo_units=300,
        promo_days=10,
        baseline_units=280,
        baseline_days=28,
        unit_margin=8.0,
        redemptions=150,
        total_discount=450.0,
        fees=60.0,
    )
    # baseline 10/day -> 100 units; 200 incremental x 8 = 1600; discount on 100 baseline redemptions = 300
    assert r.baseline_units == 100 and r.incremental_units == 200
    assert r.value == 1600 - 300 - 60
    assert r.roi == pytest.approx(1240 / 510)


def test_incremental_return_without_spend_or_baseline():
    r = pf.incremental_return(0, 0, 0, 0, 5.0, 0, 0, 0)
    assert r.roi is None and r.value == 0 and r.note
