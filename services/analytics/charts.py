"""Plotly figures, built by pure functions so that tests can read their JSON."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from services.analytics.metrics import add_ratios

SPEND_COLOR = "#E47911"
SALES_COLOR = "#146EB4"
ACOS_COLOR = "#232F3E"

# A ratio axis: values are fractions (0.25), ticks read "25%" at round steps, never "18.01". plotly.js gives an
# overlaying axis tickmode "sync" (ticks at the spend axis's grid lines, so at values like 18.01 or 23%); "auto"
# puts them at round percentages of its own.
PERCENT_AXIS = {
    "tickformat": ".0%",
    "tickmode": "auto",
    "nticks": 6,
    "rangemode": "tozero",
    "overlaying": "y",
    "side": "right",
    "showgrid": False,
}
PERCENT_HOVER = "%{y:.1%}"


def _values(series: pd.Series) -> list:
    """Plain JSON values (None for missing), so the figure's JSON is readable by people and tests alike."""
    return [None if pd.isna(v) else (v.isoformat() if hasattr(v, "isoformat") else v) for v in series.tolist()]


def change_days(changes: pd.DataFrame) -> pd.DataFrame:
    """One row per day with changes: date, total, manual, autopilot, undo and the hover text, e.g.
    "12 changes applied: 9 by the autopilot, 3 by hand (8 bid changes, 4 negative keywords)".
    `changes` is `optimizer.change_markers` (count, source, label per type); a bare list of applied_at counts
    each row once, made by hand."""
    df = changes.copy()
    df["day"] = pd.to_datetime(df["applied_at"], utc=True).dt.tz_localize(None).dt.normalize()
    df["count"] = pd.to_numeric(df["count"], errors="coerce").fillna(1) if "count" in df else 1
    df["source"] = df["source"] if "source" in df else "manual"
    rows = []
    for day, g in df.groupby("day", sort=True):
        by = g.groupby("source")["count"].sum()
        manual, auto, undo = (int(by.get(k, 0)) for k in ("manual", "autopilot", "undo"))
        parts = [f"{auto} by the autopilot"] * bool(auto) + [f"{manual} by hand"] * bool(manual)
        parts += [f"{undo} undone"] * bool(undo)
        total = manual + auto + undo
        text = f"{total} change{'s' if total != 1 else ''} applied: {', '.join(parts)}"
        if "change_type" in g:
            per_type = g.groupby("change_type")["count"].sum()
            text += f" ({', '.join(_type_label(int(n), t) for t, n in per_type.items())})"
        rows.append({"date": day, "total": total, "manual": manual, "autopilot": auto, "undo": undo, "text": text})
    return pd.DataFrame(rows, columns=["date", "total", "manual", "autopilot", "undo", "text"])


_TYPE_NAMES = {
    "bid": "bid change",
    "budget": "budget change",
    "placement": "placement change",
    "negative": "negative keyword",
    "keyword": "new keyword",
}


def _type_label(n: int, change_type: str) -> str:
    return f"{n} {_TYPE_NAMES.get(change_type, change_type)}{'s' if n != 1 else ''}"


def trend_figure(
    daily: pd.DataFrame,
    grain: str = "Daily",
    settling: list[date] | None = None,
    changes: pd.DataFrame | None = None,
    currency: str = "USD",
) -> go.Figure:
    """Spend and sales per day or week with ACOS on a second axis.

    Settling days are shaded (their conversions will still rise), and applied
    changes are drawn as markers so that a marketer sees what moved the line.
    """
    df = daily.copy()
    df["date"] = pd.to_datetime(df["date"])
    if grain == "Weekly" and not df.empty:
        df = df.set_index("date").resample("W-MON", label="left", closed="left")[["cost", "sales"]].sum().reset_index()
    df = add_ratios(df, ["acos"])
    fig = go.Figure()
    fig.add_bar(x=_values(df["date"]), y=_values(df["cost"]), name=f"Spend ({currency})", marker_color=SPEND_COLOR)
    fig.add_bar(x=_values(df["date"]), y=_values(df["sales"]), name=f"Sales ({currency})", marker_color=SALES_COLOR)
    fig.add_scatter(
        x=_values(df["date"]),
        y=_values(df["acos"]),
        name="ACOS %",
        yaxis="y2",
        mode="lines+markers",
        line={"color": ACOS_COLOR},
        hovertemplate=PERCENT_HOVER,
    )
    if settling and grain == "Daily":
        start = pd.Timestamp(min(settling)) - pd.Timedelta(hours=12)
        end = pd.Timestamp(max(settling)) + pd.Timedelta(hours=12)
        fig.add_vrect(
            x0=start,
            x1=end,
            fillcolor="#999999",
            opacity=0.15,
            line_width=0,
            annotation_text="settling",
            annotation_position="top left",
        )
    if changes is not None and not changes.empty:
        days = change_days(changes)
        top = float(max(df["cost"].max() if not df.empty else 0, df["sales"].max() if not df.empty else 0) or 1)
        fig.add_scatter(
            x=[d.isoformat() for d in days["date"]],
            y=[top * 1.05] * len(days),
            mode="markers",
            name="Changes applied",
            marker={"symbol": "triangle-down", "size": 12, "color": "#C40000"},
            text=days["text"].tolist(),
            customdata=days[["manual", "autopilot"]].values.tolist(),
            hoverinfo="text+x",
        )
    fig.update_layout(
        barmode="group",
        height=380,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis={"title": currency, "tickformat": ",.0f"},
        yaxis2={"title": "ACOS", **PERCENT_AXIS},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def placement_figure(placements: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Spend, sales and ACOS by placement (top of search, rest of search, product pages)."""
    df = add_ratios(placements, ["acos"])
    fig = go.Figure()
    fig.add_bar(x=_values(df["placement"]), y=_values(df["cost"]), name=f"Spend ({currency})", marker_color=SPEND_COLOR)
    fig.add_bar(
        x=_values(df["placement"]), y=_values(df["sales"]), name=f"Sales ({currency})", marker_color=SALES_COLOR
    )
    fig.add_scatter(
        x=_values(df["placement"]),
        y=_values(df["acos"]),
        name="ACOS %",
        yaxis="y2",
        mode="markers",
        marker={"size": 12, "color": ACOS_COLOR},
        hovertemplate=PERCENT_HOVER,
    )
    fig.update_layout(
        barmode="group",
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis={"title": currency, "tickformat": ",.0f"},
        yaxis2={"title": "ACOS", **PERCENT_AXIS},
    )
    return fig


def timeline_figure(promotions: pd.DataFrame, daily_sales: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Promotions as bars on a timeline; the account's ad sales on their own small chart below, same dates.

    The ad sales are a 7-day average (a daily line is spiky and says nothing about a promotion), on an axis of
    their own that says what it is, never overlaid on the bars' category axis."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.72, 0.28],
        vertical_spacing=0.08,
        subplot_titles=("Promotions", f"Ad sales, 7-day average ({currency})"),
    )
    for row in promotions.itertuples(index=False):
        start, end = pd.Timestamp(row.start), pd.Timestamp(row.end)
        fig.add_scatter(
            x=[start.isoformat(), end.isoformat()],
            y=[row.label, row.label],
            mode="lines",
            line={"width": 14, "color": SPEND_COLOR},
            name=str(row.label),
            showlegend=False,
            hovertext=f"{row.label}: {start:%d %b} – {end:%d %b}",
            hoverinfo="text",
            row=1,
            col=1,
        )
    if not daily_sales.empty:
        smooth = daily_sales.assign(date=pd.to_datetime(daily_sales["date"])).sort_values("date")
        avg = smooth["sales"].astype("float64").rolling(7, min_periods=1).mean().round(2)
        fig.add_scatter(
            x=_values(smooth["date"]),
            y=_values(avg),
            name=f"Ad sales, 7-day average ({currency})",
            mode="lines",
            fill="tozeroy",
            line={"color": SALES_COLOR, "width": 1.5},
            showlegend=False,
            row=2,
            col=1,
        )
    fig.update_layout(
        height=max(320, 36 * len(promotions) + 220),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        yaxis={"type": "category", "automargin": True},
        yaxis2={"title": currency, "tickformat": ",.0f", "rangemode": "tozero"},
    )
    return fig


ORGANIC_COLOR = "#67A83D"


def ad_vs_organic_figure(daily: pd.DataFrame, grain: str = "Daily", currency: str = "USD") -> go.Figure:
    """Ad-attributed against organic sales over time, stacked to the total, with TACoS on a second axis.

    Only days with a total from Amazon are drawn (it lags about 72 hours): a day without one would otherwise read
    as "no organic sales"."""
    cols = ["cost", "sales", "organic_sales", "total_sales"]
    df = daily[[c for c in ["date", *cols] if c in daily.columns]].copy()
    if "total_sales" in df.columns:
        df = df[df["total_sales"].notna()]
    else:
        df = df.iloc[0:0].assign(organic_sales=pd.Series(dtype="float64"), total_sales=pd.Series(dtype="float64"))
    df["date"] = pd.to_datetime(df["date"])
    if grain == "Weekly" and not df.empty:
        df = df.set_index("date").resample("W-MON", label="left", closed="left")[cols].sum().reset_index()
    df = add_ratios(df, ["tacos"])
    fig = go.Figure()
    x = _values(df["date"])
    fig.add_bar(x=x, y=_values(df["sales"]), name=f"Ad sales ({currency})", marker_color=SALES_COLOR)
    fig.add_bar(x=x, y=_values(df["organic_sales"]), name=f"Organic sales ({currency})", marker_color=ORGANIC_COLOR)
    fig.add_scatter(
        x=x,
        y=_values(df["tacos"]) if "tacos" in df.columns else [],
        name="TACoS %",
        yaxis="y2",
        mode="lines+markers",
        line={"color": ACOS_COLOR},
        hovertemplate=PERCENT_HOVER,
    )
    fig.update_layout(
        barmode="stack",
        height=340,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis={"title": currency, "tickformat": ",.0f"},
        yaxis2={"title": "TACoS", **PERCENT_AXIS},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def recent_days_figure(days: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """A small chart of one entity's last days: spend and sales as bars, clicks as a line on its own axis
    (a suggestion's detail panel; `days` has date, clicks, spend, sales)."""
    x = _values(days["date"])
    fig = go.Figure()
    fig.add_bar(x=x, y=_values(days["spend"]), name=f"Spend ({currency})", marker_color=SPEND_COLOR)
    fig.add_bar(x=x, y=_values(days["sales"]), name=f"Sales ({currency})", marker_color=SALES_COLOR)
    fig.add_scatter(x=x, y=_values(days["clicks"]), name="Clicks", yaxis="y2", mode="lines", line={"color": ACOS_COLOR})
    fig.update_layout(
        barmode="group",
        height=220,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"title": currency, "tickformat": ",.0f", "rangemode": "tozero"},
        yaxis2={"title": "Clicks", "overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero",
                "tickformat": ",d"},
        legend={"orientation": "h", "y": -0.25},
    )  # fmt: skip
    return fig
