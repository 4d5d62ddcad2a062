"""The worksheet's two charts (plotly): points by category, stacked, and a radar of how much
of each category every vendor earns."""

from __future__ import annotations

import plotly.graph_objects as go

from core.vendor_scoring_sheet import Results, Sheet, category_fractions


def category_bars(sheet: Sheet, results: Results) -> go.Figure:
    """One bar per vendor (ranked), stacked by the points earned in each category (of 100)."""
    vendors = [t.vendor for t in results.totals]
    figure = go.Figure(
        [
            go.Bar(
                name=f"{cat.name} ({cat.weight:g}%)",
                x=vendors,
                y=[t.by_category[cat.name] for t in results.totals],
                hovertemplate="%{x}: %{y:.1f} points<extra>" + cat.name + "</extra>",
            )
            for cat in sheet.categories
        ]
    )
    figure.update_layout(
        barmode="stack",
        title="Weighted total by category (out of 100)",
        yaxis={"title": "points", "range": [0, 100]},
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 50, "b": 10},
    )
    return figure


def category_radar(sheet: Sheet, results: Results) -> go.Figure:
    """One outline per vendor: the share of each category's points it earns (0–100%), so
    light and heavy categories compare on one scale."""
    fractions = category_fractions(sheet, results)
    names = [c.name for c in sheet.categories]
    figure = go.Figure(
        [
            go.Scatterpolar(
                name=t.vendor,
                r=[fractions[t.vendor][n] * 100 for n in names]
                + [fractions[t.vendor][names[0]] * 100],
                theta=names + names[:1],
                fill="toself",
                opacity=0.6,
            )
            for t in results.totals
            if names
        ]
    )
    figure.update_layout(
        title="Share of each category earned (%)",
        polar={"radialaxis": {"range": [0, 100]}},
        margin={"t": 50, "b": 10},
    )
    return figure
