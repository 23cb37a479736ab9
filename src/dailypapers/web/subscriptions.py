"""Pages to subscribe to digests and to manage a subscription from the links in its mails, without an account.

The signed token in each link is the credential: it names the subscription and is checked against the
subscription's current ``token_key`` (see :mod:`dailypapers.digest.tokens`). No account is needed, but a
signed-in visitor sees the pages as theirs (header, CSRF token), like every other page of the site.

* ``GET/POST /subscribe``: the form; posting it creates a pending subscription and queues the
  confirmation mail, which is then sent in the background.
* ``GET/POST /subscriptions/confirm/{token}``: a button that confirms. Confirming takes a POST because
  mail security scanners open every link in a mail; a GET that confirmed would confirm for them.
* ``GET/POST /subscriptions/manage/{token}``: preferences, pause resumption, re-subscription.
* ``GET /subscriptions/unsubscribe/{token}``: a confirm button. ``POST`` to the same address
  unsubscribes at once: it is the RFC 8058 one-click endpoint that mail clients call with the body
  ``List-Unsubscribe=One-Click``, and it needs nothing but the token.

The pages are the site's own (``render_page``/``message_page`` of :mod:`dailypapers.web.auth`, templates
under ``web/templates/subscriptions/``), and so is their CSRF rule: the subscribe and manage forms carry
the site's ``csrf_token`` (bound to the session, or to the ``dp_csrf`` cookie before log-in), and a post
without it is refused with 403 before anything happens. Two posts take none, because the secret token
in their address is all they act on and a page on another site cannot know it: the confirm button, and
the unsubscribe button, whose address is also the RFC 8058 one-click endpoint, which must work without
cookies. Every value shown is escaped by the templates; every value received is validated by
:func:`dailypapers.digest.subscribers.validate_subscription`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import HTMLResponse, RedirectResponse, Response

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.digest.periods import time_zone_names
from dailypapers.digest.render import MailRenderer
from dailypapers.digest.selection import MAX_PAPERS
from dailypapers.digest.subscribers import (
    InvalidSubscription,
    SubscribeOutcome,
    describe_problems,
    subscribe,
    validate_subscription,
)
from dailypapers.digest.tokens import InvalidToken, Purpose
from dailypapers.errors import DailyPapersError
from dailypapers.models import Subscription
from dailypapers.web.auth import NO_STORE, CsrfChecked, Viewer, ViewerDep, message_page, render_page
from dailypapers.web.common import subscription_links
from dailypapers.web.deps import NowDep, RendererDep, SessionsDep, SettingsDep, subscription_tokens_of
from dailypapers.web.render import Renderer

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

_Typed = Annotated[str, Field(max_length=2000)]


class PreferencesForm(BaseModel):
    """The digest preferences as typed in the form; :func:`validate_subscription` checks them."""

    name: _Typed = ""
    frequency: _Typed = "daily"
    selection: _Typed = "trending"
    max_papers: _Typed = "10"
    categories: _Typed = ""
    keywords: _Typed = ""
    exclude_keywords: _Typed = ""
    timezone: _Typed = "UTC"
    send_hour: _Typed = "8"


class SubscribeForm(PreferencesForm):
    email: _Typed = ""


class ManageForm(PreferencesForm):
    action: _Typed = "save"


DEFAULT_FORM = SubscribeForm().model_dump()


def _invalid_link(
    request: Request, renderer: Renderer, viewer: Viewer | None, error: InvalidToken
) -> HTMLResponse:
    detail = (
        "Confirmation links work for 7 days. Subscribe again to get a new one."
        if error.expired
        else "The link may have been cut or changed. Use the link from your most recent mail."
    )
    return message_page(
        request,
        renderer,
        "This link does not work",
        f"{str(error).capitalize()}. {detail}",
        viewer=viewer,
        status=400 if not error.expired else 410,
        links=[("Subscribe", "/subscribe"), ("Today's papers", "/")],
    )


def _links(request: Request, subscription: Subscription, *, now: datetime) -> tuple[str, str]:
    """The subscription's manage and unsubscribe pages, signed with the app's tokens."""
    return subscription_links(subscription_tokens_of(request), subscription, now=now)


def _change(
    sessions: sessionmaker[Session],
    subscription: Subscription,
    change: Callable[..., object],
    *,
    now: datetime,
) -> None:
    """Apply one store change (confirm, resume, unsubscribe) to the subscription as it is now, if it is
    still there."""
    with sessions.begin() as session:
        current = store.get_subscription(session, subscription_id=subscription.id)
        if current is not None:
            change(session, subscription=current, now=_utc(now))


def _subscription(
    request: Request,
    sessions: sessionmaker[Session],
    purpose: Purpose,
    token: str,
    *,
    now: datetime,
) -> Subscription:
    subscription_id, key = subscription_tokens_of(request).read(purpose, token, now=now)
    with sessions() as session:
        subscription = store.get_subscription(session, subscription_id=subscription_id)
    # The same answer for a removed subscription as for a forged token: both are simply not valid.
    if subscription is None or subscription.token_key != key:
        raise InvalidToken("this link is not valid")
    return subscription


def _form_values(subscription: Subscription) -> dict[str, str]:
    return {
        "email": subscription.email,
        "name": subscription.name or "",
        "frequency": subscription.frequency,
        "selection": subscription.selection,
        "max_papers": str(subscription.max_papers),
        "categories": ", ".join(subscription.categories or []),
        "keywords": ", ".join(subscription.keywords or []),
        "exclude_keywords": ", ".join(subscription.exclude_keywords or []),
        "timezone": subscription.timezone,
        "send_hour": str(subscription.send_hour),
    }


def send_queued_mail(settings: Settings, sessions: sessionmaker[Session], outbox_id: int) -> None:
    """Send one queued mail now (a background task); if it fails, the scheduler's next pass retries it."""
    from dailypapers.digest.delivery import OutboxSender
    from dailypapers.mail import make_mailer

    try:
        report = OutboxSender.from_settings(settings, sessions, make_mailer(settings)).deliver(
            only=[outbox_id]
        )
    except DailyPapersError as exc:  # pragma: no cover - logged, and retried by the scheduler
        log.error("could not send mail %s: %s", outbox_id, exc)
        return
    if report.problems:
        log.warning("mail %s not sent yet: %s", outbox_id, "; ".join(report.problems))


# -- subscribing ---------------------------------------------------------------------------------


def _subscribe_page(
    request: Request,
    renderer: Renderer,
    viewer: Viewer | None,
    *,
    form: dict[str, str],
    problems: list[str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render_page(
        request,
        renderer,
        "subscriptions/subscribe.html",
        viewer=viewer,
        status=status,
        form=form,
        problems=problems or [],
        max_papers=MAX_PAPERS,
        time_zones=time_zone_names(),
    )


@router.get("/subscribe")
def subscribe_form(request: Request, renderer: RendererDep, viewer: ViewerDep) -> Response:
    return _subscribe_page(request, renderer, viewer, form=DEFAULT_FORM)


@router.post("/subscribe", dependencies=[CsrfChecked])
def subscribe_submit(
    request: Request,
    background: BackgroundTasks,
    settings: SettingsDep,
    sessions: SessionsDep,
    renderer: RendererDep,
    viewer: ViewerDep,
    now: NowDep,
    form: Annotated[SubscribeForm, Form()],
) -> Response:
    fields = form.model_dump()
    try:
        values = validate_subscription(**fields)
    except InvalidSubscription as exc:
        problems = describe_problems(exc.problems)
        return _subscribe_page(request, renderer, viewer, form=fields, problems=problems, status=400)
    # The app was refused at start if mail goes out with a weak key (app.py), so these links are sound.
    mail_tokens = subscription_tokens_of(request)
    with sessions.begin() as session:
        outcome = subscribe(session, MailRenderer(settings, mail_tokens), values=values, now=_utc(now))
    if outcome.outbox_id is not None:
        background.add_task(send_queued_mail, settings, sessions, outcome.outbox_id)
    if outcome.outcome is SubscribeOutcome.throttled:
        log.info("confirmation mail throttled for subscription %s", outcome.subscription.id)
    # The same page whatever the address's state, so that the form tells nobody who is subscribed.
    return message_page(
        request,
        renderer,
        "Check your inbox",
        f"We sent a mail to {values.email}. Use the link in it to confirm your subscription; nothing "
        "else is sent before you do.",
        "If it does not arrive within a few minutes, look in your spam folder. The link works for 7 days.",
        viewer=viewer,
    )


def _utc(now: datetime) -> datetime:
    return now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)


# -- confirming ----------------------------------------------------------------------------------


@router.get("/subscriptions/confirm/{token}")
def confirm_page(
    token: str,
    request: Request,
    sessions: SessionsDep,
    renderer: RendererDep,
    viewer: ViewerDep,
    now: NowDep,
) -> Response:
    try:
        subscription = _subscription(request, sessions, Purpose.confirm, token, now=now)
    except InvalidToken as exc:
        return _invalid_link(request, renderer, viewer, exc)
    if subscription.status != "pending":
        manage_url, _ = _links(request, subscription, now=now)
        return message_page(
            request,
            renderer,
            "Already confirmed",
            f"The subscription of {subscription.email} is already confirmed.",
            viewer=viewer,
            links=[("Manage your subscription", manage_url)],
        )
    return message_page(
        request,
        renderer,
        "Confirm your subscription",
        f"Confirm that {subscription.email} should get digests from this site.",
        viewer=viewer,
        action_url=f"/subscriptions/confirm/{token}",
        action_label="Confirm my subscription",
    )


# No CSRF check: the secret token in the address is the whole credential (see the module's docstring).
@router.post("/subscriptions/confirm/{token}")
def confirm_submit(
    token: str,
    request: Request,
    sessions: SessionsDep,
    renderer: RendererDep,
    viewer: ViewerDep,
    now: NowDep,
) -> Response:
    try:
        subscription = _subscription(request, sessions, Purpose.confirm, token, now=now)
    except InvalidToken as exc:
        return _invalid_link(request, renderer, viewer, exc)
    _change(sessions, subscription, store.confirm_subscription, now=now)
    manage_url, _ = _links(request, subscription, now=now)
    return RedirectResponse(f"{manage_url}?confirmed=1", status_code=303, headers=NO_STORE)


# -- managing ------------------------------------------------------------------------------------

STATUS_TEXT = {
    "pending": "The subscription is not confirmed yet: use the link in the confirmation mail.",
    "active": "The subscription is active.",
    "paused": "Digests are paused because mail to this address was refused several times.",
    "unsubscribed": "You are unsubscribed: no more digests are sent.",
}
NOTICES = {
    "confirmed": "Thank you: your subscription is confirmed. The first digest comes at the hour you chose.",
    "saved": "Your preferences are saved.",
    "resumed": "Your digests are back on.",
}


def _manage_page(
    request: Request,
    renderer: Renderer,
    viewer: Viewer | None,
    subscription: Subscription,
    *,
    now: datetime,
    notice: str = "",
    form: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    manage_url, unsubscribe_url = _links(request, subscription, now=now)
    return render_page(
        request,
        renderer,
        "subscriptions/manage.html",
        viewer=viewer,
        status=status,
        email=subscription.email,
        subscription_status=subscription.status,
        status_text=STATUS_TEXT.get(subscription.status, ""),
        notice=notice,
        form=form or _form_values(subscription),
        problems=problems or [],
        manage_url=manage_url,
        unsubscribe_url=unsubscribe_url,
        max_papers=MAX_PAPERS,
        time_zones=time_zone_names(),
    )


@router.get("/subscriptions/manage/{token}")
def manage_page(
    token: str,
    request: Request,
    sessions: SessionsDep,
    renderer: RendererDep,
    viewer: ViewerDep,
    now: NowDep,
) -> Response:
    try:
        subscription = _subscription(request, sessions, Purpose.manage, token, now=now)
    except InvalidToken as exc:
        return _invalid_link(request, renderer, viewer, exc)
    notice = next((text for key, text in NOTICES.items() if request.query_params.get(key)), "")
    return _manage_page(request, renderer, viewer, subscription, now=now, notice=notice)


@router.post("/subscriptions/manage/{token}", dependencies=[CsrfChecked])
def manage_submit(
    token: str,
    request: Request,
    sessions: SessionsDep,
    renderer: RendererDep,
    viewer: ViewerDep,
    now: NowDep,
    form: Annotated[ManageForm, Form()],
) -> Response:
    try:
        subscription = _subscription(request, sessions, Purpose.manage, token, now=now)
    except InvalidToken as exc:
        return _invalid_link(request, renderer, viewer, exc)
    manage_url, _ = _links(request, subscription, now=now)
    if form.action == "resume":
        _change(sessions, subscription, store.resume_subscription, now=now)
        return RedirectResponse(f"{manage_url}?resumed=1", status_code=303, headers=NO_STORE)
    fields = {**form.model_dump(exclude={"action"}), "email": subscription.email}
    try:
        values = validate_subscription(**fields)
    except InvalidSubscription as exc:
        return _manage_page(
            request,
            renderer,
            viewer,
            subscription,
            now=now,
            form=fields,
            problems=describe_problems(exc.problems),
            status=400,
        )
    with sessions.begin() as session:
        current = store.get_subscription(session, subscription_id=subscription.id)
        if current is not None:
            store.update_subscription(
                session,
                subscription=current,
                values={"name": values.name, **values.preference_values()},
                now=_utc(now),
            )
    return RedirectResponse(f"{manage_url}?saved=1", status_code=303, headers=NO_STORE)


# -- unsubscribing -------------------------------------------------------------------------------


@router.get("/subscriptions/unsubscribe/{token}")
def unsubscribe_page(
    token: str,
    request: Request,
    sessions: SessionsDep,
    renderer: RendererDep,
    viewer: ViewerDep,
    now: NowDep,
) -> Response:
    try:
        subscription = _subscription(request, sessions, Purpose.unsubscribe, token, now=now)
    except InvalidToken as exc:
        return _invalid_link(request, renderer, viewer, exc)
    manage_url, _ = _links(request, subscription, now=now)
    if subscription.status == "unsubscribed":
        return message_page(
            request,
            renderer,
            "You are unsubscribed",
            f"{subscription.email} gets no more digests.",
            viewer=viewer,
            links=[("Subscribe again", manage_url)],
        )
    return message_page(
        request,
        renderer,
        "Unsubscribe?",
        f"Stop all digests to {subscription.email}.",
        viewer=viewer,
        action_url=f"/subscriptions/unsubscribe/{token}",
        action_label="Unsubscribe",
        links=[("Change what you get instead", manage_url)],
    )


# No CSRF check: RFC 8058's one-click post comes from a mail client, without cookies or form fields.
@router.post("/subscriptions/unsubscribe/{token}")
def unsubscribe_submit(
    token: str,
    request: Request,
    sessions: SessionsDep,
    renderer: RendererDep,
    viewer: ViewerDep,
    now: NowDep,
) -> Response:
    """One click (RFC 8058) or the confirm button: either way the token alone decides."""
    try:
        subscription = _subscription(request, sessions, Purpose.unsubscribe, token, now=now)
    except InvalidToken as exc:
        return _invalid_link(request, renderer, viewer, exc)
    _change(sessions, subscription, store.unsubscribe, now=now)
    manage_url, _ = _links(request, subscription, now=now)
    return message_page(
        request,
        renderer,
        "You are unsubscribed",
        f"{subscription.email} gets no more digests. Mails already on their way are cancelled.",
        viewer=viewer,
        links=[("Subscribe again", manage_url), ("Today's papers", "/")],
    )


__all__ = ["router", "send_queued_mail"]
