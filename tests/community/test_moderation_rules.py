"""The rules of moderation, called on the library: who may ban, unban, hide and change roles, what a
refusal says (and that it changes nothing), and the exact row each decision leaves in the log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community import accounts, discussion, moderation
from dailypapers.config import Settings
from dailypapers.errors import AlreadyDone, DailyPapersError, InvalidInput, NotAllowed, NotFoundError
from dailypapers.models import User
from tests.community.support import HF_PAPER, NOW, make_user

LATER = NOW + timedelta(minutes=5)
ONLY_MODERATORS = "Only moderators can do this."
NOT_YOURSELF = "You cannot do this to your own account."
ONLY_ADMINS_ON_MODERATORS = "Only an admin can act on a moderator's or admin's account."
ONLY_ADMINS_ROLES = "Only admins can change roles."
NOT_VISIBLE = "This comment is not visible (already hidden, or deleted by its author)."
NOT_HIDDEN = "This comment is not hidden."

# (moderator, action, target, comment id, paper id, reason), as the moderation log shows a decision.
LogRow = tuple[str | None, str, str | None, int | None, str | None, str | None]


@contextmanager
def refused(error: type[DailyPapersError], message: str) -> Iterator[None]:
    """The block raises exactly ``error`` (not a subclass) saying exactly ``message``."""
    with pytest.raises(error) as caught:
        yield
    assert type(caught.value) is error
    assert str(caught.value) == message


def act(sessions: sessionmaker[Session], action: Callable[..., Any], **arguments: Any) -> Any:
    """One moderation decision in a transaction of its own (rolled back when it is refused)."""
    with sessions.begin() as session:
        return action(session, now=NOW, **arguments)


def log(sessions: sessionmaker[Session]) -> list[LogRow]:
    """The moderation log, oldest first."""
    with sessions() as session:
        rows = store.moderation_log(session)
    return [(r.moderator, r.action, r.target, r.comment_id, r.paper_id, r.reason) for r in reversed(rows)]


def fresh(sessions: sessionmaker[Session], user: User) -> User:
    with sessions() as session:
        found = session.get(User, user.id)
    assert found is not None
    return found


def ban_state(sessions: sessionmaker[Session], *users: User) -> list[tuple[str, bool, str | None]]:
    return [(u.username, u.is_banned, u.ban_reason) for u in (fresh(sessions, user) for user in users)]


def roles(sessions: sessionmaker[Session], *users: User) -> list[str]:
    return [fresh(sessions, user).role for user in users]


# -- bans --------------------------------------------------------------------------------------------


def test_a_moderator_bans_and_unbans_an_ordinary_account_and_the_log_says_so(
    sessions: sessionmaker[Session],
) -> None:
    moe = make_user(sessions, "moe", role="moderator")
    ada = make_user(sessions, "ada")
    act(sessions, moderation.ban, moderator=moe, target=ada, reason="  posting \n spam\tagain ")
    banned = fresh(sessions, ada)
    assert banned.is_banned and banned.ban_reason == "posting spam again"
    assert log(sessions) == [("moe", "ban", "ada", None, None, "posting spam again")]
    with refused(AlreadyDone, "ada is banned already."):
        act(sessions, moderation.ban, moderator=moe, target=ada, reason="once more")
    assert ban_state(sessions, ada) == [("ada", True, "posting spam again")]

    act(sessions, moderation.unban, moderator=moe, target=ada, reason="appeal   accepted")
    assert ban_state(sessions, ada) == [("ada", False, None)]
    assert log(sessions)[1:] == [("moe", "unban", "ada", None, None, "appeal accepted")]
    with refused(AlreadyDone, "ada is not banned."):
        act(sessions, moderation.unban, moderator=moe, target=ada, reason="again")
    assert len(log(sessions)) == 2


def test_a_ban_without_a_reason_logs_the_sessions_it_ended(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    ada = make_user(sessions, "ada")
    bob = make_user(sessions, "bob")
    cyd = make_user(sessions, "cyd")
    with sessions.begin() as session:
        for user in (ada, ada, cyd):
            accounts.start_session(session, settings, user_id=user.id, now=NOW)
    # The operator at the command line is moderator=None and is logged as nobody.
    act(sessions, moderation.ban, moderator=None, target=ada, reason=None)
    act(sessions, moderation.ban, moderator=None, target=bob, reason=None)
    act(sessions, moderation.ban, moderator=None, target=cyd, reason="spam")
    with sessions() as session:
        assert store.user_sessions(session, user_id=ada.id, now=NOW) == []
        assert store.user_sessions(session, user_id=cyd.id, now=NOW) == []
    act(sessions, moderation.unban, moderator=None, target=bob, reason=None)
    assert log(sessions) == [
        (None, "ban", "ada", None, None, "2 sessions ended"),
        (None, "ban", "bob", None, None, None),
        (None, "ban", "cyd", None, None, "spam"),
        (None, "unban", "bob", None, None, None),
    ]
    # What the account is told when it tries to write is the reason given, never the session count.
    assert ban_state(sessions, ada, cyd) == [("ada", True, None), ("cyd", True, "spam")]


def test_only_moderators_ban_and_nobody_acts_on_their_own_account(sessions: sessionmaker[Session]) -> None:
    moe = make_user(sessions, "moe", role="moderator")
    ada = make_user(sessions, "ada")
    bob = make_user(sessions, "bob")
    with refused(NotAllowed, ONLY_MODERATORS):
        act(sessions, moderation.ban, moderator=ada, target=bob, reason="I do not like bob")
    act(sessions, moderation.ban, moderator=None, target=bob, reason="spam")
    with refused(NotAllowed, ONLY_MODERATORS):
        act(sessions, moderation.unban, moderator=ada, target=bob, reason="bob is my friend")
    with refused(NotAllowed, NOT_YOURSELF):
        act(sessions, moderation.ban, moderator=moe, target=moe, reason=None)
    with refused(NotAllowed, NOT_YOURSELF):
        act(sessions, moderation.unban, moderator=moe, target=moe, reason=None)
    # A banned moderator moderates no more.
    act(sessions, moderation.ban, moderator=None, target=moe, reason="abuse")
    with refused(NotAllowed, ONLY_MODERATORS):
        act(sessions, moderation.ban, moderator=fresh(sessions, moe), target=ada, reason=None)
    with refused(NotAllowed, ONLY_MODERATORS):
        act(sessions, moderation.unban, moderator=fresh(sessions, moe), target=bob, reason=None)
    assert ban_state(sessions, ada, bob, moe) == [
        ("ada", False, None),
        ("bob", True, "spam"),
        ("moe", True, "abuse"),
    ]
    assert [row[1:3] for row in log(sessions)] == [("ban", "bob"), ("ban", "moe")]


def test_a_moderator_may_not_ban_another_moderator_or_an_admin_but_an_admin_may(
    sessions: sessionmaker[Session],
) -> None:
    ana = make_user(sessions, "ana", role="admin")
    moe = make_user(sessions, "moe", role="moderator")
    mia = make_user(sessions, "mia", role="moderator")
    for target in (mia, ana):
        with refused(NotAllowed, ONLY_ADMINS_ON_MODERATORS):
            act(sessions, moderation.ban, moderator=moe, target=target, reason="rival")
    assert ban_state(sessions, mia, ana) == [("mia", False, None), ("ana", False, None)]
    assert log(sessions) == []

    act(sessions, moderation.ban, moderator=ana, target=mia, reason="abuse")
    with refused(NotAllowed, ONLY_ADMINS_ON_MODERATORS):
        act(sessions, moderation.unban, moderator=moe, target=mia, reason="colleague")
    assert ban_state(sessions, mia) == [("mia", True, "abuse")]
    act(sessions, moderation.unban, moderator=ana, target=mia, reason="appeal")
    assert log(sessions) == [
        ("ana", "ban", "mia", None, None, "abuse"),
        ("ana", "unban", "mia", None, None, "appeal"),
    ]


# -- hiding comments ---------------------------------------------------------------------------------


def comment_by(sessions: sessionmaker[Session], author: User, text: str = "A comment.") -> int:
    with sessions.begin() as session:
        return discussion.post_comment(
            session, user=author, paper_id=HF_PAPER, text=text, parent_id=None, now=NOW
        )


def status_of(sessions: sessionmaker[Session], comment_id: int) -> str:
    with sessions() as session:
        comment = store.get_comment(session, comment_id=comment_id)
    assert comment is not None
    return comment.status


def test_hiding_and_unhiding_a_comment_is_logged_with_its_reason(papers: sessionmaker[Session]) -> None:
    moe = make_user(papers, "moe", role="moderator")
    ada = make_user(papers, "ada")
    comment = comment_by(papers, ada)
    hidden = act(papers, moderation.hide_comment, moderator=moe, comment_id=comment, reason=" off \n topic ")
    assert hidden == HF_PAPER and status_of(papers, comment) == "hidden"
    with refused(AlreadyDone, NOT_VISIBLE):
        act(papers, moderation.hide_comment, moderator=moe, comment_id=comment, reason="again")
    shown = act(papers, moderation.unhide_comment, moderator=moe, comment_id=comment, reason="misread  it")
    assert shown == HF_PAPER and status_of(papers, comment) == "visible"
    with refused(AlreadyDone, NOT_HIDDEN):
        act(papers, moderation.unhide_comment, moderator=moe, comment_id=comment, reason="again")
    # The operator acts as nobody, and no reason is logged as none.
    act(papers, moderation.hide_comment, moderator=None, comment_id=comment, reason=None)
    act(papers, moderation.unhide_comment, moderator=None, comment_id=comment, reason=None)
    assert log(papers) == [
        ("moe", "hide_comment", "ada", comment, HF_PAPER, "off topic"),
        ("moe", "unhide_comment", "ada", comment, HF_PAPER, "misread it"),
        (None, "hide_comment", "ada", comment, HF_PAPER, None),
        (None, "unhide_comment", "ada", comment, HF_PAPER, None),
    ]


def test_only_moderators_hide_and_a_removed_or_missing_comment_is_refused(
    papers: sessionmaker[Session],
) -> None:
    moe = make_user(papers, "moe", role="moderator")
    ada = make_user(papers, "ada")
    bob = make_user(papers, "bob")
    comment = comment_by(papers, ada)
    with refused(NotAllowed, ONLY_MODERATORS):
        act(papers, moderation.hide_comment, moderator=bob, comment_id=comment, reason="I disagree")
    assert status_of(papers, comment) == "visible"
    act(papers, moderation.hide_comment, moderator=moe, comment_id=comment, reason="spam")
    with refused(NotAllowed, ONLY_MODERATORS):
        act(papers, moderation.unhide_comment, moderator=ada, comment_id=comment, reason="it was fine")
    assert status_of(papers, comment) == "hidden"
    for change in (moderation.hide_comment, moderation.unhide_comment):
        with refused(NotFoundError, "There is no comment 999999."):
            act(papers, change, moderator=moe, comment_id=999999, reason=None)
    # A comment its author deleted is neither visible nor hidden.
    deleted = comment_by(papers, ada, "Second thoughts.")
    with papers.begin() as session:
        discussion.delete_comment(session, user=ada, comment_id=deleted, now=NOW)
    with refused(AlreadyDone, NOT_VISIBLE):
        act(papers, moderation.hide_comment, moderator=moe, comment_id=deleted, reason=None)
    with refused(AlreadyDone, NOT_HIDDEN):
        act(papers, moderation.unhide_comment, moderator=moe, comment_id=deleted, reason=None)
    assert status_of(papers, deleted) == "deleted"
    assert log(papers) == [("moe", "hide_comment", "ada", comment, HF_PAPER, "spam")]


# -- roles -------------------------------------------------------------------------------------------


def test_an_admin_changes_roles_and_each_change_is_logged(sessions: sessionmaker[Session]) -> None:
    ana = make_user(sessions, "ana", role="admin")
    ada = make_user(sessions, "ada")
    act(sessions, moderation.set_role, admin=ana, target=ada, role="moderator")
    assert roles(sessions, ada) == ["moderator"]
    act(sessions, moderation.set_role, admin=ana, target=fresh(sessions, ada), role="admin")
    act(sessions, moderation.set_role, admin=None, target=fresh(sessions, ada), role="user")
    assert roles(sessions, ada, ana) == ["user", "admin"]
    with refused(AlreadyDone, "ada is user already."):
        act(sessions, moderation.set_role, admin=ana, target=fresh(sessions, ada), role="user")
    assert log(sessions) == [
        ("ana", "set_role", "ada", None, None, "user → moderator"),
        ("ana", "set_role", "ada", None, None, "moderator → admin"),
        (None, "set_role", "ada", None, None, "admin → user"),
    ]


def test_only_an_unbanned_admin_changes_roles_and_never_their_own(sessions: sessionmaker[Session]) -> None:
    ana = make_user(sessions, "ana", role="admin")
    eve = make_user(sessions, "eve", role="admin")
    moe = make_user(sessions, "moe", role="moderator")
    ada = make_user(sessions, "ada")
    for who in (ada, moe):
        with refused(NotAllowed, ONLY_ADMINS_ROLES):
            act(sessions, moderation.set_role, admin=who, target=ada if who is moe else moe, role="admin")
        with refused(NotAllowed, ONLY_ADMINS_ROLES):
            act(sessions, moderation.set_role, admin=who, target=who, role="admin")
    with refused(NotAllowed, "You cannot change your own role."):
        act(sessions, moderation.set_role, admin=ana, target=ana, role="user")
    for role in ("owner", "Admin"):
        with pytest.raises(InvalidInput) as invalid:
            act(sessions, moderation.set_role, admin=ana, target=ada, role=role)
        assert invalid.value.problems == {"role": "The role must be one of user, moderator, admin."}
    # A banned admin changes nothing.
    act(sessions, moderation.ban, moderator=ana, target=eve, reason="compromised")
    with refused(NotAllowed, ONLY_ADMINS_ROLES):
        act(sessions, moderation.set_role, admin=fresh(sessions, eve), target=ada, role="moderator")
    assert roles(sessions, ana, eve, moe, ada) == ["admin", "admin", "moderator", "user"]
    assert [row[1] for row in log(sessions)] == ["ban"]
