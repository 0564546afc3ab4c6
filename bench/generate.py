"""Survey exports in our own wide CSV format, written fast (numpy + polars): the benchmark's input.

    python bench/generate.py OUT.csv --responses 1000000 --first-id 0 --seed 1

`Response ID,Submitted,Customer,Business unit,Channel,Q1..Q10,Comment`: Q1 overall (1-5),
Q2 likelihood to recommend (0-10), Q3-Q10 attributes (1-5), ~2 % of answers blank; about
10 % of responses carry a comment, some with commas (so quoted); submitted over 2025 (UTC,
kept inside the local calendar year).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

UNITS = ("Tallinn", "Riga", "Narva", "Cape Town", "Online shop")
UNIT_SHARES = (0.30, 0.25, 0.15, 0.05, 0.25)
UNIT_LEVEL = np.array([0.6, 0.4, 0.5, 0.7, -0.3])  # latent satisfaction
CHANNELS = ("online", "paper", "phone", "in person")
CHANNEL_SHARES = (0.55, 0.15, 0.15, 0.15)
QUESTIONS = 10
CUTS_1_5 = np.array([-2.0, -1.2, -0.55, 0.8])
COMMENTS = (
    "Quick and friendly service, thank you!",
    "Waited over 40 minutes, nobody told me why.",
    'Fine, but "five minutes" took twenty.',
    "I had to explain my problem twice, to two different people.",
    "Good value for money.",
    "Kiire ja sõbralik teenindus, aitäh!",
    "Всё хорошо, спасибо.",
    "The order arrived late, and one item was broken.",
)
START = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
SPAN = int(datetime(2025, 12, 31, 21, tzinfo=UTC).timestamp()) - START  # before local midnight in Europe


def wide_export(responses: int, first_id: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    unit = rng.choice(len(UNITS), responses, p=UNIT_SHARES)
    level = UNIT_LEVEL[unit] + rng.normal(0, 1, responses)
    answers = {}
    for i in range(1, QUESTIONS + 1):
        latent = level + rng.normal(0, 0.7, responses)
        score = np.clip(np.round(latent * 2 + 7), 0, 10) if i == 2 else np.digitize(latent, CUTS_1_5) + 1
        blank = rng.random(responses) < 0.02
        answers[f"Q{i}"] = pl.Series(score.astype(np.int8)).set(pl.Series(blank), None)
    comment = np.where(rng.random(responses) < 0.10, rng.integers(0, len(COMMENTS), responses), -1)
    ids = pl.int_range(first_id, first_id + responses, eager=True)
    return pl.DataFrame(
        {
            "Response ID": "R" + ids.cast(pl.String).str.zfill(9),
            "Submitted": pl.from_epoch(pl.Series(np.sort(rng.integers(0, SPAN, responses)) + START)).dt.strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "Customer": "C"
            + pl.Series(rng.integers(0, max(responses // 3, 1), responses)).cast(pl.String).str.zfill(8),
            "Business unit": pl.Series(UNITS).gather(unit),
            "Channel": pl.Series(CHANNELS).gather(rng.choice(len(CHANNELS), responses, p=CHANNEL_SHARES)),
            **answers,
            "Comment": pl.Series(COMMENTS).gather(pl.Series(comment).replace(-1, None)),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--first-id", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    wide_export(args.responses, args.first_id, args.seed).write_csv(args.out)


if __name__ == "__main__":
    main()
