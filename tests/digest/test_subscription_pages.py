"""The subscription pages: subscribe with double opt-in, confirm, manage, unsubscribe (one click too).

The confirmation mail goes through the real SMTP server on loopback, and its link is followed on the app.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import lxml.html
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.digest.compose import compose_digests
from dailypapers.digest.render import MailRenderer
from dailypapers.digest.tokens import Purpose, Tokens
from dailypapers.models import OutboxMessage, Subscription
from dailypapers.web.app import create_app
from dailypapers.web.auth import CSRF_COOKIE
from dailypapers.web.errors import CSRF_MESSAGE
from tests.community.support import log_in, make_user
from tests.digest.conftest import BASE_URL, FRIDAY, SATURDAY, SECRET, Clock, add_subscriber, make_sender
from tests.digest.smtp import SmtpServer
from tests.web.pagecheck import assert_page_hygiene, parse, text_of

ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(mail_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(mail_settings, now=lambda: SATURDAY), base_url=BASE_URL) as test_client:
        yield test_client


def form_of(html: str, action_prefix: str = "") -> dict[str, str]:
    tree = lxml.html.fromstring(html)
    form = next(
        f
        for f in tree.iter("form")
        if f.get("action", "").startswith(action_prefix) and f.get("method") == "post"
    )
    values = {
        i.get("name"): i.get("value", "")
        for i in form.iter("input")
        if i.get("name") and i.get("type") != "radio"
    }
    values.update(
        {
            i.get("name"): i.get("value")
            for i in form.iter("input")
            if i.get("type") == "radio" and i.get("checked") is not None
        }
    )
    for select_ in form.iter("select"):
        chosen = [o.get("value") for o in select_.iter("option") if o.get("selected") is not None]
        values[select_.get("name")] = chosen[0] if chosen else select_.xpath("option[1]/@value")[0]
    return values


def link_path(message_text: str, kind: str) -> str:
    match = re.search(re.escape(BASE_URL) + rf"(/subscriptions/{kind}/[A-Za-z0-9_.\-]+)", message_text)
    assert match, message_text
    return match.group(1)


def test_subscribing_sends_only_a_confirmation_until_it_is_used(
    client: TestClient,
    smtp: SmtpServer,
    mail_settings: Settings,
    papers: sessionmaker[Session],
    renderer: MailRenderer,
) -> None:
    page = client.get("/subscribe")
    assert page.status_code == 200
    assert_page_hygiene(lxml.html.fromstring(page.text))
    form = form_of(page.text, "/subscribe")
    form.update(
        email="Ada@Example.org",
        name="Ada Lovelace",
        categories="cs.LG",
        keywords="diffusion, agent",
        timezone="Europe/Paris",
        send_hour="7",
    )

    response = client.post("/subscribe", data=form)
    assert response.status_code == 200 and "Check your inbox" in response.text
    (confirmation,) = smtp.sink.messages()
    assert confirmation["To"].addresses[0].addr_spec == "ada@example.org"
    assert confirmation["List-Unsubscribe"] is None
    text = confirmation.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]

    # Before confirming, a digest run sends nothing to the address.
    compose_digests(papers, renderer, now=SATURDAY, day=FRIDAY)
    make_sender(mail_settings, papers, Clock(SATURDAY)).deliver()
    assert len(smtp.sink.messages()) == 1

    confirm = link_path(text, "confirm")
    page = client.get(confirm)  # a link scanner's GET changes nothing
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    with papers() as session:
        assert session.scalars(select(Subscription.status)).one() == "pending"
    response = client.post(confirm, follow_redirects=False)
    assert response.status_code == 303
    manage = client.get(response.headers["location"])
    assert manage.status_code == 200 and "subscription is confirmed" in manage.text
    assert manage.headers["cache-control"] == "no-store"
    with papers() as session:
        subscription = session.scalars(select(Subscription)).one()
    assert (subscription.status, subscription.categories, subscription.keywords) == (
        "active",
        ["cs.LG"],
        ["diffusion", "agent"],
    )
    assert (subscription.timezone, subscription.send_hour, subscription.name) == (
        "Europe/Paris",
        7,
        "Ada Lovelace",
    )


def test_subscribing_an_active_address_again_changes_nothing_and_mails_its_manage_link(
    client: TestClient, smtp: SmtpServer, papers: sessionmaker[Session], renderer: MailRenderer
) -> None:
    add_subscriber(papers, renderer, "ada@example.org", max_papers=5)
    form = form_of(client.get("/subscribe").text, "/subscribe")
    form.update(email="ada@example.org", max_papers="50")
    response = client.post("/subscribe", data=form)
    assert "Check your inbox" in response.text  # the same answer as for a new address
    (note,) = smtp.sink.messages()
    assert note["Subject"] == "Your subscription to Daily Papers"
    with papers() as session:
        assert session.scalars(select(Subscription.max_papers)).one() == 5


def test_the_form_rejects_bad_input_and_escapes_what_it_shows(client: TestClient, smtp: SmtpServer) -> None:
    form = form_of(client.get("/subscribe").text, "/subscribe")
    form.update(
        email="<script>alert(1)</script>", categories="cs.cl", timezone="Mars/Olympus", send_hour="25"
    )
    response = client.post("/subscribe", data=form)
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text
    problems = " ".join(lxml.html.fromstring(response.text).xpath("//ul[@class='problems']//text()"))
    for field in ("Mail address", "Categories", "Time zone", "Hour"):
        assert field in problems
    assert smtp.sink.messages() == []


def test_the_subscribe_form_refuses_a_post_from_another_site(
    client: TestClient, mail_settings: Settings, smtp: SmtpServer, papers: sessionmaker[Session]
) -> None:
    form = form_of(client.get("/subscribe").text, "/subscribe")
    form.update(email="victim@example.org")
    forged = client.post("/subscribe", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403 and CSRF_MESSAGE in text_of(parse(forged))
    # Another site's page posts from the visitor's browser without knowing its token, or with its own.
    with TestClient(create_app(mail_settings, now=lambda: SATURDAY), base_url=BASE_URL) as other_site:
        assert other_site.post("/subscribe", data=form).status_code == 403
        form_of(other_site.get("/subscribe").text, "/subscribe")  # a dp_csrf cookie of its own
        assert other_site.post("/subscribe", data=form).status_code == 403
    assert smtp.sink.messages() == []
    with papers() as session:
        assert session.scalars(select(Subscription)).all() == []


def test_a_signed_in_visitor_subscribes_with_the_token_of_their_session(
    mail_settings: Settings, smtp: SmtpServer, papers: sessionmaker[Session]
) -> None:
    make_user(papers, "ada")
    with TestClient(create_app(mail_settings, now=lambda: SATURDAY), base_url=BASE_URL) as client:
        before = form_of(client.get("/subscribe").text, "/subscribe")  # bound to the pre-login cookie
        assert log_in(client, "ada").status_code == 303
        page = client.get("/subscribe")
        tree = parse(page)
        assert tree.xpath("//nav[@aria-label='Account']//a[@href='/account']/text()") == ["ada"]
        form = form_of(page.text, "/subscribe")
        assert form["csrf_token"] != before["csrf_token"]
        form.update(email="ada@example.org")
        stale = client.post("/subscribe", data={**form, "csrf_token": before["csrf_token"]})
        assert stale.status_code == 403  # logging in made the token seen before it worthless
        response = client.post("/subscribe", data=form)
        assert response.status_code == 200 and "Check your inbox" in response.text
    (confirmation,) = smtp.sink.messages()
    assert confirmation["To"].addresses[0].addr_spec == "ada@example.org"


def test_confirmation_links_expire_by_the_sites_clock(
    mail_settings: Settings, smtp: SmtpServer, papers: sessionmaker[Session], renderer: MailRenderer
) -> None:
    clock = Clock(SATURDAY)
    subscription = add_subscriber(papers, renderer, "late@example.org", confirmed=False)
    confirm = "/subscriptions/confirm/" + Tokens(SECRET).make(
        Purpose.confirm, subscription.id, subscription.token_key, now=SATURDAY
    )
    # The system clock stands still: only the site's clock says how old the link is.
    with (
        time_machine.travel(SATURDAY, tick=False),
        TestClient(create_app(mail_settings, now=clock), base_url=BASE_URL) as client,
    ):
        clock.now = SATURDAY + timedelta(days=7)
        assert client.get(confirm).status_code == 200
        clock.advance(seconds=1)
        page = client.get(confirm)
        assert page.status_code == 410 and "This link has expired" in page.text
        assert client.post(confirm).status_code == 410
    with papers() as session:
        assert session.scalars(select(Subscription.status)).one() == "pending"
    assert smtp.sink.messages() == []


def test_one_click_unsubscribe_needs_no_session_and_refuses_forged_tokens(
    mail_settings: Settings, smtp: SmtpServer, papers: sessionmaker[Session], renderer: MailRenderer
) -> None:
    subscription = add_subscriber(papers, renderer, "leaving@example.org")
    other = add_subscriber(papers, renderer, "staying@example.org")
    tokens = Tokens(SECRET)
    good = tokens.make(Purpose.unsubscribe, subscription.id, subscription.token_key, now=SATURDAY)
    forged_key = Tokens("another-secret-entirely-0123456789abcdef").make(
        Purpose.unsubscribe, other.id, other.token_key, now=SATURDAY
    )
    tampered = good.replace(
        good.split(".")[0],
        tokens.make(Purpose.unsubscribe, other.id, other.token_key, now=SATURDAY).split(".")[0],
    )
    wrong_purpose = tokens.make(Purpose.manage, other.id, other.token_key, now=SATURDAY)
    stale_key = tokens.make(Purpose.unsubscribe, other.id, "not-its-key", now=SATURDAY)
    with TestClient(
        create_app(mail_settings, now=lambda: SATURDAY), base_url=BASE_URL
    ) as fresh:  # no cookies
        for token in (forged_key, tampered, wrong_purpose, stale_key, "x", good[:-2]):
            response = fresh.post(
                f"/subscriptions/unsubscribe/{token}",
                content=b"List-Unsubscribe=One-Click",
                headers=ONE_CLICK,
            )
            assert response.status_code == 400, token
        response = fresh.post(
            f"/subscriptions/unsubscribe/{good}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK
        )
        assert response.status_code == 200
        # No session: at most the pre-login CSRF cookie that every page of the site sets for its forms.
        assert set(fresh.cookies.keys()) <= {CSRF_COOKIE}
    with papers() as session:
        statuses = dict(session.execute(select(Subscription.email, Subscription.status)).all())
    assert statuses == {"leaving@example.org": "unsubscribed", "staying@example.org": "active"}


def test_managing_preferences_needs_the_link_and_the_sites_csrf_token(
    client: TestClient, papers: sessionmaker[Session], renderer: MailRenderer
) -> None:
    subscription = add_subscriber(papers, renderer, "ada@example.org")
    token = Tokens(SECRET).make(Purpose.manage, subscription.id, subscription.token_key, now=SATURDAY)
    manage = f"/subscriptions/manage/{token}"
    page = client.get(manage)
    assert_page_hygiene(lxml.html.fromstring(page.text))
    form = form_of(page.text, manage)
    form.update(frequency="weekly", selection="new", keywords="graph neural network", max_papers="7")
    forged = client.post(manage, data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403 and CSRF_MESSAGE in text_of(parse(forged))
    assert client.post(manage.replace(token, token[:-2]), data=form).status_code == 400
    response = client.post(manage, data=form, follow_redirects=False)
    assert response.status_code == 303
    assert "preferences are saved" in client.get(response.headers["location"]).text
    with papers() as session:
        saved = session.get(Subscription, subscription.id)
        assert saved is not None
        assert (saved.frequency, saved.selection, saved.keywords, saved.max_papers) == (
            "weekly",
            "new",
            ["graph neural network"],
            7,
        )


def test_unsubscribe_link_in_a_digest_asks_before_acting_and_cancels_queued_mail(
    client: TestClient, papers: sessionmaker[Session], renderer: MailRenderer, smtp: SmtpServer
) -> None:
    add_subscriber(papers, renderer, "ada@example.org")
    compose_digests(papers, renderer, now=SATURDAY, day=FRIDAY)
    with papers() as session:
        queued = session.scalars(select(OutboxMessage)).one()
    text = queued.message.decode()
    unsubscribe = urlsplit(re.search(r"<(https://[^>]+)>", text).group(1)).path  # type: ignore[union-attr]
    page = client.get(unsubscribe)
    assert "Unsubscribe?" in page.text
    with papers() as session:
        assert session.scalars(select(Subscription.status)).one() == "active"
    assert client.post(unsubscribe).status_code == 200
    with papers() as session:
        assert session.scalars(select(OutboxMessage.status)).one() == "cancelled"
    again = client.get(unsubscribe)
    assert "You are unsubscribed" in again.text
