"""`moderation models ...`: candidate models in shadow, their report, and promotion."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import typer

from moderation_service.reviewed_labels import DEFAULT_REASON_CODES

models_app = typer.Typer(help="Candidate models: shadow reports and promotion.", no_args_is_help=True)


def _context():
    from moderation_service.candidates.config import CandidateSettings
    from moderation_service.cli import _settings
    from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head
    from moderation_service.runtime import load_service_policies

    settings = _settings()
    upgrade_to_head(settings.database_url)
    return settings, CandidateSettings(), make_session_factory(make_engine(settings.database_url)), \
        load_service_policies(settings).current


def _report(candidate: str, since: datetime | None, reason_codes: Path) -> tuple[dict, object, object]:
    from moderation_service.candidates.report import compare
    from moderation_service.reviewed_labels import load_reason_codes

    _settings, models, sessions, policies = _context()
    since = since.replace(tzinfo=timezone.utc) if since and since.tzinfo is None else since
    report = compare(sessions, policies, candidate, load_reason_codes(reason_codes), since, models.report_min_labels)
    return report, models, sessions


@models_app.command("report")
def models_report(
    candidate: str = typer.Argument(..., help="The candidate's entry name in the classifier configuration."),
    since: datetime = typer.Option(None, help="Only items created at or after this time."),
    reason_codes: Path = typer.Option(DEFAULT_REASON_CODES, help="Reason code -> category map."),
    as_json: bool = typer.Option(False, "--json", help="The whole report as JSON."),
) -> None:
    """Live against candidate on the items both scored: per category AUPRC, precision and recall against
    reviewers' labels, with bootstrap intervals; and the decisions that would change."""
    from moderation_service.candidates.report import format_report
    from moderation_service.cli import _as_json

    report, _models, _sessions = _report(candidate, since, reason_codes)
    typer.echo(_as_json(report) if as_json else format_report(report))


@models_app.command("promote")
def models_promote(
    candidate: str = typer.Argument(..., help="The candidate's entry name in the classifier configuration."),
    since: datetime = typer.Option(None, help="Judge it on items created at or after this time."),
    force: bool = typer.Option(False, help="Promote even if a category dropped beyond the margin."),
    reason: str = typer.Option(None, help="Why (required with --force); kept in the promotion log."),
    actor: str = typer.Option(None, help="Who promotes (default: the OS user)."),
    reason_codes: Path = typer.Option(DEFAULT_REASON_CODES, help="Reason code -> category map."),
) -> None:
    """Make the candidate the live model of its signal in every worker, without a restart."""
    import getpass

    from moderation_service.candidates.promotion import PromotionRefused, promote

    report, models, sessions = _report(candidate, since, reason_codes)
    try:
        done = promote(sessions, candidate, report, f"cli:{actor or getpass.getuser()}", models.promote_max_drop,
                       force, reason)
    except PromotionRefused as exc:
        typer.secho(f"refused: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{candidate} is now the live model of {done.signal} (promotion {done.promotion_id}"
               f"{', forced' if done.forced else ''}); every worker switches within "
               f"{models.watch_interval_s:g} s")
