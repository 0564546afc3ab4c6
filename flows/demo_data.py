"""Demo and benchmark survey exports, written the way customers' survey tools write them.

`write_demo_exports` fills an inbox with two calendar years (2024, 2025) of a fictional
company's survey exports: five business units, four collection modes, seven codebook
questions, comments in five languages, several file formats with their own headers,
encodings and timestamp forms, and a handful of deliberately bad rows for the
data-quality page. Same seed -> byte-identical files.

The story the numbers tell (so a reader of the demo report can check it):
- "Online shop" is clearly weaker (slow delivery, defective orders, repeat contacts);
- "Rīga" improves markedly from 2024 to 2025;
- "Narva" does not change, but moves from interviews (phone, in person) to web and paper
  questionnaires in 2025, so its raw scores drop: a mode effect, not a real decline;
- "Cape Town" has only ~20-25 responses a year (small sample);
- oral modes read ~5-10 points higher than written ones (mode effect, domain.md);
- overall satisfaction sits at 80-85 % top-2-box (below the 95 % target), NPS about +25 to +35.

Generation is vectorised (numpy `default_rng(seed)`): loops run over units, years and
files, never over rows, so `write_benchmark_exports` makes a million responses in seconds.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from xlsxwriter import Workbook

from flows.files import atomic_write_bytes
from flows.inbox import touch_ready_marker

QUESTIONS = (
    "overall_satisfaction",
    "likely_to_recommend",
    "staff_courtesy",
    "speed_of_service",
    "resolved_first_contact",
    "explained_more_than_once",  # negatively worded: a high raw answer is bad
    "value_for_money",
)
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
}
Q_NUMBERS = {q: f"Q{i}" for i, q in enumerate(QUESTIONS, start=1)}


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
        df.with_columns(pl.col(q).cast(pl.String) for q in QUESTIONS),
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
