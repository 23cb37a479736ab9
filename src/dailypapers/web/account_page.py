"""The account page (``/account``) and its forms: address confirmation, preferences, password, API
tokens, sessions, digests.

A new API token is shown once, on the page that answers the form that made it (never in a redirect's
address, which would end up in logs and history); afterwards only its first characters are listed.
Changing the password ends every other session, and "log out everywhere" ends all but this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import RedirectResponse, Response

from dailypapers import store
from dailypapers.community import accounts
from dailypapers.community.passwords import MIN_LENGTH
from dailypapers.config import Settings
from dailypapers.digest.render import MailRenderer
from dailypapers.digest.subscribers import subscribe, validate_subscription
from dailypapers.errors import InvalidInput, NotAllowed
from dailypapers.web.account_mails import queue_verification
from dailypapers.web.auth import NO_STORE, FormViewerDep, SignedInDep, Viewer, render_page
from dailypapers.web.common import subscription_links
from dailypapers.web.deps import (
    CredentialsDep,
    NowDep,
    RendererDep,
    SessionsDep,
    SettingsDep,
    SubscriptionTokensDep,
    subscription_tokens_of,
)
from dailypapers.web.render import Renderer

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form(max_length=2000)]
Password = Annotated[str, Form(max_length=1024)]

NOTICES = {
    "welcome": "Welcome! We sent a link to your mail address: open it to confirm the address, then vote, "
    "comment and submit papers.",
    "verified": "Your mail address is confirmed.",
    "reset": "Your password is changed, and every other session of this account has ended.",
    "password": "Your password is changed, and every other session of this account has ended.",
    "saved": "Your preferences are saved.",
    "mailed": "We sent you a new confirmation link.",
    "wait": "A confirmation link went out less than two minutes ago; look for it in your inbox.",
    "everywhere": "Every other session of this account has ended.",
    "revoked": "The token is revoked: it no longer works.",
    "subscribed": "You now get digests by mail.",
}


@dataclass(frozen=True, slots=True)
class AccountPage:
    """What every form of the account page needs, to act and to show the page again (with a notice,
    a new token or the problems with the form)."""

    request: Request
    renderer: Renderer
    settings: Settings
    sessions: sessionmaker[Session]
    now: datetime

    def show(
        self,
        viewer: Viewer,
        *,
        notice: str = "",
        new_token: str = "",
        problems: list[str] | None = None,
        status: int = 200,
    ) -> Response:
        with self.sessions() as session:
            user = store.get_user(session, user_id=viewer.user.id)
            tokens = store.api_tokens(session, user_id=viewer.user.id)
            live_sessions = store.user_sessions(session, user_id=viewer.user.id, now=self.now)
            # A subscription belongs to whoever owns its address: only an account that has proved it
            # owns the address may see it (keywords, time zone) or get its manage link, which changes
            # and ends it.
            subscription = (
                store.subscription_by_email(session, email=user.email)
                if user is not None and user.is_verified
                else None
            )
        assert user is not None
        manage_url = (
            subscription_links(subscription_tokens_of(self.request), subscription, now=self.now)[0]
            if subscription is not None
            else ""
        )
        return render_page(
            self.request,
            self.renderer,
            "accounts/account.html",
            viewer=viewer,
            status=status,
            nav="account",
            user=user,
            api_tokens=tokens,
            live_sessions=live_sessions,
            subscription=subscription,
            manage_url=manage_url,
            notice=notice,
            new_token=new_token,
            problems=problems or [],
            min_length=MIN_LENGTH,
            base_url=self.settings.base_url,
        )


async def get_account_page(
    request: Request, renderer: RendererDep, settings: SettingsDep, sessions: SessionsDep, now: NowDep
) -> AccountPage:
    return AccountPage(request, renderer, settings, sessions, now)


AccountPageDep = Annotated[AccountPage, Depends(get_account_page)]


@router.get("/account")
def account_page(viewer: SignedInDep, page: AccountPageDep) -> Response:
    notice = next((text for key, text in NOTICES.items() if page.request.query_params.get(key)), "")
    return page.show(viewer, notice=notice)


def _back(notice: str) -> Response:
    return RedirectResponse(f"/account?{notice}=1", status_code=303, headers=NO_STORE)


@router.post("/account/verify-mail")
def resend_verification(
    background: BackgroundTasks,
    credentials: CredentialsDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
) -> Response:
    if viewer.user.is_verified:
        return _back("verified")
    sent = queue_verification(credentials, settings, sessions, background, viewer.user, now)
    return _back("mailed" if sent else "wait")


@router.post("/account/preferences")
def save_preferences(
    sessions: SessionsDep, viewer: FormViewerDep, now: NowDep, show_upvotes: FormText = ""
) -> Response:
    with sessions.begin() as session:
        store.update_user(
            session, user_id=viewer.user.id, values={"show_upvotes": show_upvotes == "on"}, now=now
        )
    return _back("saved")


@router.post("/account/password")
def change_password(
    viewer: FormViewerDep,
    page: AccountPageDep,
    current_password: Password = "",
    new_password: Password = "",
    new_password_again: Password = "",
) -> Response:
    try:
        if new_password != new_password_again:
            raise InvalidInput({"new_password_again": "The two new passwords are not the same."})
        with page.sessions.begin() as session:
            accounts.change_password(
                session,
                user=viewer.user,
                current=current_password,
                new=new_password,
                now=page.now,
                keep_session=viewer.session_id,
            )
    except InvalidInput as exc:
        return page.show(viewer, problems=list(exc.problems.values()), status=400)
    return _back("password")


@router.post("/account/tokens")
def create_token(viewer: FormViewerDep, page: AccountPageDep, name: FormText = "") -> Response:
    try:
        with page.sessions.begin() as session:
            token = accounts.issue_api_token(session, user=viewer.user, name=name, now=page.now)
    except NotAllowed as exc:
        return page.show(viewer, problems=[str(exc)], status=403)
    return page.show(
        viewer, notice="Your new API token is below. Copy it now: it is shown only once.", new_token=token
    )


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: int, viewer: FormViewerDep, page: AccountPageDep) -> Response:
    with page.sessions.begin() as session:
        revoked = store.revoke_api_token(session, token_id=token_id, user_id=viewer.user.id, now=page.now)
        # Only the account's own tokens can be revoked (the update is limited to them); another
        # account's token id gets the same answer as an id that does not exist.
        own = revoked or store.api_token_of(session, token_id=token_id, user_id=viewer.user.id) is not None
    if not own:
        return page.show(
            viewer, problems=["There is no such token on your account; nothing was revoked."], status=404
        )
    return _back("revoked")


@router.post("/account/logout-everywhere")
def logout_everywhere(sessions: SessionsDep, viewer: FormViewerDep) -> Response:
    with sessions.begin() as session:
        store.delete_sessions(session, user_id=viewer.user.id, keep=viewer.session_id)
    return _back("everywhere")


@router.post("/account/subscribe")
def subscribe_to_digests(
    viewer: FormViewerDep, page: AccountPageDep, tokens: SubscriptionTokensDep
) -> Response:
    """Digests for the account's own address: it is verified already, so no confirmation mail is needed."""
    user = viewer.user
    if not user.is_verified:
        return page.show(viewer, problems=["Confirm your mail address first; digests go to it."], status=403)
    settings, sessions, now = page.settings, page.sessions, page.now
    with sessions() as session:
        existing = store.subscription_by_email(session, email=user.email)
    if existing is not None and existing.status in ("active", "paused"):
        # Already subscribed: its preferences are changed on the manage page, not reset here.
        manage_url, _ = subscription_links(tokens, existing, now=now)
        return RedirectResponse(manage_url, status_code=303, headers=NO_STORE)
    values = validate_subscription(email=user.email, name=user.username)
    # The app's tokens: create_app refused a key too weak for mail that goes out, so these links are safe.
    with sessions.begin() as session:
        outcome = subscribe(
            session,
            MailRenderer(settings, tokens),
            values=values,
            now=now,
            source="account",
            confirmed=True,
        )
        outcome.subscription.user_id = user.id
    manage_url, _ = subscription_links(tokens, outcome.subscription, now=now)
    return RedirectResponse(manage_url, status_code=303, headers=NO_STORE)


__all__ = ["router"]
