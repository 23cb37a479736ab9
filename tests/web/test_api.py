"""The JSON API, and above all its compatibility with Hugging Face's ``/api/daily_papers``.

The reference is the real responses in ``../shared/data/hf-daily-papers``: a client written against
them (``HFClientItem`` below, typed from their keys and values) must parse our answers unchanged, and
for the very papers ingested from those files, our items must have the same keys with the same types.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field

from dailypapers import trending
from tests.web.support import NOW

HF_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# What Hugging Face has that this server does not carry: its organisations' pages, media it hosts,
# which of its users added a repository, which model wrote the summary, and authors' HF accounts.
NOT_CARRIED = {
    "item": {"organization", "mediaUrls"},
    "paper": {"organization", "mediaUrls", "ai_summary_model", "githubRepoAddedBy"},
    "author": {"user", "status", "statusLastChangedAt"},
    "user": {"followerCount"},
}


# A client of Hugging Face's endpoint, typed from the real payloads (keys present in every real item are
# required; keys present in some are optional). It ignores keys it does not know, as clients do.
class HFClientModel(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=False)


class HFClientAuthor(HFClientModel):
    id: str = Field(alias="_id")
    name: str
    hidden: bool


class HFClientUser(HFClientModel):
    id: str = Field(alias="_id")
    avatarUrl: str
    fullname: str
    name: str
    type: str
    isPro: bool
    user: str | None = None


class HFClientPaper(HFClientModel):
    id: str
    authors: list[HFClientAuthor]
    publishedAt: datetime
    submittedOnDailyAt: datetime
    title: str
    submittedOnDailyBy: HFClientUser
    summary: str
    upvotes: int
    discussionId: str
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    githubRepo: str | None = None
    githubStars: int | None = None
    projectPage: str | None = None


class HFClientItem(HFClientModel):
    paper: HFClientPaper
    publishedAt: datetime
    title: str
    summary: str
    thumbnail: str
    numComments: int
    submittedBy: HFClientUser
    isAuthorParticipating: bool


def real_items(shared_data: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for path in sorted((shared_data / "hf-daily-papers").glob("*.json")):
        items.extend(json.loads(path.read_text()))
    return items


def json_type(value: Any) -> str:
    if isinstance(value, str) and HF_TIME.match(value):
        return "timestamp"
    return type(value).__name__


def compare(ours: Any, real: Any, where: str, ignored: set[str], real_summary: str) -> None:
    """Same keys (less what is not carried) and the same JSON types, recursively."""
    assert isinstance(ours, dict) and isinstance(real, dict), where
    missing = set(real) - set(ours) - ignored
    assert not missing, f"{where}: missing {missing}"
    for key in set(ours) - set(real):
        # A repository or project page we found in the abstract where Hugging Face listed none.
        assert key in {"githubRepo", "projectPage"} and ours[key] in real_summary, f"{where}: extra {key}"
    for key in (set(ours) & set(real)) - ignored:
        if key == "authors":
            assert len(ours[key]) == len(real[key])
            for n, (a, b) in enumerate(zip(ours[key], real[key], strict=True)):
                compare(a, b, f"{where}.authors[{n}]", NOT_CARRIED["author"], real_summary)
        elif isinstance(real[key], dict):
            compare(ours[key], real[key], f"{where}.{key}", NOT_CARRIED["user"], real_summary)
        else:
            assert json_type(ours[key]) == json_type(real[key]), (
                f"{where}.{key}: {ours[key]!r} vs {real[key]!r}"
            )
            if isinstance(real[key], list) and real[key]:
                assert {json_type(v) for v in ours[key]} == {json_type(v) for v in real[key]}


def _required(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items() if field.is_required()}


def test_the_client_is_typed_from_the_real_payloads(shared_data: Path) -> None:
    items = real_items(shared_data)
    assert [HFClientItem.model_validate(item).paper.id for item in items] == [i["paper"]["id"] for i in items]
    # Keys present in every real item are required by the client; the others are optional.
    in_every_item = set.intersection(*(set(item) for item in items))
    in_every_paper = set.intersection(*(set(item["paper"]) for item in items))
    assert _required(HFClientItem) == in_every_item - NOT_CARRIED["item"]
    assert _required(HFClientPaper) == in_every_paper - NOT_CARRIED["paper"]


def test_hugging_face_clients_read_our_daily_papers(client: TestClient, shared_data: Path) -> None:
    real = {item["paper"]["id"]: item for item in real_items(shared_data)}
    ours: dict[str, dict[str, Any]] = {}
    for day in ("2026-06-12", "2026-07-31"):
        response = client.get("/api/daily_papers", params={"date": day, "limit": 100})
        assert response.status_code == 200
        for item in response.json():
            parsed = HFClientItem.model_validate(item)  # the client parses it unchanged
            assert parsed.paper.id == item["paper"]["id"]
            ours[item["paper"]["id"]] = item
    assert set(ours) == set(real)
    for paper_id, item in ours.items():
        reference = real[paper_id]
        compare(item, reference, paper_id, NOT_CARRIED["item"] | {"paper"}, reference["summary"])
        compare(
            item["paper"], reference["paper"], f"{paper_id}.paper", NOT_CARRIED["paper"], reference["summary"]
        )
        # The values carried over are the same.
        paper, ref = item["paper"], reference["paper"]
        assert paper["title"] == ref["title"] and paper["upvotes"] == ref["upvotes"]
        assert " ".join(paper["summary"].split()) == " ".join(ref["summary"].split())
        assert [a["name"] for a in paper["authors"]] == [a["name"] for a in ref["authors"]]
        assert paper["submittedOnDailyAt"] == ref["submittedOnDailyAt"]
        assert paper["publishedAt"] == ref["publishedAt"]
        assert paper["discussionId"] == ref["discussionId"]
        assert item["numComments"] == reference["numComments"]
        assert paper["submittedOnDailyBy"]["user"] == ref["submittedOnDailyBy"]["user"]
        for key in ("ai_summary", "ai_keywords", "githubRepo", "githubStars", "projectPage"):
            if key in ref:
                assert paper[key] == ref[key], key


def test_thumbnails_and_avatars_exist(client: TestClient) -> None:
    item = client.get("/api/daily_papers", params={"date": "2026-07-31"}).json()[0]
    thumbnail = client.get(item["thumbnail"])
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/svg+xml"
    assert "β-OPSD" in thumbnail.text
    avatar = client.get(item["submittedBy"]["avatarUrl"])
    assert avatar.status_code == 200 and "<svg" in avatar.text
    assert client.get("/thumbnails/2607.28582.png").status_code == 404
    assert client.get("/thumbnails/2607.99999.svg").status_code == 404


def test_periods_pages_and_orders(client: TestClient) -> None:
    day = client.get("/api/daily_papers", params={"date": "2026-07-31"}).json()
    assert [i["paper"]["upvotes"] for i in day] == [17, 11, 3, 2, 0]
    week = client.get("/api/daily_papers", params={"week": "2026-W24", "limit": 100}).json()
    assert len(week) == 30
    month = client.get("/api/daily_papers", params={"month": "2026-06", "limit": 10, "p": 2}).json()
    assert [i["paper"]["id"] for i in month] == [i["paper"]["id"] for i in week[20:30]]
    everything = client.get("/api/daily_papers", params={"limit": 100}).json()
    days = [i["paper"]["submittedOnDailyAt"][:10] for i in everything]
    assert days == sorted(days, reverse=True) and len(everything) == 35
    by_date = client.get("/api/daily_papers", params={"month": "2026-06", "sort": "publishedAt"}).json()
    published = [i["paper"]["publishedAt"] for i in by_date]
    assert published == sorted(published, reverse=True)


def test_trending_order_matches_the_score(client: TestClient) -> None:
    ranked = client.get("/api/daily_papers", params={"sort": "trending", "limit": 100}).json()
    scores = []
    for item in ranked:
        paper = item["paper"]
        day = datetime.fromisoformat(paper["submittedOnDailyAt"].replace("Z", "+00:00")).date()
        scores.append(
            trending.trending_score(
                upvotes=paper["upvotes"],
                comments=item["numComments"],
                has_code="githubRepo" in paper,
                day=day,
                now=NOW,
            ).score
        )
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"date": "2026-7-31"}, 400, "use YYYY-MM-DD"),
        ({"week": "2026-31"}, 400, "use YYYY-Www"),
        ({"month": "July"}, 400, "use YYYY-MM"),
        ({"date": "2026-07-31", "month": "2026-07"}, 400, "give one of date"),
        ({"p": "-1"}, 422, "p: must be at least 0"),
        ({"limit": "1000"}, 422, "limit: must be at most 100"),
        ({"sort": "hot"}, 422, "sort: must be one of 'upvotes', 'date', 'publishedAt' or 'trending'"),
    ],
)
def test_bad_parameters_are_json_errors(
    client: TestClient, params: dict[str, str], status: int, says: str
) -> None:
    response = client.get("/api/daily_papers", params=params)
    assert response.status_code == status
    body = response.json()
    assert body["status"] == status
    assert says in body["error"] or any(says in p for p in body.get("problems", []))


def test_one_paper(client: TestClient) -> None:
    paper = client.get("/api/papers/0704.0002").json()
    assert paper["id"] == "0704.0002" and paper["arxivId"] == "0704.0002"
    assert paper["categories"] == ["math.CO", "cs.CG"] and paper["version"] == 2
    assert paper["versions"] == [
        {"version": 1, "date": "2007-03-31T02:26:18.000Z"},
        {"version": 2, "date": "2008-12-13T17:26:00.000Z"},
    ]
    assert paper["links"]["pdf"] == "https://arxiv.org/pdf/0704.0002"
    assert paper["links"]["page"] == "http://testserver/papers/0704.0002"
    assert paper["bibtex"].startswith("@misc{streinu2007sparsity,")
    assert "trending" not in paper  # not on the feed
    feed_paper = client.get("/api/papers/2607.23193").json()
    assert feed_paper["trending"]["upvotes"] == 3 and feed_paper["trending"]["hasCode"] is True
    assert feed_paper["numComments"] == 2
    old = client.get("/api/papers/astro-ph/0601001")
    assert old.status_code == 200 and old.json()["id"] == "astro-ph/0601001"
    redirect = client.get("/api/papers/2104.12255v1", follow_redirects=False)
    assert redirect.status_code == 307 and redirect.headers["location"] == "/api/papers/2104.12255"
    missing = client.get("/api/papers/2607.99999")
    assert missing.status_code == 404 and missing.json()["error"] == "There is no paper '2607.99999' here."


def test_search_api(indexed_client: TestClient) -> None:
    response = indexed_client.get(
        "/api/papers/search", params={"q": "pebble game", "mode": "bm25", "limit": 2}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "bm25" and body["total"] == 5 and body["page"] == 0
    assert [r["paper"]["id"] for r in body["results"]] == ["0704.0002", "1412.5245"]
    first = body["results"][0]
    assert first["score"] > body["results"][1]["score"] and set(first["signals"]) == {"bm25"}
    assert first["url"] == "http://testserver/papers/0704.0002"
    HFClientPaper.model_validate(
        {
            **first["paper"],
            "submittedOnDailyAt": NOW.isoformat(),
            "submittedOnDailyBy": {
                "_id": "x",
                "avatarUrl": "",
                "fullname": "",
                "name": "",
                "type": "user",
                "isPro": False,
            },
        }
    )
    page2 = indexed_client.get(
        "/api/papers/search", params={"q": "pebble game", "mode": "bm25", "limit": 2, "p": 1}
    )
    assert [r["paper"]["id"] for r in page2.json()["results"]] == ["2501.07954", "2202.06271"]
    hybrid = indexed_client.get("/api/papers/search", params={"q": "pebble game"}).json()
    assert hybrid["mode"] == "bm25" and "Hybrid search is not available" in hybrid["notices"][0]
    assert indexed_client.get("/api/papers/search").status_code == 422
    assert indexed_client.get("/api/papers/search", params={"q": "x", "mode": "best"}).status_code == 422


def test_similar_api(indexed_client: TestClient) -> None:
    body = indexed_client.get("/api/papers/0704.0002/similar", params={"limit": 3}).json()
    assert body["id"] == "0704.0002" and len(body["results"]) == 3
    assert "0704.0002" not in [r["paper"]["id"] for r in body["results"]]
    assert indexed_client.get("/api/papers/astro-ph/0601001/similar").status_code == 200
    assert indexed_client.get("/api/papers/2607.99999/similar").status_code == 404


def test_similar_api_without_an_index(client: TestClient) -> None:
    no_index = client.get("/api/papers/0704.0002/similar")
    assert no_index.status_code == 503 and "no search index" in no_index.json()["error"]


def test_cors_for_the_api(client: TestClient) -> None:
    response = client.get("/api/daily_papers", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/api/daily_papers",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in client.get("/").headers


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {
        "/api/daily_papers",
        "/api/papers/search",
        "/api/papers/{paper_id}",
        "/api/papers/{paper_id}/similar",
    } <= set(schema["paths"])
    assert "DailyPaper" in schema["components"]["schemas"]
    item = schema["paths"]["/api/daily_papers"]["get"]["responses"]["200"]["content"]["application/json"]
    assert item["schema"]["items"]["$ref"].endswith("/DailyPaper")
    docs = client.get("/docs")
    assert docs.status_code == 200
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text):
        assert client.get(src).status_code == 200, src
