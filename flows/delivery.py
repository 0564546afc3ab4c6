"""Email a report PDF to management, once per (report key, recipient).

Standard library only. The caller passes validated settings models; nothing is loaded here.
Without SMTP settings each message is written as an `.eml` file to the outbox instead.

Guarantees (reliability.md, faults 10-12 and 15):
- a recipient is recorded in the ledger only after the server's 250 (or the `.eml` is on
  disk), so a re-run sends only to those not yet recorded;
- transient failures (connection refused/reset, timeouts, disconnects, 4xx) are retried
  with exponential backoff; permanent ones (5xx, TLS, authentication) are not;
- the encoded size is checked before connecting;
- every failure ends in a DeliveryError naming who failed, why, and who got the report.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import socket
import sqlite3
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Literal

from flows.files import atomic_write_bytes
from flows.settings import Delivery, Recipient, Smtp

logger = logging.getLogger(__name__)

LedgerStatus = Literal["sent", "written_to_outbox"]


@dataclass(frozen=True)
class ReportEmail:
    report_key: str  # e.g. "scorecard/2025/All"; delivered once per key and recipient
    subject: str
    body_text: str  # short plain-text body with the headline numbers
    pdf_path: Path
    pdf_filename: str  # may contain non-ASCII, e.g. "Scorecard 2025 – Rīga.pdf"


@dataclass(frozen=True)
class DeliveryOutcome:
    recipient: str  # email address as configured
    status: Literal["sent", "written_to_outbox", "already_delivered"]
    message_id: str
    outbox_path: Path | None


@dataclass(frozen=True)
class DeliveryRecord:
    report_key: str
    recipient: str  # normalised (lower-case) address
    status: LedgerStatus
    message_id: str
    pdf_sha256: str
    delivered_at: datetime  # UTC


class DeliveryError(Exception):
    """Some recipients did not get the report; the message says who, why, and who did."""

    def __init__(
        self, message: str, failures: dict[str, str] | None = None, outcomes: list[DeliveryOutcome] | None = None
    ) -> None:
        super().__init__(message)
        self.failures = failures or {}  # address -> reason (SMTP code and server text)
        self.outcomes = outcomes or []  # recipients that were delivered (now or earlier)


# --- ledger ---------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    report_key   TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('sent', 'written_to_outbox')),
    message_id   TEXT NOT NULL,
    pdf_sha256   TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    PRIMARY KEY (report_key, recipient)
)
"""
_SELECT = "SELECT report_key, recipient, status, message_id, pdf_sha256, delivered_at FROM deliveries"
_UPSERT = """
INSERT INTO deliveries (report_key, recipient, status, message_id, pdf_sha256, delivered_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (report_key, recipient) DO UPDATE SET
    status = excluded.status, message_id = excluded.message_id,
    pdf_sha256 = excluded.pdf_sha256, delivered_at = excluded.delivered_at
"""


def _ledger_key(address: str) -> str:
    # Providers treat addresses case-insensitively; a capitalisation edit must not resend.
    return address.strip().lower()


class DeliveryLedger:
    """SQLite ledger (WAL), one row per (report_key, recipient); every write commits at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A connection per call: safe from any thread; autocommit makes each write durable on return.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=FULL")  # a recorded delivery must survive power loss
            yield conn
        finally:
            conn.close()

    @staticmethod
    def _record(row: tuple[str, str, str, str, str, str]) -> DeliveryRecord:
        key, recipient, status, message_id, sha, at = row
        return DeliveryRecord(key, recipient, status, message_id, sha, datetime.fromisoformat(at))  # type: ignore[arg-type]

    def delivered(self, report_key: str, recipient: str) -> DeliveryRecord | None:
        with self._connect() as conn:
            row = conn.execute(
                _SELECT + " WHERE report_key = ? AND recipient = ?", (report_key, _ledger_key(recipient))
            ).fetchone()
        return None if row is None else self._record(row)

    def record(self, report_key: str, recipient: str, status: LedgerStatus, message_id: str, pdf_sha256: str) -> None:
        if status not in ("sent", "written_to_outbox"):
            raise ValueError(f"ledger status must be 'sent' or 'written_to_outbox', got {status!r}")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as conn:
            conn.execute(_UPSERT, (report_key, _ledger_key(recipient), status, message_id, pdf_sha256, now))

    def rows(self) -> list[DeliveryRecord]:
        with self._connect() as conn:
            rows = conn.execute(_SELECT + " ORDER BY report_key, recipient").fetchall()
        return [self._record(row) for row in rows]


# --- messages -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pending:
    recipient: Recipient
    message_id: str
    message: EmailMessage


def _read_pdf(path: Path) -> bytes:
    data = path.read_bytes()
    # Cheap guard against delivering a truncated or foreign file (fault 15).
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise DeliveryError(f"{path}: not a complete PDF (missing %PDF- header or %%EOF trailer); nothing was sent")
    return data


def _message_id(report_key: str, address: str, pdf_sha256: str, marker: str, sender: str) -> str:
    # Same inputs -> same Message-ID, so a retried or duplicated send is recognisable downstream.
    digest = hashlib.sha256("\n".join((report_key, _ledger_key(address), pdf_sha256, marker)).encode()).hexdigest()
    return f"<{digest[:40]}.csat@{sender.rpartition('@')[2]}>"


def _build_message(email: ReportEmail, sender: str, recipient: Recipient, pdf: bytes, message_id: str) -> EmailMessage:
    message = EmailMessage()  # policy.default: rejects CR/LF in headers, encodes non-ASCII
    message["Subject"] = email.subject
    message["From"] = sender
    # Address() quotes display names with commas ("Maria Tamm, CEO") and encodes diacritics.
    message["To"] = Address(display_name=recipient.name, addr_spec=recipient.email)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    message.set_content(email.body_text)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=email.pdf_filename)
    return message


def _wire_size(message: EmailMessage) -> int:
    return len(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))


def _safe_name(text: str) -> str:
    # One path component: no separators, no "..", no hidden files.
    return re.sub(r"[^\w.@+-]", "_", text.replace("/", "__")).lstrip(".") or "_"


def outbox_path(outbox: Path, report_key: str, address: str) -> Path:
    return outbox / _safe_name(report_key) / f"{_safe_name(_ledger_key(address))}.eml"


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


def _preflight(email: ReportEmail, smtp: Smtp, pending: list[_Pending]) -> None:
    if smtp.user and smtp.security == "none":
        raise DeliveryError(
            f"{email.report_key}: refusing to send the SMTP password unencrypted "
            "(delivery.smtp.security is 'none' but user is set); nothing was sent"
        )
    if smtp.user and not smtp.password():
        raise DeliveryError(
            f"{email.report_key}: delivery.smtp.user is set but the environment variable "
            f"{smtp.password_env} is empty; nothing was sent"
        )
    for item in pending:
        size = _wire_size(item.message)
        if size > smtp.max_message_bytes:
            raise DeliveryError(
                f"{email.report_key}: the message to {item.recipient.email} is {size:,} bytes encoded "
                f"(PDF {email.pdf_path.name} plus ~37 % base64 overhead), over delivery.smtp.max_message_bytes "
                f"({smtp.max_message_bytes:,}); nothing was sent"
            )


def _send_smtp(
    email: ReportEmail,
    delivery: Delivery,
    pending: list[_Pending],
    ledger: DeliveryLedger,
    *,
    pdf_sha256: str,
    sleep: Callable[[float], None],
) -> tuple[list[DeliveryOutcome], dict[str, str]]:
    smtp = delivery.smtp
    assert smtp is not None
    sent: list[DeliveryOutcome] = []
    failures: dict[str, str] = {}
    conn: smtplib.SMTP | None = None
    try:
        for index, item in enumerate(pending):
            address = item.recipient.email
            delay = smtp.retry_delay_seconds
            for attempt in range(1, smtp.retries + 2):
                connecting = conn is None
                try:
                    if conn is None:
                        conn = _connect(smtp)
                    connecting = False
                    refused = conn.send_message(item.message, from_addr=delivery.sender, to_addrs=[address])
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
                            email.report_key,
                            attempt,
                            address,
                            reason,
                            delay,
                        )
                        sleep(delay)
                        delay *= 2
                        continue
                    logger.error("%s: not delivered to %s: %s", email.report_key, address, reason)
                    failures[address] = reason
                    if connecting:
                        # Cannot reach or log in to the server: the same holds for everyone left.
                        for rest in pending[index + 1 :]:
                            failures[rest.recipient.email] = f"not attempted ({reason})"
                        return sent, failures
                    break
                # The server said 250: record before anything else can fail.
                ledger.record(email.report_key, address, "sent", item.message_id, pdf_sha256)
                logger.info("%s: sent to %s %s", email.report_key, address, item.message_id)
                sent.append(DeliveryOutcome(address, "sent", item.message_id, None))
                break
    finally:
        if conn is not None:
            with suppress(smtplib.SMTPException, OSError):
                conn.quit()
            conn.close()
    return sent, failures


# --- entry point ----------------------------------------------------------------------


def deliver_report(
    email: ReportEmail,
    delivery: Delivery,
    outbox: Path,
    ledger: DeliveryLedger,
    *,
    resend: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DeliveryOutcome]:
    """Deliver `email` to every recipient not yet in the ledger (all of them when `resend`).

    Returns one outcome per distinct recipient, in configuration order. Raises DeliveryError
    after trying everyone if any recipient failed; those delivered are in the ledger.
    """
    pdf = _read_pdf(email.pdf_path)
    pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    # A deliberate resend is a distinct message; one marker per call keeps retries identical.
    marker = f"resend {datetime.now(UTC).isoformat()}" if resend else ""

    outcomes: dict[str, DeliveryOutcome] = {}
    pending: list[_Pending] = []
    for recipient in delivery.recipients:
        key = _ledger_key(recipient.email)
        if key in outcomes or any(_ledger_key(p.recipient.email) == key for p in pending):
            logger.warning("%s: %s is listed twice; delivering once", email.report_key, recipient.email)
            continue
        prior = None if resend else ledger.delivered(email.report_key, key)
        if prior is not None:
            if prior.pdf_sha256 != pdf_sha256:
                logger.warning(
                    "%s: %s already received an earlier version of this report on %s; "
                    "use resend to deliver the new one",
                    email.report_key,
                    recipient.email,
                    prior.delivered_at.isoformat(),
                )
            outcomes[key] = DeliveryOutcome(recipient.email, "already_delivered", prior.message_id, None)
            continue
        message_id = _message_id(email.report_key, recipient.email, pdf_sha256, marker, delivery.sender)
        message = _build_message(email, delivery.sender, recipient, pdf, message_id)
        pending.append(_Pending(recipient, message_id, message))

    failures: dict[str, str] = {}
    if delivery.smtp is None:
        for item in pending:
            path = atomic_write_bytes(
                outbox_path(outbox, email.report_key, item.recipient.email), item.message.as_bytes()
            )
            ledger.record(email.report_key, item.recipient.email, "written_to_outbox", item.message_id, pdf_sha256)
            logger.info("%s: wrote %s for %s", email.report_key, path, item.recipient.email)
            outcomes[_ledger_key(item.recipient.email)] = DeliveryOutcome(
                item.recipient.email, "written_to_outbox", item.message_id, path
            )
    elif pending:
        _preflight(email, delivery.smtp, pending)
        sent, failures = _send_smtp(email, delivery, pending, ledger, pdf_sha256=pdf_sha256, sleep=sleep)
        outcomes.update((_ledger_key(o.recipient), o) for o in sent)

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
