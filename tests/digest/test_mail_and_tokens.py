"""Signed tokens, the secret key rule, the mailers (SMTP with STARTTLS and login, console) and rendering."""

from __future__ import annotations

import io
import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from functools import partial
from pathlib import Path

import pytest
import time_machine
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from pydantic import SecretStr

from dailypapers.community.credentials import Credentials, InvalidLink, LinkPurpose
from dailypapers.config import Settings
from dailypapers.digest.periods import Frequency, daily_period
from dailypapers.digest.render import MailRenderer, Recipient, excerpt
from dailypapers.digest.selection import Chosen, Pick, Preferences
from dailypapers.digest.subscribers import InvalidSubscription, normalise_email, validate_subscription
from dailypapers.digest.tokens import InvalidToken, Purpose, Tokens
from dailypapers.errors import ConfigurationError, MailError
from dailypapers.mail import ConsoleMailer, SmtpMailer, connection, send_message
from dailypapers.signing import SECRET_FILE, InvalidSignedLink, check_serving, secret_key
from dailypapers.store.feeds import PaperCard
from tests.digest.conftest import SATURDAY, SECRET
from tests.digest.smtp import SmtpServer


def test_tokens_are_bound_to_their_purpose_key_and_secret() -> None:
    tokens = Tokens(SECRET)
    token = tokens.make(Purpose.unsubscribe, 7, "key-7", now=SATURDAY)
    assert tokens.read(Purpose.unsubscribe, token, now=SATURDAY) == (7, "key-7")
    with pytest.raises(InvalidToken):
        tokens.read(Purpose.manage, token, now=SATURDAY)
    with pytest.raises(InvalidToken):
        Tokens("some-other-secret-of-enough-length-000000").read(Purpose.unsubscribe, token, now=SATURDAY)
    payload, signature = token.split(".")
    with pytest.raises(InvalidToken):
        tokens.read(
            Purpose.unsubscribe,
            payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature,
            now=SATURDAY,
        )


def test_confirmation_links_expire_after_a_week_of_the_callers_clock_not_the_systems() -> None:
    tokens = Tokens(SECRET)
    week = timedelta(days=7)
    # The system clock stands still at the moment the link was made: only the clock passed in moves.
    with time_machine.travel(SATURDAY, tick=False):
        token = tokens.make(Purpose.confirm, 1, "k", now=SATURDAY)
        assert tokens.read(Purpose.confirm, token, now=SATURDAY + week) == (1, "k")
        with pytest.raises(InvalidToken) as caught:
            tokens.read(Purpose.confirm, token, now=SATURDAY + week + timedelta(seconds=1))
        assert caught.value.expired and str(caught.value) == "this link has expired"
    # And a system clock a month on does not expire a link that the caller's clock says is a day old.
    with time_machine.travel(SATURDAY + timedelta(days=30), tick=False):
        assert tokens.read(Purpose.confirm, token, now=SATURDAY + timedelta(days=1)) == (1, "k")


def test_a_link_from_a_clock_ahead_is_refused_beyond_a_few_minutes_of_skew() -> None:
    tokens = Tokens(SECRET)
    ahead = tokens.make(Purpose.confirm, 1, "k", now=SATURDAY + timedelta(minutes=5))
    assert tokens.read(Purpose.confirm, ahead, now=SATURDAY) == (1, "k")
    too_far = tokens.make(Purpose.confirm, 1, "k", now=SATURDAY + timedelta(minutes=5, seconds=1))
    with pytest.raises(InvalidToken) as caught:
        tokens.read(Purpose.confirm, too_far, now=SATURDAY)
    assert not caught.value.expired and str(caught.value).startswith("this link is not valid yet")
    # Once the reader's clock catches up, the link works for its whole lifetime.
    assert tokens.read(Purpose.confirm, too_far, now=SATURDAY + timedelta(days=1)) == (1, "k")


def _token_of_the_old_code(purpose: str, payload: list[object]) -> str:
    """A subscription token exactly as the code before the shared signer made it."""
    salt = "dailypapers.subscription." + purpose
    if purpose == "confirm":
        return str(URLSafeTimedSerializer(SECRET, salt=salt).dumps(payload))
    return str(URLSafeSerializer(SECRET, salt=salt).dumps(payload))


@pytest.mark.parametrize("purpose", [Purpose.manage, Purpose.unsubscribe])
def test_manage_and_unsubscribe_links_already_in_mailboxes_keep_working(purpose: Purpose) -> None:
    tokens = Tokens(SECRET)
    old = _token_of_the_old_code(purpose, [7, "key-7"])
    # Years later: these links never expire.
    assert tokens.read(purpose, old, now=SATURDAY + timedelta(days=3650)) == (7, "key-7")
    # The format is unchanged, so a link made today is the one the old code made.
    assert tokens.make(purpose, 7, "key-7", now=SATURDAY) == old
    for other in set(Purpose) - {purpose}:
        with pytest.raises(InvalidToken):
            tokens.read(other, old, now=SATURDAY)


def test_confirmation_tokens_of_the_old_format_still_read_until_they_expire() -> None:
    tokens = Tokens(SECRET)
    with time_machine.travel(SATURDAY, tick=False):  # the old format took its time from the system clock
        confirm = _token_of_the_old_code("confirm", [1, "k"])
    with time_machine.travel(SATURDAY + timedelta(days=30), tick=False):
        assert tokens.read(Purpose.confirm, confirm, now=SATURDAY + timedelta(days=7)) == (1, "k")
    late = SATURDAY + timedelta(days=7, seconds=1)
    with pytest.raises(InvalidToken) as caught:
        tokens.read(Purpose.confirm, confirm, now=late)
    assert caught.value.expired
    elsewhere = Tokens("some-other-secret-of-enough-length-000000")
    for reader, purpose in [
        (tokens, Purpose.manage),
        (tokens, Purpose.unsubscribe),
        (elsewhere, Purpose.confirm),
    ]:
        with pytest.raises(InvalidToken) as caught:
            reader.read(purpose, confirm, now=SATURDAY)
        assert not caught.value.expired


def test_every_purpose_of_link_is_refused_for_every_other() -> None:
    """Digest and account links carry payloads of one shape: only the salt of the purpose tells them apart."""
    tokens, credentials = Tokens(SECRET), Credentials(SECRET)
    readers: dict[str, Callable[[str], tuple[int, str]]] = {}
    made: dict[str, str] = {}
    for purpose in Purpose:
        made[f"digest {purpose}"] = tokens.make(purpose, 7, "key-7", now=SATURDAY)
        readers[f"digest {purpose}"] = partial(tokens.read, purpose, now=SATURDAY)
    for link_purpose in LinkPurpose:
        made[f"account {link_purpose}"] = credentials.make_link(link_purpose, 7, "key-7", now=SATURDAY)
        readers[f"account {link_purpose}"] = partial(credentials.read_link, link_purpose, now=SATURDAY)
    assert len(set(made.values())) == len(made)
    for name, read in readers.items():
        assert read(made[name]) == (7, "key-7"), name
        for other, token in made.items():
            if other != name:
                with pytest.raises(InvalidSignedLink):
                    read(token)


def test_account_links_keep_their_format() -> None:
    issued = int(SATURDAY.timestamp())
    old = URLSafeSerializer(SECRET, salt="dailypapers.account.verify").dumps([7, "ada@example.org", issued])
    credentials = Credentials(SECRET)
    assert credentials.make_link(LinkPurpose.verify, 7, "ada@example.org", now=SATURDAY) == old
    assert credentials.read_link(LinkPurpose.verify, old, now=SATURDAY + timedelta(days=3)) == (
        7,
        "ada@example.org",
    )
    with pytest.raises(InvalidLink) as caught:
        credentials.read_link(LinkPurpose.verify, old, now=SATURDAY + timedelta(days=3, seconds=1))
    assert caught.value.expired


@pytest.mark.parametrize("weak", ["", "changeme", "secret", "short-but-not-a-placeholder", "a" * 40])
def test_weak_secrets_are_refused_in_production_and_for_real_mail(tmp_path: Path, weak: str) -> None:
    production = Settings(data_dir=tmp_path, environment="production", secret_key=SecretStr(weak))
    with pytest.raises(ConfigurationError, match="DAILYPAPERS_SECRET_KEY"):
        secret_key(production, public=False)
    development = Settings(data_dir=tmp_path, secret_key=SecretStr(weak), smtp_host="mail.example.org")
    with pytest.raises(ConfigurationError, match="DAILYPAPERS_SECRET_KEY"):
        secret_key(development, public=True)
    with pytest.raises(ConfigurationError):
        check_serving(development, "0.0.0.0")
    # Mail that goes out needs the strong key on loopback too, before any worker starts.
    with pytest.raises(ConfigurationError, match="DAILYPAPERS_SECRET_KEY"):
        check_serving(development, "127.0.0.1")


def test_local_use_generates_and_keeps_a_secret_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = secret_key(settings, public=False)
    assert len(first) >= 32 and secret_key(settings, public=False) == first
    stored = settings.data_dir / SECRET_FILE
    assert stored.read_text().strip() == first and stored.stat().st_mode & 0o077 == 0
    check_serving(settings, "127.0.0.1")  # loopback: fine
    strong = Settings(data_dir=tmp_path, environment="production", secret_key=SecretStr(SECRET))
    assert secret_key(strong, public=True) == SECRET


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("  Ada@Example.ORG ", "ada@example.org"), ("ada@bücher.example", "ada@xn--bcher-kva.example")],
)
def test_addresses_are_normalised(raw: str, clean: str) -> None:
    assert normalise_email(raw) == clean


@pytest.mark.parametrize(
    "bad", ["", "ada", "ada@", "@example.org", "a b@example.org", "ada@localhost", "ad\na@x.org"]
)
def test_bad_addresses_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        normalise_email(bad)


def test_validation_reports_every_problem_at_once() -> None:
    with pytest.raises(InvalidSubscription) as caught:
        validate_subscription(
            email="x", frequency="hourly", max_papers="0", keywords=["k" * 61], timezone="Nowhere"
        )
    assert set(caught.value.problems) == {"email", "frequency", "max_papers", "keywords", "timezone"}


def card(paper_id: str, title: str, authors: list[str]) -> PaperCard:
    return PaperCard(
        id=paper_id,
        title=title,
        abstract="First sentence about <b>tags</b> & things. " + "Second sentence. " * 40,
        authors=authors,
        categories=["cs.CL"],
        code_urls=[],
        project_url=None,
        published_at=None,
    )


def render(settings: Settings, *, name: str | None = None, title: str = "A title") -> EmailMessage:
    recipient = Recipient(1, "reader@example.org", name, "key", Frequency.daily, Preferences())
    chosen = Chosen([Pick(card("2606.00001", title, ["Émile Zola", "李雷"]), ("in cs.CL",), None)])
    mail = MailRenderer(settings, Tokens(SECRET)).digest(
        recipient, daily_period(SATURDAY.date()), chosen, now=SATURDAY
    )
    parsed = message_from_bytes(mail.message, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_non_ascii_names_are_encoded_and_text_is_escaped_in_html(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, base_url="https://papers.example.org")
    message = render(settings, name='Zoë "Q" Ångström, PhD', title="<script>alert('x')</script> & more")
    raw = message.as_bytes()
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0] or b"=?utf-8?" in raw.split(b"\n\n")[0]
    assert message["To"].addresses[0] == Address('Zoë "Q" Ångström, PhD', "reader", "example.org")
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;tags" in html
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "<script>alert('x')</script> & more" in text and "李雷" in text
    for line in message.as_bytes(policy=policy.SMTP).split(b"\r\n"):
        assert len(line) <= 998


def test_header_injection_through_a_name_is_impossible(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render(Settings(data_dir=tmp_path), name="Eve\r\nBcc: everyone@example.org")


def test_excerpts_end_at_a_sentence_or_a_word() -> None:
    text = "One short sentence. " * 30
    assert excerpt(text).endswith("sentence.") and len(excerpt(text)) <= 320
    words = "word " * 200
    assert excerpt(words).endswith(" …")


# -- mailers ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    server = SmtpServer(users={"digest": "s3cret"}, starttls=context).start()
    yield server
    server.stop()


def test_smtp_with_starttls_and_login(tls_server: SmtpServer, certificate: tuple[Path, Path]) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    message = EmailMessage()
    message["From"] = "Daily Papers <digest@papers.example.org>"
    message["To"] = "ada@example.org"
    message["Subject"] = "Vérification"
    message.set_content("Hello")
    mailer = SmtpMailer(
        "127.0.0.1", tls_server.port, security="starttls", user="digest", password="s3cret", ssl_context=trust
    )
    send_message(mailer, message)
    (received,) = tls_server.sink.messages()
    assert received["Subject"] == "Vérification"

    wrong = SmtpMailer(
        "127.0.0.1", tls_server.port, security="starttls", user="digest", password="nope", ssl_context=trust
    )
    with pytest.raises(MailError) as refused:
        send_message(wrong, message)
    assert refused.value.stage == "auth" and refused.value.permanent
    untrusted = SmtpMailer(
        "127.0.0.1", tls_server.port, security="starttls", user="digest", password="s3cret"
    )
    with pytest.raises(MailError) as unverified:
        send_message(untrusted, message)  # a self-signed certificate is not trusted by default
    assert unverified.value.stage == "connect"


def test_console_mailer_prints_the_mail(tmp_path: Path) -> None:
    out = io.StringIO()
    message = render(Settings(data_dir=tmp_path, base_url="https://papers.example.org"))
    with connection(ConsoleMailer(out)) as console:
        console.send(message.as_bytes(), sender="digest@example.org", recipients=["reader@example.org"])
    printed = out.getvalue()
    assert (
        "not sent: no SMTP host" in printed and "Why: in cs.CL" in printed and "List-Unsubscribe:" in printed
    )
