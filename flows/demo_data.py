"""Demo and benchmark survey exports, written the way customers' survey tools write them.

`write_demo_exports` fills an inbox with two calendar years (2024, 2025) of a fictional
company's survey exports: five business units, four collection modes, seven codebook
questions plus four expectation items (asked of ~40 % of respondents), comments in five
languages, several file formats with their own headers, encodings and timestamp forms, and
a handful of deliberately bad rows for the data-quality page. Same seed -> byte-identical files.

The story the numbers tell (so a reader of the demo report can check it):
- "Online shop" is clearly weaker (slow delivery, defective orders, repeat contacts);
- "Rīga" improves markedly from 2024 to 2025;
- "Narva" does not change, but moves from interviews (phone, in person) to web and paper
  questionnaires in 2025, so its raw scores drop: a mode effect, not a real decline;
- "Cape Town" has only ~20-25 responses a year (small sample);
- oral modes read ~5-10 points higher than written ones (mode effect, domain.md);
- overall satisfaction sits at 80-85 % top-2-box (below the 95 % target), NPS about +25 to +35;
- expectations (SERVQUAL) sit above perceptions on every dimension, most on reliability (gap 5);
  they come from a random stream of their own, so the scorecard's figures are those of the
  demo without them.

`write_demo_records` adds every other source (interviews, focus groups, complaints, suppliers,
operational data, management's view), consistent with the survey: the same customers, units
and years.

Generation is vectorised (numpy `default_rng(seed)`): loops run over units, years and
files, never over rows, so `write_benchmark_exports` makes a million responses in seconds.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from xlsxwriter import Workbook

from flows.files import atomic_write_bytes
from flows.inbox import touch_ready_marker
from transforms.staging import RECORD_SPECS
from transforms.staging.management import SELF_ASSESSMENT_AREAS
from transforms.staging.operations import RETURNS

QUESTIONS = (
    "overall_satisfaction",
    "likely_to_recommend",
    "staff_courtesy",
    "speed_of_service",
    "resolved_first_contact",
    "explained_more_than_once",  # negatively worded: a high raw answer is bad
    "value_for_money",
)
# Expectation items (kind expectation), one per dimension of the attributes, answered by a share of respondents.
EXPECTATIONS = ("expect_reliability", "expect_responsiveness", "expect_empathy", "expect_tangibles")
EXPECTATION_SHARE = 0.4
# Latent expectation per item: high everywhere (customers expect much, SERVQUAL), reliability most.
EXPECTATION_LEVEL = np.array([1.25, 0.95, 0.85, 0.45])
MODES = ("online", "paper", "phone", "in_person")
YEARS = (2024, 2025)
HOME_ZONE = "Europe/Tallinn"


@dataclass(frozen=True)
class Unit:
    """A business unit's story: size, level, mode mix and comment languages per year."""

    zone: str  # local time zone of its survey timestamps
    hours: tuple[int, int]  # opening hours, local
    weekend: bool  # open on Saturdays and Sundays
    n: tuple[int, int]  # responses in 2024, 2025
    level: tuple[float, float]  # latent satisfaction in 2024, 2025
    modes: tuple[tuple[float, ...], ...]  # per year: shares of online, paper, phone, in person
    lang: dict[str, float]  # comment language -> share
    resolution: float = 0.0  # extra effect on first-contact resolution (and explaining twice)
    speed: float = 0.0  # extra effect on speed of service


# fmt: off
UNITS: dict[str, Unit] = {
    "Tallinn": Unit(
        zone="Europe/Tallinn", hours=(9, 19), weekend=False, n=(1050, 1100), level=(0.75, 0.80),
        modes=((0.45, 0.15, 0.20, 0.20), (0.50, 0.12, 0.18, 0.20)),
        lang={"et": 0.60, "ru": 0.25, "en": 0.15},
    ),
    "Rīga": Unit(  # improves markedly in 2025
        zone="Europe/Riga", hours=(9, 19), weekend=False, n=(640, 700), level=(0.15, 0.80),
        modes=((0.40, 0.20, 0.20, 0.20), (0.42, 0.18, 0.20, 0.20)),
        lang={"lv": 0.70, "ru": 0.20, "en": 0.10}, resolution=-0.2,
    ),
    "Narva": Unit(  # same service, but interviews give way to web and paper in 2025
        zone="Europe/Tallinn", hours=(9, 18), weekend=False, n=(430, 450), level=(0.55, 0.55),
        modes=((0.10, 0.15, 0.35, 0.40), (0.50, 0.30, 0.08, 0.12)),
        lang={"ru": 0.85, "en": 0.15},
    ),
    "Cape Town": Unit(  # small sample
        zone="Africa/Johannesburg", hours=(8, 17), weekend=False, n=(23, 22), level=(0.70, 0.75),
        modes=((0.50, 0.20, 0.15, 0.15), (0.50, 0.20, 0.15, 0.15)),
        lang={"af": 0.60, "en": 0.40},
    ),
    "Online shop": Unit(  # clearly weaker: slow delivery, defective orders, repeat contacts
        zone="Europe/Tallinn", hours=(7, 23), weekend=True, n=(600, 650), level=(0.15, 0.20),
        modes=((0.90, 0.0, 0.10, 0.0), (0.92, 0.0, 0.08, 0.0)),
        lang={"en": 0.40, "et": 0.30, "ru": 0.20, "lv": 0.10}, resolution=-0.5, speed=-0.4,
    ),
}
# fmt: on
ORAL_LIFT = 0.4  # latent shift for interviewer-administered modes (phone, in person)
CUTS_1_5 = np.array([-2.0, -1.2, -0.55, 0.8])  # latent -> 1..5
BLANK_RATE = np.array([0.01, 0.02, 0.03, 0.03, 0.04, 0.04, 0.05])  # item non-response, per question
CATEGORIES = ("positive", "mixed", "waiting", "explain_twice", "defective", "billing")

# Comment texts: language -> category -> texts. Negative ones name a concrete problem
# (the problem matches the respondent's weakest item). Russian and English only in Narva
# (its export is cp1251, which has no Latvian or Estonian letters).
COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": (
            "Quick and friendly service, thank you!",
            "The consultant knew exactly what to do. Sorted in one visit.",
        ),
        "mixed": (
            'Service was fine, but the staff said "five minutes" and it took twenty.',
            "Friendly staff, although prices have gone up a lot this year.",
        ),
        "waiting": (
            "Waited over 40 minutes before anyone helped me.",
            "Nobody answered the phone for half an hour.",
        ),
        "explain_twice": (
            "I had to explain my problem twice, to two different people.",
            "Every time I call I have to start again from the beginning.",
        ),
        "defective": (
            "My order arrived damaged and the replacement took three weeks.",
            "The item was defective and I am still waiting for a refund.",
        ),
        "billing": (
            "I was billed twice for the same order.",
            "The invoice was wrong and it took two calls to correct it.",
        ),
    },
    "ru": {
        "positive": ("Спасибо, всё быстро и вежливо.", "Консультант очень помог, вопрос решили сразу."),
        "mixed": ("В целом нормально, но пришлось немного подождать.", "Персонал приветливый; но цены выросли."),
        "waiting": ("Ждал в очереди почти час.", "Не могла дозвониться, линия всё время занята."),
        "explain_twice": (
            "Пришлось объяснять проблему два раза разным сотрудникам.",
            "Каждый раз, когда звоню, приходится рассказывать всё заново.",
        ),
        "defective": (
            "Заказ пришёл с браком, замену ждали три недели.",
            "Товар оказался неисправным, деньги до сих пор не вернули.",
        ),
        "billing": ("В счёте ошибка, деньги списали дважды.", "Выставили счёт за услугу, которую я не заказывал."),
    },
    "et": {
        "positive": ("Väga meeldiv ja kiire teenindus, aitäh!", "Teenindaja oli asjatundlik ja lahendas mure kohe."),
        "mixed": ("Üldiselt korras, kuid järjekord oli pikk.", "Sõbralik personal, aga hinnad on tõusnud."),
        "waiting": (
            "Ootasin üle poole tunni, enne kui keegi mind teenindas.",
            "Telefonile ei vastatud, ootejärjekorras olin 25 minutit.",
        ),
        "explain_twice": ("Pidin oma probleemi kaks korda selgitama.", "Iga kord tuleb kõik uuesti algusest rääkida."),
        "defective": (
            "Tellimus saabus katkisena ja asendust tuli oodata kolm nädalat.",
            "Toode oli defektne, raha pole siiani tagasi saanud.",
        ),
        "billing": ("Arvel oli viga, raha võeti kaks korda.", "Sain arve teenuse eest, mida ma ei tellinud."),
    },
    "lv": {
        "positive": (
            "Paldies par ģimenes atlaidi, ļoti laipna un ātra apkalpošana!",
            "Konsultants zināja, ko darīt, viss tika nokārtots uzreiz.",
        ),
        "mixed": (
            "Žēl, ka rindā nācās gaidīt, bet konsultants bija ļoti zinošs.",
            "Darbinieki jauki, taču cenas ir ievērojami kāpušas.",
        ),
        "waiting": (
            "Gaidīju rindā vairāk nekā pusstundu.",
            "Pa tālruni neviens neatbildēja gandrīz divdesmit minūtes.",
        ),
        "explain_twice": (
            "Man nācās savu problēmu skaidrot divreiz dažādiem darbiniekiem.",
            "Katru reizi jāstāsta viss no sākuma, neviens neatceras iepriekšējo sarunu.",
        ),
        "defective": (
            "Pasūtītais ķebļu komplekts pienāca bojāts, nomaiņa ilga trīs nedēļas.",
            "Prece bija ar defektu, naudu joprojām neesmu saņēmis.",
        ),
        "billing": ("Rēķinā bija kļūda, nauda tika noņemta divreiz.", "Saņēmu rēķinu par pakalpojumu, ko nepasūtīju."),
    },
    "af": {
        "positive": (
            "Vriendelike en vinnige diens, baie dankie! Ek is 'n tevrede kliënt.",
            "Die personeel was baie behulpsaam; ek sê net dankie.",
        ),
        "mixed": (
            "Die diens was goed, maar ek moes te lank wag.",
            "Vriendelike personeel, maar die pryse het baie gestyg.",
        ),
        "waiting": (
            "Ek het meer as 'n halfuur in die tou gewag.",
            "Hulle het belowe om môre terug te bel, maar ek wag nog steeds.",
        ),
        "explain_twice": (
            "Ek moes my probleem twee keer aan verskillende mense verduidelik.",
            "Elke keer as ek bel, moet ek weer van voor af alles verduidelik.",
        ),
        "defective": (
            "My bestelling het beskadig aangekom en die vervanging het drie weke geneem.",
            "Die produk was foutief en ek wag nog steeds vir my terugbetaling.",
        ),
        "billing": (
            "Daar was 'n fout op my rekening; ek is twee keer gedebiteer.",
            "Ek het 'n rekening gekry vir 'n diens wat ek nie bestel het nie.",
        ),
    },
}
HOSTILE_COMMENT = "<b>worst</b> service, price <50 EUR & rising"
MULTILINE_COMMENT = "Good service overall.\nParking near the office is hard to find, though."


# --- the data ----------------------------------------------------------------------------


def _timestamps(rng: np.random.Generator, n: int, year: int, unit: Unit) -> pl.Series:
    """Local opening-hours timestamps spread over the year, as UTC."""
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    if not unit.weekend:  # branches: Monday-Friday, closed on New Year's Day and at Christmas
        closed = np.array([f"{year}-01-01", f"{year}-12-24", f"{year}-12-25", f"{year}-12-26"], dtype="datetime64[D]")
        days = days[((days.astype(np.int64) + 3) % 7 < 5) & ~np.isin(days, closed)]  # 1970-01-01: a Thursday
    start, end = unit.hours
    seconds = rng.integers(start * 3600, end * 3600, n).astype("timedelta64[s]")
    local = (rng.choice(days, n).astype("datetime64[s]") + seconds).astype("datetime64[us]")
    return (
        pl.Series("submitted_at", local)
        .dt.replace_time_zone(unit.zone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .cast(pl.Datetime("us", "UTC"))
    )


def _answers(rng: np.random.Generator, mode: np.ndarray, level: float, unit: Unit) -> np.ndarray:
    """Raw answers (n x 7, float with NaN blanks) driven by a latent satisfaction per respondent."""
    n = len(mode)
    s = level + ORAL_LIFT * (mode >= 2) + rng.standard_normal(n)
    e = rng.standard_normal((n, 8))
    resolution = unit.resolution + 0.7 * e[:, 0]  # shared by "resolved" and "explain twice"
    overall = s + 0.4 * resolution + 0.15 * e[:, 3] + 0.15 * e[:, 6] + 0.5 * e[:, 7]
    latent = np.column_stack(
        [
            overall,
            s + 0.45 * e[:, 1] + 0.3 * resolution,  # recommend (mapped to 0-10 below)
            s + 0.35 + 0.7 * e[:, 2],  # courtesy
            s - 0.15 + unit.speed + 0.7 * e[:, 3],  # speed
            s + resolution + 0.45 * e[:, 4],  # resolved first time
            s + 0.1 + resolution + 0.55 * e[:, 5],  # NOT explained twice (reversed below)
            s - 0.3 + 0.8 * e[:, 6],  # value for money
        ]
    )
    raw = (np.searchsorted(CUTS_1_5, latent) + 1).astype(np.float64)
    raw[:, 1] = np.clip(np.rint(7.4 + 1.7 * latent[:, 1]), 0, 10)
    raw[:, 5] = 6 - raw[:, 5]  # negatively worded item: agreement means a bad experience
    raw[rng.random(raw.shape) < BLANK_RATE] = np.nan
    return raw


def _expectations(rng: np.random.Generator, raw: np.ndarray) -> np.ndarray:
    """Expectation answers (n x 4, float with NaN for those not asked): ~40 % of respondents answer.

    Driven by how demanding a respondent is, a little by their experience (perceptions shape
    expectations), mostly above the perceived level of the matching attribute (SERVQUAL).
    """
    n = len(raw)
    asked = rng.random(n) < EXPECTATION_SHARE
    demanding = rng.standard_normal(n)
    experience = (np.nan_to_num(raw[:, 0], nan=3) - 3) / 2
    latent = (
        EXPECTATION_LEVEL + 0.5 * demanding[:, None] + 0.2 * experience[:, None] + 0.55 * rng.standard_normal((n, 4))
    )
    answers = (np.searchsorted(CUTS_1_5, latent) + 1).astype(np.float64)
    answers[~asked] = np.nan
    answers[rng.random(answers.shape) < 0.02] = np.nan  # item non-response among those asked
    return answers


def _comments(rng: np.random.Generator, raw: np.ndarray, unit: Unit) -> pl.Series:
    """~30 % of respondents comment (more among the unhappy), in the unit's languages."""
    n = len(raw)
    overall = np.nan_to_num(raw[:, 0], nan=3)
    # weakest of speed, resolved, explained (reverse-coded), value -> the problem named
    problems = np.column_stack([raw[:, 3], raw[:, 4], 6 - raw[:, 5], raw[:, 6]])
    problems = np.nan_to_num(problems, nan=5) + 0.5 * rng.random((n, 4))
    category = np.where(overall >= 4, 0, np.where(overall == 3, 1, 2 + np.argmin(problems, axis=1)))
    languages = list(unit.lang)
    language = rng.choice(len(languages), n, p=list(unit.lang.values()))
    texts = pl.Series("comment", [t for lang in languages for c in CATEGORIES for t in COMMENTS[lang][c]])
    group = language * len(CATEGORIES) + category  # every (language, category) holds 2 texts
    picked = texts.gather(2 * group + rng.integers(0, 2, n))
    silent = rng.random(n) >= np.where(overall <= 2, 0.55, 0.27)
    return picked.scatter(np.flatnonzero(silent), None)


def demo_responses(seed: int = 2026, total: int | None = None, id_prefix: str = "R") -> pl.DataFrame:
    """All responses in our column names, clean (no defects), sorted by time.

    `total` rescales the units' sizes (benchmark); ids are `<prefix>-<year>-<number>`,
    numbered in time order within the year.
    """
    rng = np.random.default_rng(seed)
    # The expectation items draw from their own stream: the other answers stay those of the same seed without them.
    expectation_rng = np.random.default_rng([seed, 1])
    sizes = {(u, i): spec.n[i] for u, spec in UNITS.items() for i in range(len(YEARS))}
    if total is not None:
        base = sum(sizes.values())
        sizes = {k: max(1, int(v * total / base)) for k, v in sizes.items()}
        sizes[("Tallinn", 1)] += total - sum(sizes.values())
    frames = []
    for (name, i), n in sizes.items():
        unit = UNITS[name]
        mode = rng.choice(len(MODES), n, p=unit.modes[i])
        raw = _answers(rng, mode, unit.level[i], unit)
        expected = _expectations(expectation_rng, raw)
        pool = rng.integers(100_000, 1_000_000, max(1, int(n * 0.8)))  # some customers answer twice
        frames.append(
            pl.DataFrame(
                {
                    "submitted_at": _timestamps(rng, n, YEARS[i], unit),
                    "customer_id": rng.choice(pool, n),
                    "segment": pl.repeat(name, n, eager=True),
                    "mode": np.array(MODES)[mode],
                    "comment": _comments(rng, raw, unit),
                    **{q: pl.Series(raw[:, j], nan_to_null=True).cast(pl.Int64) for j, q in enumerate(QUESTIONS)},
                    **{
                        q: pl.Series(expected[:, j], nan_to_null=True).cast(pl.Int64)
                        for j, q in enumerate(EXPECTATIONS)
                    },
                }
            )
        )
    df = pl.concat(frames).sort("submitted_at", "customer_id", "segment")
    year = pl.col("submitted_at").dt.convert_time_zone(HOME_ZONE).dt.year()
    number = pl.int_range(1, pl.len() + 1).over(year).cast(pl.String)
    width = max(6, len(str(df.height)))
    return df.select(
        pl.concat_str(pl.lit(f"{id_prefix}-"), year.cast(pl.String), pl.lit("-"), number.str.zfill(width)).alias(
            "response_id"
        ),
        "submitted_at",
        pl.concat_str(pl.lit("C"), pl.col("customer_id").cast(pl.String)).alias("customer_id"),
        "segment",
        "mode",
        "comment",
        *QUESTIONS,
        *EXPECTATIONS,
    )


# --- export dialects ---------------------------------------------------------------------

FULL_NAMES = {
    "overall_satisfaction": "Overall satisfaction",
    "likely_to_recommend": "Likely to recommend",
    "staff_courtesy": "Staff courtesy",
    "speed_of_service": "Speed of service",
    "resolved_first_contact": "Resolved on first contact",
    "explained_more_than_once": "Had to explain more than once",
    "value_for_money": "Value for money",
    # expectation items: titled by their text (config/codebook.yaml), as survey tools export a question
    "expect_reliability": "A company like ours should resolve requests the first time.",
    "expect_responsiveness": "A company like ours should serve its customers promptly.",
    "expect_empathy": "The staff of a company like ours should be courteous and helpful.",
    "expect_tangibles": "A company like ours should give good value for money.",
}
# Q1..Q7 (config/pipeline.yaml columns.questions); the expectation grid by its codebook codes Q4_1..Q4_4.
Q_NUMBERS = {q: f"Q{i}" for i, q in enumerate(QUESTIONS, start=1)} | {
    q: f"Q4_{i}" for i, q in enumerate(EXPECTATIONS, start=1)
}


def _headers(base: tuple[str, str, str, str, str, str], questions: dict[str, str]) -> dict[str, str]:
    """Our name -> the export's header; `base` names response id, submitted, customer, segment, mode, comment."""
    rid, at, customer, segment, mode, comment = base
    fixed = {"response_id": rid, "submitted_at": at, "customer_id": customer, "segment": segment, "mode": mode}
    return {**fixed, **questions, "comment": comment}


def _export(df: pl.DataFrame, headers: dict, labels: dict, when: pl.Expr) -> pl.DataFrame:
    """Our frame -> the export's: timestamp form, mode labels, column order and headers."""
    return df.with_columns(when.alias("submitted_at"), pl.col("mode").replace_strict(labels)).select(
        [pl.col(ours).alias(theirs) for ours, theirs in headers.items()]
    )


def _local(zone: str = HOME_ZONE) -> pl.Expr:
    return pl.col("submitted_at").dt.convert_time_zone(zone)


def _set(df: pl.DataFrame, row: int, column: str, value: object) -> pl.DataFrame:
    """One deliberately bad cell (row = position in the file's frame)."""
    hit = pl.int_range(pl.len()) == row
    return df.with_columns(
        pl.when(hit).then(pl.lit(value, dtype=df.schema[column])).otherwise(pl.col(column)).alias(column)
    )


def _first(df: pl.DataFrame, condition: pl.Expr, after: int = 0) -> int:
    """Position of the first row at or after `after` that meets `condition`."""
    rows = df.with_row_index("_i").filter(condition & (pl.col("_i") >= after))["_i"]
    return int(rows[0])


def _bytes(write: Callable[[io.BytesIO], object]) -> bytes:
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()


# --- one function per file ----------------------------------------------------------------


def _csv_2024_h1(df: pl.DataFrame) -> bytes:
    """Survey tool A, first half-year: UTF-8 with BOM, comma, full question names,
    ISO local time without seconds ("2024-03-04 10:15")."""
    out = _export(
        df,
        _headers(("Response ID", "Submitted", "Customer ID", "Business unit", "Channel", "Comment"), FULL_NAMES),
        {"online": "Web", "paper": "Paper", "phone": "Telephone", "in_person": "Face to face"},
        _local().dt.strftime("%Y-%m-%d %H:%M"),
    )
    out = _set(
        out,
        _first(out, pl.col("Comment").is_null() & (pl.col("Overall satisfaction") >= 4), 40),
        "Comment",
        MULTILINE_COMMENT,
    )
    out = _set(out, 157, "Staff courtesy", 7)  # a 1-7 scale answer slipped into a 1-5 item
    out = _set(out, 612, "Submitted", "next Tuesday")  # typed by hand into the date field
    out = _set(out, 1203, "Response ID", None)  # paper form keyed in without its id
    return _bytes(lambda b: out.write_csv(b, include_bom=True))


def _xlsx_2024_h2(df: pl.DataFrame) -> bytes:
    """Survey tool A, second half-year, saved from Excel: Q1..Q7 headers, native Excel
    date-times (local time), integer scores."""
    out = _export(
        df,
        _headers(("ResponseId", "Submitted at", "Customer", "Branch", "Collection mode", "Comments"), Q_NUMBERS),
        {"online": "Online", "paper": "Paper", "phone": "Phone", "in_person": "In person"},
        _local().dt.replace_time_zone(None),
    )
    out = _set(out, 421, "Q2", 11)  # "likely to recommend" out of its 0-10 scale
    buffer = io.BytesIO()
    workbook = Workbook(buffer)
    workbook.set_properties({"created": dt.datetime(2025, 1, 6, 9, 0), "author": "Survey tool export"})
    out.write_excel(workbook, "Responses", dtype_formats={pl.Datetime: "dd.mm.yyyy hh:mm"}, autofit=False)
    workbook.close()
    return buffer.getvalue()


def _jsonl_2025(df: pl.DataFrame) -> bytes:
    """Survey tool B's API dump: one JSON object per line, scores as strings ("4"),
    ISO timestamps with the unit's local offset ("2025-03-04T10:15:00+02:00")."""
    # A customer re-submitted the same survey two days later with changed answers.
    again = _first(df, pl.col("overall_satisfaction") == 2, 200)
    resubmitted = df[again].with_columns(
        pl.col("submitted_at") + pl.duration(days=2, hours=3, minutes=12),
        pl.lit(4, dtype=pl.Int64).alias("overall_satisfaction"),
        pl.lit(8, dtype=pl.Int64).alias("likely_to_recommend"),
        pl.lit("Sending again: after my second call the problem was solved.").alias("comment"),
    )
    df = pl.concat([df, resubmitted]).sort("submitted_at", maintain_order=True)
    iso = "%Y-%m-%dT%H:%M:%S%:z"
    when = (
        pl.when(pl.col("segment") == "Cape Town")
        .then(_local("Africa/Johannesburg").dt.strftime(iso))
        .otherwise(_local().dt.strftime(iso))
    )
    out = _export(
        df.with_columns(pl.col(q).cast(pl.String) for q in (*QUESTIONS, *EXPECTATIONS)),
        _headers(("ResponseId", "submitted_at", "customer_id", "Branch", "Channel", "Comment"), Q_NUMBERS),
        {"online": "web", "paper": "post", "phone": "call", "in_person": "in-person"},
        when,
    )
    out = _set(out, 333, "Q3", "45")  # typo: two keys pressed
    return _bytes(out.write_ndjson)


def _parquet_2025_online(df: pl.DataFrame) -> bytes:
    """The web feedback widget (every unit's online answers): typed Parquet, UTC timestamps,
    integer scores, "Web" or "App"."""
    channel = pl.when(pl.col("customer_id").str.slice(-1).is_in(["0", "1", "2"])).then(pl.lit("App"))
    df = df.with_columns(channel.otherwise(pl.lit("Web")).alias("mode"))
    out = _export(
        df,
        _headers(
            ("Response ID", "Submitted at", "Customer ID", "Business unit", "Collection mode", "Comment"), FULL_NAMES
        ),
        {"App": "App", "Web": "Web"},
        pl.col("submitted_at"),
    )
    low = _first(out, (pl.col("Business unit") == "Online shop") & (pl.col("Overall satisfaction") <= 2), 100)
    out = _set(out, low, "Comment", HOSTILE_COMMENT)
    out = _set(out, 905, "Likely to recommend", -1)  # the widget's "not answered" code
    return _bytes(lambda b: out.write_parquet(b, compression="zstd", statistics=False))


def _csv_narva_2025(df: pl.DataFrame) -> bytes:
    """Narva's local tool on Windows: cp1251, semicolon, CRLF, day-first "31.12.2025 14:30",
    header "Дата", phone written as "Телефон"."""
    out = _export(
        df,
        _headers(("Response ID", "Дата", "Customer ID", "Branch", "Channel", "Comment"), Q_NUMBERS),
        {"online": "Web", "paper": "Paper", "phone": "Телефон", "in_person": "Interview"},
        _local().dt.strftime("%d.%m.%Y %H:%M"),
    )
    out = _set(out, 88, "Дата", "31.02.2025 10:00")  # a date that does not exist
    out = _set(out, 260, "Channel", "SMS")  # a channel the configuration does not know
    return out.write_csv(separator=";", line_terminator="\r\n").encode("cp1251")


def _json_2025_riga(df: pl.DataFrame) -> bytes:
    """Rīga's kiosk and call-centre system: one JSON array, UTC "Z" timestamps, full names."""
    out = _export(
        df,
        _headers(("ResponseId", "Submitted", "Customer", "Branch", "mode", "Comments"), FULL_NAMES),
        {"online": "Online", "paper": "Questionnaire", "phone": "Telephone", "in_person": "Store"},
        _local("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return _bytes(out.write_json)


def write_demo_exports(inbox: Path, seed: int = 2026) -> list[Path]:
    """Write the demo's survey exports into the inbox's surveys/ folder (created if needed); return their paths.

    Deterministic: the same seed gives byte-identical files.
    """
    df = demo_responses(seed)
    year = _local().dt.year()
    month = _local().dt.month()
    online_2025 = (year == 2025) & (pl.col("mode") == "online") & (pl.col("segment") != "Narva")
    files = {
        "2024_h1_survey.csv": _csv_2024_h1(df.filter((year == 2024) & (month <= 6))),
        "2024_h2_survey.xlsx": _xlsx_2024_h2(df.filter((year == 2024) & (month > 6))),
        "2025_survey_export.jsonl": _jsonl_2025(
            df.filter((year == 2025) & ~online_2025 & ~pl.col("segment").is_in(["Narva", "Rīga"]))
        ),
        "2025_online.parquet": _parquet_2025_online(df.filter(online_2025)),
        "narva_2025.csv": _csv_narva_2025(df.filter((year == 2025) & (pl.col("segment") == "Narva"))),
        "2025_json_export.json": _json_2025_riga(
            df.filter((year == 2025) & ~online_2025 & (pl.col("segment") == "Rīga"))
        ),
    }
    return [_deliver_to_inbox(Path(inbox) / "surveys" / name, data) for name, data in files.items()]


def _deliver_to_inbox(path: Path, data: bytes) -> Path:
    """Write an export as a sender should: the whole file first, then its ready marker (flows.inbox)."""
    atomic_write_bytes(path, data)
    touch_ready_marker(path)
    return path


def write_benchmark_exports(inbox: Path, responses: int = 1_000_000, seed: int = 2026) -> list[Path]:
    """A scale test: `responses` clean responses over 2024-2025 as 2 Parquet + 2 CSV files."""
    df = demo_responses(seed, total=responses, id_prefix="B")
    year = _local().dt.year()
    parquet_headers = _headers(
        ("Response ID", "Submitted at", "Customer ID", "Business unit", "Collection mode", "Comment"), FULL_NAMES
    )
    csv_headers = _headers(("ResponseId", "Submitted", "Customer", "Branch", "Channel", "Comments"), Q_NUMBERS)
    labels = {"online": "Web", "paper": "Paper", "phone": "Telephone", "in_person": "Face to face"}
    paths = []
    for y in YEARS:
        part = df.filter(year == y)
        half = part.height // 2
        as_parquet = _export(part.head(half), parquet_headers, labels, pl.col("submitted_at"))
        as_csv = _export(
            part.tail(part.height - half), csv_headers, labels, _local().dt.strftime("%Y-%m-%dT%H:%M:%S%:z")
        )
        folder = Path(inbox) / "surveys"
        paths.append(_deliver_to_inbox(folder / f"bench_{y}_a.parquet", _bytes(as_parquet.write_parquet)))
        paths.append(_deliver_to_inbox(folder / f"bench_{y}_b.csv", _bytes(as_csv.write_csv)))
    return paths


# --- every other record source -----------------------------------------------------------
#
# The same fictional company seen from every side the domain notes list: interviews, focus
# groups and their coded excerpts, the complaint log, suppliers' scorecards and issues,
# orders and returns, and management's view. Customer ids are drawn from the survey's
# respondents of the same unit and year, so the sources join on them.
#
# The story (consistent with the survey's):
# - "Online shop" draws most complaints and returns: late deliveries and parcels damaged by
#   the courier (COURIER-NX, weakest in spring 2025), defective lamps from the parts supplier
#   (PARTS-BALT, improving in 2025), customers explaining their case more than once;
# - interviewer IV-03 rates systematically higher than the other three (an interviewer effect);
# - the focus groups over-represent business customers, long-standing customers and the
#   capital region against the customer base (RECORD_BASE below);
# - management under-estimates how much customers expect reliability and responsiveness,
#   and over-estimates the weight of price (the knowledge gap, gap 1).
#
# Deliberate faults for the data-quality page, and nothing else quarantined:
# - complaints_2025.csv: one complaint names the unit "Tartu", which config/pipeline.yaml does not list;
# - interviews_2025.csv: one answer keyed in without its interviewer id;
# - scorecard_parts_balt.csv: an on-time share of 103.5 % (typed for 93.5).
# Rows are built one by one (a few thousand at most): readable, and fast enough.

RECORD_UNIT_CODES = {"Tallinn": "TLN", "Rīga": "RIX", "Narva": "NRV", "Cape Town": "CPT", "Online shop": "WEB"}
# The customer base the focus groups' participants differ from (the survey's customers carry no such
# attributes): the participants are half business customers, with a median tenure of ~7 years.
RECORD_BASE = {"business_share": 0.15, "median_tenure_years": 3.0}
EXCERPT_LANGUAGES = ("en", "et", "lv", "ru")
# What customers say, by theme codes of config/coding_frame.yaml, in each excerpt language.
# fmt: off
EXCERPTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("praise", {
        "en": "The consultant knew exactly what to do and sorted it in one visit.",
        "et": "Konsultant teadis täpselt, mida teha, ja lahendas kõik ühe korraga.",
        "lv": "Konsultants precīzi zināja, kas jādara, un visu nokārtoja vienā reizē.",
        "ru": "Консультант точно знал, что делать, и всё решил за один визит.",
    }),
    ("praise", {
        "en": "Friendly people, and they remembered my previous visit.",
        "et": "Sõbralikud inimesed ja nad mäletasid mu eelmist külastust.",
        "lv": "Laipni cilvēki, un viņi atcerējās manu iepriekšējo apmeklējumu.",
        "ru": "Приветливые люди, и они помнили мой прошлый визит.",
    }),
    ("staff_knowledge", {
        "en": "The person on the phone did not know our contract and had to ask a colleague.",
        "et": "Telefonil olnud töötaja ei tundnud meie lepingut ja pidi kolleegilt küsima.",
        "lv": "Darbinieks pa tālruni nepazina mūsu līgumu, un viņam bija jājautā kolēģim.",
        "ru": "Сотрудник на телефоне не знал наш договор и пошёл спрашивать коллегу.",
    }),
    ("waiting_time", {
        "en": "I waited forty minutes in the queue before anyone helped me.",
        "et": "Ootasin järjekorras nelikümmend minutit, enne kui keegi mind aitas.",
        "lv": "Rindā gaidīju četrdesmit minūtes, līdz kāds man palīdzēja.",
        "ru": "Я ждал в очереди сорок минут, пока мне кто-то помог.",
    }),
    ("repeat_explanation", {
        "en": "Every time I called I had to explain the whole story again.",
        "et": "Iga kord, kui helistasin, pidin kogu loo uuesti rääkima.",
        "lv": "Katru reizi, kad zvanīju, man viss bija jāstāsta no jauna.",
        "ru": "Каждый раз, когда я звонил, приходилось заново рассказывать всю историю.",
    }),
    ("late_delivery;broken_promise", {
        "en": "They promised delivery on Friday; it came the next Wednesday.",
        "et": "Lubati tarnida reedel, aga pakk tuli alles järgmisel kolmapäeval.",
        "lv": "Piegādi solīja piektdien, bet sūtījums atnāca tikai nākamajā trešdienā.",
        "ru": "Обещали доставить в пятницу, а привезли только в следующую среду.",
    }),
    ("defective_product", {
        "en": "The lamp did not work out of the box and the replacement took three weeks.",
        "et": "Lamp ei töötanud algusest peale ja asendus võttis kolm nädalat.",
        "lv": "Lampa nedarbojās jau no paša sākuma, un nomaiņa aizņēma trīs nedēļas.",
        "ru": "Лампа не работала с самого начала, а замену ждали три недели.",
    }),
    ("damaged_in_transit", {
        "en": "The box was crushed and two stools had broken legs.",
        "et": "Kast oli lömmis ja kahel taburetil olid jalad katki.",
        "lv": "Kaste bija saspiesta, un diviem ķebļiem bija salūzušas kājas.",
        "ru": "Коробка была смята, у двух табуретов сломаны ножки.",
    }),
    ("value_for_money", {
        "en": "Prices went up this year but the service stayed the same.",
        "et": "Hinnad tõusid sel aastal, aga teenindus jäi samaks.",
        "lv": "Cenas šogad pieauga, bet serviss palika tāds pats.",
        "ru": "В этом году цены выросли, а сервис остался прежним.",
    }),
    ("hard_to_reach", {
        "en": "Nobody answers the phone after five, and e-mails take days.",
        "et": "Pärast viit ei vasta keegi telefonile ja e-kirjadele vastatakse päevi.",
        "lv": "Pēc pieciem neviens neatbild uz tālruni, un uz e-pastiem atbild vairākas dienas.",
        "ru": "После пяти никто не берёт трубку, а на письма отвечают по несколько дней.",
    }),
    ("no_follow_up", {
        "en": "They said they would call me back. Nobody ever did.",
        "et": "Öeldi, et helistatakse tagasi. Keegi ei helistanud.",
        "lv": "Teica, ka atzvanīs. Neviens tā arī neatzvanīja.",
        "ru": "Сказали, что перезвонят. Так никто и не перезвонил.",
    }),
    ("staff_attitude", {
        "en": "The staff member was rude when I asked for a refund.",
        "et": "Töötaja oli ebaviisakas, kui küsisin raha tagasi.",
        "lv": "Darbinieks bija nelaipns, kad lūdzu atmaksu.",
        "ru": "Сотрудник был груб, когда я попросил вернуть деньги.",
    }),
    ("billing_error", {
        "en": "I was charged twice for the same order.",
        "et": "Sama tellimuse eest võeti minult raha kaks korda.",
        "lv": "Par to pašu pasūtījumu nauda tika noņemta divreiz.",
        "ru": "За один и тот же заказ деньги списали дважды.",
    }),
)
# Each unit's typical problems (theme codes, first = most frequent), as its survey comments tell.
UNIT_PROBLEMS: dict[str, tuple[str, ...]] = {
    "Tallinn": ("waiting_time", "value_for_money", "staff_knowledge", "billing_error"),
    "Rīga": ("repeat_explanation", "waiting_time", "no_follow_up", "staff_attitude"),
    "Narva": ("waiting_time", "hard_to_reach", "value_for_money", "staff_knowledge"),
    "Cape Town": ("hard_to_reach", "waiting_time", "billing_error"),
    "Online shop": ("late_delivery", "damaged_in_transit", "defective_product", "repeat_explanation", "no_follow_up"),
}
# The complaint log in the staff's words: theme -> (nature, agreed solution, actions taken, prevention).
COMPLAINT_TEXTS: dict[str, tuple[str, str, str, str]] = {
    "waiting_time": ("Waited about 40 minutes at the counter", "Apology; priority appointment offered",
                     "Queue times reviewed with the shift lead", "Add a second counter at peak hours"),
    "value_for_money": ("Finds the new price list too expensive for the service", "Loyalty discount explained",
                        "Price feedback passed to sales", "Explain price changes before renewal"),
    "staff_knowledge": ("Consultant could not answer a contract question", "Specialist to call back with the answer",
                        "Specialist called back", "Contract basics in new-staff training"),
    "billing_error": ("Charged twice for one order", "Refund of the double charge",
                      "Refund issued by finance", "Check payment retries in the checkout"),
    "repeat_explanation": ("Had to explain the case to three different people", "One case owner until resolved",
                           "Case assigned to one owner", "Case notes visible to every agent"),
    "no_follow_up": ("Promised call-back never came", "Call-back by the team lead within a day",
                     "Team lead called the customer", "Call-backs tracked in the case system"),
    "staff_attitude": ("Staff member was dismissive when a refund was asked", "Apology by the branch manager",
                       "Talk with the staff member", "Refund policy refresher for counter staff"),
    "hard_to_reach": ("Could not reach anyone by phone after 17:00", "Call-back at a time the customer chose",
                      "Customer called back", "Evening call-back slots"),
    "late_delivery": ("Order delivered five days after the promised date", "Delivery fee refunded",
                      "Courier asked for the tracking history", "Promise delivery dates the courier can keep"),
    "damaged_in_transit": ("Parcel arrived crushed, product broken", "Replacement sent at our cost",
                           "Damage claim filed with the courier", "Stronger packaging for furniture"),
    "defective_product": ("Product did not work on arrival", "Replacement or refund, customer's choice",
                          "Batch reported to the parts supplier", "Incoming inspection of supplier batches"),
    "wrong_item": ("Received a different product than ordered", "Correct item sent, wrong one collected",
                   "Picking error reported to the warehouse", "Scan check at packing"),
    "broken_promise": ("Refund promised within a week, not paid after three", "Refund paid with an apology",
                       "Finance reminded of the promise", "Promises recorded with a due date"),
}
# fmt: on


def _record_customers(responses: pl.DataFrame) -> dict[tuple[str, int], np.ndarray]:
    """(unit, year) -> the survey respondents' customer ids (sorted, unique)."""
    year = _local().dt.year().alias("year")
    ids = responses.select("customer_id", "segment", year).unique().sort("segment", "year", "customer_id")
    return {
        (unit, y): np.array(group["customer_id"].to_list())
        for (unit, y), group in ids.group_by("segment", "year", maintain_order=True)
    }


def _local_text(moment: dt.datetime, unit: str) -> str:
    """A UTC time as the unit's local time with its offset: '2025-03-04T10:15:00+02:00'."""
    return moment.astimezone(ZoneInfo(UNITS[unit].zone)).isoformat(timespec="seconds")


def _times(rng: np.random.Generator, n: int, year: int, unit: str) -> list[dt.datetime]:
    """`n` moments within the unit's opening hours of the year (UTC), in time order."""
    return sorted(_timestamps(rng, n, year, UNITS[unit]).to_list())


def _csv_bytes(source: str, rows: list[dict[str, object]]) -> bytes:
    """Our own CSV format: UTF-8, comma, a header row of the source's field names; blank: no value.

    Keys starting with '_' are the generator's own; any other key must be a field of the source.
    """
    spec = next(s for s in RECORD_SPECS if s.source == source)
    columns = [f.name for f in spec.fields] + ([SUPPLIER_MEASURE] if spec.open_number_columns else [])
    if unknown := {k for row in rows for k in row if not k.startswith("_")} - set(columns):
        raise ValueError(f"{source}: not fields: {sorted(unknown)}")
    frame = pl.DataFrame(
        [{c: None if row.get(c) is None else str(row[c]) for c in columns} for row in rows],
        schema=dict.fromkeys(columns, pl.String),
    )
    return _bytes(frame.write_csv)


def _rating(latent: float) -> int:
    return int(np.searchsorted(CUTS_1_5, latent) + 1)


def _pick_excerpt(rng: np.random.Generator, themes: str, language: str) -> str:
    texts = [t[language] for codes, t in EXCERPTS if codes == themes]
    return texts[int(rng.integers(len(texts)))]


def _problem(rng: np.random.Generator, unit: str) -> str:
    """One of the unit's typical problems, the first ones more often."""
    problems = UNIT_PROBLEMS[unit]
    weights = np.array([1.0 / (k + 1) for k in range(len(problems))])
    return problems[int(rng.choice(len(problems), p=weights / weights.sum()))]


def _excerpt_themes(problem: str) -> str:
    """The excerpt bank's theme codes for a problem (late deliveries are told with the broken promise)."""
    return next(codes for codes, _ in EXCERPTS if problem in codes.split(";"))


INTERVIEWERS = ("IV-01", "IV-02", "IV-03", "IV-04")
LENIENT_INTERVIEWER = "IV-03"  # rates systematically higher: an interviewer effect to detect
INTERVIEWS_PER_UNIT = {  # (2024, 2025): about seven a month, so each monthly report has some to read
    "Tallinn": (20, 22),
    "Rīga": (16, 18),
    "Narva": (24, 16),  # Narva moved from interviews to questionnaires in 2025
    "Cape Town": (6, 8),
    "Online shop": (12, 20),
}
OPEN_QUESTION = "what_to_improve"  # an open question: a theme and the customer's words, no rating


def _interviews(rng: np.random.Generator, customers: dict[tuple[str, int], np.ndarray]) -> dict[str, bytes]:
    """~160 interviews x 4 answers (overall, recommend, resolved first time, an open question), one file a year."""
    files = {}
    for i, year in enumerate(YEARS):
        interviews = []
        # each interviewer takes a quarter of the year's interviews, at random
        total = sum(counts[i] for counts in INTERVIEWS_PER_UNIT.values())
        assigned = [int(k) for k in rng.permutation(np.resize(np.arange(len(INTERVIEWERS)), total))]
        for unit, counts in INTERVIEWS_PER_UNIT.items():
            n = counts[i]
            spec = UNITS[unit]
            languages = [lang for lang in spec.lang if lang in EXCERPT_LANGUAGES] or ["en"]
            shares = np.array([spec.lang[lang] for lang in languages])
            modes = ("video", "phone") if unit in ("Online shop", "Cape Town") else ("phone", "in_person", "video")
            who = rng.choice(customers[(unit, year)], n, replace=False)
            for moment, customer in zip(_times(rng, n, year, unit), who, strict=True):
                interviewer = INTERVIEWERS[assigned.pop()]
                lift = 0.8 if interviewer == LENIENT_INTERVIEWER else 0.0
                s = spec.level[i] + ORAL_LIFT + lift + rng.standard_normal()
                language = languages[int(rng.choice(len(languages), p=shares / shares.sum()))]
                overall = _rating(s + 0.3 * rng.standard_normal())
                interviews.append(
                    {
                        "moment": moment,
                        "unit": unit,
                        "customer_id": customer,
                        "interviewer_id": interviewer,
                        "mode": modes[int(rng.integers(len(modes)))],
                        "overall": overall,
                        "recommend": int(np.clip(np.rint(7.4 + 1.7 * (s + 0.45 * rng.standard_normal())), 0, 10)),
                        "resolved": _rating(s + spec.resolution + 0.5 * rng.standard_normal()),
                        "themes": _excerpt_themes(
                            "praise" if overall >= 4 and rng.random() < 0.6 else _problem(rng, unit)
                        ),
                        "language": language,
                    }
                )
        rows = []
        for k, iv in enumerate(sorted(interviews, key=lambda r: r["moment"]), start=1):
            common = {
                "interview_id": f"INT-{year}-{k:03d}",
                "customer_id": iv["customer_id"],
                "interviewer_id": iv["interviewer_id"],
                "interviewed_at": _local_text(iv["moment"], iv["unit"]),
                "mode": iv["mode"],
                "segment": iv["unit"],
            }
            rows += [
                {**common, "question": "overall_satisfaction", "rating": iv["overall"]},
                {**common, "question": "likely_to_recommend", "rating": iv["recommend"]},
                {**common, "question": "resolved_first_contact", "rating": iv["resolved"]},
                {
                    **common,
                    "question": OPEN_QUESTION,
                    "themes": iv["themes"],
                    "excerpt": _pick_excerpt(rng, iv["themes"], iv["language"]),
                    "language": iv["language"],
                },
            ]
        if year == 2025:
            rows[4 * 17 + 2]["interviewer_id"] = None  # FAULT: an answer keyed in without its interviewer id
        files[f"interviews/interviews_{year}.csv"] = _csv_bytes("interviews", rows)
    return files


@dataclass(frozen=True)
class Session:
    """A focus group: when, where, who moderated, its unit, topic, languages and themes it dwelt on."""

    session_id: str
    held_at: dt.datetime  # local wall-clock time in the unit's zone
    moderator_id: str
    location: str
    unit: str
    topic: str
    languages: tuple[str, ...]
    themes: tuple[str, ...]  # the problems discussed most (theme codes)
    region: str  # where its participants mostly come from
    participants: int


# fmt: off
SESSIONS = (
    Session("FG-2024-01", dt.datetime(2024, 4, 17, 17, 30), "MOD-01", "Tallinn office, meeting room 2", "Tallinn",
            "Waiting times and first-contact resolution", ("et", "ru"),
            ("waiting_time", "staff_knowledge", "value_for_money"), "Harju County", 7),
    Session("FG-2024-02", dt.datetime(2024, 10, 9, 18, 0), "MOD-02", "Rīga branch, upstairs meeting room", "Rīga",
            "Why customers have to call again", ("lv", "ru"),
            ("repeat_explanation", "no_follow_up", "waiting_time"), "Rīga", 8),
    Session("FG-2025-01", dt.datetime(2025, 3, 12, 18, 0), "MOD-01", "Online (video call)", "Online shop",
            "Deliveries, damaged parcels and defective orders", ("en", "et"),
            ("late_delivery", "damaged_in_transit", "defective_product", "repeat_explanation"), "Harju County", 6),
    Session("FG-2025-02", dt.datetime(2025, 9, 24, 17, 0), "MOD-03", "Narva branch", "Narva",
            "How customers prefer to give feedback: interviews or questionnaires", ("ru", "en"),
            ("waiting_time", "hard_to_reach", "value_for_money"), "Ida-Viru County", 7),
    Session("FG-2025-03", dt.datetime(2025, 12, 3, 17, 0), "MOD-02", "Tallinn office, meeting room 2", "Tallinn",
            "Promises, follow-up and being kept waiting", ("et", "ru"),
            ("broken_promise", "no_follow_up", "waiting_time"), "Harju County", 7),
)
# fmt: on
OTHER_REGIONS = ("Tartu County", "Pärnu County", "Kurzeme", "Vidzeme", "Ida-Viru County", "Harju County")


def _session_time(session: Session) -> dt.datetime:
    return session.held_at.replace(tzinfo=ZoneInfo(UNITS[session.unit].zone)).astimezone(dt.UTC)


def _focus_groups(rng: np.random.Generator, customers: dict[tuple[str, int], np.ndarray]) -> dict[str, bytes]:
    """5 sessions; 6-8 participants each, skewed against the customer base; ~60 coded excerpts."""
    sessions, participants, excerpts = [], [], []
    for session in SESSIONS:
        year = session.held_at.year
        held = _session_time(session)
        sessions.append(
            {
                "session_id": session.session_id,
                "held_at": _local_text(held, session.unit),
                "moderator_id": session.moderator_id,
                "location": session.location,
                "segment": session.unit,
                "topic": session.topic,
            }
        )
        # Who accepted the invitation: business customers, long-standing ones, from the city the session is in.
        pool = np.concatenate([customers[(session.unit, y)] for y in YEARS if y <= year])
        who = rng.choice(np.unique(pool), session.participants, replace=False)
        speakers = []
        for k, customer in enumerate(who, start=1):
            participant = f"P{k}"
            language = session.languages[0] if rng.random() < 0.7 else session.languages[1]
            speakers.append((participant, language))
            participants.append(
                {
                    "session_id": session.session_id,
                    "participant_id": participant,
                    # one participant a session is not (yet) a customer: a prospect brought by a friend
                    "customer_id": None if k == session.participants else customer,
                    "customer_type": "business" if rng.random() < 0.5 else "private",
                    "region": session.region if rng.random() < 0.85 else str(rng.choice(OTHER_REGIONS)),
                    "tenure_years": f"{min(25.0, rng.gamma(4.0, 2.0)):.1f}" if k < session.participants else "0",
                }
            )
        # ~15 excerpts a session, coded by two coders a few days after it; no quote twice in a session.
        weights = np.array(
            [
                3.0 if set(codes.split(";")) & set(session.themes) else 1.5 if codes == "praise" else 0.25
                for codes, _ in EXCERPTS
            ]
        )
        options = [(e, lang) for e in range(len(EXCERPTS)) for lang in session.languages]
        p = np.array([weights[e] * (0.7 if lang == session.languages[0] else 0.3) for e, lang in options])
        chosen = rng.choice(len(options), 15, replace=False, p=p / p.sum())
        for k, option in enumerate(sorted(chosen), start=1):
            e, language = options[option]
            codes, texts = EXCERPTS[e]
            speaking = [s for s, lang in speakers if lang == language] or [s for s, _ in speakers]
            coded = held + dt.timedelta(days=int(rng.integers(2, 9)), hours=int(rng.integers(-8, -2)))  # office hours
            excerpts.append(
                {
                    "excerpt_id": f"E{k:02d}",
                    "document": session.session_id,
                    "participant_id": speaking[int(rng.integers(len(speaking)))],
                    "themes": codes,
                    "quote": texts[language],
                    "coder": "CODER-01" if k % 3 else "CODER-02",
                    "coded_at": _local_text(coded, session.unit),
                }
            )
    return {
        "focus_group_sessions/sessions_2024-2025.csv": _csv_bytes("focus_group_sessions", sessions),
        "focus_group_participants/participants_2024-2025.csv": _csv_bytes("focus_group_participants", participants),
        "coded_excerpts/focus_group_excerpts_2024-2025.csv": _csv_bytes("coded_excerpts", excerpts),
    }


COMPLAINTS_PER_UNIT = {  # (2024, 2025)
    "Tallinn": (16, 15),
    "Rīga": (18, 8),  # Rīga improves markedly in 2025
    "Narva": (10, 10),
    "Cape Town": (2, 2),
    "Online shop": (32, 37),
}
# Obviously fictional contact details: where customers live, and their phone numbers' form.
CONTACT = {
    "Tallinn": ("Tallinn", "+372 5555 {:04d}"),
    "Rīga": ("Rīga", "+371 2555 {:04d}"),
    "Narva": ("Narva", "+372 5555 {:04d}"),
    "Cape Town": ("Cape Town", "+27 21 555 {:04d}"),
    "Online shop": ("Tartu", "+372 5555 {:04d}"),
}
# The complaint's category: the unit's typical problems, plus a few others anywhere.
OTHER_COMPLAINTS = ("wrong_item", "broken_promise", "billing_error")


def _resolution(rng: np.random.Generator, unit: str, received: dt.datetime, at_once: bool, contacts: int) -> dict:
    """When a complaint was promised, resolved and followed up, and any compensation (blank: none)."""
    case: dict[str, object] = {}
    actions = None
    promised = None
    if at_once:
        resolved: dt.datetime | None = received + dt.timedelta(minutes=int(rng.integers(5, 45)))
        actions = "Solved on the spot"
    else:
        promised = received + dt.timedelta(days=int(rng.choice([1, 2, 3, 5, 7, 10])))
        kept = rng.random() < (0.55 if unit == "Online shop" else 0.8)
        late = dt.timedelta(days=int(rng.integers(1, 15)))
        resolved = received + (promised - received) * rng.uniform(0.3, 1.0) if kept else promised + late
        case["promised_at"] = _local_text(promised, unit)
        if rng.random() < 0.05 or resolved > dt.datetime(2025, 12, 31, 12, tzinfo=dt.UTC):
            resolved = None  # still open
            actions = "Awaiting the customer's reply"
    if resolved is not None:
        case["resolved_at"] = _local_text(resolved, unit)
        if rng.random() < 0.7:
            follow_up = resolved + dt.timedelta(days=int(rng.integers(1, 6)), hours=int(rng.integers(0, 4)))
            case["follow_up_at"] = _local_text(follow_up, unit)
            broken = promised is not None and resolved > promised
            happy = 0.45 if broken else 0.9 if contacts == 1 else 0.7
            case["satisfied_at_follow_up"] = "yes" if rng.random() < happy else "no"
    if rng.random() < (0.45 if case.get("satisfied_at_follow_up") == "no" else 0.15):
        amounts, currency = ((150, 250, 500), "ZAR") if unit == "Cape Town" else ((10, 15, 20, 25, 50), "EUR")
        case["compensation_amount"], case["compensation_currency"] = int(rng.choice(amounts)), currency
    return case | ({"actions_taken": actions} if actions else {})


def _complaints(rng: np.random.Generator, customers: dict[tuple[str, int], np.ndarray]) -> dict[str, bytes]:
    """~150 complaints over 2024-2025 with every field of the complaint log (personal data fictional)."""
    people: dict[str, int] = {}  # customer -> the number in their fictional name, phone and address
    files = {}
    for i, year in enumerate(YEARS):
        cases = []
        for unit, counts in COMPLAINTS_PER_UNIT.items():
            online = unit == "Online shop"
            channels = (
                ("online", "email", "social_media", "phone") if online else ("in_person", "phone", "email", "letter")
            )
            channel_p = (0.45, 0.3, 0.1, 0.15) if online else (0.45, 0.3, 0.18, 0.07)
            contacts_p = (0.45, 0.3, 0.15, 0.1) if online else (0.65, 0.22, 0.09, 0.04)
            for received in _times(rng, counts[i], year, unit):
                category = _problem(rng, unit) if rng.random() < 0.85 else str(rng.choice(OTHER_COMPLAINTS))
                nature, solution, actions, prevention = COMPLAINT_TEXTS[category]
                channel = channels[int(rng.choice(4, p=channel_p))]
                at_once = channel in ("in_person", "phone") and rng.random() < 0.55
                contacts = 1 if at_once else int(rng.choice(4, p=contacts_p)) + 1
                # 1 in 10 complainants is no known customer: a person of their own
                customer = (
                    str(rng.choice(customers[(unit, year)])) if rng.random() < 0.9 else f"anonymous-{len(people)}"
                )
                number = people.setdefault(customer, len(people) + 1)
                city, phone = CONTACT[unit]
                cases.append(
                    {
                        "_received": received,
                        "customer_id": None if customer.startswith("anonymous") else customer,
                        "customer_name": f"Demo Person {number:03d}",
                        "customer_address": None
                        if channel in ("online", "social_media")
                        else f"{number} Example Street, {city}",
                        "customer_phone": None if channel == "letter" else phone.format(number),
                        "received_by": f"{RECORD_UNIT_CODES[unit]}-{int(rng.integers(1, 4)):02d}",
                        "received_at": _local_text(received, unit),
                        "channel": channel,
                        "segment": unit,
                        "category": category,
                        "nature": nature,
                        "agreed_solution": solution,
                        "solved_at_once": "yes" if at_once else "no",
                        "actions_taken": actions,
                        "prevention_suggestion": prevention if rng.random() < 0.6 else None,
                        "contacts": contacts,
                        **_resolution(rng, unit, received, at_once, contacts),
                    }
                )
        rows = sorted(cases, key=lambda c: c["_received"])
        for k, row in enumerate(rows, start=1):
            row["complaint_id"] = f"CMP-{year}-{k:04d}"
        if year == 2025:
            rows[39]["segment"] = "Tartu"  # FAULT: a branch that config/pipeline.yaml does not list
        files[f"complaints/complaints_{year}.csv"] = _csv_bytes("complaints", rows)
    return files


# Suppliers and service providers: id -> (file, what they do, the issues their customers raise).
SUPPLIERS = {
    "COURIER-NX": ("scorecard_courier_nx.csv", "courier", ("late_delivery", "damaged_in_transit")),
    "WEB-PIXEL": ("scorecard_web_pixel.csv", "web agency", ("hard_to_reach", "billing_error")),
    "PARTS-BALT": ("scorecard_parts_balt.csv", "parts supplier", ("defective_product", "wrong_item")),
}
SUPPLIER_MEASURE = "response_hours"  # the measure config/pipeline.yaml configures under suppliers.measures
ISSUE_NOTES = {
    "late_delivery": "Peak-season capacity; extra vans from next month",
    "damaged_in_transit": "Parcels stacked in the van; new loading rules",
    "hard_to_reach": "Contact form failed after a release",
    "billing_error": "Payment retries charged some cards twice",
    "defective_product": "Batch with faulty switches (lamps)",
    "wrong_item": "Two article numbers swapped in the catalogue",
}


def _months() -> list[tuple[int, int]]:
    return [(year, month) for year in YEARS for month in range(1, 13)]


def _suppliers(rng: np.random.Generator) -> dict[str, bytes]:
    """Monthly scorecards of 3 suppliers (with the configured measure response_hours), quarterly issues."""
    files = {}
    for supplier, (name, _, _) in SUPPLIERS.items():
        rows = []
        for year, month in _months():
            peak = month in (11, 12)
            spring_2025 = year == 2025 and month in (3, 4, 5, 6)
            if supplier == "COURIER-NX":  # weakest at peak season and in spring 2025
                on_time = 94.0 - 6.0 * peak - 7.0 * spring_2025 + rng.normal(0, 1.2)
                defects = 1.0 + 0.6 * peak + 0.8 * spring_2025 + abs(rng.normal(0, 0.3))
                returns = int(rng.poisson(6 + 6 * peak + 8 * spring_2025))
                hours = 18 + rng.normal(0, 4)
            elif supplier == "WEB-PIXEL":  # on time: fixes delivered when agreed; defects: releases with bugs
                on_time = 88.0 + rng.normal(0, 4)
                defects = 5.0 + abs(rng.normal(0, 2))
                returns = 0
                hours = 6 + abs(rng.normal(0, 3))
            else:  # PARTS-BALT: defective lamps in 2024, better after a supplier audit in 2025
                on_time = 95.0 + rng.normal(0, 1.5)
                defects = (3.2 if year == 2024 else 1.4) + abs(rng.normal(0, 0.4))
                returns = int(rng.poisson(16 if year == 2024 else 7))
                hours = 36 + rng.normal(0, 8)
            rows.append(
                {
                    "supplier_id": supplier,
                    "period": f"{year}-{month:02d}",
                    "on_time_pct": f"{min(on_time, 100.0):.1f}",
                    "defect_rate_pct": f"{defects:.1f}",
                    "returns_attributable": returns,
                    SUPPLIER_MEASURE: f"{max(hours, 1.0):.1f}",
                }
            )
        if supplier == "PARTS-BALT":
            rows[17]["on_time_pct"] = "103.5"  # FAULT: 2025-06 typed for 93.5 (a share above 100 %)
        files[f"supplier_scorecards/{name}"] = _csv_bytes("supplier_scorecards", rows)
    issues = []
    for year in YEARS:
        for quarter in range(1, 5):
            for supplier, (_, _, categories) in SUPPLIERS.items():
                for category in categories:
                    count = 1 + int(rng.poisson(8 if category == categories[0] else 3))
                    if supplier == "COURIER-NX" and (year, quarter) == (2025, 2):
                        count *= 2
                    issues.append(
                        {
                            "supplier_id": supplier,
                            "period": f"{year}-Q{quarter}",
                            "category": category,
                            "count": count,
                            "notes": ISSUE_NOTES[category] if count >= 10 else None,
                        }
                    )
    files["supplier_issues/supplier_issues_2024-2025.csv"] = _csv_bytes("supplier_issues", issues)
    return files


PRODUCTS = {"STOOL-SET": 0.3, "DESK": 0.2, "LAMP": 0.35, "SPARE-PARTS": 0.15}  # product -> share of orders
MONTHLY_ORDERS = {"Tallinn": 900, "Rīga": 600, "Narva": 350, "Cape Town": 40, "Online shop": 1500}
RETURN_REASON = next(f.name for f in RETURNS.fields if f.kind == "theme")  # the returns' reason field
RETURN_REASONS = ("defective_product", "wrong_item", "damaged_in_transit", "changed_mind")
# Return rates (share of orders) by reason: branches, and the online shop (distance selling, the courier).
RETURN_RATES = {"branch": (0.010, 0.005, 0.002, 0.015), "Online shop": (0.022, 0.010, 0.015, 0.040)}


def _return_rate(unit: str, product: str, reason: str, year: int, month: int) -> float:
    """Share of the orders returned for the reason."""
    rate = RETURN_RATES["Online shop" if unit == "Online shop" else "branch"][RETURN_REASONS.index(reason)]
    if reason == "defective_product" and product == "LAMP":
        rate *= 2.0 if year == 2024 else 1.2  # the parts supplier's faulty batches
    if reason == "damaged_in_transit" and unit == "Online shop" and year == 2025 and month in (3, 4, 5, 6):
        rate *= 2.0  # the courier's bad spring
    return rate


def _operations(rng: np.random.Generator) -> dict[str, bytes]:
    """Monthly orders per unit and product, and returns by reason (rows with returns only), one file a year."""
    files = {}
    for year in YEARS:
        orders, returns = [], []
        for month in range(1, 13):
            season = 1.3 if month in (11, 12) else 0.85 if month in (7, 8) else 1.0
            for unit, monthly in MONTHLY_ORDERS.items():
                for product, share in PRODUCTS.items():
                    count = int(rng.poisson(monthly * share * season * (1.05 if year == 2025 else 1.0)))
                    period = f"{year}-{month:02d}"
                    orders.append({"period": period, "segment": unit, "product": product, "orders": count})
                    for reason in RETURN_REASONS:
                        returned = int(rng.poisson(count * _return_rate(unit, product, reason, year, month)))
                        if returned:
                            returns.append(
                                {
                                    "period": period,
                                    "segment": unit,
                                    "product": product,
                                    RETURN_REASON: reason,
                                    "returns": returned,
                                }
                            )
        files[f"orders/orders_{year}.csv"] = _csv_bytes("orders", orders)
        files[f"returns/returns_{year}.csv"] = _csv_bytes("returns", returns)
    return files


# Management's estimates of what customers expect (1-5), per expectation item (EXPECTATIONS order).
# Customers expect ~4.8 / 4.6 / 4.6 / 4.3 (the survey): management under-estimates reliability and
# responsiveness and over-estimates value for money - the knowledge gap (gap 1). Closing a little in 2025.
# fmt: off
MANAGERS = {  # manager -> (unit they speak for, None: the company; 2024 estimates; 2025 estimates)
    "MGR-CEO": (None,          (4, 3, 4, 5), (4, 4, 4, 5)),
    "MGR-CX":  (None,          (4, 4, 5, 4), (5, 4, 5, 4)),
    "MGR-RIX": ("Rīga",        (3, 3, 4, 5), (4, 4, 4, 5)),
    "MGR-WEB": ("Online shop", (4, 3, 4, 5), (4, 3, 4, 5)),
}
# Self-assessment: 7 statements (transforms/staging/management.py), 1 never .. 5 all the time.
SELF_ASSESSMENTS = {  # (assessor, date) -> (unit or None, scores)
    ("MGR-CEO", "2024-03-01"): (None, (4, 3, 3, 2, 3, 4, 3)),
    ("MGR-CX", "2024-03-01"): (None, (3, 3, 2, 2, 3, 3, 3)),
    ("MGR-RIX", "2024-03-04"): ("Rīga", (3, 3, 2, 2, 2, 3, 2)),
    ("MGR-CEO", "2025-03-03"): (None, (4, 4, 4, 3, 3, 4, 4)),
    ("MGR-CX", "2025-03-03"): (None, (4, 3, 4, 3, 3, 4, 4)),
    ("MGR-RIX", "2025-03-05"): ("Rīga", (4, 4, 4, 3, 4, 4, 4)),
    ("MGR-WEB", "2025-03-05"): ("Online shop", (3, 3, 3, 2, 2, 3, 3)),
}
# fmt: on


def _management() -> dict[str, bytes]:
    """Management's expectation estimates (every item, every manager, each year) and the self-assessments."""
    estimates = [
        {
            "manager_id": manager,
            "assessed_on": f"{year}-02-{14 if year == 2025 else 15}",
            "segment": unit,
            "question": question,
            "rating": ratings[i][j],
        }
        for i, year in enumerate(YEARS)
        for manager, (unit, *ratings) in MANAGERS.items()
        for j, question in enumerate(EXPECTATIONS)
    ]
    assessments = [
        {
            "assessor_id": assessor,
            "assessed_on": day,
            "segment": unit,
            **dict(zip(SELF_ASSESSMENT_AREAS, scores, strict=True)),
        }
        for (assessor, day), (unit, scores) in SELF_ASSESSMENTS.items()
    ]
    return {
        "management_expectations/expectation_estimates_2024-2025.csv": _csv_bytes("management_expectations", estimates),
        "self_assessments/self_assessments_2024-2025.csv": _csv_bytes("self_assessments", assessments),
    }


def demo_records(seed: int = 2026, responses: pl.DataFrame | None = None) -> dict[str, bytes]:
    """Every record source's demo files: 'source/file name' -> bytes. Deterministic for a seed.

    `responses`: the survey's `demo_responses(seed)` (made here when not given), whose customers they share.
    Each source draws from its own random stream, so changing one leaves the others' files as they were.
    """
    customers = _record_customers(demo_responses(seed) if responses is None else responses)

    def stream(k: int) -> np.random.Generator:
        return np.random.default_rng([seed, 2, k])

    return {
        **_interviews(stream(1), customers),
        **_focus_groups(stream(2), customers),
        **_complaints(stream(3), customers),
        **_suppliers(stream(4)),
        **_operations(stream(5)),
        **_management(),
    }


def write_demo_records(inbox: Path, seed: int = 2026, responses: pl.DataFrame | None = None) -> list[Path]:
    """Write the demo files of every record source into the inbox's source folders, each with its ready marker."""
    return [_deliver_to_inbox(Path(inbox) / name, data) for name, data in demo_records(seed, responses).items()]
