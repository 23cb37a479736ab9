"""Settings for every part of Daily Papers, read from ``DAILYPAPERS_*`` environment variables.

All settings live in this one class so that the docs, the CLI and the web app agree on names and
defaults. ``docs/configuration.md`` lists every field; a test fails when one is missing there.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
            " is retried."
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
            "Embedding model for semantic search: `minilm` (all-MiniLM-L6-v2 as an int8 ONNX model, the "
            "default), `minilm-fp32` (the same model through sentence-transformers), `wordllama` (a fast "
            "static model), or the path of a local sentence-transformers model folder. Changing it rebuilds "
            "the vectors."
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

    @field_validator("data_dir")
    @classmethod
    def _expand_data_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def resolved_database_url(self) -> str:
        """The database URL to connect to, with the SQLite default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dailypapers.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
