"""A real SMTP server on loopback (aiosmtpd) that records what it accepts and can misbehave on cue.

Faults are keyed by command and by how many times that command was seen (from 0): ``("data", 2)``
is the third message's end of data. A fault is one of

* ``"drop"``: close the connection without answering (the message is not kept);
* ``"keep-and-drop"`` (end of data only): keep the message, then close without answering, as a server
  that crashed right after queueing it would;
* ``"421"``: answer 421 and close, as a server shutting down does (not kept);
* ``("4xx", text)`` / ``("5xx", text)``: answer with that reply (not kept);
* ``("slow", seconds)``: wait that long, then go on normally.

Recipients in ``refuse`` are answered ``550`` at RCPT.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from dailypapers.config import Settings
from tests.loopback import free_port

Fault = str | tuple[str, Any]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class MailSink:
    """The server's state: what it received, and the faults it will inject."""

    received: list[Received] = field(default_factory=list)
    faults: dict[tuple[str, int], Fault] = field(default_factory=dict)
    refuse: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [r.message for r in self.received]

    def by_recipient(self) -> dict[str, list[EmailMessage]]:
        result: dict[str, list[EmailMessage]] = {}
        with self.lock:
            for item in self.received:
                for rcpt in item.rcpt_tos:
                    result.setdefault(rcpt, []).append(item.message)
        return result

    def _next(self, command: str) -> Fault | None:
        with self.lock:
            n = self.counts.get(command, 0)
            self.counts[command] = n + 1
            return self.faults.get((command, n))


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def _fault(self, server: Any, command: str) -> str | None:
        fault = self.sink._next(command)
        if fault is None:
            return None
        if fault == "drop":
            server.transport.close()
            return "421 4.4.2 gone"  # never reaches the client: the connection is closed
        if fault == "421":
            asyncio.get_running_loop().call_later(0.05, server.transport.close)
            return "421 4.3.2 Service shutting down, closing channel"
        assert isinstance(fault, tuple)
        kind, value = fault
        if kind == "slow":
            await asyncio.sleep(float(value))
            return None
        return str(value)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = await self._fault(server, "mail")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = await self._fault(server, "rcpt")
        if reply:
            return reply
        if address in self.sink.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.sink.lock:
            keep_and_drop = self.sink.faults.get(("data", self.sink.counts.get("data", 0))) == "keep-and-drop"
        if keep_and_drop:
            self.sink._next("data")
            self._keep(envelope)
            server.transport.close()
            return "250 2.0.0 OK: queued"  # never reaches the client
        reply = await self._fault(server, "data")
        if reply:
            return reply
        self._keep(envelope)
        return "250 2.0.0 OK: queued"

    def _keep(self, envelope: Any) -> None:
        with self.sink.lock:
            self.sink.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )


class SmtpServer:
    """aiosmtpd in a thread on 127.0.0.1; ``users`` turns on AUTH, ``tls`` STARTTLS or implicit TLS."""

    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.sink = MailSink()
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if users is not None:

            def authenticate(
                server: Any, session: Any, envelope: Any, mechanism: str, data: Any
            ) -> AuthResult:
                ok = (
                    isinstance(data, LoginPassword)
                    and users.get(data.login.decode()) == data.password.decode()
                )
                # handled=False: aiosmtpd then answers 535 itself (its default is to say nothing).
                return AuthResult(success=ok, handled=False)

            kwargs.update(authenticator=authenticate, auth_require_tls=starttls is not None)
        if starttls is not None:
            kwargs.update(tls_context=starttls, require_starttls=True)
        if implicit_tls is not None:
            kwargs.update(ssl_context=implicit_tls)
        self.controller = Controller(_Handler(self.sink), hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def settings_for(
        self, settings: Settings, *, secret: str, timeout: float = 5.0, **extra: Any
    ) -> Settings:
        """``settings`` that send mail here in plain SMTP, signing links with ``secret``."""
        return settings.model_copy(
            update={
                "secret_key": SecretStr(secret),
                "smtp_host": "127.0.0.1",
                "smtp_port": self.port,
                "smtp_security": "none",
                "smtp_timeout_seconds": timeout,
                **extra,
            }
        )
