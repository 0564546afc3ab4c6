"""Example exports of ONE customer survey, written the way the common survey tools export it.

Run `.venv/bin/python examples/surveys/generate.py`: it (re)writes the files beside it, byte
for byte the same every time (numpy seed; the xlsx files carry a fixed creation date).

The survey is the demo codebook (config/codebook.yaml): overall satisfaction (1-5), likely to
recommend (0-10), a five-statement agreement grid (1-5), the branch visited and a comment.
Every file holds different respondents; `all_answers.csv` repeats every one of them in our
plain format, so metrics computed from it must equal those computed from the tool files.

Export options assumed (the defaults that give numeric answers; README.md has the sources):
- Qualtrics: Data & Analysis > Export data > CSV (UTF-8) or TSV (UTF-16), "Download all
  fields", "Use numeric values". The branch is embedded data "Branch" (set by each branch's
  survey link), not a question, so the numeric export keeps the branch name.
- SurveyMonkey: Analyze > Save as > Export file > All individual responses, CSV or XLSX,
  Columns "Expanded", Cells "Actual answer text". The rating questions' answer choices are
  the numbers themselves (1-5, NPS 0-10); "Numerical value" would also code the branch as 1-5.
- LimeSurvey: Responses > Export > CSV, Headings "Question code", Responses "Full answers"
  (the branch's answer codes are limited to five characters, so the names come from the full
  answers; the 1-5 and 0-10 questions export their numbers either way), CSV field separator
  comma, or semicolon for the second file.
- Google Forms: the linked Google Sheet, File > Download > CSV, spreadsheet locale United
  Kingdom, spreadsheet time zone Europe/Tallinn. Grid columns labelled 1-5.
- Microsoft Forms: Responses > Open results in Excel (download). Rating and NPS questions
  export numbers; the Likert columns export their option labels, here "1".."5", as text.
- plain_cp1251.csv: our own plain format as Narva's Windows tool writes it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from xlsxwriter import Workbook

HERE = Path(__file__).resolve().parent
SEED = 20250
TALLINN = ZoneInfo("Europe/Tallinn")
XLSX_CREATED = dt.datetime(2026, 1, 5, 9, 0, 0)

# --- the survey ---------------------------------------------------------------------------------

Q_OVERALL = "Overall, how satisfied are you with Northwind Services?"
Q_RECOMMEND = "How likely are you to recommend us to a friend or colleague?"
Q_GRID = "How much do you agree with each statement?"
STATEMENTS = (
    "The staff were courteous and helpful.",  # staff_courtesy
    "I was served quickly.",  # speed_of_service
    "My request was resolved the first time I got in touch.",  # resolved_first_contact
    "I had to explain my request more than once.",  # explained_more_than_once (negative)
    "The service was good value for money.",  # value_for_money
)
Q_BRANCH = "Which branch did you visit?"
Q_COMMENT = "Any other comments?"

UNITS = ("Tallinn", "Rīga", "Narva", "Cape Town", "Online shop")
UNIT_LEVEL = {"Tallinn": 0.35, "Rīga": 0.2, "Narva": 0.1, "Cape Town": 0.3, "Online shop": -0.55}


def export_unit(unit: str) -> str:
    """The unit as the survey tools write it: their branch lists say "Riga" (no macron)."""
    return "Riga" if unit == "Rīga" else unit


# Comments: each unit's customers write in their own languages; every file also gets two or
# three awkward ones (commas, quotes, a line break).
COMMENTS_EN = (
    "Quick and friendly service, thank you!",
    "Prices have gone up a lot this year.",
    "Waited almost half an hour before anyone helped me.",
    "Everything was sorted in one visit.",
    "Staff knew exactly what to do.",
)
COMMENTS_RU = (
    "Спасибо, всё быстро и вежливо.",
    "Долго ждал, но в итоге помогли.",
    "Цены выросли, а сервис тот же.",
)
COMMENTS = {
    "Tallinn": (*COMMENTS_EN, "Väga viisakas teenindus, aitäh!", "Järjekord oli liiga pikk."),
    "Rīga": (*COMMENTS_EN, "Ļoti laipni darbinieki, paldies!", "Rinda bija pārāk gara."),
    "Narva": (*COMMENTS_EN[:3], *COMMENTS_RU),
    "Cape Town": (*COMMENTS_EN, "Vinnige diens, dankie!"),
    "Online shop": (*COMMENTS_EN[1:], "The parcel arrived two days late.", "Pakk jõudis kohale kaks päeva hiljem."),
}
AWKWARD = (
    'Service was fine, but the staff said "five minutes" and it took twenty.',
    "I had to call twice.\nThe second person, Marta, fixed it at once.",
    "Good value, friendly people, short queue.",
)
# Narva's own tool (cp1251): staff key in what customers wrote on paper or said on the phone.
COMMENTS_CP1251 = dict.fromkeys(UNITS, (*COMMENTS_RU, *COMMENTS_EN[:2]))
AWKWARD_RU = (
    'Сказали "пять минут", а ждал двадцать; больше не приду.',
    "Пришлось объяснять дважды.\nВторой сотрудник, Ольга, всё решила сразу.",
)


@dataclass(frozen=True)
class Response:
    """One respondent's answers; times are local Europe/Tallinn wall-clock times."""

    started: dt.datetime
    submitted: dt.datetime
    unit: str
    answers: tuple[int | None, ...]  # Q1..Q7 in codebook order
    comment: str | None


@dataclass(frozen=True)
class PlainRow:
    """A row of all_answers.csv."""

    response_id: str
    submitted: dt.datetime  # aware
    unit: str
    channel: str
    answers: tuple[int | None, ...]
    comment: str | None


def _clip_round(x: np.ndarray, low: int, high: int) -> list[int]:
    return [int(v) for v in np.clip(np.rint(x), low, high)]


def respondents(
    rng: np.random.Generator,
    n: int,
    unit_weights: Sequence[float],
    comments: dict[str, tuple[str, ...]] = COMMENTS,
    awkward: Sequence[str] = AWKWARD,
    whole_minutes: bool = False,
) -> list[Response]:
    """`n` plausible, valid responses over 2025 in submission order, a few blank answers."""
    units = rng.choice(len(UNITS), size=n, p=np.asarray(unit_weights) / sum(unit_weights))
    latent = np.array([UNIT_LEVEL[UNITS[u]] for u in units]) + rng.normal(0, 1, n)
    noise = rng.normal(0, 0.6, (7, n))
    q = [
        _clip_round(3.7 + 0.9 * latent + noise[0], 1, 5),
        _clip_round(7.2 + 1.9 * latent + 1.3 * noise[1], 0, 10),
        _clip_round(3.9 + 0.8 * latent + noise[2], 1, 5),
        _clip_round(3.5 + 0.8 * latent + noise[3], 1, 5),
        _clip_round(3.6 + 0.9 * latent + noise[4], 1, 5),
        _clip_round(2.3 - 0.8 * latent + noise[5], 1, 5),  # negatively worded
        _clip_round(3.3 + 0.7 * latent + noise[6], 1, 5),
    ]
    blank = rng.random((7, n)) < 0.03
    blank[rng.integers(2, 7), rng.integers(0, n)] = True  # at least two blanks per file
    blank[rng.integers(0, 2), rng.integers(0, n)] = True
    day = np.sort(rng.choice(365, size=n, replace=False))
    hour = rng.choice(np.arange(8, 22), size=n)
    second_of_hour = rng.integers(0, 3600, n)
    duration = rng.integers(70, 540, n)
    has_comment = rng.random(n) < 0.3
    odd_ones = rng.choice(n, size=len(awkward), replace=False)
    out = []
    for i in range(n):
        start = dt.datetime(2025, 1, 1) + dt.timedelta(
            days=int(day[i]), hours=int(hour[i]), seconds=int(second_of_hour[i])
        )
        end = start + dt.timedelta(seconds=int(duration[i]))
        if whole_minutes:
            end = end.replace(second=0)
        pool = comments[UNITS[units[i]]]
        comment = pool[int(rng.integers(len(pool)))] if has_comment[i] else None
        if i in odd_ones:
            comment = awkward[int(np.flatnonzero(odd_ones == i)[0])]
        answers = tuple(None if blank[k, i] else q[k][i] for k in range(7))
        out.append(Response(start, end, UNITS[units[i]], answers, comment))
    return out


def plain_rows(source: str, ids: Sequence[str], responses: Sequence[Response], channel: str = "online") -> list:
    return [
        PlainRow(f"{source}-{rid}", r.submitted.replace(tzinfo=TALLINN), r.unit, channel, r.answers, r.comment)
        for rid, r in zip(ids, responses, strict=True)
    ]


# --- writing helpers ----------------------------------------------------------------------------


def _csv_text(rows: Sequence[Sequence[object]], delimiter: str = ",", newline: str = "\r\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buffer.getvalue()


def _blank(v: int | None) -> int | str:
    return "" if v is None else v


def _ipv4(rng: np.random.Generator) -> str:
    """A documentation-range address (RFC 5737): looks real, belongs to nobody."""
    prefix = ("192.0.2", "198.51.100", "203.0.113")[int(rng.integers(3))]
    return f"{prefix}.{int(rng.integers(1, 255))}"


def _base62(rng: np.random.Generator, k: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join(alphabet[int(i)] for i in rng.integers(0, 62, k))


def _workbook(buffer: io.BytesIO) -> Workbook:
    workbook = Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"created": XLSX_CREATED, "author": "Northwind Services"})
    return workbook


# --- Qualtrics ----------------------------------------------------------------------------------

QUALTRICS_META = (  # (export tag, label, ImportId object)
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"Europe/Tallinn"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"Europe/Tallinn"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"Europe/Tallinn"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
    ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
    ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
    ("ExternalReference", "External Data Reference", '{"ImportId":"externalDataReference"}'),
    ("LocationLatitude", "Location Latitude", '{"ImportId":"locationLatitude"}'),
    ("LocationLongitude", "Location Longitude", '{"ImportId":"locationLongitude"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
)
QUALTRICS_QUESTIONS = (
    ("Q1", Q_OVERALL, '{"ImportId":"QID1"}'),
    ("Q2", Q_RECOMMEND, '{"ImportId":"QID2"}'),
    *((f"Q3_{i}", f"{Q_GRID} - {s}", f'{{"ImportId":"QID3_{i}"}}') for i, s in enumerate(STATEMENTS, 1)),
    ("Q5", Q_COMMENT, '{"ImportId":"QID5_TEXT"}'),
    ("Branch", "Branch", '{"ImportId":"Branch"}'),  # embedded data, after the questions
)
CITY_LOCATION = {  # what Qualtrics' IP geolocation would put in LocationLatitude/Longitude
    "Tallinn": ("59.4339", "24.7281"),
    "Rīga": ("56.9460", "24.1059"),
    "Narva": ("59.3772", "28.1903"),
    "Cape Town": ("-33.9258", "18.4232"),
    "Online shop": ("58.3806", "26.7251"),  # online customers anywhere in Estonia: Tartu
}
FAKE_PEOPLE = (("Tamm", "Kadri"), ("Ozols", "Jānis"), ("Ivanova", "Olga"), ("Saar", "Mart"), ("Dlamini", "Sipho"))


def qualtrics_rows(rng: np.random.Generator, responses: Sequence[Response]) -> tuple[list[list[object]], list[str]]:
    """Three header rows, then one row per response; returns the rows and the ResponseIds."""
    rows: list[list[object]] = [[c[i] for c in QUALTRICS_META + QUALTRICS_QUESTIONS] for i in range(3)]
    ids = []
    fmt = "%Y-%m-%d %H:%M:%S"
    for r in responses:
        response_id = f"R_{_base62(rng, 15)}"
        ids.append(response_id)
        by_email = rng.random() < 0.2
        last, first = FAKE_PEOPLE[int(rng.integers(len(FAKE_PEOPLE)))] if by_email else ("", "")
        email = f"{first.lower().replace('ā', 'a')}.{last.lower()}@example.com" if by_email else ""
        lat, lon = CITY_LOCATION[r.unit]
        language = ("EN", "EN", "EN", "ET", "RU")[int(rng.integers(5))]
        meta = [
            r.started.strftime(fmt),
            r.submitted.strftime(fmt),
            0,  # "IP Address" (a real response) as a numeric value
            _ipv4(rng),
            100,
            int((r.submitted - r.started).total_seconds()),
            1,  # True
            r.submitted.strftime(fmt),  # recorded when submitted (real exports: same second or the next)
            response_id,
            last,
            first,
            email,
            "",
            lat,
            lon,
            "email" if by_email else "anonymous",
            language,
        ]
        rows.append([*meta, *map(_blank, r.answers), r.comment or "", export_unit(r.unit)])
    return rows, ids


def write_qualtrics_csv(rng: np.random.Generator) -> list[PlainRow]:
    """Qualtrics CSV: UTF-8 with BOM, comma, three header rows (tags, texts, ImportIds)."""
    responses = respondents(rng, 34, (5, 3, 2, 1, 3))
    rows, ids = qualtrics_rows(rng, responses)
    (HERE / "qualtrics.csv").write_bytes(b"\xef\xbb\xbf" + _csv_text(rows).encode("utf-8"))
    return plain_rows("qualtrics", ids, responses)


def write_qualtrics_tsv(rng: np.random.Generator) -> list[PlainRow]:
    """Qualtrics TSV: the same layout, tab-separated, UTF-16 little-endian with BOM."""
    responses = respondents(rng, 29, (4, 3, 2, 1, 3))
    rows, ids = qualtrics_rows(rng, responses)
    (HERE / "qualtrics.tsv").write_bytes(b"\xff\xfe" + _csv_text(rows, delimiter="\t").encode("utf-16-le"))
    return plain_rows("qualtrics_tsv", ids, responses)


# --- SurveyMonkey -------------------------------------------------------------------------------

SURVEYMONKEY_META = (
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "IP Address",
    "Email Address",
    "First Name",
    "Last Name",
    "Custom Data 1",
)


def surveymonkey_rows(rng: np.random.Generator, responses: Sequence[Response]) -> tuple[list[list[object]], list[str]]:
    """Row 1: question texts (a grid's text over its first column only); row 2: "Response",
    the grid's statements, "Open-Ended Response"; then one row per response."""
    row1 = [*SURVEYMONKEY_META, Q_OVERALL, Q_RECOMMEND, Q_GRID, "", "", "", "", Q_BRANCH, Q_COMMENT]
    row2 = [""] * len(SURVEYMONKEY_META) + ["Response", "Response", *STATEMENTS, "Response", "Open-Ended Response"]
    rows: list[list[object]] = [row1, row2]
    respondent_id = 119_483_000_000 + int(rng.integers(0, 900_000))
    ids = []
    fmt = "%m/%d/%Y %I:%M:%S %p"
    for r in responses:
        respondent_id += int(rng.integers(40_000, 4_000_000))  # grows over time, shared by all surveys
        ids.append(str(respondent_id))
        by_email = rng.random() < 0.25
        last, first = FAKE_PEOPLE[int(rng.integers(len(FAKE_PEOPLE)))] if by_email else ("", "")
        email = f"{first.lower().replace('ā', 'a')}.{last.lower()}@example.com" if by_email else ""
        meta = [
            respondent_id,
            452_118_907 if by_email else 452_118_233,  # email invitation / web link collector
            r.started.strftime(fmt),
            r.submitted.strftime(fmt),
            _ipv4(rng),
            email,
            first,
            last,
            "",
        ]
        rows.append([*meta, *r.answers, export_unit(r.unit), r.comment])
    return rows, ids


def write_surveymonkey_csv(rng: np.random.Generator) -> list[PlainRow]:
    """SurveyMonkey CSV: UTF-8 (no BOM), comma, two header rows, US 12-hour times."""
    responses = respondents(rng, 31, (4, 3, 2, 1, 3))
    rows, ids = surveymonkey_rows(rng, responses)
    (HERE / "surveymonkey.csv").write_bytes(_csv_text(rows).encode("utf-8"))
    return plain_rows("surveymonkey_csv", ids, responses)


def write_surveymonkey_xlsx(rng: np.random.Generator) -> list[PlainRow]:
    """SurveyMonkey XLSX: the same two header rows; ids and answers numbers, dates text."""
    responses = respondents(rng, 27, (3, 3, 2, 1, 3))
    rows, ids = surveymonkey_rows(rng, responses)
    buffer = io.BytesIO()
    workbook = _workbook(buffer)
    sheet = workbook.add_worksheet("Sheet")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, int):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    workbook.close()
    (HERE / "surveymonkey.xlsx").write_bytes(buffer.getvalue())
    return plain_rows("surveymonkey_xlsx", ids, responses)


# --- LimeSurvey ---------------------------------------------------------------------------------

LIMESURVEY_HEADER = (
    "id",
    "submitdate",
    "lastpage",
    "startlanguage",
    "seed",
    "startdate",
    "datestamp",
    "Q1",
    "Q2",
    *(f"Q3[SQ00{i}]" for i in range(1, 6)),
    "BRANCH",
    "COMMENT",
)


def _limesurvey_field(value: object) -> str:
    """LimeSurvey's CsvWriter: every value in double quotes (quotes doubled), NULL as nothing."""
    return "" if value is None else '"' + str(value).replace('"', '""') + '"'


def write_limesurvey(rng: np.random.Generator, name: str, separator: str, n: int, first_id: int = 1) -> list[PlainRow]:
    """LimeSurvey CSV: UTF-8 with BOM, all values quoted, CRLF, one trailing empty line.

    Ids number a survey's responses: a later export of the same survey continues at `first_id`.
    """
    responses = respondents(rng, n, (4, 4, 2, 1, 2))
    lines = [separator.join(_limesurvey_field(h) for h in LIMESURVEY_HEADER)]
    fmt = "%Y-%m-%d %H:%M:%S"
    for i, r in enumerate(responses, first_id):
        values = [
            i,
            r.submitted.strftime(fmt),
            3,  # last page seen: the third of three
            "en",
            int(rng.integers(100_000_000, 2_147_483_647)),
            r.started.strftime(fmt),
            r.submitted.strftime(fmt),  # datestamp: the last action, here the submission
            *("" if a is None else a for a in r.answers),  # a skipped question is stored as ""
            export_unit(r.unit),
            r.comment or "",
        ]
        lines.append(separator.join(_limesurvey_field(v) for v in values))
    text = "\r\n".join(lines) + "\r\n" + "\r\n"
    (HERE / name).write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return plain_rows(Path(name).stem, [str(i) for i in range(first_id, first_id + n)], responses)


# --- Google Forms -------------------------------------------------------------------------------


def write_google_forms(rng: np.random.Generator) -> list[PlainRow]:
    """The responses sheet downloaded as CSV: UTF-8, comma, "Timestamp" in the sheet's UK
    locale (DD/MM/YYYY HH:MM:SS), grid columns "Question [Statement]", no response id."""
    responses = respondents(rng, 33, (4, 3, 2, 2, 3))
    header = ["Timestamp", Q_OVERALL, Q_RECOMMEND, *(f"{Q_GRID} [{s}]" for s in STATEMENTS), Q_BRANCH, Q_COMMENT]
    rows: list[list[object]] = [header]
    for r in responses:
        rows.append([r.submitted.strftime("%d/%m/%Y %H:%M:%S"), *r.answers, export_unit(r.unit), r.comment])
    (HERE / "google_forms.csv").write_bytes(_csv_text(rows).encode("utf-8"))
    return plain_rows("google_forms", [f"row{i}" for i in range(2, len(rows) + 1)], responses)


# --- Microsoft Forms ----------------------------------------------------------------------------


def write_microsoft_forms(rng: np.random.Generator) -> list[PlainRow]:
    """Microsoft Forms' Excel download: ID, Start time, Completion time (Excel date-times,
    local time), Email ("anonymous"), Name, Last modified time, then one column per question
    and one per Likert statement, headed by the statement's text alone."""
    responses = respondents(rng, 30, (4, 3, 3, 1, 3))
    header = [
        "ID",
        "Start time",
        "Completion time",
        "Email",
        "Name",
        "Last modified time",
        Q_OVERALL,
        Q_RECOMMEND,
        *STATEMENTS,
        Q_BRANCH,
        Q_COMMENT,
    ]
    buffer = io.BytesIO()
    workbook = _workbook(buffer)
    sheet = workbook.add_worksheet("Sheet1")
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "m/d/yy h:mm:ss"})
    sheet.write_row(0, 0, header, bold)
    for i, r in enumerate(responses, 1):
        sheet.write_number(i, 0, i)
        sheet.write_datetime(i, 1, r.started, when)
        sheet.write_datetime(i, 2, r.submitted, when)
        sheet.write_string(i, 3, "anonymous")
        overall, recommend, *likert = r.answers
        for col, value in ((6, overall), (7, recommend)):  # Rating and Net Promoter Score: numbers
            if value is not None:
                sheet.write_number(i, col, value)
        for col, value in enumerate(likert, 8):  # Likert: the option's label, text
            if value is not None:
                sheet.write_string(i, col, str(value))
        sheet.write_string(i, 13, export_unit(r.unit))
        if r.comment:
            sheet.write_string(i, 14, r.comment)
    workbook.close()
    (HERE / "microsoft_forms.xlsx").write_bytes(buffer.getvalue())
    return plain_rows("microsoft_forms", [str(i) for i in range(1, len(responses) + 1)], responses)


# --- our plain format, cp1251 -------------------------------------------------------------------


def write_plain_cp1251(rng: np.random.Generator) -> list[PlainRow]:
    """Windows-1251, semicolon, CRLF; "Дата" as DD.MM.YYYY HH:MM; paper, phone and in-person
    answers keyed in by staff, comments mostly in Russian."""
    responses = respondents(
        rng, 28, (2, 1, 6, 0.5, 1), comments=COMMENTS_CP1251, awkward=AWKWARD_RU, whole_minutes=True
    )
    channels = [("paper", "phone", "in person")[int(i)] for i in rng.integers(0, 3, len(responses))]
    header = ["Response ID", "Дата", "Business unit", "Channel", *(f"Q{i}" for i in range(1, 8)), "Comment"]
    rows: list[list[object]] = [header]
    ids = [f"NV-2025-{i:04d}" for i in range(1, len(responses) + 1)]
    for rid, channel, r in zip(ids, channels, responses, strict=True):
        rows.append([rid, r.submitted.strftime("%d.%m.%Y %H:%M"), export_unit(r.unit), channel, *r.answers, r.comment])
    (HERE / "plain_cp1251.csv").write_bytes(_csv_text(rows, delimiter=";").encode("cp1251"))
    return [
        PlainRow(f"plain_cp1251-{rid}", r.submitted.replace(tzinfo=TALLINN), r.unit, channel, r.answers, r.comment)
        for rid, channel, r in zip(ids, channels, responses, strict=True)
    ]


# --- all answers in one plain CSV ---------------------------------------------------------------


def write_all_answers(rows: Sequence[PlainRow]) -> None:
    """Every response above in our plain UTF-8 format, ISO 8601 times with their offset."""
    header = ["Response ID", "Submitted", "Business unit", "Channel", *(f"Q{i}" for i in range(1, 8)), "Comment"]
    table: list[list[object]] = [header]
    for r in rows:
        table.append([r.response_id, r.submitted.isoformat(), r.unit, r.channel, *r.answers, r.comment])
    (HERE / "all_answers.csv").write_bytes(_csv_text(table, newline="\n").encode("utf-8"))


def main() -> None:
    rng = np.random.default_rng(SEED)
    writers: list[Callable[[np.random.Generator], list[PlainRow]]] = [
        write_qualtrics_csv,
        write_qualtrics_tsv,
        write_surveymonkey_csv,
        write_surveymonkey_xlsx,
        lambda g: write_limesurvey(g, "limesurvey.csv", ",", 32),
        lambda g: write_limesurvey(g, "limesurvey_semicolon.csv", ";", 26, first_id=33),
        write_google_forms,
        write_microsoft_forms,
        write_plain_cp1251,
    ]
    rows: list[PlainRow] = []
    for write in writers:
        rows += write(rng)
    write_all_answers(rows)
    print(f"wrote {len(writers) + 1} files, {len(rows)} responses, into {HERE}")


if __name__ == "__main__":
    main()
