"""The ``digest`` and ``subscribers`` commands: thin wrappers over :mod:`dailypapers.digest`.

Both groups are added to the one app of :mod:`dailypapers.cli.common`, so the commands share its settings,
database handling and translation of errors into one line and an exit code.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from dailypapers import store
from dailypapers.cli.common import (
    AsJson,
    Group,
    Runtime,
    app,
    console,
    err_console,
    parse_day,
    print_json,
    runtime,
)
from dailypapers.config import Settings
from dailypapers.digest.compose import ComposeReport, compose_digests, compose_one
from dailypapers.digest.delivery import DeliveryReport, OutboxSender
from dailypapers.digest.periods import Frequency, Period, period_for_day
from dailypapers.digest.render import MailRenderer
from dailypapers.digest.selection import Selection
from dailypapers.digest.subscribers import (
    InvalidSubscription,
    SubscribeOutcome,
    normalise_email,
    subscribe,
    validate_subscription,
)
from dailypapers.digest.tokens import Tokens
from dailypapers.errors import ConfigurationError, NotFoundError, SubscriptionError
from dailypapers.mail import make_mailer
from dailypapers.models import Subscription
from dailypapers.signing import mail_is_public, secret_key

digest_app = typer.Typer(cls=Group, help="Compose, preview and send digests by mail.", no_args_is_help=True)
subscribers_app = typer.Typer(
    cls=Group, help="Add, list and remove digest subscribers.", no_args_is_help=True
)


def _now() -> datetime:
    return datetime.now(UTC)


def _renderer(settings: Settings, *, sending: bool) -> MailRenderer:
    """The mail renderer, refusing a weak secret key (and, in production, an http base URL) for real mail."""
    public = sending and mail_is_public(settings)
    if public and settings.environment == "production" and not settings.base_url.startswith("https://"):
        raise ConfigurationError(
            "DAILYPAPERS_BASE_URL must be an https address to send mail in production: one-click "
            f"unsubscribe (RFC 8058) needs it, and it is {settings.base_url}"
        )
    return MailRenderer(settings, Tokens(secret_key(settings, public=public)))


def _email(value: str) -> str:
    try:
        return normalise_email(value)
    except ValueError as exc:
        raise SubscriptionError(f"{value!r}: {exc}") from None


def progress_bar(label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def _sender(rt: Runtime) -> OutboxSender:
    return OutboxSender.from_settings(rt.settings, rt.sessions, make_mailer(rt.settings), clock=_now)


def _deliver(rt: Runtime, *, recipient: str | None = None, quiet: bool = False) -> DeliveryReport:
    with progress_bar("Sending") as progress:
        task = progress.add_task("send", total=None)
        report = _sender(rt).deliver(
            recipient=recipient,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    return report


def _print_delivery(report: DeliveryReport) -> None:
    parts = [f"[bold green]{report.sent:,} sent[/]"]
    if report.retried:
        parts.append(f"[yellow]{report.retried:,} to retry later[/]")
    if report.failed:
        parts.append(f"[bold red]{report.failed:,} refused[/]")
    if report.cancelled:
        parts.append(f"{report.cancelled:,} cancelled (unsubscribed)")
    console.print("Mail: " + ", ".join(parts), highlight=False)
    for problem in report.problems[:10]:
        err_console.print(f"[yellow]Not sent[/] {problem}", highlight=False, soft_wrap=True)
    for address in report.paused:
        err_console.print(f"[yellow]Paused[/] {address}: its mail was refused too often", highlight=False)


# --------------------------------------------------------------------------------------------------
# digest
# --------------------------------------------------------------------------------------------------


def _must_be_active(rt: Runtime, email: str) -> None:
    """Refuse, saying why, to send to ``email`` unless it is an active subscriber."""
    with rt.session() as session:
        subscription = store.subscription_by_email(session, email=email)
    if subscription is None or subscription.status != "active":
        state = "not subscribed" if subscription is None else subscription.status
        raise NotFoundError(f"{email} is {state}: digests go to active subscribers only")


def _print_sent(composed: ComposeReport, delivered: DeliveryReport, *, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "composed": composed.composed,
                "already_done": composed.already_done,
                "nothing_new": composed.nothing_new,
                "sent": delivered.sent,
                "retry_later": delivered.retried,
                "failed": delivered.failed,
                "cancelled": delivered.cancelled,
                "paused": delivered.paused,
                "problems": delivered.problems,
            }
        )
        return
    console.print(
        f"Digests: [bold]{composed.composed:,} composed[/], {composed.already_done:,} already done, "
        f"{composed.nothing_new:,} with nothing new (of {composed.subscribers:,} active subscribers)",
        highlight=False,
    )
    _print_delivery(delivered)


@digest_app.command("send")
def digest_send(
    ctx: typer.Context,
    day: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Send the digests about this feed day (weekly: its week), whatever the hour. "
            "Default: those due now in each subscriber's time zone.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; store and send nothing.")
    ] = False,
    to: Annotated[str | None, typer.Option("--to", help="Only this subscriber.")] = None,
    as_json: AsJson = False,
) -> None:
    """Compose the due digests into the outbox, then send everything the outbox holds (retries too).

    Safe to run again: a digest is composed once per subscriber and period, and sent once.
    """
    rt = runtime(ctx)
    email = _email(to) if to else None
    feed_day = parse_day(day, "--date") if day else None
    renderer = _renderer(rt.settings, sending=not dry_run)
    if email is not None:
        _must_be_active(rt, email)
    with progress_bar("Composing") as progress:
        task = progress.add_task("compose", total=None)
        composed = compose_digests(
            rt.sessions,
            renderer,
            now=_now(),
            day=feed_day,
            email=email,
            dry_run=dry_run,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if dry_run:
        _print_plan(composed, as_json=as_json)
        return
    delivered = _deliver(rt, recipient=email)
    _sender(rt).forget_old_messages()
    _print_sent(composed, delivered, as_json=as_json)
    if delivered.aborted is not None:
        raise delivered.aborted


def _print_plan(report: ComposeReport, *, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "would_compose": report.composed,
                "already_done": report.already_done,
                "nothing_new": report.nothing_new,
                "digests": [
                    {
                        "email": p.email,
                        "period": p.period,
                        "covers": [p.first.isoformat(), p.last.isoformat()],
                        "papers": p.paper_ids,
                        "more": p.more,
                    }
                    for p in report.planned
                ],
            }
        )
        return
    console.print(
        f"Would compose {report.composed:,} digest(s); {report.already_done:,} already done, "
        f"{report.nothing_new:,} with nothing new.",
        highlight=False,
    )
    if not report.planned:
        return
    table = Table()
    table.add_column("subscriber")
    table.add_column("period", no_wrap=True)
    table.add_column("papers", justify="right")
    table.add_column("first paper")
    for plan in report.planned[:50]:
        table.add_row(
            plan.email, plan.period, str(len(plan.paper_ids)), plan.titles[0] if plan.titles else ""
        )
    console.print(table)
    if len(report.planned) > 50:
        console.print(f"... and {len(report.planned) - 50:,} more (use --json to see all).")


def _sample_subscription() -> Subscription:
    """The subscription a preview without --to shows: daily, trending, ten papers, all categories."""
    return Subscription(
        id=0,
        email="reader@example.org",
        name="Example Reader",
        status="active",
        frequency="daily",
        selection="trending",
        categories=[],
        keywords=[],
        exclude_keywords=[],
        max_papers=10,
        timezone="UTC",
        send_hour=8,
        token_key="preview",
    )


@digest_app.command("preview")
def digest_preview(
    ctx: typer.Context,
    to: Annotated[
        str | None, typer.Option("--to", help="The digest of this subscriber (default: a sample).")
    ] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="Feed day (default: the newest with papers).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the whole mail to this .eml file.")] = None,
) -> None:
    """Render a digest without storing or sending it: its text on the console, or the mail as .eml."""
    rt = runtime(ctx)
    if to:
        email = _email(to)
        with rt.session() as session:
            found = store.subscription_by_email(session, email=email)
        if found is None:
            raise NotFoundError(f"{email} is not subscribed (see `dailypapers subscribers list`)")
        subscription = found
    else:
        subscription = _sample_subscription()
    with rt.session() as session:
        newest = store.newest_feed_day(session)
    feed_day = parse_day(day, "--date") if day else newest
    if feed_day is None:
        raise NotFoundError("there are no papers on the feed yet: add some with `dailypapers ingest`")
    period: Period = period_for_day(Frequency(subscription.frequency), feed_day)
    chosen, rendered, candidates = compose_one(
        rt.sessions,
        _renderer(rt.settings, sending=False),
        subscription=subscription,
        period=period,
        now=_now(),
    )
    if rendered is None:
        console.print(
            f"Nothing to send to {subscription.email} for {period.label}: {len(candidates):,} paper(s) on "
            "the feed, none new to them that matches their preferences.",
            highlight=False,
        )
        return
    if out is not None:
        out.write_bytes(rendered.message)
        err_console.print(
            f"Wrote {out} ({len(rendered.message):,} bytes, {len(chosen.picks)} papers)", highlight=False
        )
        return
    from email import message_from_bytes, policy
    from email.message import EmailMessage

    parsed = message_from_bytes(rendered.message, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    console.print(f"[bold]Subject:[/] {parsed['Subject']}", highlight=False)
    console.print(f"[bold]To:[/] {parsed['To']}", highlight=False)
    body = parsed.get_body(preferencelist=("plain",))
    console.print(body.get_content() if body is not None else "", highlight=False, markup=False)


@digest_app.command("status")
def digest_status(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Subscribers by status and outbox mails by status."""
    rt = runtime(ctx)
    with rt.session() as session:
        subscriptions = store.count_subscriptions(session)
        outbox = store.outbox_counts(session)
    if as_json:
        print_json({"subscriptions": subscriptions, "outbox": outbox})
        return
    table = Table(show_header=False, box=None)
    for status in ("pending", "active", "paused", "unsubscribed"):
        table.add_row(f"subscribers {status}", f"{subscriptions.get(status, 0):,}")
    for status in ("pending", "sending", "sent", "failed", "cancelled"):
        table.add_row(f"mails {status}", f"{outbox.get(status, 0):,}")
    console.print(table)


# --------------------------------------------------------------------------------------------------
# subscribers
# --------------------------------------------------------------------------------------------------


def _send_now(rt: Runtime, outbox_id: int, email: str) -> None:
    """Send the one queued mail now, saying whether it went or waits for a retry."""
    report = _sender(rt).deliver(only=[outbox_id])
    if report.sent:
        through = make_mailer(rt.settings).description
        console.print(f"Mail sent to {email} through {through}.", highlight=False)
    else:
        err_console.print(
            f"[yellow]The mail is queued and will be retried:[/] {'; '.join(report.problems)}",
            highlight=False,
        )


@subscribers_app.command("add")
def subscribers_add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Mail address.")],
    name: Annotated[str | None, typer.Option(help="Name shown in the To: header.")] = None,
    confirmed: Annotated[
        bool,
        typer.Option("--confirmed", help="Active at once, without a confirmation mail (you vouch for it)."),
    ] = False,
    frequency: Annotated[Frequency, typer.Option(help="daily or weekly.")] = Frequency.daily,
    selection: Annotated[
        Selection, typer.Option(help="trending or new (all new papers).")
    ] = Selection.trending,
    category: Annotated[
        list[str] | None, typer.Option("--category", "-c", help="arXiv category (repeatable).")
    ] = None,
    keyword: Annotated[
        list[str] | None, typer.Option("--keyword", "-k", help="Only papers mentioning it (repeatable).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Leave out papers mentioning it (repeatable).")
    ] = None,
    papers: Annotated[int, typer.Option(help="Papers per mail, at most.")] = 10,
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Paris.")] = "UTC",
    hour: Annotated[int, typer.Option(help="Hour to send at, in that time zone (0-23).")] = 8,
) -> None:
    """Subscribe an address. Without --confirmed it gets a confirmation mail, nothing else till confirmed."""
    rt = runtime(ctx)
    try:
        values = validate_subscription(
            email=email,
            name=name,
            frequency=frequency.value,
            selection=selection.value,
            categories=category or [],
            keywords=keyword or [],
            exclude_keywords=exclude or [],
            max_papers=papers,
            timezone=timezone,
            send_hour=hour,
        )
    except InvalidSubscription as exc:
        raise SubscriptionError(f"cannot subscribe {email!r}: {exc}") from None
    renderer = _renderer(rt.settings, sending=not confirmed)
    with rt.sessions.begin() as session:
        outcome = subscribe(session, renderer, values=values, now=_now(), source="cli", confirmed=confirmed)
    messages = {
        SubscribeOutcome.activated: f"Subscribed {values.email} (active).",
        SubscribeOutcome.created: f"Subscribed {values.email}: waiting for confirmation.",
        SubscribeOutcome.confirmation_resent: f"{values.email} was waiting for confirmation: asked again.",
        SubscribeOutcome.already_subscribed: f"{values.email} is already subscribed: sent their manage link.",
        SubscribeOutcome.throttled: f"{values.email}: a mail went out minutes ago; none sent now.",
    }
    console.print(messages[outcome.outcome], highlight=False)
    if outcome.outbox_id is not None:
        _send_now(rt, outcome.outbox_id, values.email)


@subscribers_app.command("list")
def subscribers_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only pending, active, paused or unsubscribed.")] = None,
    as_json: AsJson = False,
) -> None:
    """Every subscriber with their preferences."""
    rt = runtime(ctx)
    with rt.session() as session:
        rows = store.list_subscriptions(session, status=status)
    data: list[dict[str, Any]] = [
        {
            "id": s.id,
            "email": s.email,
            "name": s.name,
            "status": s.status,
            "frequency": s.frequency,
            "selection": s.selection,
            "categories": list(s.categories or []),
            "keywords": list(s.keywords or []),
            "exclude_keywords": list(s.exclude_keywords or []),
            "max_papers": s.max_papers,
            "timezone": s.timezone,
            "send_hour": s.send_hour,
            "source": s.source,
            "created_at": s.created_at,
        }
        for s in rows
    ]
    if as_json:
        print_json(data)
        return
    if not data:
        console.print("No subscribers" + (f" with status {status}." if status else " yet."))
        return
    table = Table()
    table.add_column("email", no_wrap=True)
    for column in ("status", "how", "papers", "filters", "sent at"):
        table.add_column(column)
    for row in data:
        filters = ", ".join(row["categories"] + [f"“{k}”" for k in row["keywords"]])
        if row["exclude_keywords"]:
            filters += (
                (" " if filters else "") + "not " + ", ".join(f"“{k}”" for k in row["exclude_keywords"])
            )
        table.add_row(
            row["email"],
            row["status"],
            f"{row['frequency']}, {row['selection']}",
            str(row["max_papers"]),
            filters or "all",
            f"{row['send_hour']:02d}:00 {row['timezone']}",
        )
    console.print(table)
    console.print(f"{len(data):,} subscriber(s)", highlight=False)


@subscribers_app.command("remove")
def subscribers_remove(
    ctx: typer.Context, email: Annotated[str, typer.Argument(help="Mail address.")]
) -> None:
    """Delete a subscriber with their queued mails and history (unsubscribing keeps the history)."""
    rt = runtime(ctx)
    address = _email(email)
    with rt.sessions.begin() as session:
        found = store.subscription_by_email(session, email=address)
        if found is None:
            raise NotFoundError(f"{address} is not subscribed (see `dailypapers subscribers list`)")
        store.delete_subscription(session, subscription_id=found.id)
    console.print(f"Removed {address}.", highlight=False)


app.add_typer(digest_app, name="digest")
app.add_typer(subscribers_app, name="subscribers")


__all__ = ["digest_app", "subscribers_app"]
