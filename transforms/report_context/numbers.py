"""Numbers formatted for a report's locale (Babel): counts, percentages, points, scores, p-values, intervals.

`None` (a figure that does not exist) prints as an en dash; intervals without a bound as
"not defined". NBSP keeps a number and its unit on one line.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal

from transforms.report_context.text import label

NBSP = "\u00a0"


def float_or_none(value: object) -> float | None:
    """A number from a frame cell as a float; null and NaN both become `None`."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


class Formatter:
    """Babel number formatting in one locale; `None` prints as an en dash."""

    def __init__(self, locale: str) -> None:
        try:
            self.locale = Locale.parse(locale)
        except (ValueError, UnknownLocaleError) as exc:
            raise ValueError(f"unknown report locale {locale!r}") from exc

    def dec(self, value: float | None, pattern: str) -> str:
        return "–" if value is None else format_decimal(value, format=pattern, locale=self.locale)

    def count(self, n: float | None) -> str:
        return self.dec(n, "#,##0")

    def pct(self, fraction: float | None) -> str:
        return "–" if fraction is None else self.dec(100 * fraction, "#,##0.0") + NBSP + "%"

    def pct_whole(self, fraction: float | None) -> str:
        return "–" if fraction is None else self.dec(100 * fraction, "#,##0.#") + NBSP + "%"

    def pts(self, fraction_diff: float | None) -> str:
        """A difference of proportions in percentage points, signed."""
        return "–" if fraction_diff is None else self.dec(100 * fraction_diff, "+#,##0.0;-#,##0.0") + NBSP + "pts"

    def nps(self, points: float | None) -> str:
        return self.dec(points, "+#,##0;-#,##0")

    def nps_pts(self, points: float | None) -> str:
        return "–" if points is None else self.dec(points, "+#,##0.0;-#,##0.0") + NBSP + "pts"

    def mean(self, value: float | None) -> str:
        return self.dec(value, "#,##0.00")

    def mean_diff(self, value: float | None) -> str:
        return self.dec(value, "+#,##0.00;-#,##0.00")

    def p(self, p: float | None) -> str:
        if p is None:
            return "–"
        return (
            "p" + NBSP + "<" + NBSP + self.dec(0.001, "0.000")
            if p < 0.001
            else "p" + NBSP + "=" + NBSP + self.dec(p, "0.000")
        )

    def date(self, value: object) -> str:
        if isinstance(value, datetime | date):
            return format_date(value, format="d MMM yyyy", locale=self.locale)
        return label(value, 40)


def interval_text(low: str, high: str, unit: str = "") -> str:
    """'78.1–83.4 %'; with a signed bound 'from -5 to +12' reads better than '-5–+12'."""
    if low == "–" or high == "–":
        return "not defined"
    suffix = NBSP + unit if unit else ""
    if low.startswith(("-", "+", "−")) or high.startswith(("-", "+", "−")):
        return f"{low} to {high}{suffix}"
    return f"{low}–{high}{suffix}"


def to_percent(fraction: float | None) -> float | None:
    """A fraction (0.81) as a percentage (81.0)."""
    return None if fraction is None else 100 * fraction
