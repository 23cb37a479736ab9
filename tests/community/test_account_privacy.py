"""What an account page and the sign-up form give away: someone else's subscription before the address
is confirmed, whether an address has an account, and other people's API tokens.

Mails go through a real SMTP server on loopback; only the clock is the test's own.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.community import accounts
from dailypapers.config import Settings
from dailypapers.digest.render import MailRenderer
from dailypapers.digest.subscribers import subscribe, validate_subscription
from dailypapers.digest.tokens import Tokens
from dailypapers.models import ApiToken, Subscription, User
from tests.community.support import PASSWORD, Clock, app_client, form_fields, log_in, make_token, make_user
from tests.digest.smtp import SmtpServer
from tests.web.pagecheck import parse, text_of

SECRET = "account-privacy-tests-secret-0123456789-abcdef"
VICTIM = "subscriber@example.org"


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpServer) -> Settings:
    return smtp.settings_for(settings, secret=SECRET)


def _subscribe(sessions: sessionmaker[Session], settings: Settings, clock: Clock) -> None:
    values = validate_subscription(
        email=VICTIM, keywords="secret project codename", timezone="Pacific/Auckland", send_hour=6
    )
    with sessions.begin() as session:
        subscribe(
            session,
            MailRenderer(settings, Tokens(SECRET)),
            values=values,
            now=clock.now,
            source="web",
            confirmed=True,
        )


def _sign_up(client: TestClient, username: str, email: str):  # type: ignore[no-untyped-def]
    fields = form_fields(client.get("/signup").text, "/signup")
    fields.update(username=username, email=email, password=PASSWORD, password_again=PASSWORD)
    return client.post("/signup", data=fields, follow_redirects=False)


def test_an_unconfirmed_account_sees_no_subscription_of_its_address(
    mail_settings: Settings, papers: sessionmaker[Session], clock: Clock, smtp: SmtpServer
) -> None:
    _subscribe(papers, mail_settings, clock)
    with papers.begin() as session:  # a sign-up with the subscriber's address, not confirmed
        accounts.sign_up(session, username="intruder", email=VICTIM, password=PASSWORD, now=clock.now)
    with app_client(mail_settings, clock) as intruder:
        assert log_in(intruder, "intruder").status_code == 303
        page = intruder.get("/account")
        assert page.status_code == 200 and "not confirmed" in page.text
        assert "/subscriptions/manage/" not in page.text
        assert "Change or stop them" not in page.text
        assert "Pacific/Auckland" not in page.text and "codename" not in page.text
        # Nor does the subscribe button lead to the existing subscription's manage page.
        fields = {"csrf_token": form_fields(page.text, "/account/verify-mail")["csrf_token"]}
        answer = intruder.post("/account/subscribe", data=fields, follow_redirects=False)
        assert answer.status_code == 403 and "/subscriptions/manage/" not in answer.text
    with papers() as session:
        subscription = session.scalars(select(Subscription)).one()
        assert (subscription.status, subscription.user_id) == ("active", None)

    # The address's owner, once the address is confirmed, does get the link.
    with papers.begin() as session:
        session.execute(
            User.__table__.update().where(User.username == "intruder").values(email_verified_at=clock.now)
        )
    with app_client(mail_settings, clock) as owner:
        log_in(owner, "intruder")
        assert "/subscriptions/manage/" in owner.get("/account").text


def test_sign_up_with_a_taken_address_answers_like_a_new_one_and_mails_the_owner(
    mail_settings: Settings, papers: sessionmaker[Session], clock: Clock, smtp: SmtpServer
) -> None:
    make_user(papers, "ada")
    with app_client(mail_settings, clock) as client:
        taken = _sign_up(client, "newcomer", "Ada@example.org")
        fresh = _sign_up(client, "another", "another@example.org")
    assert taken.status_code == fresh.status_code == 200
    assert text_of(parse(taken).xpath("//main")[0]) == text_of(parse(fresh).xpath("//main")[0])
    assert "exists already" not in taken.text
    with papers() as session:
        names = set(session.scalars(select(User.username)))
    assert names == {"ada", "another"}
    mails = {m["To"]: m for m in smtp.sink.messages()}
    assert set(mails) == {"ada@example.org", "another@example.org"}
    body = mails["ada@example.org"].get_body(preferencelist=("plain",)).get_content()
    assert "tried to make a new account" in body and "/reset/" in body
    # Other problems are still named, but never the taken address.
    with app_client(mail_settings, clock) as client:
        weak = client.post(
            "/signup",
            data={
                **form_fields(client.get("/signup").text, "/signup"),
                "username": "newcomer",
                "email": "ada@example.org",
                "password": "password123",
                "password_again": "password123",
            },
        )
    assert weak.status_code == 400 and "common passwords" in weak.text and "exists already" not in weak.text


def test_revoking_another_accounts_token_says_there_is_no_such_token(
    client: TestClient, papers: sessionmaker[Session]
) -> None:
    ada = make_user(papers, "ada")
    make_user(papers, "mallory")
    make_token(papers, ada)
    with papers() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    log_in(client, "mallory")
    csrf = form_fields(client.get("/account").text, "/account/tokens")["csrf_token"]
    answer = client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 404
    assert "There is no such token" in answer.text and "is revoked" not in answer.text
    missing = client.post("/account/tokens/999999/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert missing.status_code == 404
    with papers() as session:
        assert (
            session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None)))
            == 1
        )
