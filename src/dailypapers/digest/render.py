"""Mails from Jinja2 templates: a digest, a confirmation request, a "manage your subscription" note.

Every mail is ``multipart/alternative`` with a plain-text part first and an HTML part second (clients
show the last part they understand). The HTML is made for mail clients, not browsers: a table layout,
inline styles only, no images, no remote resources, no scripts, and text escaped by Jinja's autoescape.
Both parts are quoted-printable, so the mail is 7-bit clean for any relay while non-ASCII text survives.

Headers are set through :class:`email.message.EmailMessage` with the default policy, which encodes
non-ASCII display names and subjects as RFC 2047 words and refuses line breaks in header values
(header injection). One-click unsubscribe follows RFC 8058: an https ``List-Unsubscribe`` URL and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``.
"""

from __future__ import annotations

import binascii
import secrets
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2

from dailypapers.config import Settings
from dailypapers.digest.periods import Frequency, Period
from dailypapers.digest.selection import Chosen, Preferences, Selection
from dailypapers.digest.tokens import Purpose, Tokens
from dailypapers.mail import envelope_address
from dailypapers.store.feeds import PaperCard

SITE_NAME = "Daily Papers"
TEMPLATES_DIR = Path(str(files("dailypapers.digest") / "templates"))
EXCERPT_CHARS = 320
AUTHORS_SHOWN = 4
# Headers are folded at whitespace up to RFC 5322's 998-character limit rather than at 78: the email
# package turns a long unbreakable value (the List-Unsubscribe URL) into RFC 2047 encoded words when it
# must fold it, and no mail client would then read the URL.
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a mail is for, and the key their links are signed with."""

    subscription_id: int
    email: str
    name: str | None
    token_key: str
    frequency: Frequency
    preferences: Preferences


@dataclass(frozen=True, slots=True)
class RenderedMail:
    message: bytes
    message_id: str
    recipient: str
    subject: str


def paper_url(base_url: str, paper_id: str) -> str:
    """The page of a paper; old-style ids keep their slash (``/papers/hep-th/9901001``), as on the site."""
    return f"{base_url}/papers/{quote(paper_id, safe='/')}"


def feed_url(base_url: str, period: Period) -> str:
    if period.frequency is Frequency.daily:
        return f"{base_url}/date/{period.last.isoformat()}"
    return f"{base_url}/week/{period.key}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first sentences of an abstract, cut at a sentence end (or a word) before ``limit``."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    head = flat[: limit + 1]
    sentence_end = max(head.rfind(". "), head.rfind("? "), head.rfind("! "))
    if sentence_end >= limit // 2:
        return head[: sentence_end + 1]
    return head[: head.rfind(" ")].rstrip(",;:") + " …"


def short_authors(authors: Sequence[str], shown: int = AUTHORS_SHOWN) -> str:
    names = [" ".join(a.split()) for a in authors if a.strip()]
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def selection_label(preferences: Preferences) -> str:
    what = "trending papers" if preferences.selection is Selection.trending else "new papers"
    if preferences.categories:
        what += " in " + ", ".join(preferences.categories)
    if preferences.keywords:
        what += " about " + ", ".join(f"“{k}”" for k in preferences.keywords)
    return what


def mail_domain(settings: Settings) -> str:
    address = envelope_address(settings.mail_from)
    return address.rsplit("@", 1)[1] if "@" in address else "localhost"


def list_id(settings: Settings) -> str:
    host = urlsplit(settings.base_url).hostname or "localhost"
    return f"{SITE_NAME} digest <digest.{host}>"


def new_message_id(settings: Settings, kind: str) -> str:
    return f"<{kind}.{secrets.token_hex(12)}@{mail_domain(settings)}>"


class MailRenderer:
    """Renders the mails of one installation; templates are compiled once and reused."""

    def __init__(self, settings: Settings, tokens: Tokens) -> None:
        self.settings = settings
        self.tokens = tokens
        self.base_url = settings.base_url
        loader = jinja2.FileSystemLoader(TEMPLATES_DIR)
        common: dict[str, Any] = {
            "loader": loader,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "undefined": jinja2.StrictUndefined,
            "auto_reload": False,
        }
        self.html = jinja2.Environment(autoescape=True, **common)
        self.text = jinja2.Environment(autoescape=False, keep_trailing_newline=True, **common)
        for env in (self.html, self.text):
            env.globals.update(site_name=SITE_NAME, base_url=self.base_url)
        self.list_id = list_id(settings)
        common_headers = [("From", settings.mail_from), ("Auto-Submitted", "auto-generated")]
        self._plain_headers = _fixed_headers(common_headers)
        self._list_headers = _fixed_headers(
            [
                *common_headers,
                ("List-Id", self.list_id),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ]
        )
        self._last_date: tuple[datetime | None, str] = (None, "")
        self._papers: dict[str, dict[str, str]] = {}

    # -- links -------------------------------------------------------------------------------------

    def link(self, purpose: Purpose, recipient: Recipient, *, now: datetime) -> str:
        token = self.tokens.make(purpose, recipient.subscription_id, recipient.token_key, now=now)
        path = {
            Purpose.confirm: "confirm",
            Purpose.manage: "manage",
            Purpose.unsubscribe: "unsubscribe",
        }[purpose]
        return f"{self.base_url}/subscriptions/{path}/{token}"

    # -- mails -------------------------------------------------------------------------------------

    def digest(
        self, recipient: Recipient, period: Period, chosen: Chosen, *, now: datetime, preview: bool = False
    ) -> RenderedMail:
        """The digest of ``period`` with the chosen papers (there is at least one)."""
        preferences = recipient.preferences
        count = len(chosen.picks)
        kind = "trending" if preferences.selection is Selection.trending else "new"
        noun = "paper" if count == 1 else "papers"
        if period.frequency is Frequency.daily:
            subject = f"{count} {kind} {noun} of {period.label}"
            heading = f"{kind.capitalize()} papers of {period.label}"
        else:
            subject = f"{count} {kind} {noun} of {period.label}"
            heading = f"{kind.capitalize()} papers of {period.label}"
        picks = [{**self._paper(pick.card), "reasons": list(pick.reasons)} for pick in chosen.picks]
        unsubscribe_url = self.link(Purpose.unsubscribe, recipient, now=now)
        context = {
            "subject": subject,
            "heading": heading,
            "intro": self._intro(count, chosen.more, preferences, period),
            "picks": picks,
            "more": chosen.more,
            "more_url": feed_url(self.base_url, period),
            "frequency": recipient.frequency.value,
            "selection_label": selection_label(preferences),
            "email": recipient.email,
            "manage_url": self.link(Purpose.manage, recipient, now=now),
            "unsubscribe_url": unsubscribe_url,
        }
        return self._mail(
            "digest",
            context,
            recipient=recipient,
            subject=f"{SITE_NAME}: {subject}",
            now=now,
            unsubscribe_url=unsubscribe_url,
        )

    def confirmation(self, recipient: Recipient, *, now: datetime) -> RenderedMail:
        context = {
            "subject": f"Confirm your subscription to {SITE_NAME}",
            "frequency": recipient.frequency.value,
            "selection_label": selection_label(recipient.preferences),
            "email": recipient.email,
            "confirm_url": self.link(Purpose.confirm, recipient, now=now),
        }
        # No List-Unsubscribe: there is nothing to leave yet, and ignoring the mail is enough.
        return self._mail("confirm", context, recipient=recipient, subject=context["subject"], now=now)

    def manage_note(self, recipient: Recipient, *, now: datetime) -> RenderedMail:
        unsubscribe_url = self.link(Purpose.unsubscribe, recipient, now=now)
        context = {
            "subject": f"Your subscription to {SITE_NAME}",
            "frequency": recipient.frequency.value,
            "selection_label": selection_label(recipient.preferences),
            "email": recipient.email,
            "manage_url": self.link(Purpose.manage, recipient, now=now),
            "unsubscribe_url": unsubscribe_url,
        }
        return self._mail(
            "manage",
            context,
            recipient=recipient,
            subject=context["subject"],
            now=now,
            unsubscribe_url=unsubscribe_url,
        )

    def _paper(self, card: PaperCard) -> dict[str, str]:
        """What a digest shows of a paper, worked out once per paper (most digests share their papers)."""
        cached = self._papers.get(card.id)
        if cached is None:
            if len(self._papers) > 20_000:
                self._papers.clear()
            short = excerpt(card.abstract)
            wrapped = textwrap.fill(
                short,
                width=72,
                initial_indent="   ",
                subsequent_indent="   ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            cached = {
                "title": " ".join(card.title.split()),
                "url": paper_url(self.base_url, card.id),
                "authors": short_authors(card.authors),
                "excerpt": short,
                "excerpt_wrapped": wrapped,
            }
            self._papers[card.id] = cached
        return cached

    def _intro(self, count: int, more: int, preferences: Preferences, period: Period) -> str:
        shown = f"{count} paper{'s' if count != 1 else ''}"
        what = selection_label(preferences)
        text = f"{shown} from the {SITE_NAME} feed of {period.label}: {what}."
        if more:
            text += f" {more} more on the site."
        return text

    def _mail(
        self,
        template: str,
        context: dict[str, Any],
        *,
        recipient: Recipient,
        subject: str,
        now: datetime,
        unsubscribe_url: str | None = None,
    ) -> RenderedMail:
        text = self.text.get_template(f"mail/{template}.txt").render(context)
        html = self.html.get_template(f"mail/{template}.html").render(context)
        message_id = new_message_id(self.settings, template)
        varying = self._varying_headers(recipient, subject, self._date(now), message_id, unsubscribe_url)
        fixed = self._list_headers if unsubscribe_url is not None else self._plain_headers
        boundary = f"=_dp_{secrets.token_hex(12)}"
        message = b"".join(
            (
                fixed,
                varying,
                b"MIME-Version: 1.0\r\n",
                f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(),
                _part(boundary, "plain", text),
                _part(boundary, "html", html),
                f"--{boundary}--\r\n".encode(),
            )
        )
        return RenderedMail(
            message=message, message_id=message_id, recipient=recipient.email, subject=subject
        )

    @staticmethod
    def _varying_headers(
        recipient: Recipient, subject: str, date: str, message_id: str, unsubscribe_url: str | None
    ) -> bytes:
        """To, Subject, Date, Message-ID and List-Unsubscribe, as header lines ending in CRLF.

        A value that is printable ASCII is written as it is (a name through ``formataddr``, which quotes
        what needs quoting). Anything else, such as a name with non-ASCII letters, goes through
        EmailMessage and the default policy, which encodes it (RFC 2047) and refuses line breaks.
        """
        lines: list[str] = []
        special = EmailMessage(policy=policy.default)
        name = recipient.name or ""
        if _plain(name):
            lines.append(f"To: {formataddr((name, recipient.email))}")
        else:
            local, _, domain = recipient.email.rpartition("@")
            special["To"] = Address(display_name=name, username=local, domain=domain)
        if _plain(subject):
            lines.append(f"Subject: {subject}")
        else:
            special["Subject"] = subject
        for header, value in (("Date", date), ("Message-ID", message_id)):
            if not _plain(value):
                raise ValueError(f"{header} must be printable ASCII: {value!r}")
            lines.append(f"{header}: {value}")
        if unsubscribe_url is not None:
            if not _plain(unsubscribe_url):
                raise ValueError(f"the unsubscribe URL must be printable ASCII: {unsubscribe_url!r}")
            lines.append(f"List-Unsubscribe: <{unsubscribe_url}>")
        encoded = ("\r\n".join(lines) + "\r\n").encode("ascii")
        if len(special):
            encoded = special.as_bytes(policy=WIRE_POLICY).rstrip(b"\r\n") + b"\r\n" + encoded
        return encoded

    def _date(self, now: datetime) -> str:
        if self._last_date[0] != now:
            self._last_date = (now, format_datetime(now))
        return self._last_date[1]


def _plain(value: str) -> bool:
    return value.isascii() and value.isprintable() and len(value) < 900


def _fixed_headers(values: list[tuple[str, str]]) -> bytes:
    headers = EmailMessage(policy=policy.default)
    for name, value in values:
        headers[name] = value
    return headers.as_bytes(policy=WIRE_POLICY).rstrip(b"\r\n") + b"\r\n"


def _part(boundary: str, subtype: str, text: str) -> bytes:
    """One text part, quoted-printable (binascii's C codec: 76-character lines, soft breaks)."""
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    return b"".join(
        (
            f"--{boundary}\r\n".encode(),
            f'Content-Type: text/{subtype}; charset="utf-8"\r\n'.encode(),
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
            encoded,
            b"" if encoded.endswith(b"\r\n") else b"\r\n",
        )
    )


__all__ = [
    "SITE_NAME",
    "MailRenderer",
    "Recipient",
    "RenderedMail",
    "excerpt",
    "feed_url",
    "list_id",
    "paper_url",
    "selection_label",
    "short_authors",
]
