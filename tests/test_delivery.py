"""flows.delivery against a real in-process SMTP server (aiosmtpd) and a real SQLite ledger."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from flows.delivery import DeliveryError, DeliveryLedger, ReportEmail, deliver_report, send_alert
from flows.settings import Contact, Corrections, Delivery, Recipient, Smtp

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"  # binary body: exercises base64 round trip
FILENAME = "Scorecard 2025 – Rīga.pdf"
KEY = "scorecard/2025/All"
PEOPLE = [
    Recipient(name="Maria Tamm, CEO", email="ceo@northwind.example"),
    Recipient(name="Jānis Bērziņš", email="cx@northwind.example"),
    Recipient(name="Olga Ivanova", email="ops@northwind.example"),
]
PASSWORD = "s3cret-Pa55word"
GOOD_ENV, WRONG_ENV = "CSAT_TEST_SMTP_PASSWORD", "CSAT_TEST_WRONG_PASSWORD"  # environment variable names


class Mailbox:
    """aiosmtpd handler: keeps accepted messages and answers with scripted faults."""

    def __init__(self) -> None:
        self.accepted: list[tuple[list[str], EmailMessage, bool]] = []  # (rcpts, message, over TLS)
        self.mail_commands = 0
        self.refuse: dict[str, str] = {}  # RCPT address -> reply, every time
        self.rcpt_once: list[str] = []  # replies to the next RCPT commands
        self.data_once: list[str] = []  # replies to the next DATA commands
        self.logins: list[bytes] = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd hook
        self.mail_commands += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        if address in self.refuse:
            return self.refuse[address]
        if self.rcpt_once:
            return self.rcpt_once.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        if self.data_once:
            return self.data_once.pop(0)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.accepted.append((list(envelope.rcpt_tos), message, session.ssl is not None))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        self.logins.append(auth_data.login)
        return AuthResult(success=auth_data.password == PASSWORD.encode(), handled=False)

    def received_by(self) -> Counter[str]:
        return Counter(rcpt for rcpts, _, _ in self.accepted for rcpt in rcpts)


class EphemeralController(Controller):
    """Controller on port 0: learns the port the OS picked before its self-check connects."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = EphemeralController(box, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


@pytest.fixture
def email(tmp_path: Path) -> ReportEmail:
    pdf = tmp_path / "scorecard.pdf"
    pdf.write_bytes(PDF)
    return ReportEmail(KEY, "Customer satisfaction 2025", "CSAT top-2-box 91 % (n = 412).", pdf, FILENAME)


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(tmp_path / "store" / "deliveries.sqlite")


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


OWNER = Contact(name="Reporting operations", email="csat-ops@northwind.example")


def outbox_delivery(recipients: list[Recipient], **options: object) -> Delivery:
    return Delivery(sender="csat-reports@northwind.example", owner=OWNER, recipients=recipients, **options)


def smtp_delivery(port: int, recipients: list[Recipient] = PEOPLE[:2], **smtp: object) -> Delivery:
    settings = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "timeout_seconds": 5,
        "retries": 3,
        "retry_delay_seconds": 0.25,
    } | smtp
    return outbox_delivery(recipients, smtp=Smtp(**settings))


def attachment(message: EmailMessage) -> EmailMessage:
    (part,) = list(message.iter_attachments())
    return part  # type: ignore[return-value]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_outbox_writes_one_eml_per_recipient_once(email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path) -> None:
    """Without SMTP each recipient gets one .eml with the PDF intact, and a second run writes nothing."""
    outbox = tmp_path / "outbox"
    delivery = outbox_delivery(PEOPLE[:2])

    outcomes = deliver_report(email, delivery, outbox, ledger)

    assert [(o.recipient, o.status) for o in outcomes] == [(p.email, "written_to_outbox") for p in PEOPLE[:2]]
    files = sorted(f.name for f in outbox.rglob("*") if f.is_file())
    assert [name.split("--")[0] for name in files] == ["ceo@northwind.example", "cx@northwind.example"]
    for outcome, person in zip(outcomes, PEOPLE, strict=False):
        assert outcome.outbox_path is not None
        assert outcome.outbox_path.parent == outbox / "scorecard_2025_all"
        message = message_from_bytes(outcome.outbox_path.read_bytes(), policy=policy.default)
        assert message["To"].addresses[0].display_name == person.name
        assert message["To"].addresses[0].addr_spec == person.email
        assert message["Message-ID"] == outcome.message_id
        part = attachment(message)  # type: ignore[arg-type]
        assert part.get_content_type() == "application/pdf"
        assert part.get_filename() == FILENAME
        assert part.get_content() == PDF
    assert [(r.recipient, r.status) for r in ledger.rows()] == [(p.email, "written_to_outbox") for p in PEOPLE[:2]]

    before = {f: f.stat().st_mtime_ns for f in outbox.rglob("*")}
    again = deliver_report(email, delivery, outbox, ledger)
    assert [o.status for o in again] == ["already_delivered"] * 2
    assert [o.message_id for o in again] == [o.message_id for o in outcomes]
    assert {f: f.stat().st_mtime_ns for f in outbox.rglob("*")} == before


def test_outbox_paths_stay_inside_the_outbox(email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path) -> None:
    """A report key or address containing path separators cannot write outside the outbox folder."""
    outbox = tmp_path / "outbox"
    hostile = ReportEmail("../../etc/x", email.subject, email.body_text, email.pdf_path, email.pdf_filename)
    delivery = outbox_delivery([Recipient(name="Slash", email="a/b@northwind.example")])

    (outcome,) = deliver_report(hostile, delivery, outbox, ledger)

    assert outcome.outbox_path is not None
    assert outcome.outbox_path.resolve().parent.parent == outbox.resolve()
    assert list(tmp_path.rglob("*.eml")) == [outcome.outbox_path]


def test_smtp_delivers_one_message_per_recipient(
    mailbox: tuple[Mailbox, int], email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path
) -> None:
    """Over SMTP each recipient gets exactly one message whose attachment equals the PDF, and the ledger records it."""
    box, port = mailbox

    outcomes = deliver_report(email, smtp_delivery(port), tmp_path / "outbox", ledger, sleep=Sleeps())

    assert [(o.recipient, o.status) for o in outcomes] == [(p.email, "sent") for p in PEOPLE[:2]]
    assert [rcpts for rcpts, _, _ in box.accepted] == [[PEOPLE[0].email], [PEOPLE[1].email]]
    for (_, message, _), outcome in zip(box.accepted, outcomes, strict=True):
        assert message["From"] == "csat-reports@northwind.example"
        assert message["Message-ID"] == outcome.message_id
        assert message["Date"] is not None
        assert message.get_body(("plain",)).get_content().strip() == email.body_text  # type: ignore[union-attr]
        part = attachment(message)
        assert (part.get_content_type(), part.get_filename(), part.get_content()) == ("application/pdf", FILENAME, PDF)
    expected = [(o.recipient, "sent", o.message_id) for o in outcomes]
    assert [(r.recipient, r.status, r.message_id) for r in ledger.rows()] == expected
    assert not (tmp_path / "outbox").exists()


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_451_is_retried_then_delivered_once(
    stage: str, mailbox: tuple[Mailbox, int], email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path
) -> None:
    """A one-off 451 reply is retried after the backoff delay and each recipient ends up with exactly one message."""
    box, port = mailbox
    (box.rcpt_once if stage == "RCPT" else box.data_once).append("451 4.3.0 try again")
    sleeps = Sleeps()

    outcomes = deliver_report(email, smtp_delivery(port), tmp_path / "outbox", ledger, sleep=sleeps)

    assert sleeps == [0.25]
    assert [o.status for o in outcomes] == ["sent", "sent"]
    assert box.received_by() == Counter({PEOPLE[0].email: 1, PEOPLE[1].email: 1})
    assert len(ledger.rows()) == 2


def test_message_over_size_limit_fails_before_connecting(
    mailbox: tuple[Mailbox, int], email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path
) -> None:
    """An encoded message over max_message_bytes (the raw PDF fits) fails clearly before anything reaches the server."""
    box, port = mailbox
    delivery = smtp_delivery(port, max_message_bytes=len(PDF) + 200)  # base64 pushes it over

    with pytest.raises(DeliveryError, match=r"max_message_bytes .*nothing was sent") as caught:
        deliver_report(email, delivery, tmp_path / "outbox", ledger, sleep=Sleeps())

    assert f"({len(PDF) + 200:,})" in str(caught.value)
    assert box.mail_commands == 0
    assert ledger.rows() == []


def test_server_552_is_permanent_and_not_retried(email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path) -> None:
    """A server's 552 (its own size limit, smaller than ours) fails at once with the code and text, ledger empty."""
    box = Mailbox()
    controller = EphemeralController(box, hostname="127.0.0.1", port=0, data_size_limit=1000)
    controller.start()
    sleeps = Sleeps()
    try:
        with pytest.raises(DeliveryError, match=r"ceo@northwind\.example: .*552 .*size") as caught:
            deliver_report(email, smtp_delivery(controller.port), tmp_path / "outbox", ledger, sleep=sleeps)
    finally:
        controller.stop()

    assert set(caught.value.failures) == {PEOPLE[0].email, PEOPLE[1].email}
    assert "Delivered: nobody" in str(caught.value)
    assert sleeps == []
    assert box.accepted == []
    assert ledger.rows() == []


def test_partial_send_then_rerun_sends_only_the_rest(
    mailbox: tuple[Mailbox, int], email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path
) -> None:
    """After a 550 for the third of three recipients a re-run sends only to the third, so nobody gets two copies."""
    box, port = mailbox
    box.refuse[PEOPLE[2].email] = "550 5.1.1 mailbox unavailable"
    delivery = smtp_delivery(port, recipients=PEOPLE)
    sleeps = Sleeps()

    with pytest.raises(DeliveryError) as caught:
        deliver_report(email, delivery, tmp_path / "outbox", ledger, sleep=sleeps)

    text = str(caught.value)
    assert "not delivered to 1 of 3" in text
    assert "ops@northwind.example: recipient refused: 550 5.1.1 mailbox unavailable" in text
    assert "Delivered: ceo@northwind.example (sent), cx@northwind.example (sent)" in text
    assert sleeps == []  # 5xx is not retried
    assert [r.recipient for r in ledger.rows()] == [PEOPLE[0].email, PEOPLE[1].email]

    box.refuse.clear()
    outcomes = deliver_report(email, delivery, tmp_path / "outbox", ledger, sleep=sleeps)

    assert [o.status for o in outcomes] == ["already_delivered", "already_delivered", "sent"]
    assert len(box.accepted) == 3
    assert box.received_by() == Counter({p.email: 1 for p in PEOPLE})
    assert [r.recipient for r in ledger.rows()] == [p.email for p in PEOPLE]


def test_smtp_down_is_retried_with_backoff_then_fails(
    email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path
) -> None:
    """With nothing listening the connection is retried `retries` times with doubling delays, then the run fails."""
    sleeps = Sleeps()

    with pytest.raises(DeliveryError, match="Connection refused") as caught:
        deliver_report(email, smtp_delivery(free_port()), tmp_path / "outbox", ledger, sleep=sleeps)

    assert sleeps == [0.25, 0.5, 1.0]  # once for the whole run, not once per recipient
    assert caught.value.failures[PEOPLE[1].email].startswith("not attempted")
    assert "Delivered: nobody" in str(caught.value)
    assert ledger.rows() == []


def test_resend_delivers_again(
    mailbox: tuple[Mailbox, int], email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path
) -> None:
    """resend=True delivers a distinct message to a recipient already in the ledger and updates its row."""
    box, port = mailbox
    delivery = smtp_delivery(port, recipients=PEOPLE[:1])
    (first,) = deliver_report(email, delivery, tmp_path / "outbox", ledger, sleep=Sleeps())

    (again,) = deliver_report(email, delivery, tmp_path / "outbox", ledger, resend=True, sleep=Sleeps())
    (later,) = deliver_report(email, delivery, tmp_path / "outbox", ledger, sleep=Sleeps())

    assert again.status == "sent"
    assert again.message_id != first.message_id
    assert [m["Message-ID"] for _, m, _ in box.accepted] == [first.message_id, again.message_id]
    assert [(r.kind, r.message_id) for r in ledger.rows()] == [
        ("report", first.message_id),
        ("resend", again.message_id),
    ]
    assert (later.status, later.message_id) == ("already_delivered", again.message_id)


# --- which content each recipient holds: corrections --------------------------------------


def version(email: ReportEmail, fingerprint: str, csat_points: float, inputs: dict[str, int]) -> ReportEmail:
    """The same report with other content: what a late file or a corrected row makes of it."""
    headline = {"csat": {"label": "CSAT top-2-box", "text": f"{csat_points:.1f} %", "points": csat_points}}
    return replace(email, fingerprint=fingerprint, headline=headline, inputs=inputs)


def test_changed_report_goes_out_once_as_a_correction(
    mailbox: tuple[Mailbox, int], email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path
) -> None:
    """Changed content reaches every holder once, marked as a correction; re-running sends nothing more."""
    box, port = mailbox
    delivery = smtp_delivery(port)
    first = version(email, "v1", 81.2, {"a.csv": 400})
    second = version(email, "v2", 79.0, {"a.csv": 400, "late.csv": 240})
    deliver_report(first, delivery, tmp_path / "outbox", ledger, sleep=Sleeps())

    outcomes = deliver_report(second, delivery, tmp_path / "outbox", ledger, sleep=Sleeps())
    again = deliver_report(second, delivery, tmp_path / "outbox", ledger, sleep=Sleeps())

    assert [(o.status, o.kind) for o in outcomes] == [("sent", "correction")] * 2
    assert [o.previous.fingerprint for o in outcomes if o.previous] == ["v1", "v1"]
    assert [o.status for o in again] == ["already_delivered"] * 2
    assert box.received_by() == Counter({PEOPLE[0].email: 2, PEOPLE[1].email: 2})
    correction = box.accepted[2][1]
    assert correction["Subject"].startswith("Correction:")
    assert correction.get_body(("plain",)).get_content().startswith("Correction:")  # type: ignore[union-attr]
    assert [r.kind for r in ledger.rows() if r.recipient == PEOPLE[0].email] == ["report", "correction"]


def test_identical_content_rerendered_sends_nothing(email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path) -> None:
    """A PDF rendered again (new bytes, same content fingerprint) is not a change: nobody gets it twice."""
    delivery = outbox_delivery(PEOPLE[:2])
    deliver_report(version(email, "same", 81.2, {}), delivery, tmp_path / "outbox", ledger)
    email.pdf_path.write_bytes(PDF.replace(b"%%EOF", b"% rendered again\n%%EOF"))

    outcomes = deliver_report(version(email, "same", 81.2, {}), delivery, tmp_path / "outbox", ledger)

    assert [o.status for o in outcomes] == ["already_delivered"] * 2
    assert len(list((tmp_path / "outbox").rglob("*.eml"))) == 2


@pytest.mark.parametrize(
    ("policy", "moved_to", "expected"),
    [
        (Corrections(send="threshold", threshold_pts=1.0), 80.7, "withheld"),  # 0.5 points: below the threshold
        (Corrections(send="threshold", threshold_pts=1.0), 79.0, "written_to_outbox"),
        (Corrections(send="never"), 60.0, "withheld"),
        (Corrections(send="always"), 81.1, "written_to_outbox"),
    ],
)
def test_correction_policy(
    policy: Corrections, moved_to: float, expected: str, email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path
) -> None:
    """Corrections go out always, only past the threshold, or never; a withheld one names what the recipient holds."""
    delivery = outbox_delivery(PEOPLE[:1], corrections=policy)
    (first,) = deliver_report(version(email, "v1", 81.2, {}), delivery, tmp_path / "outbox", ledger)

    (outcome,) = deliver_report(version(email, "v2", moved_to, {}), delivery, tmp_path / "outbox", ledger)

    assert (outcome.status, outcome.kind) == (expected, "correction")
    assert outcome.previous is not None and outcome.previous.message_id == first.message_id
    assert len(ledger.rows()) == (1 if expected == "withheld" else 2)


def test_dry_run_plans_without_sending(
    mailbox: tuple[Mailbox, int], email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path
) -> None:
    """A dry run says who would get what and sends nothing, records nothing."""
    box, port = mailbox

    outcomes = deliver_report(email, smtp_delivery(port), tmp_path / "outbox", ledger, dry_run=True, sleep=Sleeps())

    assert [(o.recipient, o.status, o.kind) for o in outcomes] == [(p.email, "planned", "report") for p in PEOPLE[:2]]
    assert box.mail_commands == 0
    assert ledger.rows() == []


def test_owner_alert_is_sent_once_per_key(mailbox: tuple[Mailbox, int], ledger: DeliveryLedger, tmp_path: Path) -> None:
    """An alert reaches the owner over the same transport, once per alert key, without an attachment."""
    box, port = mailbox
    delivery = smtp_delivery(port)

    first = send_alert("held:run-1", "[csat] HELD", "what is missing", delivery, tmp_path / "outbox", ledger)
    again = send_alert("held:run-1", "[csat] HELD", "what is missing", delivery, tmp_path / "outbox", ledger)

    assert (first.status, again.status) == ("sent", "already_delivered")
    ((rcpts, message, _),) = box.accepted
    assert rcpts == [OWNER.email] and message["Subject"] == "[csat] HELD"
    assert list(message.iter_attachments()) == []


def test_a_subject_that_only_just_fits_is_not_read_with_a_leading_space(ledger: DeliveryLedger, tmp_path: Path) -> None:
    """Python folds a subject of 70-odd characters right after "Subject:"; read back it began with a space."""
    from email import message_from_bytes, policy

    delivery = Delivery(
        sender="csat@example.com", owner=OWNER, recipients=[Recipient(name="CEO", email="ceo@example.com")]
    )
    subject = "[csat] HELD: run noble-bat - 6 email(s) not sent (1 problem(s) with the data)"
    outcome = send_alert("held:run-2", subject, "what is missing", delivery, tmp_path / "outbox", ledger)
    written = outcome.outbox_path.read_bytes()
    assert message_from_bytes(written, policy=policy.default)["Subject"] == subject
    assert all(len(line) <= 78 for line in written.split(b"\n")[written.split(b"\n").index(b"") :])  # body lines


# --- TLS ------------------------------------------------------------------------------


@pytest.fixture
def tls_mailbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Mailbox, int]]:
    """STARTTLS server with a self-signed certificate the client trusts through SSL_CERT_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    monkeypatch.setenv(GOOD_ENV, PASSWORD)
    monkeypatch.setenv(WRONG_ENV, "wrong-" + PASSWORD)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)

    box = Mailbox()
    controller = EphemeralController(
        box,
        hostname="127.0.0.1",
        port=0,
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
        authenticator=box.authenticate,
    )
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


def test_starttls_with_login_delivers_over_tls(
    tls_mailbox: tuple[Mailbox, int], email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path
) -> None:
    """security 'starttls' upgrades the connection (certificate verified) before logging in and sending."""
    box, port = tls_mailbox
    delivery = smtp_delivery(port, recipients=PEOPLE[:1], security="starttls", user="reports", password_env=GOOD_ENV)

    (outcome,) = deliver_report(email, delivery, tmp_path / "outbox", ledger, sleep=Sleeps())

    assert outcome.status == "sent"
    assert box.logins == [b"reports"]
    assert [tls for _, _, tls in box.accepted] == [True]


def test_rejected_login_fails_without_retry_or_password(
    tls_mailbox: tuple[Mailbox, int],
    email: ReportEmail,
    ledger: DeliveryLedger,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 535 login rejection is permanent: no retries, the error names the code, and no password is shown anywhere."""
    box, port = tls_mailbox
    delivery = smtp_delivery(port, security="starttls", user="reports", password_env=WRONG_ENV)
    sleeps = Sleeps()

    with caplog.at_level("DEBUG"), pytest.raises(DeliveryError, match="535") as caught:
        deliver_report(email, delivery, ledger.path.parent / "outbox", ledger, sleep=sleeps)

    assert sleeps == []
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in caplog.text
    assert email.body_text not in caplog.text
    assert box.accepted == []
    assert ledger.rows() == []


def test_threshold_lets_first_figures_through(email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path) -> None:
    """A small unit reaching min_n gets its first figures even under the threshold policy (a figure appeared)."""
    delivery = outbox_delivery(PEOPLE[:1], corrections=Corrections(send="threshold", threshold_pts=5))
    small = replace(
        email, fingerprint="v1", headline={"responses": {"label": "responses", "text": "22", "points": None}}
    )
    deliver_report(small, delivery, tmp_path / "outbox", ledger)

    (outcome,) = deliver_report(version(email, "v2", 81.0, {}), delivery, tmp_path / "outbox", ledger)

    assert (outcome.status, outcome.kind) == ("written_to_outbox", "correction")


def test_content_flipping_back_gets_new_message_ids(email: ReportEmail, ledger: DeliveryLedger, tmp_path: Path) -> None:
    """A -> B -> A -> B: every delivery is its own message and ledger row (none overwrites an earlier one)."""
    delivery = outbox_delivery(PEOPLE[:1])
    ids = [
        deliver_report(version(email, fingerprint, points, {}), delivery, tmp_path / "outbox", ledger)[0].message_id
        for fingerprint, points in (("A", 80.0), ("B", 79.0), ("A", 80.0), ("B", 79.0))
    ]
    assert len(set(ids)) == 4
    assert len(ledger.rows()) == 4 and len(list((tmp_path / "outbox").rglob("*.eml"))) == 4
