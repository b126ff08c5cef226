"""``destek kb …`` (knowledge base), ``destek ai …`` (subscriptions) and ``destek usage …``."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated

import typer

from handlers import knowledge
from storage import directory, kb
from storage.db import engine_for
from storage.sealed import Sealer, SecretKeyError

from .. import ai
from .common import JsonOpt, app, emit, fail, policy, session, settings

kb_app = typer.Typer(help="Knowledge base of known errors (P22).", no_args_is_help=True)
ai_app = typer.Typer(help="OpenAI subscriptions per customer and product (P26).",
                     no_args_is_help=True)
usage_app = typer.Typer(help="OpenAI usage for monthly billing (P26).", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(ai_app, name="ai")
app.add_typer(usage_app, name="usage")


@kb_app.command("import")
def kb_import(
    folder: Annotated[str, typer.Argument(help="Folder of Markdown files with YAML front matter")],
    as_json: JsonOpt = False,
) -> None:
    """Import known errors; re-import updates by id and says what changed."""
    with session() as s:
        try:
            changes = kb.import_dir(s, folder)
        except kb.KBError as exc:
            fail(str(exc))
        rows = [c.as_dict() for c in changes]
    if as_json:
        emit(rows, True, [])
        return
    for c in changes:
        extra = f" ({', '.join(c.fields)})" if c.fields else ""
        typer.echo(f"{c.status:<9} {c.id}{extra}")
    counts = {k: sum(1 for c in changes if c.status == k) for k in ("added", "updated",
                                                                      "unchanged")}
    typer.echo(", ".join(f"{v} {k}" for k, v in counts.items()))


@kb_app.command("search")
def kb_search(
    text: Annotated[str, typer.Argument(help="Words, an error message or a log line")],
    product: Annotated[str | None, typer.Option(help="Ticket's product (boost)")] = None,
    version: Annotated[str | None, typer.Option(help="Ticket's product version (boost)")] = None,
    language: Annotated[str | None, typer.Option(help="Preferred language: en or tr")] = None,
    limit: Annotated[int, typer.Option(min=1, max=50)] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Best matching known errors, best first."""
    with session() as s:
        found = kb.search_known_errors(s, text, product=product, version=version,
                                       language=language, limit=limit)
        rows = [{"score": m.score, **kb.entry_dict(m.entry)} for m in found]
    if as_json:
        emit(rows, True, [])
        return
    emit(rows, False, ["id", "score", "product", "affected_versions", "fixed_in", "title"])


@kb_app.command("list")
def kb_list(as_json: JsonOpt = False) -> None:
    """Every known error."""
    with session() as s:
        rows = [kb.entry_dict(e) for e in kb.list_entries(s)]
    emit(rows, as_json, ["id", "product", "affected_versions", "fixed_in", "language", "title"])


@kb_app.command("add")
def kb_add(
    from_ticket: Annotated[int, typer.Option("--from-ticket", help="Resolved ticket number")],
    kb_id: Annotated[str | None, typer.Option("--id", help="Id (default: next KE-NNNN)")] = None,
    title: Annotated[str | None, typer.Option(help="Title (default: the ticket summary)")] = None,
) -> None:
    """Create a draft known error from a resolved ticket (unpublished until `kb publish`)."""
    with session() as s:
        reply = knowledge.kb_add_from_ticket(s, from_ticket, kb_id=kb_id, title=title)
    if "kb_id" not in reply.meta:
        fail(reply.text)
    typer.echo(reply.text)


@kb_app.command("edit")
def kb_edit(
    kb_id: Annotated[str, typer.Argument(help="Known error id")],
    field: Annotated[str, typer.Argument(help="title, symptoms, workaround or signature")],
    text: Annotated[str, typer.Argument(help="The new text")],
) -> None:
    """Change one field of a known error (a draft from a ticket, typically)."""
    with session() as s:
        reply = knowledge.kb_edit(s, kb_id, field, text)
    if "kb_id" not in reply.meta:
        fail(reply.text)
    typer.echo(reply.text)


@kb_app.command("publish")
def kb_publish(kb_id: Annotated[str, typer.Argument(help="Known error id")]) -> None:
    """Publish a draft: self-help and AI drafts may offer it from now on."""
    with session() as s:
        reply = knowledge.kb_publish(s, kb_id)
    if "kb_id" not in reply.meta:
        fail(reply.text)
    typer.echo(reply.text)


@ai_app.command("set")
def ai_set(
    customer: Annotated[str, typer.Argument(help="Customer code")],
    key: Annotated[str, typer.Option("--key", help="API key")],
    product: Annotated[str | None, typer.Option(help="Only for this product")] = None,
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="OpenAI-compatible or Azure OpenAI endpoint")] = None,
    model: Annotated[str | None, typer.Option(help="Model (Azure: deployment name)")] = None,
) -> None:
    """Set the OpenAI subscription of a customer (optionally per product)."""
    if not key.strip():
        fail("--key must not be empty")
    if base_url and not base_url.startswith(("http://", "https://")):
        fail(f"--base-url {base_url!r} must start with http:// or https://")
    sealer = _sealer()
    with session() as s:
        cust = directory.get_customer(s, customer)
        prod = directory.get_product(s, product) if product else None
        try:
            ai.set_subscription(s, cust, prod, key.strip(), base_url, model, sealer)
        except SecretKeyError as exc:
            fail(str(exc))
    typer.echo(f"subscription set for {customer}"
               f"{' / ' + product if product else ''}: key {ai.mask(key.strip())}")


@ai_app.command("list")
def ai_list(as_json: JsonOpt = False) -> None:
    """Subscriptions, keys masked."""
    with session() as s:
        rows = ai.subscriptions(s, _sealer())
    emit(rows, as_json, ["customer", "product", "key", "sealed", "base_url", "model"])


@app.command("secret-key")
def secret_key() -> None:
    """Print a new random key for DESTEK_SECRET_KEYS (it seals customers' API keys)."""
    typer.echo(Sealer.new_key())


@ai_app.command("reseal")
def ai_reseal() -> None:
    """Seal every stored API key under the first of DESTEK_SECRET_KEYS (keys stored before
    sealing, or under a key being rotated out)."""
    sealer = _sealer()
    try:
        with session() as s:
            changed = ai.reseal_keys(s, sealer)
    except SecretKeyError as exc:
        fail(str(exc))
    typer.echo(f"{changed} key(s) sealed again")


def _sealer() -> Sealer:
    try:
        return Sealer.from_setting(settings().secret_keys)
    except SecretKeyError as exc:
        fail(str(exc))


@ai_app.command("suggest")
def ai_suggest_cmd(ticket: Annotated[int, typer.Argument(help="Ticket number")]) -> None:
    """Draft a workaround for a ticket now (engineers see it first)."""
    cfg = settings()
    pol = policy()
    engine = engine_for(cfg.database_url)
    result = ai.run_blocking(
        lambda: ai.suggest_for_ticket(
            engine, cfg, ticket, to_customers_policy=pol.ai_suggestions_to_customers),
        cfg.openai_timeout + 2, ai.Suggestion("timeout"))
    if result.outcome == "ok":
        typer.echo(result.label)
        typer.echo(result.text)
    else:
        why = f": {result.reason}" if result.reason else ""
        typer.echo(f"no suggestion ({result.outcome}{why})")


@usage_app.command("report")
def usage_report(
    month: Annotated[str, typer.Option(help="Month, e.g. 2026-11")],
    customer: Annotated[str | None, typer.Option(help="Only this customer code")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Monthly usage per customer, product and model: calls, tokens, outcomes."""
    with session() as s:
        try:
            rows = ai.usage_report(s, month, customer)
        except ValueError as exc:
            fail(str(exc))
    cols = ["customer", "product", "model", "calls", "prompt_tokens", "completion_tokens",
            "total_tokens", *ai.OUTCOMES]
    if as_csv:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        typer.echo(buf.getvalue(), nl=False)
        return
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    emit(rows, False, cols)
