"""Qualitative sources: coded themes, representative excerpts, interviewer effects and focus-group
composition (methodology.md, "Interviewer effects", "Focus-group representativeness").

Pure: store rows in (coded_excerpts / interview_answers with a `themes` list; interview_answers'
interviewer_id, question, rating; participant counts), metric rows out in the metrics file's
columns (transforms.improvement.rows.metric_rows). Inputs carry the `period` and `segment` the
caller scopes them to (a null segment is a group of its own). Metric ids are issue 8's:
theme_frequency, theme_cooccurrence, interviewer_effect, focus_group_representativeness; the rows
of one metric are told apart by `item` (and, for the theme metrics, a fixed `reference`).
"""

from __future__ import annotations

from collections.abc import Mapping
from math import comb
from typing import Literal

import numpy as np
import polars as pl

from transforms.improvement.rows import metric_rows
from transforms.multiple_comparisons import benjamini_hochberg
from transforms.report_context.text import sanitise_text
from transforms.stats import mean_interval, wilson_interval

KEYS = ("period", "segment")

Frame = pl.DataFrame | pl.LazyFrame


def _ancestors(parents: Mapping[str, str | None]) -> pl.LazyFrame:
    """theme -> each of its ancestors (parent, grandparent, ...), from the coding frame's mapping."""
    pairs: list[tuple[str, str]] = []
    for theme in parents:
        seen, up = {theme}, parents.get(theme)
        while up and up not in seen:  # walks the (small) coding frame, not the data; guards a cycle
            pairs.append((theme, up))
            seen.add(up)
            up = parents.get(up)
    return pl.LazyFrame(
        {"theme": [p[0] for p in pairs], "ancestor": [p[1] for p in pairs]},
        schema={"theme": pl.String, "ancestor": pl.String},
    )


def _coded(rows: Frame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(units: period, segment, unit id; codes: period, segment, unit id, theme - each once per unit)."""
    units = rows.lazy().with_row_index("unit")
    codes = units.select(*KEYS, "unit", theme="themes").explode("theme").filter(pl.col("theme").is_not_null()).unique()
    return units.select(*KEYS, "unit"), codes


COUNT_AS_CODED = "count as coded"
SHARE_AS_CODED = "share as coded"
COUNT_ROLLED_UP = "count rolled up"
SHARE_ROLLED_UP = "share rolled up"


def theme_frequency(rows: Frame, parents: Mapping[str, str | None] | None = None, min_n: int = 30) -> pl.DataFrame:
    """Excerpts per theme and their share of all excerpts, as coded and rolled up to parent themes.

    `rows`: one row per excerpt (coded_excerpts, or interview answers) with `themes` (list of codes),
    period, segment. An excerpt counts once per theme however often the code repeats. Rolled up, each
    code stands for itself and every ancestor in `parents`, so a theme's rolled-up count is the
    excerpts coded with it or with any of its sub-themes, each excerpt once (two sub-themes of one
    parent count once; a parent coded directly counts too). Metric "theme_frequency", item = theme,
    n = excerpts in the period and segment (uncoded ones included); `reference` tells the rows apart:
    "count as coded" / "count rolled up" (value = excerpts) and "share as coded" / "share rolled up"
    (value = excerpts / n, Wilson interval).
    """
    units, codes = _coded(rows)
    totals = units.group_by(KEYS).agg(n=pl.len())
    rolled = pl.concat(
        [codes, codes.join(_ancestors(parents or {}), on="theme").select(*KEYS, "unit", theme="ancestor")]
    )
    counted = [
        frame.unique()
        .group_by(*KEYS, "theme")
        .agg(hits=pl.len())
        .join(totals, on=list(KEYS), nulls_equal=True)
        .with_columns(rolled_up=pl.lit(is_rolled))
        for frame, is_rolled in ((codes, False), (rolled, True))
    ]
    counts = pl.concat(pl.collect_all(counted))
    low, high = wilson_interval(counts["hits"].to_numpy(), counts["n"].to_numpy())
    base = [
        pl.lit("theme_frequency").alias("metric"),
        *KEYS,
        pl.col("theme").alias("item"),
        pl.col("n").cast(pl.Int64),
        (pl.col("n") < min_n).alias("small_sample"),
    ]
    rolled_up = pl.col("rolled_up")
    return metric_rows(
        [
            counts.select(
                *base,
                pl.col("hits").alias("value"),
                pl.when(rolled_up).then(pl.lit(COUNT_ROLLED_UP)).otherwise(pl.lit(COUNT_AS_CODED)).alias("reference"),
            ),
            counts.select(
                *base,
                (pl.col("hits") / pl.col("n")).alias("value"),
                pl.Series("ci_low", low),
                pl.Series("ci_high", high),
                pl.when(rolled_up).then(pl.lit(SHARE_ROLLED_UP)).otherwise(pl.lit(SHARE_AS_CODED)).alias("reference"),
            ),
        ]
    )


def theme_cooccurrence(rows: Frame, unit: Literal["excerpt", "document"] = "excerpt", min_n: int = 30) -> pl.DataFrame:
    """Pairs of themes coded on the same excerpt (or anywhere in the same document).

    Metric "theme_cooccurrence", item "a+b" (codes in sorted order), two rows per pair told apart by
    `reference`: "count on the same <unit>" (value = units coded with both, n = units - excerpts or
    documents - in the period and segment) and "Jaccard on the same <unit>" (value = both / units
    coded with either, n = units with either). Pairs never seen together are not listed.
    """
    frame = rows.lazy()
    if unit == "document":
        frame = frame.explode("themes").group_by(*KEYS, "document").agg(pl.col("themes").drop_nulls())
    units, codes = _coded(frame)
    totals = units.group_by(KEYS).agg(n=pl.len())
    per_theme = codes.group_by(*KEYS, "theme").agg(units=pl.len())
    join_keys = [*KEYS, "unit"]
    pairs = (
        codes.join(codes, on=join_keys, suffix="_b", nulls_equal=True)
        .filter(pl.col("theme") < pl.col("theme_b"))
        .group_by(*KEYS, "theme", "theme_b")
        .agg(both=pl.len())
        .join(per_theme, on=[*KEYS, "theme"], nulls_equal=True)
        .join(per_theme.rename({"theme": "theme_b", "units": "units_b"}), on=[*KEYS, "theme_b"], nulls_equal=True)
        .join(totals, on=list(KEYS), nulls_equal=True)
        .with_columns(
            item=pl.format("{}+{}", "theme", "theme_b"),
            either=pl.col("units") + pl.col("units_b") - pl.col("both"),
        )
        .collect()
    )
    return metric_rows(
        [
            pairs.select(
                pl.lit("theme_cooccurrence").alias("metric"),
                *KEYS,
                "item",
                pl.col("both").alias("value"),
                "n",
                (pl.col("n") < min_n).alias("small_sample"),
                pl.lit(f"count on the same {unit}").alias("reference"),
            ),
            pairs.select(
                pl.lit("theme_cooccurrence").alias("metric"),
                *KEYS,
                "item",
                (pl.col("both") / pl.col("either")).alias("value"),
                pl.col("either").alias("n"),
                (pl.col("either") < min_n).alias("small_sample"),
                pl.lit(f"Jaccard on the same {unit}").alias("reference"),
            ),
        ]
    )


def representative_excerpts(
    excerpts: Frame, theme: str | None = None, k: int = 3, max_chars: int = 300
) -> pl.DataFrame:
    """The k shortest complete excerpts per theme (all themes, or only `theme`), made safe to print.

    "Complete" = the quote fits in `max_chars` after whitespace is collapsed, so it prints without
    truncation; complete quotes come first, shortest first, then (when a theme has fewer than k) the
    shortest of the rest, truncated by `sanitise_text`. Ties break on document, excerpt_id (when
    present) and the text, so the choice is deterministic. Excerpts are selected in polars; only the
    k chosen per theme pass through sanitise_text. The templates still escape what they print.
    Returns theme, rank (1..k), document, participant_id, quote, truncated.
    """
    frame = excerpts.lazy()
    names = frame.collect_schema().names()
    ids = [c for c in ("document", "excerpt_id", "participant_id") if c in names]
    length = pl.col("quote").str.replace_all(r"\s+", " ").str.strip_chars().str.len_chars()
    chosen = (
        frame.select(*ids, "quote", theme="themes")
        .explode("theme")
        .filter(pl.col("theme").is_not_null() & pl.col("quote").is_not_null())
        .unique()
        .filter(pl.lit(True) if theme is None else pl.col("theme") == theme)
        .with_columns(length=length)
        .filter(pl.col("length") > 0)
        .sort("theme", pl.col("length") > max_chars, "length", *ids, "quote")
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("theme"))
        .filter(pl.col("rank") <= k)
        .collect()
    )
    cleaned = [sanitise_text(q, max_chars) for q in chosen["quote"]]
    return chosen.select(
        "theme",
        pl.col("rank").cast(pl.Int64),
        *[c for c in ("document", "participant_id") if c in ids],
        pl.Series("quote", [c[0] for c in cleaned], dtype=pl.String),
        pl.Series("truncated", [c[1] for c in cleaned], dtype=pl.Boolean),
    )


def _f_sf(f: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    from scipy.special import fdtrc

    return np.asarray(fdtrc(d1, d2, f), dtype=np.float64)


def _t_two_sided_p(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    from scipy.special import stdtr

    return np.asarray(2 * stdtr(df, -np.abs(t)), dtype=np.float64)


def interviewer_effect(answers: Frame, min_n: int = 30, alpha: float = 0.05) -> pl.DataFrame:
    """Intra-interviewer correlation and design effect per question, and each interviewer's deviation.

    `answers`: interview_answers rows (interviewer_id, question, rating, period, segment).
    Metric "interviewer_effect"; item tells the rows apart: "icc:<question>", "design_effect:<question>",
    "deviation:<question>:<interviewer>".
    One-way ANOVA with interviewers as groups (N ratings, k interviewers, n_i each):
    MSB = Σ n_i (ȳ_i - ȳ)² / (k - 1), MSW = Σ (n_i - 1) s_i² / (N - k),
    m0 = (N - Σ n_i² / N) / (k - 1) (the average group size adjusted for unequal sizes),
    ρ_int = (MSB - MSW) / (MSB + (m0 - 1)·MSW); a negative estimate is reported as is.
    Design effect (Kish 1962) = 1 + max(ρ, 0)·(m̄ - 1), m̄ = N / k. The icc row's `reference` holds k,
    m0 and the F test's p. Deviation: the interviewer's mean minus the mean of the other interviewers'
    ratings, with the t interval of the interviewer's mean (null when n_i < 2) and a one-sample t test
    of the interviewer's ratings against the others' mean (the same comparison as the interval). The
    interviewers of one question, period and segment are one family: their p-values are adjusted with
    Benjamini-Hochberg (interviewers with n_i < 2 are skipped), and an interviewer is flagged only when
    the interval is not null, excludes the others' mean and q < `alpha`; q is in `reference`. Without
    random assignment of customers to interviewers an effect is confounded with the customers each
    one saw.
    """
    frame = answers.lazy().filter(pl.col("rating").is_not_null()).with_columns(y=pl.col("rating").cast(pl.Float64))
    groups = frame.group_by(*KEYS, "question", "interviewer_id").agg(
        n_i=pl.len(), mean_i=pl.col("y").mean(), ss_i=((pl.col("y") - pl.col("y").mean()) ** 2).sum()
    )
    by = [*KEYS, "question"]
    grand = frame.group_by(by).agg(big_n=pl.len(), grand=pl.col("y").mean(), total=pl.col("y").sum())
    g = groups.join(grand, on=by, nulls_equal=True)
    anova = (
        g.group_by(by)
        .agg(
            k=pl.len(),
            big_n=pl.col("big_n").first(),
            ssb=(pl.col("n_i") * (pl.col("mean_i") - pl.col("grand")) ** 2).sum(),
            ssw=pl.col("ss_i").sum(),
            sum_n2=(pl.col("n_i") ** 2).sum(),
        )
        .filter((pl.col("k") > 1) & (pl.col("big_n") > pl.col("k")))
        .with_columns(
            msb=pl.col("ssb") / (pl.col("k") - 1),
            msw=pl.col("ssw") / (pl.col("big_n") - pl.col("k")),
            m0=(pl.col("big_n") - pl.col("sum_n2") / pl.col("big_n")) / (pl.col("k") - 1),
            m_bar=pl.col("big_n") / pl.col("k"),
        )
        .with_columns(rho=(pl.col("msb") - pl.col("msw")) / (pl.col("msb") + (pl.col("m0") - 1) * pl.col("msw")))
        .with_columns(deff=1 + pl.col("rho").clip(lower_bound=0) * (pl.col("m_bar") - 1))
        .collect()
    )
    p = _f_sf(
        (anova["msb"] / anova["msw"]).to_numpy(),
        (anova["k"] - 1).to_numpy(),
        (anova["big_n"] - anova["k"]).to_numpy(),
    )
    anova = anova.with_columns(p=pl.Series(p))
    reference = pl.format(
        "one-way ANOVA: {} interviewers, m0 {}, F-test p {}", "k", pl.col("m0").round(2), pl.col("p").round(4)
    ).alias("reference")
    n = pl.col("big_n").cast(pl.Int64).alias("n")
    small = (pl.col("big_n") < min_n).alias("small_sample")
    metric = pl.lit("interviewer_effect").alias("metric")
    icc = anova.select(
        metric, *KEYS, pl.format("icc:{}", "question").alias("item"), pl.col("rho").alias("value"), n, small, reference
    )
    deff = anova.select(
        metric,
        *KEYS,
        pl.format("design_effect:{}", "question").alias("item"),
        pl.col("deff").alias("value"),
        n,
        small,
        pl.format("1 + max(ρ, 0)·(m̄ - 1), m̄ {}", pl.col("m_bar").round(2)).alias("reference"),
    )
    dev = (
        g.filter(pl.col("big_n") > pl.col("n_i"))
        .with_columns(
            others=(pl.col("total") - pl.col("mean_i") * pl.col("n_i")) / (pl.col("big_n") - pl.col("n_i")),
            sd=pl.when(pl.col("n_i") >= 2).then((pl.col("ss_i") / (pl.col("n_i") - 1)).sqrt()),
        )
        .sort(*by, "interviewer_id", nulls_last=True)
        .collect()
    )
    mean_i, sd, n_i, others = (dev[c].to_numpy().astype(np.float64) for c in ("mean_i", "sd", "n_i", "others"))
    lo, hi = mean_interval(mean_i, sd, n_i)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (mean_i - others) / (sd / np.sqrt(n_i))
    p_dev = np.where(n_i >= 2, _t_two_sided_p(t, n_i - 1), np.nan)
    q = np.full(dev.height, np.nan)
    families = dev.with_row_index("_row").group_by(by, maintain_order=True).agg("_row")["_row"]
    for family in families:  # one Benjamini-Hochberg per question, period and segment
        rows = family.to_numpy()
        q_family, _ = benjamini_hochberg(p_dev[rows], alpha, n=n_i[rows], min_n=2)
        q[rows] = q_family.to_numpy()
    defined = pl.col("n_i") >= 2
    dev = dev.with_columns(
        ci_low=pl.when(defined).then(pl.Series(lo - others).fill_nan(None)),
        ci_high=pl.when(defined).then(pl.Series(hi - others).fill_nan(None)),
        q=pl.Series(q).fill_nan(None),
    )
    excludes = pl.col("ci_low").is_not_null() & ((pl.col("ci_low") > 0) | (pl.col("ci_high") < 0))
    flagged = excludes & pl.col("q").is_not_null() & (pl.col("q") < alpha)
    others_mean = pl.col("others").round(2)
    q_text = pl.col("q").round(4).cast(pl.String).fill_null("not tested")
    deviation = dev.select(
        metric,
        *KEYS,
        pl.format("deviation:{}:{}", "question", "interviewer_id").alias("item"),
        (pl.col("mean_i") - pl.col("others")).alias("value"),
        pl.col("n_i").cast(pl.Int64).alias("n"),
        "ci_low",
        "ci_high",
        (pl.col("n_i") < min_n).alias("small_sample"),
        pl.when(~defined)
        .then(pl.format("single rating: no interval or test (other interviewers' mean {})", others_mean))
        .when(flagged)
        .then(
            pl.format(
                "flagged: q {} (Benjamini-Hochberg), interval excludes the other interviewers' mean {}",
                q_text,
                others_mean,
            )
        )
        .otherwise(pl.format("within: q {} (Benjamini-Hochberg), other interviewers' mean {}", q_text, others_mean))
        .alias("reference"),
    )
    return metric_rows([icc, deff, deviation])


def composition(participants: Frame, attribute: str) -> dict[str, int]:
    """Participants per value of `attribute` (e.g. customer_type) - the counts to test."""
    counts = participants.lazy().group_by(attribute).agg(n=pl.len()).drop_nulls(attribute).collect()
    return dict(zip(counts[attribute].to_list(), counts["n"].to_list(), strict=True))


MAX_COMPOSITIONS = 2_000_000  # exact test enumerates C(n + K - 1, K - 1) compositions at most


def exact_multinomial_p(counts: np.ndarray, shares: np.ndarray) -> float:
    """Exact multinomial goodness-of-fit p: the total probability of every composition of n into the
    K categories that is no more likely than the observed one (probability ordering; relative tolerance
    1e-7 for ties). NaN when there are more than MAX_COMPOSITIONS compositions."""
    from itertools import combinations

    from scipy.special import gammaln

    counts, shares = np.asarray(counts, dtype=np.int64), np.asarray(shares, dtype=np.float64)
    n, k = int(counts.sum()), counts.size
    if comb(n + k - 1, k - 1) > MAX_COMPOSITIONS:
        return float("nan")
    # Stars and bars: the K - 1 bar positions among n + K - 1 slots give every composition at once.
    bars = np.array(list(combinations(range(n + k - 1), k - 1)), dtype=np.int64).reshape(-1, k - 1)
    edges = np.hstack([np.full((bars.shape[0], 1), -1), bars, np.full((bars.shape[0], 1), n + k - 1)])
    table = np.diff(edges, axis=1) - 1
    with np.errstate(divide="ignore"):
        logs = np.log(shares)

    def log_pmf(x: np.ndarray) -> np.ndarray:
        terms = np.where(x > 0, x * logs, 0.0)
        return gammaln(n + 1) - gammaln(x + 1).sum(axis=-1) + terms.sum(axis=-1)

    observed = log_pmf(counts[None, :])[0]
    all_logs = log_pmf(table)
    return float(min(1.0, np.exp(all_logs[all_logs <= observed + 1e-7]).sum()))


def focus_group_representativeness(
    counts: Mapping[str, int],
    base_shares: Mapping[str, float],
    period: str | None = None,
    segment: str | None = None,
    attribute: str = "customer_type",
) -> pl.DataFrame:
    """Focus-group composition against the customer base: χ² goodness of fit (Pearson).

    χ² = Σ (O - E)² / E with E = n·share (shares rescaled to sum to 1; a category of the base with
    no participants counts 0), df = K - 1, p from the χ² distribution. When any expected count is
    below 5 the χ² approximation is poor: an exact multinomial p is added (all compositions
    enumerated; see exact_multinomial_p) and `reference` says so. Metric
    "focus_group_representativeness"; item tells the rows apart: "composition:<attribute>:<category>"
    per category (share of participants, Wilson interval, base share in reference),
    "chi2:<attribute>" (value χ², df and p in reference), "chi2_p:<attribute>" and, with small
    expected counts, "exact_p:<attribute>"; n = participants. Participants of a category not in the
    base are counted in the composition's n and shown, but not tested. With no participants to test
    the chi2 and chi2_p rows have a null value and reference "no participants" (no exact p: the one
    empty composition would give a meaningless p of 1).
    """
    from scipy.special import chdtrc

    metric = "focus_group_representativeness"
    categories = list(base_shares)
    observed = np.array([counts.get(c, 0) for c in categories], dtype=np.float64)
    shares = np.array([base_shares[c] for c in categories], dtype=np.float64)
    shares = shares / shares.sum()
    n = int(observed.sum())
    all_cats = categories + [c for c in counts if c not in base_shares]
    all_obs = np.array([counts.get(c, 0) for c in all_cats], dtype=np.float64)
    total = int(all_obs.sum())
    low, high = wilson_interval(all_obs, np.full(all_obs.size, total))
    keys = {"period": period, "segment": segment}
    table = pl.DataFrame(
        {
            "metric": metric,
            **keys,
            "item": [f"composition:{attribute}:{c}" for c in all_cats],
            "value": all_obs / total if total else np.full(all_obs.size, np.nan),
            "n": total,
            "ci_low": low,
            "ci_high": high,
            "reference": [
                f"base {100 * base_shares[c] / sum(base_shares.values()):.1f} %" if c in base_shares else "not in base"
                for c in all_cats
            ],
        },
        schema_overrides={"period": pl.String, "segment": pl.String},
    )
    df = len(categories) - 1
    tests: list[tuple[str, float | None, str]]
    if n == 0:
        note = "no participants" if total == 0 else "no participants in the base's categories"
        tests = [("chi2", None, note), ("chi2_p", None, note)]
    else:
        expected = n * shares
        chi2 = float(((observed - expected) ** 2 / expected).sum())
        p = float(chdtrc(df, chi2))
        small = bool((expected < 5).any())
        note = "; expected counts below 5: prefer the exact multinomial p" if small else ""
        tests = [
            ("chi2", chi2, f"Pearson χ², df {df}, p {p:.3f}{note}"),
            ("chi2_p", p, f"χ² goodness of fit of {attribute} vs the customer base, df {df}{note}"),
        ]
        if small:
            exact = exact_multinomial_p(observed.astype(np.int64), shares)
            tests.append(
                (
                    "exact_p",
                    exact,
                    "exact multinomial test (expected counts below 5; compositions no more likely than the observed)",
                )
            )
    summary = pl.DataFrame(
        {
            "metric": metric,
            **{key: [value] * len(tests) for key, value in keys.items()},
            "item": [f"{t[0]}:{attribute}" for t in tests],
            "value": [t[1] for t in tests],
            "n": n,
            "reference": [t[2] for t in tests],
        },
        schema_overrides={"period": pl.String, "segment": pl.String, "value": pl.Float64},
    )
    return metric_rows([table, summary])
