"""Hostile text never becomes markup: XSS payloads in titles, abstracts, submitters, comments, user names,
token names and ban reasons reach every page as text.

Pages are parsed with lxml and searched for what a payload would have to create to run: a script
element, an event-handler attribute, a ``javascript:`` (or ``data:``/``vbscript:``) URL in anything a
browser follows, or an element that loads or styles something (iframe, object, embed, img, style).
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

import lxml.html
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community import discussion, moderation
from dailypapers.community.markdown import render_comment
from dailypapers.config import Settings
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import FeedRecord, PaperRecord, Source
from tests.community.support import HF_PAPER, NOW, PASSWORD, Clock, app_client, form_fields, log_in, make_user
from tests.web.pagecheck import assert_page_hygiene, parse, text_of

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<svg onload=alert(3)>",
    "<svg><script>alert(4)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(5)>",
    '<a href="javascript:alert(6)">x</a>',
    "[click](javascript:alert(7))",
    "[click](JaVaScRiPt:alert(8))",
    "[click](&#106;avascript:alert(9))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxMCk8L3NjcmlwdD4=)",
    "<iframe src=javascript:alert(11)>",
    '"><script>alert(12)</script>',
    "' onmouseover='alert(13)",
    "<b onmouseover=alert(14)>unclosed bold",
    '<div style="background:url(javascript:alert(15))">',
    "&lt;script&gt;alert(16)&lt;/script&gt; &#x3C;img src=x onerror=alert(16)&#x3E;",
    "$<img src=x onerror=alert(17)>$",
    "$\\href{javascript:alert(18)}{x}$",
    "<details open ontoggle=alert(19)>",
    "![x](javascript:alert(20))",
    '<https://example.org/" onmouseover="alert(21)>',
    '[x](https://example.org/"onmouseover="alert(22))',
    "<scr<script>ipt>alert(23)</script>",
    "<!--<img src=x onerror=alert(24)>-->",
    "<object data=javascript:alert(25)></object>",
    "[x](vbscript:msgbox(26))",
    "<svg><a xlink:href=javascript:alert(27)><text>x</text></a></svg>",
    "<form action=javascript:alert(28)><button>go</button></form>",
    "[a](<javascript:alert(29)>)",
    "<style>body{display:none}</style>",
]
EVIL_DAY = date(2026, 8, 1)
# A minimal page around the HTML of a comment from the API, so that the same checks apply to it.
API_PAGE = (
    "<html lang='en'><head></head><body><a class='skip-link' href='#main'></a><header class='site-header'>"
    "</header><main id='main'>{}</main><footer></footer></body></html>"
)
DANGEROUS_TAGS = {
    "iframe",
    "object",
    "embed",
    "img",
    "style",
    "frame",
    "frameset",
    "base",
    "link",
    "meta",
    "form",
}
URL_ATTRIBUTES = (
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "xlink:href",
    "{http://www.w3.org/1999/xlink}href",
)
_INVISIBLE = re.compile(r"[\x00-\x20]+")


def assert_nothing_runs(html: str) -> None:
    tree = lxml.html.fromstring(html)
    assert_page_hygiene(tree)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.split("}")[-1].lower()
        if tag == "script":
            assert element.get("src", "").startswith("/static/") and not (element.text or "").strip()
        if tag == "img" and element.get("src", "").startswith(("/thumbnails/", "/avatars/")):
            pass  # drawn by the server from escaped text (web/images.py)
        elif tag in DANGEROUS_TAGS - {"link", "meta", "form"}:
            raise AssertionError(f"injected <{tag}>")
        if tag == "svg":
            assert "brand-mark" in element.get("class", ""), "injected <svg>"
        if tag in {"link", "meta"}:
            assert element.getparent().tag == "head", f"<{tag}> outside the head"
        if tag == "form":
            assert element.get("action", "").startswith("/"), "a form posting elsewhere"
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"{name} on <{tag}>"
            if name.lower() in URL_ATTRIBUTES:
                url = _INVISIBLE.sub("", value).lower()
                assert not url.startswith(("javascript:", "vbscript:", "data:")), f"{name}={value!r}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_comment_markdown_never_produces_active_markup(payload: str) -> None:
    html = f"<html><head></head><body class='x'><main>{render_comment(payload)}</main></body></html>"
    for element in lxml.html.fromstring(html).iter():
        if isinstance(element.tag, str):
            assert element.tag.split("}")[-1] not in DANGEROUS_TAGS | {"script", "svg", "a"} or (
                element.tag == "a" and element.get("href", "").startswith(("http://", "https://", "mailto:"))
            ), element.tag
            for name, value in element.attrib.items():
                assert not name.startswith("on")
                if name in URL_ATTRIBUTES:  # (an alttext may quote a payload: it is inert text)
                    assert "javascript:" not in _INVISIBLE.sub("", value).lower()
    for link in lxml.html.fromstring(html).iter("a"):
        assert link.get("rel") == "nofollow noopener ugc"


@pytest.fixture
def hostile(papers: sessionmaker[Session]) -> dict[str, str]:
    """Hostile papers (title, abstract, authors, submitter), users, comments, token names, ban reasons."""
    records = [
        PaperRecord(
            source=Source.HUGGINGFACE,
            title=f"Paper {n}: {payload}",
            abstract=f"{payload} and $x<y$ then {payload}",
            arxiv_id=f"2608.{n:05d}",
            authors=[payload, "Eve"],
            categories=["cs.CR"],
            code_urls=["javascript:alert(99)"],
            project_url="javascript:alert(98)",
            feed=FeedRecord(
                day=EVIL_DAY, submitted_by=payload[:200], upvotes=len(PAYLOADS) - n, num_comments=1
            ),
        )
        for n, payload in enumerate(PAYLOADS, start=1)
    ]
    Ingestor(papers).ingest_records(records, label="hostile")
    moderator = make_user(papers, "moe", role="admin")
    writer = make_user(papers, "writer")
    with papers.begin() as session:
        for n, payload in enumerate(PAYLOADS):
            # Names that sign-up refuses, written to the database directly.
            user = store.create_user(
                session,
                username=payload[:32],
                email=f"evil{n}@example.org",
                password_hash="x",
                security_stamp="s",
                now=NOW,
                verified=True,
            )
            discussion.post_comment(
                session, user=user, paper_id=HF_PAPER, text=payload, parent_id=None, now=NOW
            )
            discussion.post_comment(
                session, user=writer, paper_id="2608.00001", text=payload, parent_id=None, now=NOW
            )
            store.create_api_token(
                session, user_id=writer.id, name=payload, token_hash=f"{n:064d}", prefix="dp_x", now=NOW
            )
            if n % 3 == 0:
                moderation.ban(session, moderator=moderator, target=user, reason=payload, now=NOW)
    return {"first": "2608.00001"}


PUBLIC_PAGES = [
    "/",
    "/date/2026-08-01",
    "/week/2026-W31",
    "/trending",
    f"/papers/{HF_PAPER}",
    "/papers/2608.00001",
    "/u/writer",
]


def test_public_pages_show_hostile_text_as_text(
    settings: Settings, clock: Clock, hostile: dict[str, str], papers: sessionmaker[Session]
) -> None:
    with app_client(settings, clock) as anonymous:
        for path in PUBLIC_PAGES:
            response = anonymous.get(path)
            assert response.status_code == 200, path
            assert_nothing_runs(response.text)
        text = text_of(parse(anonymous.get(f"/papers/{HF_PAPER}")))
        assert "<script>alert(1)</script>" in text  # a comment, as the characters it is
        assert "[click](javascript:alert(7))" in text
        text = text_of(parse(anonymous.get("/date/2026-08-01")))
        assert (
            "Paper 1: <script>alert(1)</script>" in text
            and "Submitted by <img src=x onerror=alert(2)>" in text
        )
        api = anonymous.get(f"/api/papers/{HF_PAPER}/comments").json()
        assert any(c["text"] == PAYLOADS[0] for c in api["comments"])
        for comment in api["comments"]:
            assert_nothing_runs(API_PAGE.format(comment["html"]))


def test_signed_in_pages_show_hostile_text_as_text(
    settings: Settings, clock: Clock, hostile: dict[str, str], papers: sessionmaker[Session]
) -> None:
    with app_client(settings, clock) as admin, app_client(settings, clock) as writer:
        log_in(admin, "moe")
        log_in(writer, "writer")
        for client, paths in (
            (admin, [*PUBLIC_PAGES, "/moderation", "/u/writer"]),
            (writer, [*PUBLIC_PAGES, "/account", "/submit"]),
        ):
            for path in paths:
                response = client.get(path)
                assert response.status_code == 200, path
                assert_nothing_runs(response.text)
        assert PAYLOADS[1] in text_of(parse(writer.get("/account")))  # a token name
        assert PAYLOADS[0] in text_of(parse(admin.get("/moderation")))  # a ban reason


def test_forms_echo_hostile_input_as_text(client: TestClient, papers: sessionmaker[Session]) -> None:
    make_user(papers, "ada")
    for payload in PAYLOADS[:12]:
        fields = form_fields(client.get("/signup").text, "/signup")
        fields.update(username=payload, email=payload, password=PASSWORD, password_again=PASSWORD)
        response = client.post("/signup", data=fields)
        assert response.status_code == 400
        assert_nothing_runs(response.text)
        tree = parse(response)
        assert tree.xpath("//input[@name='username']")[0].get("value") == payload
        fields = form_fields(client.get("/login").text, "/login")
        fields.update(login=payload, password="wrong password here", next=payload)
        response = client.post("/login", data=fields)
        assert_nothing_runs(response.text)
        assert parse(response).xpath("//input[@name='login']")[0].get("value") == payload
    log_in(client, "ada")
    for payload in PAYLOADS[:8]:
        fields = form_fields(client.get("/submit").text, "/submit")
        fields["paper"] = payload
        response = client.post("/submit", data=fields)
        assert response.status_code == 400
        assert_nothing_runs(response.text)
    for payload in ("javascript:alert(1)", "//evil.example/", "https://evil.example/"):
        response = log_in(client, "ada", next_path=payload)
        assert response.headers["location"] == "/"  # never sent off the site after logging in
    assert client.get(f"/u/{quote('<script>')}").status_code == 404
