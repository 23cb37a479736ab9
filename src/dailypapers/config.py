"""Settings for every part of Daily Papers, read from ``DAILYPAPERS_*`` environment variables.

All settings live in this one class so that the docs, the CLI and the web app agree on names and
defaults. ``docs/configuration.md`` lists every field; a test fails when one is missing there.
"""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dailypapers import __version__

DEFAULT_USER_AGENT = f"DailyPapers/{__version__} (+https://github.com/dailypapers/dailypapers)"


class Settings(BaseSettings):
    """Configuration of one Daily Papers installation."""

    model_config = SettingsConfigDict(
        env_prefix="DAILYPAPERS_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(
        default=Path("./data"),
        description="Folder for the SQLite database, search indexes, backups and caches.",
    )
    database_url: str = Field(
        default="",
        description=(
            "SQLAlchemy URL of the database. Empty means a SQLite file `dailypapers.db` in the data dir; "
            "`postgresql+psycopg://user:password@host/dbname` selects PostgreSQL."
        ),
    )
    user_agent: str = Field(
        default=DEFAULT_USER_AGENT,
        description="User-Agent sent to arXiv and Hugging Face. Add a contact address for heavy use.",
    )
    arxiv_api_url: str = Field(
        default="https://export.arxiv.org/api/query",
        description="arXiv query API endpoint (Atom).",
    )
    arxiv_oai_url: str = Field(
        default="https://oaipmh.arxiv.org/oai",
        description="arXiv OAI-PMH endpoint.",
    )
    hf_api_url: str = Field(
        default="https://huggingface.co/api",
        description="Base URL of the Hugging Face API (the daily papers endpoint lives under it).",
    )
    arxiv_delay_seconds: float = Field(
        default=3.0,
        ge=0.0,
        description="Pause between two calls to arXiv; arXiv asks clients for at least 3 seconds.",
    )
    http_timeout_seconds: float = Field(
        default=30.0,
        gt=0.0,
        description="Timeout for one HTTP request to an upstream service.",
    )
    http_max_retries: int = Field(
        default=5,
        ge=0,
        description=(
            "How many times a request that failed with 429, 503, a timeout or a dropped connection"
            " is retried (a host name that does not resolve and a refused connection are not)."
        ),
    )
    ingest_batch_size: int = Field(
        default=5000,
        ge=1,
        description="Papers written per database transaction while ingesting.",
    )

    auto_index: bool = Field(
        default=True,
        description="Update the search index after every ingest or fetch that changed papers.",
    )
    embedder: str = Field(
        default="minilm",
        description=(
            "Embedding model for semantic search: `minilm` (all-MiniLM-L6-v2 on the fastest backend this CPU "
            "has: OpenVINO in bfloat16 where the CPU computes it natively, else an int8 ONNX model), "
            "`minilm-bf16` or `minilm-int8` to choose the backend, `minilm-fp32` (sentence-transformers), "
            "`wordllama` (a fast static model), or the path of a local sentence-transformers model folder. "
            "A different model or backend rebuilds the vectors."
        ),
    )
    bm25_k1: float = Field(
        default=1.2,
        ge=0.0,
        description="BM25 term-frequency saturation (k1); tuned on SciFact train (Anserini's baseline: 0.9).",
    )
    bm25_b: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description="BM25 length normalisation (b). Tuned on SciFact train; Anserini's baseline uses 0.4.",
    )
    bm25_title_weight: int = Field(
        default=3,
        ge=1,
        description="How many times a title word counts against an abstract word in keyword search.",
    )
    models_dir: Path | None = Field(
        default=None,
        description=(
            "Folder for exported embedding models (default: `models` in the data dir). Several data dirs "
            "can share one."
        ),
    )
    embed_threads: int = Field(
        default=0,
        ge=0,
        description="CPU threads for embedding; 0 means one per core.",
    )
    embed_batch_size: int = Field(
        default=32,
        ge=1,
        description="Texts embedded per batch (batches are formed from texts of similar length).",
    )

    # -- running a public instance: secrets, mail, digests, the scheduler --------------------------

    environment: Literal["development", "production"] = Field(
        default="development",
        description=(
            "`development` or `production`. In production a missing or placeholder `SECRET_KEY` stops every "
            "command that signs links; in development one is generated and kept in the data dir, unless "
            "real mail is sent or the site is served beyond loopback."
        ),
    )
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Key that signs the links in mails (confirm, manage, unsubscribe) and form tokens; at least 32 "
            "random characters (`python -c 'import secrets; print(secrets.token_urlsafe(48))'`). Changing "
            "it invalidates every link already sent."
        ),
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description=(
            "Public address of the site, used for links in mails (`https://papers.example.org`). One-click "
            "unsubscribe (RFC 8058) needs https when real mail is sent."
        ),
    )
    mail_from: str = Field(
        default="Daily Papers <daily-papers@localhost>",
        description="Sender of every mail, as `Name <address>` or a bare address.",
    )
    smtp_host: str = Field(
        default="",
        description="SMTP server for outgoing mail. Empty: mails are printed on the console instead of sent.",
    )
    smtp_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="SMTP port; 0 means 465 for `tls`, 587 for `starttls` and 25 for `none`.",
    )
    smtp_user: str = Field(default="", description="SMTP user name; empty means no authentication.")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP password.")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="starttls",
        description=(
            "`starttls` (upgrade a plain connection, port 587), `tls` (TLS from the start, port 465) or "
            "`none` (only for a relay on the same machine)."
        ),
    )
    smtp_timeout_seconds: float = Field(
        default=30.0,
        gt=0.0,
        description=(
            "Timeout for connecting to the SMTP server and for each command. The reply to a whole message is "
            "awaited for up to 10 minutes, as RFC 5321 asks."
        ),
    )
    digest_max_attempts: int = Field(
        default=10,
        ge=1,
        description=(
            "Tries of one mail that failed with a temporary error (4xx reply, dropped connection, timeout) "
            "before it is given up; the waits between tries double from 1 minute to at most 6 hours."
        ),
    )
    digest_hard_bounce_limit: int = Field(
        default=3,
        ge=1,
        description=(
            "Mails in a row refused permanently (5xx) for one subscriber before the subscription is paused."
        ),
    )
    outbox_lease_seconds: float = Field(
        default=1800.0,
        ge=1500.0,
        description=(
            "How long a sender may hold a mail it claimed before another sender may take it over (the mail "
            "of a sender that crashed is retried after this). At least 1500 s: one send may take 12 "
            "minutes (connecting, commands, and the 10 minutes a server has to accept a message)."
        ),
    )
    fetch_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "arXiv categories that `dailypapers run` fetches new papers of, comma-separated "
            "(`cs.CL,cs.LG`). Empty: no arXiv fetching."
        ),
    )
    fetch_hf: bool = Field(
        default=True,
        description="Whether `dailypapers run` fetches the Hugging Face daily papers.",
    )
    fetch_interval_minutes: int = Field(
        default=60,
        ge=0,
        description="Minutes between two fetches in `dailypapers run`; 0 turns fetching off.",
    )

    # -- the community: accounts, sessions, submissions --------------------------------------------

    signup_enabled: bool = Field(
        default=True,
        description=(
            "Whether visitors may create accounts on the site. Off: accounts are made by the operator "
            "with `dailypapers users create`."
        ),
    )
    session_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Days a log-in lasts before the browser must log in again.",
    )
    submissions_per_day: int = Field(
        default=10,
        ge=0,
        description=(
            "Papers one account may submit to the feed or fetch from arXiv per day (UTC); every try "
            "counts, whether arXiv had the paper or not. 0 turns submitting and fetching off. "
            "Moderators and admins have no limit."
        ),
    )
    submission_max_age_days: int = Field(
        default=14,
        ge=0,
        description=(
            "Days after a paper's first version on arXiv during which it may be submitted to the feed "
            "(as on Hugging Face); 0 means no limit. Moderators follow the same rule."
        ),
    )
    submission_fetch_budget_seconds: float = Field(
        default=10.0,
        gt=0.0,
        le=60.0,
        description=(
            "The most time one submission or fetch on the site may spend waiting for arXiv, pauses and "
            "retries included; past it the visitor is told arXiv could not be reached."
        ),
    )
    submission_fetch_concurrency: int = Field(
        default=2,
        ge=1,
        le=16,
        description=(
            "arXiv look-ups the site makes at once for submissions and fetches; as many more may wait "
            "for a turn, and any beyond that are refused at once with a message to try again later."
        ),
    )
    login_failures_per_account: int = Field(
        default=5,
        ge=1,
        description=(
            "Wrong passwords in a row for one account from one client address before log-ins to it from "
            "that address are refused for a while; each further failure doubles the wait. Other "
            "addresses, the owner's among them, are not held up."
        ),
    )
    login_failures_per_address: int = Field(
        default=20,
        ge=1,
        description=(
            "Failed log-ins from one client address (any accounts) before that address must wait; each "
            "further failure doubles the wait."
        ),
    )
    login_lockout_seconds: float = Field(
        default=60.0,
        gt=0.0,
        description="The first wait after too many failed log-ins; it doubles with each failure after.",
    )
    login_lockout_max_seconds: float = Field(
        default=3600.0,
        gt=0.0,
        description="The longest wait after failed log-ins, however many there were.",
    )
    comments_per_hour: int = Field(
        default=30,
        ge=1,
        description=(
            "Comments and replies one account may post in any hour (deleted ones count); past it the "
            "site says when the next is possible, and the API answers 429 with Retry-After. Moderators "
            "and admins have no limit."
        ),
    )

    # -- serving: request and connection limits ---------------------------------------------------

    max_request_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description=(
            "Largest request body (JSON or form) the site accepts, in bytes; a larger one is refused with "
            "413 before it is read (by its Content-Length, or while it streams in when it is chunked)."
        ),
    )
    server_keep_alive_seconds: int = Field(
        default=5,
        ge=1,
        description="Seconds `dailypapers serve` keeps an idle connection open after a response.",
    )
    server_header_timeout_seconds: float = Field(
        default=10.0,
        gt=0.0,
        description=(
            "Seconds a connection has to send a complete request line and headers (after opening, or "
            "after starting its next request) before `dailypapers serve` closes it."
        ),
    )
    server_max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        description=(
            "Largest request line plus headers `dailypapers serve` accepts, in bytes (uvicorn's "
            "`h11_max_incomplete_event_size`); a larger one is answered 431 and the connection closed."
        ),
    )
    server_limit_concurrency: int = Field(
        default=0,
        ge=0,
        description=(
            "Most connections and requests `dailypapers serve` handles at once per worker before it "
            "answers 503; 0 means no limit."
        ),
    )

    @field_validator("data_dir")
    @classmethod
    def _expand_data_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"{value!r} is not an http(s) address such as https://papers.example.org")
        return value.strip().rstrip("/")

    @field_validator("mail_from")
    @classmethod
    def _check_mail_from(cls, value: str) -> str:
        _, address = parseaddr(value)
        if "@" not in address:
            raise ValueError(f"{value!r} is not a mail address such as 'Daily Papers <papers@example.org>'")
        return value.strip()

    @field_validator("fetch_categories", mode="before")
    @classmethod
    def _split_categories(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL to connect to, with the SQLite default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dailypapers.db').resolve()}"

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir if self.models_dir is not None else self.data_dir / "models"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_smtp_port(self) -> int:
        """The SMTP port, with the usual port of the chosen security filled in."""
        if self.smtp_port:
            return self.smtp_port
        return {"tls": 465, "starttls": 587, "none": 25}[self.smtp_security]
