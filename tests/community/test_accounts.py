"""Accounts end to end: sign up, confirm the address by the mailed link, log in and out, sessions,
password resets and changes, and the throttling of wrong passwords.

Mails go through a real SMTP server on loopback; only the clock is the test's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.community.passwords import password_problem
from dailypapers.config import Settings
from dailypapers.models import LoginThrottle, User, UserSession
from dailypapers.web.app import create_app
from dailypapers.web.auth import SESSION_COOKIE
from tests.community.support import PASSWORD, Clock, app_client, form_fields, log_in, make_user
from tests.digest.smtp import SmtpServer
from tests.web.pagecheck import assert_page_hygiene, parse, text_of

SECRET = "community-tests-secret-0123456789-abcdefghijkl"


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpServer) -> Settings:
    return smtp.settings_for(settings, secret=SECRET, mail_from="Daily Papers <accounts@papers.example.org>")


@pytest.fixture
def mail_client(mail_settings: Settings, papers: sessionmaker[Session], clock: Clock) -> Iterator[TestClient]:
    with app_client(mail_settings, clock) as client:
        yield client


def link_in_last_mail(smtp: SmtpServer, to: str, path: str) -> str:
    mails = [m for m in smtp.sink.messages() if m["To"] == to]
    assert mails, f"no mail to {to}"
    body = mails[-1].get_body(preferencelist=("plain",)).get_content()
    found = re.search(rf"https?://\S+({path}/\S+)", body)
    assert found, body
    return found.group(1)


def sign_up(
    client: TestClient, username: str, email: str, password: str = PASSWORD, again: str | None = None
):  # type: ignore[no-untyped-def]
    fields = form_fields(client.get("/signup").text, "/signup")
    fields.update(username=username, email=email, password=password, password_again=again or password)
    return client.post("/signup", data=fields, follow_redirects=False)


# -- the password policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "refused"),
    [
        ("short1!", True),  # under 10 characters
        ("1234567890", True),  # a most common password
        ("password123!", True),  # a common password with digits and punctuation added
        ("qwertyuiop", True),
        ("aaaaaaaaaaaaaaa", True),  # one character repeated
        ("ada_lovelace", True),  # the user name
        ("ada_lovelace2026", True),  # the user name with a few characters added
        ("ada.lovelace@example.org", True),  # the mail address
        ("correct horse battery staple", True),  # famous, so among the first guesses
        ("lantern orange quietly drifting", False),  # a passphrase
        ("Tr0ub4dor&3-plus", False),
    ],
)
def test_password_policy(password: str, refused: bool) -> None:
    problem = password_problem(password, username="ada_lovelace", email="ada.lovelace@example.org")
    assert (problem is not None) is refused, problem


def test_sign_up_refuses_weak_passwords_and_taken_names(
    client: TestClient, papers: sessionmaker[Session]
) -> None:
    make_user(papers, "grace")
    response = sign_up(client, "grace", "grace2@example.org")
    assert response.status_code == 400
    assert "This name is taken" in response.text
    response = sign_up(client, "alan", "alan@example.org", password="password123")
    assert response.status_code == 400 and "most common passwords" in response.text
    response = sign_up(client, "alan", "alan@example.org", again="something else entirely")
    assert response.status_code == 400 and "not the same" in response.text
    response = sign_up(client, "al", "not-an-address")
    tree = parse(response)
    assert_page_hygiene(tree)
    problems = [text_of(li) for li in tree.xpath("//ul[@class='problems']/li")]
    assert len(problems) == 2
    assert tree.xpath("//input[@name='username']")[0].get("aria-invalid") == "true"
    with papers() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_sign_up_verify_by_mail_and_log_in_again(
    mail_client: TestClient, smtp: SmtpServer, papers: sessionmaker[Session]
) -> None:
    response = sign_up(mail_client, "ada", "Ada@Example.org")
    # The answer does not log in: it is the same whether or not the address had an account.
    assert response.status_code == 200 and "Check your inbox" in response.text
    assert SESSION_COOKIE not in mail_client.cookies
    response = log_in(mail_client, "ada")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    account = mail_client.get("/account")
    assert "not confirmed" in account.text
    # Unconfirmed accounts cannot vote yet.
    paper = mail_client.get("/papers/2607.23193")
    vote = form_fields(paper.text, "/papers/2607.23193/upvote")
    assert mail_client.post("/papers/2607.23193/upvote", data=vote).status_code == 403

    link = link_in_last_mail(smtp, "ada@example.org", "/verify")
    page = mail_client.get(link)
    assert page.status_code == 200
    confirmed = mail_client.post(link, data=form_fields(page.text, link), follow_redirects=False)
    assert confirmed.headers["location"] == "/account?verified=1"
    assert "confirmed" in mail_client.get("/account?verified=1").text
    assert mail_client.post("/papers/2607.23193/upvote", data=vote, follow_redirects=False).status_code == 303

    logout = form_fields(mail_client.get("/account").text, "/logout")
    assert mail_client.post("/logout", data=logout, follow_redirects=False).status_code == 303
    assert mail_client.get("/account", follow_redirects=False).status_code == 303
    assert log_in(mail_client, "ada@example.org").headers["location"] == "/"
    assert log_in(mail_client, "ADA").status_code == 303  # names are case-insensitive


def test_a_verification_link_for_another_address_or_expired_fails(
    mail_client: TestClient, smtp: SmtpServer, clock: Clock
) -> None:
    sign_up(mail_client, "ada", "ada@example.org")
    link = link_in_last_mail(smtp, "ada@example.org", "/verify")
    forged = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    assert mail_client.get(forged).status_code == 400
    clock.advance(days=4)
    assert mail_client.get(link).status_code == 410


# -- sessions ---------------------------------------------------------------------------------------


def test_session_fixation_fails(client: TestClient, papers: sessionmaker[Session], clock: Clock) -> None:
    make_user(papers, "ada")
    make_user(papers, "mallory")
    # Mallory logs in and plants her own valid session cookie in Ada's browser...
    assert log_in(client, "mallory").status_code == 303
    planted = client.cookies[SESSION_COOKIE]
    # ...and also an arbitrary one; neither survives Ada's log-in.
    response = log_in(client, "ada")
    assert response.status_code == 303
    after = client.cookies[SESSION_COOKIE]
    assert after != planted
    with app_client(client.app.state.settings, clock) as other:  # type: ignore[attr-defined]
        other.cookies.set(SESSION_COOKIE, planted)
        assert other.get("/account", follow_redirects=False).status_code == 303  # the planted session is gone
    domain = next(cookie.domain for cookie in client.cookies.jar if cookie.name == SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, "chosen-by-attacker", domain=domain)
    log_in(client, "ada")
    assert client.cookies[SESSION_COOKIE] not in {"chosen-by-attacker", after}
    assert "ada" in client.get("/account").text


def test_log_out_everywhere_and_password_change_end_other_sessions(
    settings: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "ada")
    with app_client(settings, clock) as laptop, app_client(settings, clock) as phone:
        log_in(laptop, "ada")
        log_in(phone, "ada")
        fields = form_fields(laptop.get("/account").text, "/account/logout-everywhere")
        laptop.post("/account/logout-everywhere", data=fields)
        assert phone.get("/account", follow_redirects=False).status_code == 303
        assert laptop.get("/account").status_code == 200

        log_in(phone, "ada")
        fields = form_fields(laptop.get("/account").text, "/account/password")
        fields.update(
            current_password=PASSWORD,
            new_password="a brand new passphrase",
            new_password_again="a brand new passphrase",
        )
        assert laptop.post("/account/password", data=fields, follow_redirects=False).status_code == 303
        assert phone.get("/account", follow_redirects=False).status_code == 303
        assert laptop.get("/account").status_code == 200
        assert log_in(phone, "ada").status_code == 400
        assert log_in(phone, "ada", "a brand new passphrase").status_code == 303


def test_sessions_expire(settings: Settings, papers: sessionmaker[Session], clock: Clock) -> None:
    make_user(papers, "ada")
    with app_client(settings, clock) as client:
        log_in(client, "ada")
        clock.advance(days=settings.session_days - 1)
        assert client.get("/account").status_code == 200
        clock.advance(days=2)
        assert client.get("/account", follow_redirects=False).status_code == 303


# -- password reset ---------------------------------------------------------------------------------


def test_a_stolen_reset_link_fails_after_it_was_used_once(
    mail_client: TestClient,
    smtp: SmtpServer,
    mail_settings: Settings,
    papers: sessionmaker[Session],
    clock: Clock,
) -> None:
    make_user(papers, "ada")
    with app_client(mail_settings, clock) as old_browser:
        log_in(old_browser, "ada")
        fields = form_fields(mail_client.get("/forgot").text, "/forgot")
        fields["email"] = "ada@example.org"
        answer = mail_client.post("/forgot", data=fields)
        assert "If an account uses this address" in answer.text
        link = link_in_last_mail(smtp, "ada@example.org", "/reset")

        page = mail_client.get(link)
        assert page.status_code == 200 and "ada" in page.text
        fields = form_fields(page.text, link)
        fields.update(password="fresh start passphrase", password_again="fresh start passphrase")
        done = mail_client.post(link, data=fields, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/account?reset=1"
        # Every earlier session ended with the old password.
        assert old_browser.get("/account", follow_redirects=False).status_code == 303

    # Whoever else got hold of the link cannot use it again.
    with app_client(mail_settings, clock) as thief:
        assert thief.get(link).status_code == 400
        fields = form_fields(thief.get("/forgot").text, "/forgot")
        fields.update(password="thief's own passphrase", password_again="thief's own passphrase")
        assert thief.post(link, data=fields).status_code == 400
        assert log_in(thief, "ada", "fresh start passphrase").status_code == 303


def test_reset_links_expire_and_unknown_addresses_look_the_same(
    mail_client: TestClient, smtp: SmtpServer, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "ada")
    for address in ("ada@example.org", "nobody@example.org"):
        fields = form_fields(mail_client.get("/forgot").text, "/forgot")
        fields["email"] = address
        assert "If an account uses this address" in mail_client.post("/forgot", data=fields).text
    assert [m["To"] for m in smtp.sink.messages()] == ["ada@example.org"]
    link = link_in_last_mail(smtp, "ada@example.org", "/reset")
    clock.advance(hours=1, minutes=1)
    assert mail_client.get(link).status_code == 410


# -- throttling -------------------------------------------------------------------------------------


def test_wrong_passwords_are_throttled_per_account(
    client: TestClient, settings: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "ada")
    limit = settings.login_failures_per_account
    for _ in range(limit - 1):
        assert log_in(client, "ada", "not the password at all").status_code == 400
    locked = log_in(client, "ada", "not the password at all")
    assert locked.status_code == 429
    assert "Try again in 60 seconds" in locked.text
    assert int(locked.headers["retry-after"]) == 60
    # Even the right password is refused from this address while the lockout lasts.
    assert log_in(client, "ada").status_code == 429
    clock.advance(seconds=61)
    # After the lockout the next failure doubles the wait.
    again = log_in(client, "ada", "still not the password")
    assert again.status_code == 429 and int(again.headers["retry-after"]) == 120
    clock.advance(seconds=121)
    assert log_in(client, "ada").status_code == 303
    # A success clears the count of the account at this address.
    assert log_in(client, "ada", "wrong once more here").status_code == 400
    with papers() as session:
        key = f"pair:account:{_user_id(papers, 'ada')}|testclient"
        assert session.get(LoginThrottle, key).failures == 1  # type: ignore[union-attr]


def _user_id(sessions: sessionmaker[Session], name: str) -> int:
    with sessions() as session:
        return int(session.scalar(select(User.id).where(User.username == name)))  # type: ignore[arg-type]


def test_wrong_passwords_are_throttled_per_address(
    client: TestClient, settings: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    """A guesser spreading attempts over many accounts (and names that do not exist) is stopped by
    address; the accounts themselves stay usable from elsewhere."""
    names = [f"user{n}" for n in range(8)]
    for name in names[:4]:
        make_user(papers, name)
    limit = settings.login_failures_per_address
    statuses = []
    for attempt in range(limit):
        statuses.append(log_in(client, names[attempt % len(names)], "guess number one").status_code)
    assert statuses[:-1] == [400] * (limit - 1) and statuses[-1] == 429
    assert log_in(client, "user0").status_code == 429  # this address must wait, even with the password
    with TestClient(client.app, client=("198.51.100.7", 50000)) as elsewhere:
        assert log_in(elsewhere, "user0").status_code == 303
    with papers() as session:
        throttled = {row.key for row in session.scalars(select(LoginThrottle))}
    assert "address:testclient" in throttled


def test_unknown_names_answer_like_wrong_passwords(client: TestClient, papers: sessionmaker[Session]) -> None:
    make_user(papers, "ada")
    unknown = log_in(client, "nobody-here", "whatever it is")
    wrong = log_in(client, "ada", "whatever it is")
    assert unknown.status_code == wrong.status_code == 400
    assert (
        "The name or the password is wrong." in unknown.text
        and "The name or the password is wrong." in wrong.text
    )


def test_banned_accounts_cannot_log_in_and_lose_their_sessions(
    settings: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "ada")
    make_user(papers, "moe", role="moderator")
    with app_client(settings, clock) as ada, app_client(settings, clock) as moe:
        log_in(ada, "ada")
        log_in(moe, "moe")
        fields = form_fields(moe.get("/u/ada").text, "/u/ada/ban")
        fields["reason"] = "spam"
        assert moe.post("/u/ada/ban", data=fields, follow_redirects=False).status_code == 303
        assert ada.get("/account", follow_redirects=False).status_code == 303
        refused = log_in(ada, "ada")
        assert refused.status_code == 403 and "suspended: spam" in refused.text
    with papers() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(UserSession)
                .where(UserSession.user_id == _user_id(papers, "ada"))
            )
            == 0
        )


def test_cookies_are_secure_when_the_site_is_https(
    settings: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "ada")
    https = settings.model_copy(update={"base_url": "https://papers.example.org"})
    app = create_app(https, now=clock)
    with TestClient(app, base_url="https://papers.example.org") as client:
        page = client.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()  # the pre-log-in CSRF cookie
        response = log_in(client, "ada")
        cookie = response.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    with app_client(settings, clock) as client:
        assert "secure" not in log_in(client, "ada").headers["set-cookie"].lower()


def test_digests_from_the_account_page(client: TestClient, papers: sessionmaker[Session]) -> None:
    from dailypapers.models import Subscription

    ada = make_user(papers, "ada")
    log_in(client, "ada")
    fields = form_fields(client.get("/account").text, "/account/subscribe")
    response = client.post("/account/subscribe", data=fields, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/subscriptions/manage/")
    with papers() as session:
        subscription = session.scalars(select(Subscription)).one()
    assert (subscription.email, subscription.status, subscription.user_id) == (
        "ada@example.org",
        "active",
        ada.id,
    )
    page = client.get("/account").text
    assert "Change or stop them" in page and "/account/subscribe" not in page
    # Subscribing again leaves the preferences alone and leads to the manage page.
    manage = client.get(response.headers["location"])
    assert manage.status_code == 200 and "ada@example.org" in manage.text
