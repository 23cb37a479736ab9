"""Every database query of Daily Papers lives in this package.

Functions are keyword-only and take an open :class:`~sqlalchemy.orm.Session`; the caller owns the
transaction. ``papers`` holds ingest and paper look-ups; ``feeds`` the daily/weekly/monthly feeds and
trending; ``subscriptions`` the digest subscriptions and the mail outbox; ``accounts`` users, sessions,
API tokens and failed log-ins; ``community`` votes, comments, submissions and the moderation log;
``submissions`` the attempts that the daily submission limit counts; ``library`` each account's
collections of papers.
Everything is re-exported here, so callers write ``store.get_paper(...)``.
"""

from dailypapers.store.accounts import *  # noqa: F403
from dailypapers.store.accounts import __all__ as _accounts_all
from dailypapers.store.community import *  # noqa: F403
from dailypapers.store.community import __all__ as _community_all
from dailypapers.store.feeds import *  # noqa: F403
from dailypapers.store.feeds import __all__ as _feeds_all
from dailypapers.store.library import *  # noqa: F403
from dailypapers.store.library import __all__ as _library_all
from dailypapers.store.papers import *  # noqa: F403
from dailypapers.store.papers import __all__ as _papers_all
from dailypapers.store.submissions import *  # noqa: F403
from dailypapers.store.submissions import __all__ as _submissions_all
from dailypapers.store.subscriptions import *  # noqa: F403
from dailypapers.store.subscriptions import __all__ as _subscriptions_all

__all__ = (
    list(_papers_all)
    + list(_feeds_all)
    + list(_subscriptions_all)
    + list(_accounts_all)
    + list(_community_all)
    + list(_submissions_all)
    + list(_library_all)
)
