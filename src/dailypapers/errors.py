"""The one exception hierarchy of Daily Papers.

Every error raised on purpose derives from :class:`DailyPapersError`; its message says what went wrong
and, where there is one, how to fix it. The edges translate them: the CLI prints ``str(error)`` on one
line and exits with ``error.exit_code``, the web app maps them to HTTP statuses.

    DailyPapersError
    ├── ConfigurationError      settings that cannot work (bad URL, missing extra)
    ├── DatabaseError           database missing, unreachable or at an unknown schema
    ├── NotFoundError           a paper, user or file that does not exist
    ├── IngestError             a whole input cannot be read
    │   ├── UnknownFormatError  content matches no supported format
    │   └── FormatError         the format is known but the file is broken (empty, truncated, bad encoding)
    ├── UpstreamError           arXiv or Hugging Face failed after all retries, or within the time allowed
    │   └── UpstreamBusy        too many look-ups are already waiting; nothing was asked upstream
    ├── SearchError             a query or index problem the user can fix
    ├── SubscriptionError       a subscription that cannot be made as asked (bad address, options)
    ├── MailError               the SMTP server could not be reached or refused a mail
    ├── InvalidSignedLink       (signing.py) a link in a mail altered, made for something else, or expired
    └── CommunityError          an account, vote, comment or submission that cannot be done as asked
        ├── InvalidInput        values that fail validation, with a problem per field
        ├── LoginFailed         wrong name or password (never says which)
        ├── NotAllowed          not yours, not signed in as someone who may, banned, not verified
        ├── AlreadyDone         the thing exists already (a taken name, a paper already on the feed)
        └── TooManyRequests     a limit was reached; ``retry_after`` says when to try again
"""

from __future__ import annotations


class DailyPapersError(Exception):
    """Base class: an error with a message meant for the person running Daily Papers."""

    exit_code = 1


class ConfigurationError(DailyPapersError):
    exit_code = 78  # EX_CONFIG


class DatabaseError(DailyPapersError):
    exit_code = 69  # EX_UNAVAILABLE


class NotFoundError(DailyPapersError):
    exit_code = 66  # EX_NOINPUT


class IngestError(DailyPapersError):
    exit_code = 65  # EX_DATAERR

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class UnknownFormatError(IngestError):
    pass


class FormatError(IngestError):
    pass


class UpstreamError(DailyPapersError):
    exit_code = 69

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(message)


class UpstreamBusy(UpstreamError):
    """The site's few upstream look-up slots are all taken, so this one was not even started."""

    exit_code = 75  # EX_TEMPFAIL


class SearchError(DailyPapersError):
    exit_code = 64  # EX_USAGE


class MissingExtraError(ConfigurationError):
    """A feature needs an optional dependency that is not installed."""

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs the optional '{extra}' dependencies: pip install 'dailypapers[{extra}]'"
        )


class SubscriptionError(DailyPapersError):
    exit_code = 65  # EX_DATAERR


class MailError(DailyPapersError):
    """The SMTP server could not be reached, or it refused a mail.

    ``permanent`` is true for a 5xx reply (sending the same mail again will fail again); ``stage`` says
    which step failed (connect, auth, sender, recipient, data, reply); ``outcome_unknown`` is true when
    the connection broke while waiting for the reply to a whole message, so the server may have kept it.
    """

    exit_code = 75  # EX_TEMPFAIL

    def __init__(
        self,
        message: str,
        *,
        stage: str,
        code: int | None = None,
        permanent: bool = False,
        outcome_unknown: bool = False,
    ) -> None:
        self.stage = stage
        self.code = code
        self.permanent = permanent
        self.outcome_unknown = outcome_unknown
        super().__init__(message)


class CommunityError(DailyPapersError):
    exit_code = 65  # EX_DATAERR


class InvalidInput(CommunityError):
    """Values that fail validation; ``problems`` maps each field to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(self.problems.values()))


class LoginFailed(CommunityError):
    exit_code = 77  # EX_NOPERM


class NotAllowed(CommunityError):
    exit_code = 77  # EX_NOPERM


class AlreadyDone(CommunityError):
    pass


class TooManyRequests(CommunityError):
    exit_code = 75  # EX_TEMPFAIL

    def __init__(self, message: str, *, retry_after: float) -> None:
        self.retry_after = max(1.0, retry_after)
        super().__init__(message)
