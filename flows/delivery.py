"""Email report PDFs to management, and alerts to the owner, each exactly once.

Standard library only. The caller passes validated settings models; nothing is loaded here.
Without SMTP settings each message is written as an `.eml` file to the outbox instead.

The ledger knows *which content* each recipient holds (the report's content fingerprint,
its headline figures and its input files), so:
- the same content is never sent twice to anyone (a re-run sends only what is missing);
- changed content (late or corrected rows) goes out again as a correction, or is withheld
  by the configured policy and reported as outdated - never silently;
- `resend` delivers again on purpose.

Transport guarantees (reliability.md, faults 10-12 and 15):
- a message is recorded only after the server's 250 (or the `.eml` is on disk);
- transient failures (connection refused/reset, timeouts, disconnects, 4xx) are retried
  with exponential backoff; permanent ones (5xx, TLS, authentication) are not;
- the encoded size is checked before connecting;
- every failure ends in a DeliveryError naming who failed, why, and who got the report.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import smtplib
import socket
import sqlite3
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal

from flows.files import atomic_write_bytes
from flows.names import key_folder, name_part
from flows.settings import Contact, Corrections, Delivery, Smtp

logger = logging.getLogger(__name__)
_SAFE_ADDRESS = re.compile(r"[^\w.@+-]")

Kind = Literal["report", "correction", "resend"]
Status = Literal["sent", "written_to_outbox", "already_delivered", "withheld", "planned"]
DELIVERED: tuple[Status, ...] = ("sent", "written_to_outbox")


@dataclass(frozen=True)
class ReportEmail:
    """One version of one report, ready to deliver."""

    report_key: str  # e.g. "scorecard/2025/All"
    subject: str
    body_text: str  # short plain-text body with the headline numbers
    pdf_path: Path
    pdf_filename: str  # may contain non-ASCII, e.g. "Scorecard 2025 – Rīga.pdf"
    fingerprint: str | None = None  # what the content depends on; None: the PDF's own hash
    # Headline figures as printed: name -> {"label", "text", "points"}; kept in the ledger so a
    # correction can say what each recipient saw before. "points" (CSAT in % points, NPS) is
    # what the correction threshold compares.
    headline: dict[str, dict[str, Any]] = field(default_factory=dict)
    # File content hash -> {"file": name, "answers": n it contributes}: what a correction names as its cause.
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryRecord:
    """A message a recipient received (one ledger row)."""

    report_key: str
    recipient: str  # normalised (lower-case) address
    kind: Kind
    fingerprint: str
    status: str
    message_id: str
    pdf_sha256: str
    headline: dict[str, dict[str, Any]]
    inputs: dict[str, dict[str, Any]]
    delivered_at: datetime  # UTC


@dataclass(frozen=True)
class DeliveryOutcome:
    recipient: str  # email address as configured
    status: Status
    message_id: str
    outbox_path: Path | None
    kind: Kind = "report"
    previous: DeliveryRecord | None = None  # what the recipient held before (corrections, withheld)


class DeliveryError(Exception):
    """Some recipients did not get the report; the message says who, why, and who did."""

    def __init__(
        self, message: str, failures: dict[str, str] | None = None, outcomes: list[DeliveryOutcome] | None = None
    ) -> None:
        super().__init__(message)
        self.failures = failures or {}  # address -> reason (SMTP code and server text)
        self.outcomes = outcomes or []  # recipients that were delivered (now or earlier)


# --- ledger ---------------------------------------------------------------------------

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS messages (
        message_id   TEXT PRIMARY KEY,
        report_key   TEXT NOT NULL,
        recipient    TEXT NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('report', 'correction', 'resend')),
        fingerprint  TEXT NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('sent', 'written_to_outbox')),
        pdf_sha256   TEXT NOT NULL,
        headline     TEXT NOT NULL,
        inputs       TEXT NOT NULL,
        delivered_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS messages_by_report ON messages (report_key, recipient, delivered_at)",
    """
    CREATE TABLE IF NOT EXISTS alerts (
        alert_key  TEXT PRIMARY KEY,
        message_id TEXT NOT NULL,
        sent_at    TEXT NOT NULL
    )
    """,
    # Findings the owner decided to deliver without (`csat accept`): a file's missing rows
    # ("file:<sha256>"), a unit's missing or fallen answers in a period ("unit:<name>:<period>").
    """
    CREATE TABLE IF NOT EXISTS accepted (
        key         TEXT PRIMARY KEY,
        label       TEXT NOT NULL,
        note        TEXT NOT NULL,
        accepted_at TEXT NOT NULL
    )
    """,
)
_COLUMNS = "report_key, recipient, kind, fingerprint, status, message_id, pdf_sha256, headline, inputs, delivered_at"
# Queries are constants; every value goes through a placeholder.
_LATEST = (
    f"SELECT {_COLUMNS} FROM messages WHERE report_key = ? AND recipient = ? "  # noqa: S608
    "ORDER BY delivered_at DESC, rowid DESC LIMIT 1"
)
_INSERT = f"INSERT OR REPLACE INTO messages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
_ALL = f"SELECT {_COLUMNS} FROM messages ORDER BY report_key, recipient, rowid"  # noqa: S608


def _ledger_key(address: str) -> str:
    # Providers treat addresses case-insensitively; a capitalisation edit must not resend.
    return address.strip().lower()


class DeliveryLedger:
    """SQLite ledger (WAL): every message delivered, and every owner alert; each write commits at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            for statement in _SCHEMA:
                conn.execute(statement)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A connection per call: safe from any thread or process; autocommit makes each write durable on return.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=FULL")  # a recorded delivery must survive power loss
            yield conn
        finally:
            conn.close()

    @staticmethod
    def _record(row: tuple[Any, ...]) -> DeliveryRecord:
        key, recipient, kind, fingerprint, status, message_id, sha, headline, inputs, at = row
        return DeliveryRecord(
            key, recipient, kind, fingerprint, status, message_id, sha, json.loads(headline), json.loads(inputs),
            datetime.fromisoformat(at),
        )  # fmt: skip

    def latest(self, report_key: str, recipient: str) -> DeliveryRecord | None:
        """The newest message of this report the recipient received: the version they hold."""
        with self._connect() as conn:
            row = conn.execute(_LATEST, (report_key, _ledger_key(recipient))).fetchone()
        return None if row is None else self._record(row)

    def record(self, message: OutgoingMessage, status: Literal["sent", "written_to_outbox"]) -> None:
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        with self._connect() as conn:
            conn.execute(
                _INSERT,
                (
                    message.report_key,
                    _ledger_key(message.recipient.email),
                    message.kind,
                    message.fingerprint,
                    status,
                    message.message_id,
                    message.pdf_sha256,
                    json.dumps(message.headline, sort_keys=True),
                    json.dumps(message.inputs, sort_keys=True),
                    now,
                ),
            )

    def rows(self) -> list[DeliveryRecord]:
        with self._connect() as conn:
            rows = conn.execute(_ALL).fetchall()
        return [self._record(row) for row in rows]

    def alerted(self, alert_key: str) -> bool:
        with self._connect() as conn:
            return conn.execute("SELECT 1 FROM alerts WHERE alert_key = ?", (alert_key,)).fetchone() is not None

    def record_alert(self, alert_key: str, message_id: str) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO alerts VALUES (?, ?, ?)", (alert_key, message_id, now))

    def accept(self, key: str, label: str, note: str) -> None:
        """Record that delivery may go ahead without this finding (`transforms.completeness` keys)."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO accepted VALUES (?, ?, ?, ?)", (key, label, note, now))

    def accepted(self) -> dict[str, str]:
        """key -> label (a file name, or unit and period) of every accepted finding."""
        with self._connect() as conn:
            return dict(conn.execute("SELECT key, label FROM accepted").fetchall())


# --- messages -------------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingMessage:
    """One email to one person, with what the ledger keeps about it."""

    report_key: str
    recipient: Contact
    kind: Kind
    fingerprint: str
    subject: str
    body_text: str
    message_id: str
    attachment: bytes | None = None  # a PDF; None for alerts
    attachment_filename: str = ""
    pdf_sha256: str = ""
    headline: dict[str, dict[str, Any]] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox_name: str = ""  # file name in the outbox folder of the report key


def _read_pdf(path: Path) -> bytes:
    data = path.read_bytes()
    # Cheap guard against delivering a truncated or foreign file (fault 15).
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise DeliveryError(f"{path}: not a complete PDF (missing %PDF- header or %%EOF trailer); nothing was sent")
    return data


def message_id_for(*parts: str, sender: str) -> str:
    """Same inputs -> same Message-ID, so a retried or duplicated send is recognisable downstream."""
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return f"<{digest[:40]}.csat@{sender.rpartition('@')[2]}>"


HEADER_LINE_LIMIT = 998  # RFC 5322's hard limit for a line


def _build_message(item: OutgoingMessage, sender: str) -> EmailMessage:
    message = EmailMessage()  # policy.default: rejects CR/LF in headers, encodes non-ASCII
    message["Subject"] = item.subject
    message["From"] = sender
    # Address() quotes display names with commas ("Maria Tamm, CEO") and encodes diacritics.
    message["To"] = Address(display_name=item.recipient.name, addr_spec=item.recipient.email)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = item.message_id
    message.set_content(item.body_text)
    if item.attachment is not None:
        message.add_attachment(
            item.attachment, maintype="application", subtype="pdf", filename=item.attachment_filename
        )
    # Serialised without folding short headers (the body is encoded already, its lines stay within 76):
    # Python folds a 70-odd character subject right after "Subject:", and readers then see it start with a space.
    message.policy = message.policy.clone(max_line_length=HEADER_LINE_LIMIT)
    return message


def _wire_size(message: EmailMessage) -> int:
    return len(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))


def outbox_path(outbox: Path, report_key: str, name: str) -> Path:
    """`<outbox>/<report key as one bounded folder name>/<name>`: unique per report, never outside the outbox."""
    return outbox / key_folder(report_key) / name


def _outbox_name(address: str, kind: Kind, message_id: str) -> str:
    """'ceo@northwind.example--report-1a2b3c4d5e.eml': the address as written when it is a safe name."""
    address = _ledger_key(address)
    safe = _SAFE_ADDRESS.sub("_", address).lstrip(".")
    if safe != address or len(safe) > 100:
        safe = name_part(address, 80)
    return f"{safe}--{kind}-{message_id[1:11]}.eml"


# --- SMTP -----------------------------------------------------------------------------


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {' '.join(text.split())}"[:300]


def _classify(exc: Exception, address: str) -> tuple[bool, str]:
    """(transient?, reason) for a failed attempt: 4xx and network trouble are transient."""
    code: int | None = None
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = exc.recipients.get(address, next(iter(exc.recipients.values()), (-1, b"")))
        reason = f"recipient refused: {_reply(code, text)}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        reason = f"{type(exc).__name__}: {_reply(code, exc.smtp_error)}"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    if code is not None:
        return 400 <= code < 500, reason
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True, reason
    if isinstance(exc, smtplib.SMTPException | ssl.SSLError):
        # STARTTLS/AUTH not offered, certificate or protocol mismatch: configuration, not bad luck.
        return False, reason
    if isinstance(exc, socket.gaierror):
        return exc.errno == socket.EAI_AGAIN, reason
    return True, reason  # connection refused or reset, timed out


def _connect(smtp: Smtp) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if smtp.security == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=context)
    else:
        conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    try:
        if smtp.security == "starttls":
            conn.starttls(context=context)  # raises if not offered: never fall back to plain text
        if smtp.user:
            conn.login(smtp.user, smtp.password() or "")
    except BaseException:
        conn.close()
        raise
    return conn


def _preflight(label: str, smtp: Smtp, pending: Sequence[tuple[OutgoingMessage, EmailMessage]]) -> None:
    if smtp.user and smtp.security == "none":
        raise DeliveryError(
            f"{label}: refusing to send the SMTP password unencrypted "
            "(delivery.smtp.security is 'none' but user is set); nothing was sent"
        )
    if smtp.user and not smtp.password():
        raise DeliveryError(
            f"{label}: delivery.smtp.user is set but the environment variable "
            f"{smtp.password_env} is empty; nothing was sent"
        )
    for item, message in pending:
        size = _wire_size(message)
        if size > smtp.max_message_bytes:
            raise DeliveryError(
                f"{label}: the message to {item.recipient.email} is {size:,} bytes encoded "
                f"(PDF {item.attachment_filename} plus ~37 % base64 overhead), over delivery.smtp.max_message_bytes "
                f"({smtp.max_message_bytes:,}); nothing was sent"
            )


def _send_smtp(
    label: str,
    delivery: Delivery,
    pending: Sequence[tuple[OutgoingMessage, EmailMessage]],
    on_sent: Callable[[OutgoingMessage], None],
    *,
    sleep: Callable[[float], None],
) -> tuple[list[OutgoingMessage], dict[str, str]]:
    smtp = delivery.smtp
    assert smtp is not None
    sent: list[OutgoingMessage] = []
    failures: dict[str, str] = {}
    conn: smtplib.SMTP | None = None
    try:
        for index, (item, message) in enumerate(pending):
            address = item.recipient.email
            delay = smtp.retry_delay_seconds
            for attempt in range(1, smtp.retries + 2):
                connecting = conn is None
                try:
                    if conn is None:
                        conn = _connect(smtp)
                    connecting = False
                    refused = conn.send_message(message, from_addr=delivery.sender, to_addrs=[address])
                    if refused:
                        raise smtplib.SMTPRecipientsRefused(refused)
                except (smtplib.SMTPException, OSError) as exc:
                    if conn is not None:
                        conn.close()  # start the next attempt on a fresh connection
                        conn = None
                    transient, reason = _classify(exc, address)
                    if transient and attempt <= smtp.retries:
                        logger.warning(
                            "%s: attempt %d for %s failed (%s); retrying in %.1f s",
                            label,
                            attempt,
                            address,
                            reason,
                            delay,
                        )
                        sleep(delay)
                        delay *= 2
                        continue
                    logger.error("%s: not delivered to %s: %s", label, address, reason)
                    failures[address] = reason
                    if connecting:
                        # Cannot reach or log in to the server: the same holds for everyone left.
                        for rest, _ in pending[index + 1 :]:
                            failures[rest.recipient.email] = f"not attempted ({reason})"
                        return sent, failures
                    break
                # The server said 250: record before anything else can fail.
                on_sent(item)
                logger.info("%s: sent to %s %s", label, address, item.message_id)
                sent.append(item)
                break
    finally:
        if conn is not None:
            with suppress(smtplib.SMTPException, OSError):
                conn.quit()
            conn.close()
    return sent, failures


def send_messages(
    label: str,
    items: Sequence[OutgoingMessage],
    delivery: Delivery,
    outbox: Path,
    on_sent: Callable[[OutgoingMessage, Literal["sent", "written_to_outbox"]], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, tuple[Literal["sent", "written_to_outbox"], Path | None]], dict[str, str]]:
    """Send each message (SMTP) or write it to the outbox; `on_sent` runs right after each acceptance.

    Returns (message_id -> (status, outbox path)) for the delivered ones and (address -> reason)
    for the failed ones.
    """
    built = [(item, _build_message(item, delivery.sender)) for item in items]
    done: dict[str, tuple[Literal["sent", "written_to_outbox"], Path | None]] = {}
    if delivery.smtp is None:
        for item, message in built:
            path = atomic_write_bytes(outbox_path(outbox, item.report_key, item.outbox_name), message.as_bytes())
            on_sent(item, "written_to_outbox")
            logger.info("%s: wrote %s for %s", label, path, item.recipient.email)
            done[item.message_id] = ("written_to_outbox", path)
        return done, {}
    if not built:
        return done, {}
    _preflight(label, delivery.smtp, built)
    sent, failures = _send_smtp(label, delivery, built, lambda item: on_sent(item, "sent"), sleep=sleep)
    done.update((item.message_id, ("sent", None)) for item in sent)
    return done, failures


# --- reports --------------------------------------------------------------------------

# Text of a correction for someone who holds `previous`: (subject, body).
CorrectionText = Callable[[ReportEmail, DeliveryRecord], tuple[str, str]]


def plain_correction(email: ReportEmail, previous: DeliveryRecord) -> tuple[str, str]:
    """A minimal correction text (the pipeline passes a richer one with figures and reasons)."""
    when = previous.delivered_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Correction: {email.subject}",
        f"Correction: this report replaces the one sent to you on {when}.\n\n{email.body_text}",
    )


def largest_move(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> float | None:
    """The largest change, in points, of a headline figure; one that appears or disappears counts as
    an infinite move (a unit reaching min_n gets its first figures). None: nothing measured in points."""
    moves = []
    for name in before.keys() | after.keys():
        old, new = before.get(name, {}).get("points"), after.get(name, {}).get("points")
        if old is not None and new is not None:
            moves.append(abs(new - old))
        elif (old is None) != (new is None):
            moves.append(float("inf"))
    return max(moves) if moves else None


def _decide(
    previous: DeliveryRecord | None, fingerprint: str, email: ReportEmail, corrections: Corrections, resend: bool
) -> Kind | Literal["already_delivered", "withheld"]:
    if resend:
        return "resend"
    if previous is None:
        return "report"
    if previous.fingerprint == fingerprint:
        return "already_delivered"
    if corrections.send == "never":
        return "withheld"
    if corrections.send == "threshold":
        moved = largest_move(previous.headline, email.headline)
        if moved is None or moved <= corrections.threshold_pts:
            return "withheld"
    return "correction"


def deliver_report(
    email: ReportEmail,
    delivery: Delivery,
    outbox: Path,
    ledger: DeliveryLedger,
    *,
    resend: bool = False,
    corrections: Corrections | None = None,
    correction_text: CorrectionText = plain_correction,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DeliveryOutcome]:
    """Deliver `email` to every recipient in `delivery` who does not hold this content yet.

    Per recipient: nothing held -> the report; this content held -> nothing
    (`already_delivered`); other content held -> a correction, or `withheld` when the
    correction policy says so (the caller reports those as outdated); `resend` -> again.
    `dry_run` decides without sending (status `planned`). Returns one outcome per distinct
    recipient, in configuration order. Raises DeliveryError after trying everyone if any
    recipient failed; those delivered are in the ledger.
    """
    pdf = _read_pdf(email.pdf_path)
    pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    fingerprint = email.fingerprint or pdf_sha256
    policy = corrections or delivery.corrections
    # A deliberate resend is a distinct message; one marker per call keeps retries identical.
    marker = f"resend {datetime.now(UTC).isoformat()}" if resend else ""

    outcomes: dict[str, DeliveryOutcome] = {}
    pending: list[OutgoingMessage] = []
    held: dict[str, DeliveryRecord | None] = {}  # recipient -> the version they hold
    for recipient in delivery.recipients:
        key = _ledger_key(recipient.email)
        if key in held:
            logger.warning("%s: %s is listed twice; delivering once", email.report_key, recipient.email)
            continue
        previous = held[key] = ledger.latest(email.report_key, key)
        decision = _decide(previous, fingerprint, email, policy, resend)
        if decision == "already_delivered" and previous is not None:
            outcomes[key] = DeliveryOutcome(recipient.email, decision, previous.message_id, None, previous.kind)
            continue
        if decision == "withheld":
            logger.warning(
                "%s: %s holds an outdated version (delivered %s); not corrected (delivery.corrections.send: %s)",
                email.report_key,
                recipient.email,
                previous.delivered_at.isoformat(timespec="seconds") if previous else "?",
                policy.send,
            )
            outcomes[key] = DeliveryOutcome(recipient.email, "withheld", "", None, "correction", previous)
            continue
        subject, body = (email.subject, email.body_text)
        if decision == "correction" and previous is not None:
            subject, body = correction_text(email, previous)
        # A correction names the version it replaces: content flipping back and forth gets new ids.
        replaced = previous.message_id if decision == "correction" and previous is not None else ""
        message_id = message_id_for(
            email.report_key, key, fingerprint, decision, marker, replaced, sender=delivery.sender
        )
        item = OutgoingMessage(
            report_key=email.report_key,
            recipient=recipient,
            kind=decision,
            fingerprint=fingerprint,
            subject=subject,
            body_text=body,
            message_id=message_id,
            attachment=pdf,
            attachment_filename=email.pdf_filename,
            pdf_sha256=pdf_sha256,
            headline=email.headline,
            inputs=email.inputs,
            outbox_name=_outbox_name(recipient.email, decision, message_id),
        )
        if dry_run:
            outcomes[key] = DeliveryOutcome(recipient.email, "planned", message_id, None, decision, previous)
            continue
        pending.append(item)

    delivered, failures = send_messages(email.report_key, pending, delivery, outbox, ledger.record, sleep=sleep)
    for item in pending:
        if item.message_id in delivered:
            status, path = delivered[item.message_id]
            outcomes[_ledger_key(item.recipient.email)] = DeliveryOutcome(
                item.recipient.email, status, item.message_id, path, item.kind, held[_ledger_key(item.recipient.email)]
            )

    ordered = [outcomes[k] for k in dict.fromkeys(_ledger_key(r.email) for r in delivery.recipients) if k in outcomes]
    if failures:
        failed = "; ".join(f"{address}: {reason}" for address, reason in failures.items())
        done = ", ".join(f"{o.recipient} ({o.status.replace('_', ' ')})" for o in ordered) or "nobody"
        raise DeliveryError(
            f"{email.report_key}: not delivered to {len(failures)} of {len(failures) + len(ordered)} "
            f"recipient(s) - {failed}. Delivered: {done}. A re-run sends only to those not delivered.",
            failures,
            ordered,
        )
    return ordered


def send_alert(
    alert_key: str,
    subject: str,
    body: str,
    delivery: Delivery,
    outbox: Path,
    ledger: DeliveryLedger,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryOutcome:
    """Email the configured owner (once per `alert_key`); raises DeliveryError if it cannot be delivered."""
    message_id = message_id_for("alert", alert_key, sender=delivery.sender)
    owner = delivery.owner
    if ledger.alerted(alert_key):
        return DeliveryOutcome(owner.email, "already_delivered", message_id, None)
    item = OutgoingMessage(
        report_key="alerts",
        recipient=owner,
        kind="report",
        fingerprint=alert_key,
        subject=subject,
        body_text=body,
        message_id=message_id,
        outbox_name=f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{name_part(alert_key, 60)}.eml",
    )
    delivered, failures = send_messages(
        "owner alert", [item], delivery, outbox, lambda i, _: ledger.record_alert(alert_key, i.message_id), sleep=sleep
    )
    if failures:
        raise DeliveryError(f"owner alert to {owner.email} not delivered: {failures[owner.email]}", failures)
    status, path = delivered[message_id]
    return DeliveryOutcome(owner.email, status, message_id, path)
