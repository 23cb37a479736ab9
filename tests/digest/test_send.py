"""``dailypapers digest send`` end to end: real papers, a real SMTP server on loopback, links followed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.config import Settings
from dailypapers.digest.render import MailRenderer
from dailypapers.models import FeedEntry, Paper, Subscription
from dailypapers.web.app import create_app
from tests.digest.conftest import BASE_URL, SATURDAY, SECRET, add_subscriber
from tests.digest.smtp import SmtpServer

PAPER_LINK = re.compile(re.escape(BASE_URL) + r"/papers/([0-9]{4}\.[0-9]{5})")


def cli_mail_env(cli_env: dict[str, str], settings: Settings) -> dict[str, str]:
    return {
        **cli_env,
        "DAILYPAPERS_BASE_URL": settings.base_url,
        "DAILYPAPERS_MAIL_FROM": settings.mail_from,
        "DAILYPAPERS_SECRET_KEY": SECRET,
        "DAILYPAPERS_SMTP_HOST": settings.smtp_host,
        "DAILYPAPERS_SMTP_PORT": str(settings.smtp_port),
        "DAILYPAPERS_SMTP_SECURITY": "none",
    }


def send(env: dict[str, str], *args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["digest", "send", "--json", *args], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def paper_ids(message: EmailMessage) -> list[str]:
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    return list(dict.fromkeys(PAPER_LINK.findall(html.get_content())))


def feed_day_papers(sessions: sessionmaker[Session], day: str) -> list[Paper]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Paper)
                .join(FeedEntry, FeedEntry.paper_id == Paper.id)
                .where(FeedEntry.day == datetime.fromisoformat(day).date())
                .order_by(FeedEntry.upvotes.desc())
            )
        )


def test_each_confirmed_subscriber_gets_exactly_one_digest_with_their_papers(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    cli_env: dict[str, str],
) -> None:
    add_subscriber(papers, renderer, "zoe@example.org", name="Zoë Ångström", max_papers=5)
    add_subscriber(
        papers, renderer, "agents@example.org", selection="new", keywords="agent", exclude_keywords="memory"
    )
    add_subscriber(
        papers, renderer, "weekly@example.org", frequency="weekly", categories="cs.LG", max_papers=3
    )
    add_subscriber(papers, renderer, "robots@example.org", categories="cs.RO")
    add_subscriber(papers, renderer, "unconfirmed@example.org", confirmed=False)
    env = cli_mail_env(cli_env, mail_settings)

    with time_machine.travel(SATURDAY):
        report = send(env, "--date", "2026-06-12")
    assert report["composed"] == 3
    assert report["nothing_new"] == 1  # cs.RO: nobody on the feed of that day is in it, so no empty mail

    received = smtp.sink.by_recipient()
    digests = {rcpt: [m for m in mails if m["List-Id"]] for rcpt, mails in received.items()}
    assert {rcpt for rcpt, mails in digests.items() if mails} == {
        "zoe@example.org",
        "agents@example.org",
        "weekly@example.org",
    }
    assert all(len(mails) == 1 for mails in digests.values() if mails)
    # The unconfirmed address got its confirmation request (queued when it subscribed), and nothing else.
    assert [m["Subject"] for m in received["unconfirmed@example.org"]] == [
        "Confirm your subscription to Daily Papers"
    ]
    assert "robots@example.org" not in received

    # Trending: the five most upvoted papers of the day, best first.
    friday = feed_day_papers(papers, "2026-06-12")
    (zoe,) = digests["zoe@example.org"]
    assert paper_ids(zoe) == [p.id for p in friday[:5]]
    assert str(zoe["To"]) == "Zoë Ångström <zoe@example.org>"
    # New papers mentioning "agent" at the start of a word, none mentioning "memory".
    (agents,) = digests["agents@example.org"]
    expected = [
        p
        for p in friday
        if re.search(r"(?<!\w)agent", f"{p.title} {p.abstract}", re.I)
        and not re.search(r"(?<!\w)memory", f"{p.title} {p.abstract}", re.I)
    ]
    assert expected and sorted(paper_ids(agents)) == sorted(p.id for p in expected[:10])
    # Weekly: the week of 8 June, limited to cs.LG (the arXiv papers of 11 June), three of five.
    (weekly,) = digests["weekly@example.org"]
    assert len(paper_ids(weekly)) == 3
    assert all(i.startswith("2606.13") for i in paper_ids(weekly))
    assert "2 more matching papers" in weekly.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert weekly["Subject"] == "Daily Papers: 3 trending papers of the week of 8 June 2026"

    # Running it again sends nothing new.
    with time_machine.travel(SATURDAY):
        again = send(env, "--date", "2026-06-12")
        due_now = send(env)
    assert again["composed"] == 0 and again["sent"] == 0
    assert due_now["composed"] == 0 and due_now["sent"] == 0
    assert sum(len(m) for m in smtp.sink.by_recipient().values()) == 4


def test_digest_headers_parts_and_links_work(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    cli_env: dict[str, str],
) -> None:
    subscription = add_subscriber(papers, renderer, "reader@example.org", max_papers=3)
    with time_machine.travel(SATURDAY):
        send(cli_mail_env(cli_env, mail_settings), "--date", "2026-06-12")
    (message,) = smtp.sink.messages()

    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert re.fullmatch(r"<digest\.[0-9a-f]{24}@papers\.example\.org>", message["Message-ID"])
    assert parsedate_to_datetime(message["Date"]) == SATURDAY
    assert message["List-Id"] == "Daily Papers digest <digest.papers.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(https://[^>]+)>", message["List-Unsubscribe"])
    assert unsubscribe, message["List-Unsubscribe"]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "<script" not in html.lower() and "<img" not in html.lower() and "<link" not in html.lower()
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Why: trending score" in text

    # Every link points at this site and opens there; the unsubscribe link works with one POST.
    links = set(re.findall(r'href="([^"]+)"', html))
    assert all(link.startswith(BASE_URL + "/") for link in links)
    site = create_app(mail_settings, now=lambda: SATURDAY)
    with TestClient(site, base_url=BASE_URL) as client:
        for paper_id in paper_ids(message):
            response = client.get(f"/papers/{paper_id}")
            assert response.status_code == 200, paper_id
        one_click = urlsplit(unsubscribe.group(1)).path
        assert client.get(one_click).status_code == 200
        response = client.post(
            one_click,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200
        assert "You are unsubscribed" in response.text
    with papers() as session:
        assert session.get(Subscription, subscription.id).status == "unsubscribed"  # type: ignore[union-attr]


def test_no_digest_at_weekends_and_monday_brings_nothing_new(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    cli_env: dict[str, str],
) -> None:
    add_subscriber(papers, renderer, "daily@example.org", max_papers=3)
    env = cli_mail_env(cli_env, mail_settings)
    with time_machine.travel(SATURDAY):  # Friday's papers, due Saturday at 08:00 UTC
        assert send(env)["sent"] == 1
    for moment in ("2026-06-14T09:00:00+00:00", "2026-06-15T09:00:00+00:00"):  # Sunday, Monday
        with time_machine.travel(datetime.fromisoformat(moment)):
            report = send(env)
        assert report["composed"] == 0 and report["sent"] == 0
    assert len(smtp.sink.messages()) == 1


def test_daily_digest_is_due_at_the_subscribers_local_hour(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    cli_env: dict[str, str],
) -> None:
    add_subscriber(papers, renderer, "tokyo@example.org", timezone="Asia/Tokyo", send_hour=7)
    add_subscriber(papers, renderer, "la@example.org", timezone="America/Los_Angeles", send_hour=7)
    env = cli_mail_env(cli_env, mail_settings)
    # 22:30 UTC on Friday is 07:30 on Saturday in Tokyo, and 15:30 on Friday in Los Angeles: Tokyo gets
    # Friday's papers, Los Angeles Thursday's.
    with time_machine.travel(datetime(2026, 6, 12, 22, 30, tzinfo=UTC)):
        send(env)
    subjects = {r: [m["Subject"] for m in mails] for r, mails in smtp.sink.by_recipient().items()}
    assert subjects == {
        "tokyo@example.org": ["Daily Papers: 10 trending papers of 12 June 2026"],
        "la@example.org": ["Daily Papers: 5 trending papers of 11 June 2026"],
    }
    # 14:30 UTC on Saturday is 07:30 on Saturday in Los Angeles: now Friday's papers are due there.
    with time_machine.travel(datetime(2026, 6, 13, 14, 30, tzinfo=UTC)):
        send(env)
    subjects = {r: [m["Subject"] for m in mails] for r, mails in smtp.sink.by_recipient().items()}
    assert subjects["tokyo@example.org"] == ["Daily Papers: 10 trending papers of 12 June 2026"]
    assert subjects["la@example.org"][1] == "Daily Papers: 10 trending papers of 12 June 2026"


def test_a_paper_is_never_sent_twice_to_a_subscriber(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    cli_env: dict[str, str],
) -> None:
    add_subscriber(papers, renderer, "both@example.org", max_papers=4)
    env = cli_mail_env(cli_env, mail_settings)
    with time_machine.travel(SATURDAY):
        send(env, "--date", "2026-06-12")
    # Switching to weekly: the week of 8 June holds the same Friday papers, and only the rest come.
    with papers.begin() as session:
        subscription = session.scalars(select(Subscription)).one()
        subscription.frequency = "weekly"
    with time_machine.travel(SATURDAY):
        send(env, "--date", "2026-06-12")
    first, second = smtp.sink.messages()
    assert len(paper_ids(first)) == 4 and len(paper_ids(second)) == 4
    assert not set(paper_ids(first)) & set(paper_ids(second))
