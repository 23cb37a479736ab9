"""Sending mail: a small :class:`Mailer` interface, an SMTP mailer, and a console mailer for development.

Digests use it through the outbox (:mod:`dailypapers.digest.delivery`); account mails (verification,
password reset) can use :func:`send_message` directly. A mailer opens a :class:`MailConnection`, which
sends already-rendered messages (bytes) until it is closed, so a batch reuses one SMTP session.

The SMTP connection runs the mail transaction one command at a time (MAIL, RCPT, DATA, then the message)
instead of calling ``smtplib.SMTP.sendmail``, so that a failure says at which step it happened. That is
what tells a safe retry from an unsafe one: a connection lost before the message was complete cannot have
delivered it, while one lost while waiting for the final reply may have (:attr:`MailError.outcome_unknown`).
The final reply is awaited for up to 10 minutes, the time RFC 5321 (4.5.3.2.6) gives servers, because
giving up early on a slow server is exactly how a second copy is produced.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Protocol, TextIO

from dailypapers.config import Settings
from dailypapers.errors import MailError

DATA_REPLY_TIMEOUT_SECONDS = 600.0
_LINE_END = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


class MailConnection(Protocol):
    """An open session with a mail server; ``send`` raises :class:`MailError` when a mail is not accepted."""

    def send(self, message: bytes, *, sender: str, recipients: Sequence[str]) -> None: ...

    def close(self) -> None: ...


class Mailer(Protocol):
    """Something that can open connections for sending mail."""

    description: str

    def connect(self) -> MailConnection: ...


def envelope_address(header_value: str) -> str:
    """The bare address of a ``Name <address>`` header value (for MAIL FROM and RCPT TO)."""
    return parseaddr(header_value)[1]


@contextmanager
def connection(mailer: Mailer) -> Iterator[MailConnection]:
    opened = mailer.connect()
    try:
        yield opened
    finally:
        opened.close()


def send_message(mailer: Mailer, message: EmailMessage) -> None:
    """Send one message now, to the addresses of its To, Cc and Bcc headers (Bcc is not transmitted)."""
    recipients = [
        address
        for _, address in getaddresses(
            [str(value) for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
        )
        if address
    ]
    sender = envelope_address(str(message["From"]))
    del message["Bcc"]
    with connection(mailer) as opened:
        opened.send(message.as_bytes(policy=policy.SMTP), sender=sender, recipients=recipients)


# -- SMTP ------------------------------------------------------------------------------------------


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _data_payload(message: bytes) -> bytes:
    """The message as sent after DATA: CRLF line ends, leading dots doubled, ended by ``CRLF.CRLF``."""
    data = _LEADING_DOT.sub(b"..", _LINE_END.sub(b"\r\n", message))
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class SmtpConnection:
    """One SMTP session. After a 421 reply or a lost connection it is ``broken`` and must be replaced."""

    def __init__(self, smtp: smtplib.SMTP, *, server: str, timeout: float, data_timeout: float) -> None:
        self.smtp = smtp
        self.server = server
        self.timeout = timeout
        self.data_timeout = data_timeout
        self.broken = False

    def send(self, message: bytes, *, sender: str, recipients: Sequence[str]) -> None:
        if self.broken:
            raise MailError(f"the connection to {self.server} is closed", stage="connect")
        if not recipients:
            raise MailError("a mail needs at least one recipient", stage="recipient", permanent=True)
        stage = "sender"
        try:
            code, reply = self.smtp.mail(sender)
            if code != 250:
                self._refused(stage, code, reply)
            stage = "recipient"
            for recipient in recipients:
                code, reply = self.smtp.rcpt(recipient)
                if code not in (250, 251):
                    self._refused(stage, code, reply, about=recipient)
            stage = "data"
            code, reply = self.smtp.docmd("DATA")
            if code != 354:
                self._refused(stage, code, reply)
            stage = "reply"
            self._set_timeout(self.data_timeout)
            self.smtp.send(_data_payload(message))
            code, reply = self.smtp.getreply()
            self._set_timeout(self.timeout)
            if code != 250:
                self._refused(stage, code, reply)
        except MailError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self.broken = True
            self.close()
            unknown = stage == "reply"
            raise MailError(
                f"lost the connection to {self.server} while sending ({stage}): {exc}"
                + ("; the server may have accepted the mail" if unknown else ""),
                stage=stage,
                outcome_unknown=unknown,
            ) from exc

    def _set_timeout(self, seconds: float) -> None:
        if self.smtp.sock is not None:
            self.smtp.sock.settimeout(seconds)

    def _refused(self, stage: str, code: int, reply: bytes | str, *, about: str = "") -> None:
        if code == 421 or code == -1:
            # 421: the server is closing the session; anything sent now would be lost.
            self.broken = True
            self.close()
        else:
            try:
                self.smtp.rset()  # end the failed transaction so the next mail starts clean
            except (smtplib.SMTPException, OSError):
                self.broken = True
                self.close()
        target = f" for {about}" if about else ""
        raise MailError(
            f"{self.server} refused the mail{target} at {stage}: {code} {_reply_text(reply)}",
            stage=stage,
            code=code,
            permanent=500 <= code < 600,
        )

    def close(self) -> None:
        if not self.broken:
            with suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
        with suppress(OSError):
            self.smtp.close()


class SmtpMailer:
    """Mail through an SMTP server, with TLS from the start, STARTTLS, or neither, and optional login."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "starttls",
        user: str = "",
        password: str = "",
        timeout: float = 30.0,
        data_timeout: float = DATA_REPLY_TIMEOUT_SECONDS,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in {"none", "starttls", "tls"}:
            raise ValueError(f"security must be none, starttls or tls, not {security!r}")
        self.host = host
        self.port = port
        self.security = security
        self.user = user
        self.password = password
        self.timeout = timeout
        self.data_timeout = max(data_timeout, timeout)
        self.ssl_context = ssl_context
        self.local_hostname = local_hostname
        self.description = f"SMTP {host}:{port} ({security})"

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: object) -> SmtpMailer:
        return cls(
            settings.smtp_host,
            settings.resolved_smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value(),
            timeout=settings.smtp_timeout_seconds,
            **kwargs,  # type: ignore[arg-type]
        )

    def _context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def connect(self) -> SmtpConnection:
        server = f"{self.host}:{self.port}"
        smtp: smtplib.SMTP | None = None
        stage = "connect"
        try:
            if self.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    context=self._context(),
                    local_hostname=self.local_hostname,
                )
            else:
                smtp = smtplib.SMTP(
                    self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname
                )
            smtp.ehlo()
            if self.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise MailError(
                        f"{server} does not offer STARTTLS; set DAILYPAPERS_SMTP_SECURITY to tls or none",
                        stage=stage,
                        permanent=True,
                    )
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if self.user:
                stage = "auth"
                smtp.login(self.user, self.password)
        except MailError:
            if smtp is not None:
                smtp.close()
            raise
        except smtplib.SMTPAuthenticationError as exc:
            if smtp is not None:
                smtp.close()
            raise MailError(
                f"{server} refused the login of {self.user!r}: {exc.smtp_code} {_reply_text(exc.smtp_error)}"
                " (check DAILYPAPERS_SMTP_USER and DAILYPAPERS_SMTP_PASSWORD)",
                stage="auth",
                code=exc.smtp_code,
                permanent=True,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            if smtp is not None:
                smtp.close()
            code = getattr(exc, "smtp_code", None)
            raise MailError(
                f"cannot open an SMTP session with {server}: {exc}",
                stage=stage,
                code=code,
                permanent=False,
            ) from exc
        return SmtpConnection(smtp, server=server, timeout=self.timeout, data_timeout=self.data_timeout)


# -- console ---------------------------------------------------------------------------------------


class ConsoleConnection:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def send(self, message: bytes, *, sender: str, recipients: Sequence[str]) -> None:
        parsed = message_from_bytes(message, policy=policy.default)
        lines = [f"----- mail from {sender} to {', '.join(recipients)} (not sent: no SMTP host) -----"]
        for name in ("Subject", "Date", "Message-ID", "List-Unsubscribe"):
            if parsed[name] is not None:
                lines.append(f"{name}: {parsed[name]}")
        body = parsed.get_body(preferencelist=("plain",)) if isinstance(parsed, EmailMessage) else None
        text = body.get_content() if body is not None else parsed.get_payload()
        lines += ["", str(text).rstrip(), "----- end of mail -----", ""]
        self.stream.write("\n".join(lines))
        self.stream.flush()

    def close(self) -> None:
        pass


class ConsoleMailer:
    """Prints each mail (headers and plain-text part) instead of sending it: for development."""

    description = "the console (no SMTP host set)"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def connect(self) -> ConsoleConnection:
        return ConsoleConnection(self.stream or sys.stdout)


def make_mailer(settings: Settings) -> Mailer:
    """SMTP when ``DAILYPAPERS_SMTP_HOST`` is set, the console otherwise."""
    if settings.smtp_host:
        return SmtpMailer.from_settings(settings)
    return ConsoleMailer()


__all__ = [
    "DATA_REPLY_TIMEOUT_SECONDS",
    "ConsoleMailer",
    "MailConnection",
    "Mailer",
    "SmtpConnection",
    "SmtpMailer",
    "connection",
    "envelope_address",
    "make_mailer",
    "send_message",
]
