"""JSON shapes of the API, as pydantic models (so that ``/docs`` documents them).

``/api/daily_papers`` answers in the shape of Hugging Face's endpoint of the same name, field for field,
so that a client written for it works against a Daily Papers server: camelCase keys, Mongo-style
``_id`` strings, timestamps written ``2026-06-12T00:00:00.000Z``. Facts Hugging Face has and this
server does not (organisations, media, who added a repository) are left out, as Hugging Face itself
leaves out the keys a paper has no value for; ids that only Hugging Face assigns (authors, users,
discussions) are replaced by stable ids derived from what they identify. Everything this server adds
(categories, links, trending breakdowns) is only in its own endpoints.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from dailypapers.serialize import external_links
from dailypapers.store.feeds import PaperCard
from dailypapers.trending import TrendingScore
from dailypapers.web.render import is_http_url


def hf_time(value: datetime | date | None) -> str | None:
    """A timestamp as Hugging Face writes it: UTC, milliseconds, ``Z``."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0), tzinfo=UTC)
    aware = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.") + f"{aware.microsecond // 1000:03d}Z"


def object_id(*parts: str) -> str:
    """A stable 24-hex-digit id (the length of a Mongo ObjectId) for something without an id of its own."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def avatar_path(name: str) -> str:
    return "/avatars/" + quote(name, safe="") + ".svg"


def thumbnail_path(paper_id: str) -> str:
    return "/thumbnails/" + quote(paper_id, safe="/") + ".svg"


def github_repository(code_urls: list[str]) -> str | None:
    for url in code_urls:
        if is_http_url(url) and urlsplit(url).hostname in {"github.com", "www.github.com"}:
            return url
    return None


# --------------------------------------------------------------------------------------------------
# Hugging Face shapes
# --------------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class Author(_Model):
    id: str = Field(alias="_id", description="Stable id of this author entry.")
    name: str
    hidden: bool = Field(False, description="Always false: every author is shown.")


class User(_Model):
    """A submitter, as inside ``paper.submittedOnDailyBy``."""

    id: str = Field(alias="_id")
    avatarUrl: str
    isPro: bool = False
    fullname: str
    user: str
    type: str = "user"
    name: str


class Submitter(_Model):
    """A submitter, as in an item's ``submittedBy``."""

    id: str = Field(alias="_id")
    avatarUrl: str
    fullname: str
    name: str
    type: str = "user"
    isPro: bool = False
    isHf: bool = False
    isHfAdmin: bool = False
    isMod: bool = False
    isUserFollowing: bool = False


class HFPaper(_Model):
    """A paper as in Hugging Face's ``paper`` objects. Keys without a value are left out."""

    id: str = Field(description="arXiv id without version, or this server's own id for other papers.")
    authors: list[Author]
    publishedAt: str | None = Field(None, description="When the paper was published (arXiv v1).")
    submittedOnDailyAt: str | None = Field(None, description="The day it appeared on the daily feed.")
    title: str
    submittedOnDailyBy: User | None = None
    summary: str = Field(description="The abstract, LaTeX left as written.")
    upvotes: int
    discussionId: str
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    githubRepo: str | None = None
    githubStars: int | None = None
    projectPage: str | None = None


class DailyPaper(_Model):
    """One item of ``/api/daily_papers``."""

    paper: HFPaper
    publishedAt: str | None = None
    title: str
    summary: str
    thumbnail: str
    numComments: int
    submittedBy: Submitter | None = None
    isAuthorParticipating: bool = False


def _user(name: str) -> User:
    return User(id=object_id("user", name), avatarUrl=avatar_path(name), fullname=name, user=name, name=name)


def _submitter(name: str) -> Submitter:
    return Submitter(id=object_id("user", name), avatarUrl=avatar_path(name), fullname=name, name=name)


def hf_paper(card: PaperCard) -> HFPaper:
    extra = card.extra
    keywords = extra.get("ai_keywords")
    stars = extra.get("github_stars")
    return HFPaper(
        id=card.id,
        authors=[
            Author(id=object_id("author", card.id, str(n), name), name=name)
            for n, name in enumerate(card.authors)
        ],
        publishedAt=hf_time(card.published_at or card.day),
        submittedOnDailyAt=hf_time(card.day),
        title=card.title,
        submittedOnDailyBy=_user(card.submitted_by) if card.day and card.submitted_by else None,
        summary=card.abstract,
        upvotes=card.upvotes,
        discussionId=str(extra.get("hf_discussion_id") or object_id("discussion", card.id)),
        ai_summary=extra.get("ai_summary") or None,
        ai_keywords=[str(k) for k in keywords] if isinstance(keywords, list) and keywords else None,
        githubRepo=github_repository(card.code_urls),
        githubStars=stars if isinstance(stars, int) and not isinstance(stars, bool) else None,
        projectPage=card.project_url if is_http_url(card.project_url) else None,
    )


def daily_paper(card: PaperCard, *, base_url: str) -> DailyPaper:
    paper = hf_paper(card)
    return DailyPaper(
        paper=paper,
        publishedAt=paper.publishedAt,
        title=card.title,
        summary=card.abstract,
        thumbnail=base_url.rstrip("/") + thumbnail_path(card.id),
        numComments=card.num_comments,
        submittedBy=_submitter(card.submitted_by) if card.submitted_by else None,
        isAuthorParticipating=False,
    )


# --------------------------------------------------------------------------------------------------
# Daily Papers' own endpoints
# --------------------------------------------------------------------------------------------------


class Links(_Model):
    page: str = Field(description="The paper's page on this server.")
    abs: str | None = Field(None, description="arXiv abstract page.")
    pdf: str | None = None
    html: str | None = None
    doi: str | None = None
    code: list[str] = Field(default_factory=list, description="Code repositories.")
    project: str | None = None


class Trending(_Model):
    score: float
    points: float
    ageHours: float
    upvotes: int
    comments: int
    hasCode: bool
    explanation: str


class Version(_Model):
    version: int
    date: str | None = None


class PaperDetail(HFPaper):
    """``/api/papers/{id}``: the Hugging Face paper shape plus what this server knows besides."""

    numComments: int = 0
    arxivId: str | None = None
    version: int | None = None
    versions: list[Version] = Field(default_factory=list)
    updatedAt: str | None = None
    categories: list[str] = Field(default_factory=list)
    primaryCategory: str | None = None
    comments: str | None = Field(None, description="The authors' comments (pages, figures, venue).")
    journalRef: str | None = None
    doi: str | None = None
    license: str | None = None
    links: Links
    bibtex: str
    trending: Trending | None = Field(None, description="How its trending score is made (feed papers).")


class SearchHit(_Model):
    paper: HFPaper
    title: str
    summary: str
    publishedAt: str | None = None
    thumbnail: str
    numComments: int
    score: float
    signals: dict[str, float] = Field(default_factory=dict, description="The scores that were fused.")
    url: str


class SearchResponse(_Model):
    query: str
    mode: str = Field(description="The mode that ranked the results (bm25, dense or hybrid).")
    total: int
    page: int
    limit: int
    notices: list[str] = Field(default_factory=list, description="Notes about how the query was read.")
    results: list[SearchHit]


class SimilarResponse(_Model):
    id: str
    results: list[SearchHit]
    notices: list[str] = Field(
        default_factory=list,
        description="Why the list is short or empty, for example a paper the search index does not hold yet.",
    )


class ErrorResponse(_Model):
    error: str = Field(description="What went wrong and what is accepted.")
    status: int


# --------------------------------------------------------------------------------------------------
# The community: votes, comments, submissions (written with a personal API token)
# --------------------------------------------------------------------------------------------------

MAX_DB_INT = 2**31 - 1


class VoteResponse(_Model):
    paperId: str
    upvotes: int = Field(
        description="The paper's count as shown on the site: Hugging Face's plus this site's."
    )
    upvoted: bool = Field(description="Whether the token's account has upvoted the paper now.")


class CommentOut(_Model):
    id: int
    paperId: str
    parentId: int | None = Field(None, description="The comment this one replies to.")
    author: str | None = Field(None, description="The author's user name; left out for removed comments.")
    createdAt: str
    editedAt: str | None = None
    status: Literal["visible", "deleted", "hidden"] = Field(
        description="deleted (by its author) and hidden (by a moderator) comments keep their place while "
        "they have replies, without text."
    )
    text: str | None = Field(None, description="The Markdown source, with $...$ math.")
    html: str | None = Field(None, description="The text as sanitised HTML, math as MathML.")


class CommentsResponse(_Model):
    paperId: str
    numComments: int = Field(description="Hugging Face's count plus this site's visible comments.")
    comments: list[CommentOut] = Field(
        description="Threads in reading order: each comment before its replies."
    )
    p: int = Field(0, description="This page of the discussion, from 0.")
    pages: int = Field(1, description="Pages of the discussion at this `limit`.")
    total: int = Field(0, description="Comments in the discussion, placeholders of removed ones included.")


class CommentIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"text": "The bound in the second theorem is tight: $O(n \\log n)$."}]
        }
    )

    text: str = Field(min_length=1, max_length=10_000, description="Markdown; $...$ and $$...$$ for math.")
    parent_id: int | None = Field(None, ge=1, le=MAX_DB_INT, description="The comment to reply to.")


class SubmitIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "2104.12255"}]})

    id: str = Field(
        min_length=1,
        max_length=300,
        description="An arXiv id (2104.12255) or link (https://arxiv.org/abs/...).",
    )


class SubmitResponse(_Model):
    id: str
    title: str
    day: str = Field(description="The feed day it was put on (YYYY-MM-DD, UTC).")
    submittedBy: str
    url: str


def trending_model(score: TrendingScore | None) -> Trending | None:
    if score is None:
        return None
    return Trending(
        score=score.score,
        points=score.points,
        ageHours=round(score.age_hours, 3),
        upvotes=score.upvotes,
        comments=score.comments,
        hasCode=score.has_code,
        explanation=score.explanation,
    )


def paper_links(
    *, page: str, arxiv_id: str | None, doi: str | None, code: list[str], project: str | None
) -> Links:
    return Links(
        page=page,
        code=[url for url in code if is_http_url(url)],
        project=project if is_http_url(project) else None,
        **external_links(arxiv_id, doi),
    )


def versions_model(versions: list[dict[str, Any]]) -> list[Version]:
    out = []
    for item in versions:
        number = item.get("version") or item.get("number")
        if isinstance(number, int):
            out.append(Version(version=number, date=_version_date(item.get("date"))))
    return out


def _version_date(value: object) -> str | None:
    if isinstance(value, str) and value:
        try:
            return hf_time(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


__all__ = [
    "Author",
    "CommentIn",
    "CommentOut",
    "CommentsResponse",
    "DailyPaper",
    "ErrorResponse",
    "HFPaper",
    "Links",
    "PaperDetail",
    "SearchHit",
    "SearchResponse",
    "SimilarResponse",
    "SubmitIn",
    "SubmitResponse",
    "Submitter",
    "Trending",
    "User",
    "VoteResponse",
    "daily_paper",
    "hf_paper",
    "hf_time",
    "object_id",
]
