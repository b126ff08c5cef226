"""``destek report sla``, ``destek planned list``, ``destek release add|eos-notices``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from handlers.planned_work import list_planned
from handlers.releases import KINDS, add_release, eos_notices
from handlers.reports import monthly_report
from sla.attainment import Month
from storage.directory import get_customer

from ..report_render import FORMATS, render, report_context
from .common import app, db_policy, emit, fail, now_utc, parse_day, policy, session, settings

report_app = typer.Typer(help="Reports: the monthly SLA report.", no_args_is_help=True)
planned_app = typer.Typer(help="Planned work announced by customers (P19).",
                          no_args_is_help=True)
release_app = typer.Typer(help="Releases (P7) and end-of-support notices (P8).",
                          no_args_is_help=True)
app.add_typer(report_app, name="report")
app.add_typer(planned_app, name="planned")
app.add_typer(release_app, name="release")


@report_app.command("sla")
def report_sla(
    month: Annotated[str, typer.Option(help="YYYY-MM: tickets reported in that month "
                                            "(customer's local time)")],
    customer: Annotated[str | None, typer.Option(help="Customer code (all when omitted)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, csv, pdf or png")] = "md",
    out: Annotated[Path | None, typer.Option(help="Write to this file")] = None,
) -> None:
    """Monthly SLA report: met / breached / pending per target, attainment, waiting time,
    written exceptions and OpenAI usage."""
    try:
        m = Month.parse(month)
    except ValueError as exc:
        fail(str(exc))
    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    if fmt in ("pdf", "png") and out is None:
        fail(f"--format {fmt} needs --out FILE")
    pol = db_policy()
    now = now_utc()
    with session() as s:
        code = get_customer(s, customer).code if customer else None
        report = monthly_report(s, pol, m, code, now)
        # The PDF speaks the customer's language and zone; it reads them while the session is open.
        ctx = report_context(s, pol, report, settings().vendor_name) if fmt == "pdf" else None
    result = render(report, fmt, out, ctx)
    if out is None:
        typer.echo(result, nl=False)
    else:
        typer.echo(f"report written to {out}")


@planned_app.command("list")
def planned_list(
    all_: Annotated[bool, typer.Option("--all", help="Include past work")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List planned work (from yesterday on unless --all)."""
    from datetime import timedelta

    with session() as s:
        rows = list_planned(s, None if all_ else now_utc().date() - timedelta(days=1))
    emit(rows, as_json, ["id", "day", "window", "tz", "customer", "product", "version",
                         "contact"])


@release_app.command("add")
def release_add(
    product: str,
    version: str,
    kind: Annotated[str, typer.Option(help="patch (bug fixes) or package (features)")],
    notes: Annotated[Path, typer.Option(help="File with the release notes")],
    released: Annotated[str | None, typer.Option(help="Release date YYYY-MM-DD "
                                                      "(default today)")] = None,
) -> None:
    """Record a release and queue a notice to every customer covering the product."""
    if kind not in KINDS:
        fail(f"unknown release kind {kind!r}: use patch or package")
    try:
        text = notes.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read notes file {notes}: {exc}")
    now = now_utc()
    day = parse_day(released, "--released") if released else now.date()
    with session() as s:
        result = add_release(s, product, version, kind, text, day, now)
        rid, queued, new = result.release.id, result.queued, result.new_version
    typer.echo(f"release {rid} recorded: {product} {version} ({kind})"
               f"{', new version' if new else ''}; {queued} notice(s) queued")


@release_app.command("eos-notices")
def release_eos(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Queue end-of-support notices for versions ending within 90 days (once each)."""
    pol = policy()
    with session() as s:
        sent = eos_notices(s, pol, now_utc())
        rows = [n.__dict__ | {"ends": n.ends.isoformat()} for n in sent]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        typer.echo(f"{len(rows)} end-of-support notice(s) queued")
        for r in rows:
            typer.echo(f"  {r['product']} {r['version']} ends {r['ends']}: {r['customer']} / "
                       f"{r['contact']} ({r['channel']})")


__all__ = ["settings"]
