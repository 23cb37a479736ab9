"""The trending score: its formula, its decay, and the pages that publish it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient

from dailypapers import trending
from dailypapers.config import Settings
from dailypapers.web.app import create_app
from tests.web.pagecheck import parse, text_of
from tests.web.support import NOW


def test_score_follows_the_published_formula() -> None:
    day = date(2026, 7, 31)
    score = trending.trending_score(upvotes=17, comments=2, has_code=True, day=day, now=NOW)
    assert score.age_hours == 36.0
    points = 17 + trending.COMMENT_WEIGHT * 2 + trending.CODE_BONUS * 1 + trending.BASE_POINTS
    assert score.points == points
    assert score.score == points / (36.0 + trending.AGE_OFFSET_HOURS) ** trending.GRAVITY
    assert score.explanation.endswith(f"= {score.score:.4g}")


def test_fresh_papers_overtake_old_ones_with_more_votes() -> None:
    old = trending.trending_score(upvotes=50, comments=0, has_code=False, day=date(2026, 7, 25), now=NOW)
    new = trending.trending_score(upvotes=5, comments=0, has_code=False, day=date(2026, 8, 1), now=NOW)
    assert new.score > old.score
    later = trending.trending_score(
        upvotes=5, comments=0, has_code=False, day=date(2026, 8, 1), now=NOW + timedelta(days=3)
    )
    assert later.score < new.score


def test_future_days_count_as_brand_new() -> None:
    score = trending.trending_score(upvotes=0, comments=0, has_code=False, day=date(2026, 9, 1), now=NOW)
    assert score.age_hours == 0.0


def test_about_page_prints_the_constants_of_the_code(client: TestClient) -> None:
    tree = parse(client.get("/about"))
    assert text_of(tree.xpath("//p[@class='formula']")[0]) == trending.FORMULA
    rows = {text_of(r.xpath("th")[0]): text_of(r.xpath("td")[0]) for r in tree.xpath("//table//tbody/tr")}
    assert rows == {name: str(value) for name, value in trending.CONSTANTS.items()}


def test_trending_page_ranks_by_score(client: TestClient) -> None:
    tree = parse(client.get("/trending"))
    titles = [text_of(a) for a in tree.xpath("//ol[@class='cards']//h2/a")]
    assert len(titles) == 35  # every paper of the two feed days
    # On 1 August the papers of 31 July (5, the best with 17 votes) lead those of 12 June.
    assert titles[0].startswith("β-OPSD")
    scores = [float(text_of(s).split()[-1]) for s in tree.xpath("//li[starts-with(., 'Score')]")]
    assert scores == sorted(scores, reverse=True)


def test_paper_page_shows_how_its_score_was_made(client: TestClient) -> None:
    tree = parse(client.get("/papers/2607.23193"))  # OmniScope: 3 upvotes, 2 comments, code
    panel = tree.xpath("//section[@id='trending-score']")[0]
    expected = trending.trending_score(upvotes=3, comments=2, has_code=True, day=date(2026, 7, 31), now=NOW)
    assert text_of(panel.xpath(".//p[@class='formula']")[0]) == expected.explanation
    assert text_of(panel.xpath(".//p[@class='big-number']")[0]) == f"{expected.score:.4g}"


def test_the_default_clock_is_the_real_one(demo_settings: Settings) -> None:
    with (
        time_machine.travel(datetime(2026, 6, 13, 9, 0, tzinfo=UTC), tick=False),
        TestClient(create_app(demo_settings)) as client,
    ):
        home = parse(client.get("/"))
        api = client.get("/api/papers/2606.00467").json()
    # On 13 June the newest day with papers is 12 June, and a 12 June paper is 33 hours old.
    assert "Friday 12 June 2026" in text_of(home.xpath("//h1")[0])
    assert api["trending"]["ageHours"] == 33.0


# -- the age of a paper that was old before it reached the feed ---------------------------------------


def test_an_old_paper_freshly_on_the_feed_ranks_below_a_fresh_one_with_votes() -> None:
    # 1412.6529 (first posted 2014-12-20) submitted today with no votes, against a paper of this week
    # with 5 votes and one of June with 119.
    papers = {
        "1412.6529": (0, date(2026, 8, 1), datetime(2014, 12, 20, 18, 0, tzinfo=UTC)),
        "2607.28308": (5, date(2026, 7, 29), datetime(2026, 7, 28, 20, 0, tzinfo=UTC)),
        "2606.13681": (119, date(2026, 6, 12), datetime(2026, 6, 10, 20, 0, tzinfo=UTC)),
    }

    def score(paper_id: str, *, published: bool = True) -> trending.TrendingScore:
        upvotes, day, first = papers[paper_id]
        return trending.trending_score(
            upvotes=upvotes,
            comments=0,
            has_code=False,
            day=day,
            now=NOW,
            published=first if published else None,
        )

    ranked = trending.rank_trending(papers, score=score, key=lambda paper_id: paper_id)
    assert [paper_id for paper_id, _ in ranked] == ["2607.28308", "2606.13681", "1412.6529"]
    old = dict(ranked)["1412.6529"]
    # Its age counts from 14 days after its first version, as if it had reached the feed then.
    assert old.age_from == date(2015, 1, 3) and old.feed_day == date(2026, 8, 1)
    assert old.age_hours == (NOW - datetime(2015, 1, 3, tzinfo=UTC)).total_seconds() / 3600
    assert old.explanation.startswith(
        "age_hours from 2015-01-03, 14 days after its first version of 2014-12-20 (on the feed 2026-08-01): "
    )
    # Counted from its feed day alone, the old paper would lead both: the gap this rule closes.
    unaware = trending.rank_trending(papers, score=lambda p: score(p, published=False), key=lambda p: p)
    assert unaware[0][0] == "1412.6529"


@pytest.mark.parametrize(
    "published",
    [
        datetime(2026, 7, 31, 23, 59, tzinfo=UTC),  # the feed day itself
        datetime(2026, 8, 1, 1, 0, tzinfo=UTC),  # after it (a feed day given too early)
        date(2026, 7, 17),  # 14 days before: still within the grace
        datetime(2026, 7, 17, 0, 0, tzinfo=UTC),
    ],
)
def test_the_feed_day_counts_for_a_paper_that_reached_the_feed_within_the_grace(
    published: datetime | date,
) -> None:
    day = date(2026, 7, 31)
    plain = trending.trending_score(upvotes=3, comments=1, has_code=False, day=day, now=NOW)
    same = trending.trending_score(
        upvotes=3, comments=1, has_code=False, day=day, now=NOW, published=published
    )
    assert (same.age_hours, same.score, same.age_from) == (plain.age_hours, plain.score, day)
    assert same.explanation.startswith("age_hours from 2026-07-31, the feed day: ")


def test_a_paper_past_the_grace_ages_from_the_end_of_it() -> None:
    day = date(2026, 7, 31)
    plain = trending.trending_score(upvotes=3, comments=1, has_code=False, day=day, now=NOW)
    # First version 15 days before its feed day: it counts as posted the day before.
    late = trending.trending_score(
        upvotes=3,
        comments=1,
        has_code=False,
        day=day,
        now=NOW,
        published=datetime(2026, 7, 16, 20, tzinfo=UTC),
    )
    assert late.age_from == date(2026, 7, 30)
    assert late.age_hours == plain.age_hours + 24 and late.score < plain.score


def test_about_page_states_where_the_age_counts_from(client: TestClient) -> None:
    tree = parse(client.get("/about"))
    rule = text_of(tree.xpath("//p[@id='trending-age']")[0])
    days = trending.FIRST_VERSION_DAYS
    assert f"from no later than {days} days after the day its first version appeared on arXiv" in rule
    assert tree.xpath("//a[@href='/submit']")
