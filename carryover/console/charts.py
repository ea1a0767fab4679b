"""The merge campaign chart, drawn on the server as SVG. Pure: numbers in, shapes out.

Why server-side SVG and not a charting library: one small chart of two series needs
no JavaScript, prints as sharply as the page around it, works with scripts off, adds
no dependency to keep up to date, and is testable as plain data. The template
(`console/_campaign_chart.html`) turns a `Chart` into SVG elements; Django's escaping
covers every text in it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: dt.date
    merged: int
    left: int


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    axis_left_x: float  # where the left scale's labels end
    axis_right_x: float  # where the right scale's labels start
    day_label_y: float
    bars: tuple[Bar, ...]
    line: str  # SVG path data of "left to merge"
    left_ticks: tuple[Tick, ...]  # merged per day (bars), left axis
    right_ticks: tuple[Tick, ...]  # left to merge (line), right axis
    day_ticks: tuple[Tick, ...]
    deadline_x: float | None
    deadline_label: str
    total_merged: int
    last_left: int


def nice_max(value: int) -> int:
    """A round axis top at or above `value`: 1, 2, 5, 10, 20, 50, ..."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def tick_count(top: int) -> int:
    """How many steps split `top` into whole numbers: 1 to 5 steps."""
    if top <= 5:
        return top
    return 4 if top % 4 == 0 else 5


def _ticks(top: int, *, bottom: float, height: float) -> tuple[Tick, ...]:
    count = tick_count(top)
    return tuple(
        Tick(position=round(bottom - height * i / count, 1), label=f"{top * i // count:,}")
        for i in range(count + 1)
    )


def campaign_chart(
    points: Sequence[tuple[dt.date, int, int]],
    *,
    deadline: dt.date | None = None,
    width: int = 760,
    height: int = 260,
) -> Chart | None:
    """Bars of merges per day and a line of accounts left, over `points`
    (`(day, merged, left)` in day order). None when there are no points."""
    if not points:
        return None
    left_pad, right_pad, top_pad, bottom_pad = 48.0, 56.0, 16.0, 34.0
    plot_w = width - left_pad - right_pad
    plot_h = height - top_pad - bottom_pad
    bottom = top_pad + plot_h
    slot = plot_w / len(points)
    bar_w = max(1.0, slot * 0.7)
    merged_top = nice_max(max(m for _, m, _ in points))
    left_top = nice_max(max(left for _, _, left in points))

    bars = []
    line = []
    for i, (day, merged, left) in enumerate(points):
        x = left_pad + slot * i
        h = plot_h * merged / merged_top
        bars.append(
            Bar(
                x=round(x + (slot - bar_w) / 2, 2),
                y=round(bottom - h, 2),
                width=round(bar_w, 2),
                height=round(h, 2),
                day=day,
                merged=merged,
                left=left,
            )
        )
        cx = x + slot / 2
        cy = bottom - plot_h * left / left_top
        line.append(f"{'M' if i == 0 else 'L'}{cx:.1f},{cy:.1f}")

    first, last = points[0][0], points[-1][0]
    span = (last - first).days
    every = max(1, math.ceil((span + 1) / 6))
    day_ticks = tuple(
        Tick(position=round(left_pad + slot * i + slot / 2, 1), label=f"{day:%b} {day.day}")
        for i, (day, _, _) in enumerate(points)
        if i % every == 0
    )
    deadline_x = None
    if deadline is not None and first <= deadline <= last:
        deadline_x = round(left_pad + slot * ((deadline - first).days + 1), 1)
    return Chart(
        width=width,
        height=height,
        plot_left=left_pad,
        plot_right=left_pad + plot_w,
        plot_top=top_pad,
        plot_bottom=bottom,
        axis_left_x=left_pad - 6,
        axis_right_x=left_pad + plot_w + 6,
        day_label_y=bottom + 20,
        bars=tuple(bars),
        line=" ".join(line),
        left_ticks=_ticks(merged_top, bottom=bottom, height=plot_h),
        right_ticks=_ticks(left_top, bottom=bottom, height=plot_h),
        day_ticks=day_ticks,
        deadline_x=deadline_x,
        deadline_label=f"Temporary seats end {deadline:%b} {deadline.day}" if deadline else "",
        total_merged=sum(m for _, m, _ in points),
        last_left=points[-1][2],
    )
