"""Signing in: sign up, log in and out, verify an address, reset a password (/account is elsewhere).

Every form carries a CSRF token (``auth.py``): a session-bound one for signed-in visitors and, for the
log-in, sign-up and reset forms, one bound to a ``dp_csrf`` cookie, which keeps another site from
logging a visitor into an account of its choosing (login CSRF).

Logging in always makes a new session and ends the one the browser came with, if any (session
fixation). The forgotten-password and sign-up forms answer the same whether or not the address has an
account (a new account logs in once its address is confirmed; an existing one gets a mail about the
attempt).
Links in mails open a page with a button rather than acting on GET, because mail scanners open links.
Mails go out in the background after the response (``account_mails.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import HTMLResponse, RedirectResponse, Response

from dailypapers import store
from dailypapers.community import accounts
from dailypapers.community.credentials import Credentials, InvalidLink, LinkPurpose, sha256_hex
from dailypapers.community.mails import reset_mail, signup_attempt_mail
from dailypapers.community.passwords import MIN_LENGTH, hash_password
from dailypapers.config import Settings
from dailypapers.errors import InvalidInput, LoginFailed, NotAllowed, TooManyRequests
from dailypapers.models import User
from dailypapers.web.account_mails import queue_reset_link, queue_verification
from dailypapers.web.auth import (
    NO_STORE,
    SESSION_COOKIE,
    CsrfChecked,
    FormViewerDep,
    Viewer,
    ViewerDep,
    clear_session_cookie,
    client_address,
    message_page,
    render_page,
    safe_next,
    set_session_cookie,
)
from dailypapers.web.deps import CredentialsDep, NowDep, RendererDep, SessionsDep, SettingsDep
from dailypapers.web.render import Renderer

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form(max_length=2000)]
Password = Annotated[str, Form(max_length=1024)]


def _log_in_response(
    request: Request,
    credentials: Credentials,
    settings: Settings,
    sessions: sessionmaker[Session],
    user: User,
    now: datetime,
    target: str,
) -> Response:
    """A new session for ``user`` (the browser's old one, if any, is ended) and a redirect to ``target``."""
    old_token = credentials.session_token(request.cookies.get(SESSION_COOKIE))
    with sessions.begin() as session:
        if old_token is not None:
            store.delete_session(session, session_id=sha256_hex(old_token))
        token = accounts.start_session(
            session,
            settings,
            user_id=user.id,
            now=now,
            client_address=client_address(request),
            user_agent=request.headers.get("user-agent"),
        )
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    set_session_cookie(request, response, credentials, token, settings.session_days)
    return response


# -- signing up ------------------------------------------------------------------------------------


def _signup_form(
    request: Request,
    renderer: Renderer,
    settings: Settings,
    *,
    form: dict[str, str],
    problems: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    return render_page(
        request,
        renderer,
        "accounts/signup.html",
        viewer=None,
        status=status,
        nav="signup",
        form=form,
        field_problems=problems,
        problems=list(problems.values()),
        min_length=MIN_LENGTH,
        open=settings.signup_enabled,
    )


@router.get("/signup")
def signup_page(
    request: Request, renderer: RendererDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    if viewer is not None:
        return RedirectResponse("/account", status_code=303)
    status = 200 if settings.signup_enabled else 403
    return _signup_form(
        request, renderer, settings, form={"username": "", "email": ""}, problems={}, status=status
    )


@router.post("/signup", dependencies=[CsrfChecked])
def signup_submit(
    request: Request,
    background: BackgroundTasks,
    credentials: CredentialsDep,
    renderer: RendererDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    now: NowDep,
    username: FormText = "",
    email: FormText = "",
    password: Password = "",
    password_again: Password = "",
) -> Response:
    form = {"username": username, "email": email}
    if not settings.signup_enabled:
        return _signup_form(request, renderer, settings, form=form, problems={}, status=403)
    if password != password_again:
        problems = {"password_again": "The two passwords are not the same."}
        return _signup_form(request, renderer, settings, form=form, problems=problems, status=400)
    try:
        with sessions.begin() as session:
            user = accounts.sign_up(session, username=username, email=email, password=password, now=now)
    except accounts.AddressTaken:
        # Answered like a sign-up that worked, so that the page does not tell who has an account here
        # (as /forgot does not); the hash costs what the new account's would have. The owner is told.
        hash_password(password)
        with sessions.begin() as session:
            owner = accounts.signup_attempt_target(session, email=email, now=now)
        if owner is not None:
            queue_reset_link(credentials, settings, background, owner, now, signup_attempt_mail)
        return _signed_up_page(request, renderer)
    except InvalidInput as exc:
        return _signup_form(request, renderer, settings, form=form, problems=exc.problems, status=400)
    queue_verification(credentials, settings, sessions, background, user, now)
    return _signed_up_page(request, renderer)


def _signed_up_page(request: Request, renderer: Renderer) -> HTMLResponse:
    """The answer to every sign-up that passed its checks, whether or not the address had an account."""
    return message_page(
        request,
        renderer,
        "Check your inbox",
        "We sent a mail to the address you gave. If it was new here, the mail has a link to confirm it: "
        "open it, then log in with your new name and password to vote, comment and submit papers. If "
        "the address already has an account, the mail says so instead and how to get back in.",
        viewer=None,
        links=[("Log in", "/login"), ("Today's papers", "/")],
    )


# -- logging in and out ----------------------------------------------------------------------------


def _login_form(
    request: Request,
    renderer: Renderer,
    *,
    login: str,
    next_path: str,
    problem: str = "",
    status: int = 200,
    viewer: Viewer | None = None,
) -> HTMLResponse:
    return render_page(
        request,
        renderer,
        "accounts/login.html",
        viewer=viewer,
        status=status,
        nav="login",
        login=login,
        next_path=next_path,
        problems=[problem] if problem else [],
    )


@router.get("/login")
def login_page(request: Request, renderer: RendererDep, viewer: ViewerDep, next: str = "/") -> Response:
    # Shown to signed-in visitors too (to switch accounts): the log-in replaces their session.
    return _login_form(request, renderer, login="", next_path=safe_next(next), viewer=viewer)


@router.post("/login", dependencies=[CsrfChecked])
def login_submit(
    request: Request,
    viewer: ViewerDep,
    credentials: CredentialsDep,
    renderer: RendererDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    now: NowDep,
    login: FormText = "",
    password: Password = "",
    next: FormText = "/",
) -> Response:
    target = safe_next(next)
    try:
        user = accounts.log_in(
            sessions,
            settings,
            login=login,
            password=password,
            client_address=client_address(request),
            now=now,
        )
    except TooManyRequests as exc:
        response = _login_form(
            request, renderer, login=login, next_path=target, problem=str(exc), status=429, viewer=viewer
        )
        response.headers["Retry-After"] = str(int(exc.retry_after + 0.999))
        return response
    except (LoginFailed, NotAllowed) as exc:
        status = 403 if isinstance(exc, NotAllowed) else 400
        return _login_form(
            request, renderer, login=login, next_path=target, problem=str(exc), status=status, viewer=viewer
        )
    return _log_in_response(request, credentials, settings, sessions, user, now, target)


@router.post("/logout")
def logout(request: Request, viewer: FormViewerDep, sessions: SessionsDep) -> Response:
    with sessions.begin() as session:
        store.delete_session(session, session_id=viewer.session_id)
    response = RedirectResponse("/", status_code=303, headers=NO_STORE)
    clear_session_cookie(request, response)
    return response


# -- verifying an address ----------------------------------------------------------------------------


def _bad_link(
    request: Request, renderer: Renderer, viewer: Viewer | None, error: InvalidLink, *, what: str
) -> HTMLResponse:
    detail = (
        f"{what} links work for a limited time. Ask for a new one."
        if error.expired
        else "The link may have been cut, changed, already used, or replaced by a newer one."
    )
    return message_page(
        request,
        renderer,
        "This link does not work",
        f"{str(error).capitalize()}. {detail}",
        viewer=viewer,
        status=410 if error.expired else 400,
        links=[("Your account", "/account"), ("Forgot your password?", "/forgot")],
    )


@router.get("/verify/{token}")
def verify_page(
    token: str,
    request: Request,
    credentials: CredentialsDep,
    renderer: RendererDep,
    viewer: ViewerDep,
    now: NowDep,
) -> Response:
    try:
        credentials.read_link(LinkPurpose.verify, token, now=now)
    except InvalidLink as exc:
        return _bad_link(request, renderer, viewer, exc, what="Confirmation")
    return message_page(
        request,
        renderer,
        "Confirm your address",
        "Confirm that this mail address belongs to your Daily Papers account.",
        viewer=viewer,
        action_url=f"/verify/{token}",
        action_label="Confirm my address",
    )


@router.post("/verify/{token}", dependencies=[CsrfChecked])
def verify_submit(
    token: str,
    request: Request,
    credentials: CredentialsDep,
    renderer: RendererDep,
    sessions: SessionsDep,
    viewer: ViewerDep,
    now: NowDep,
) -> Response:
    try:
        with sessions.begin() as session:
            user = accounts.verify_address(session, credentials, token=token, now=now)
    except InvalidLink as exc:
        return _bad_link(request, renderer, viewer, exc, what="Confirmation")
    if viewer is not None and viewer.user.id == user.id:
        return RedirectResponse("/account?verified=1", status_code=303, headers=NO_STORE)
    return message_page(
        request,
        renderer,
        "Your address is confirmed",
        f"Thank you. Log in as {user.username} to vote, comment and submit papers.",
        viewer=viewer,
        links=[("Log in", "/login"), ("Today's papers", "/")],
    )


# -- resetting a password ----------------------------------------------------------------------------


@router.get("/forgot")
def forgot_page(request: Request, renderer: RendererDep, viewer: ViewerDep) -> Response:
    return render_page(request, renderer, "accounts/forgot.html", viewer=viewer, email="")


@router.post("/forgot", dependencies=[CsrfChecked])
def forgot_submit(
    request: Request,
    background: BackgroundTasks,
    credentials: CredentialsDep,
    renderer: RendererDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    viewer: ViewerDep,
    now: NowDep,
    email: FormText = "",
) -> Response:
    with sessions.begin() as session:
        user = accounts.password_reset_target(session, email=email, now=now)
    if user is not None:
        queue_reset_link(credentials, settings, background, user, now, reset_mail)
    return message_page(
        request,
        renderer,
        "Check your inbox",
        "If an account uses this address, we sent it a link to choose a new password. The link works once, "
        "for one hour.",
        viewer=viewer,
    )


@router.get("/reset/{token}")
def reset_page(
    token: str,
    request: Request,
    credentials: CredentialsDep,
    renderer: RendererDep,
    sessions: SessionsDep,
    viewer: ViewerDep,
    now: NowDep,
) -> Response:
    try:
        with sessions() as session:
            user = accounts.reset_link_user(session, credentials, token=token, now=now)
    except InvalidLink as exc:
        return _bad_link(request, renderer, viewer, exc, what="Password reset")
    return render_page(
        request,
        renderer,
        "accounts/reset.html",
        viewer=viewer,
        token=token,
        username=user.username,
        min_length=MIN_LENGTH,
    )


@router.post("/reset/{token}", dependencies=[CsrfChecked])
def reset_submit(
    token: str,
    request: Request,
    credentials: CredentialsDep,
    renderer: RendererDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    viewer: ViewerDep,
    now: NowDep,
    password: Password = "",
    password_again: Password = "",
) -> Response:
    try:
        with sessions.begin() as session:
            user = accounts.reset_link_user(session, credentials, token=token, now=now)
            if password != password_again:
                raise InvalidInput({"password_again": "The two passwords are not the same."})
            user = accounts.reset_password(session, credentials, token=token, password=password, now=now)
    except InvalidLink as exc:
        return _bad_link(request, renderer, viewer, exc, what="Password reset")
    except InvalidInput as exc:
        return render_page(
            request,
            renderer,
            "accounts/reset.html",
            viewer=viewer,
            status=400,
            token=token,
            username=user.username,
            min_length=MIN_LENGTH,
            problems=list(exc.problems.values()),
        )
    return _log_in_response(request, credentials, settings, sessions, user, now, "/account?reset=1")


__all__ = ["router"]
