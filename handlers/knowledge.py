"""Engineers' knowledge-base verbs (P22): ``suggest N``, ``link N KE-…``, ``kb add N``.

Platform-neutral: each function takes a session and plain values and returns a
:class:`~handlers.types.Reply`, so the command parser wires each in with one line.
"""

from __future__ import annotations

import json

from sqlmodel import Session

from storage import tickets
from storage.kb import KBMatch, next_id, search_known_errors, signature_list
from storage.models import Contact, KnownError, Product, ProductVersion, Ticket, TicketStatus

from .i18n import register, t
from .types import Choice, Reply
from .vocabulary import status_name

register({
    "kb.no_ticket": {"en": "There is no ticket #{n}.", "tr": "#{n} numaralı kayıt yok."},
    "kb.no_entry": {"en": "There is no known error {kb_id}.",
                    "tr": "{kb_id} kimlikli bilinen hata yok."},
    "kb.none_found": {"en": "No known error matches ticket #{n}.",
                      "tr": "#{n} numaralı kayda uyan bilinen hata bulunamadı."},
    "kb.matches_head": {"en": "Known errors that may match ticket #{n}:",
                        "tr": "#{n} numaralı kayda uyabilecek bilinen hatalar:"},
    "kb.match_line": {
        "en": "• {kb_id} — {title} (score {score}){fixed}\n  Workaround: {workaround}",
        "tr": "• {kb_id} — {title} (puan {score}){fixed}\n  Anlık çözüm: {workaround}",
    },
    "kb.fixed_in": {"en": "; fixed in {v}", "tr": "; {v} sürümünde düzeltildi"},
    "kb.link_button": {"en": "Link {kb_id}", "tr": "{kb_id} ile ilişkilendir"},
    "kb.linked": {"en": "Ticket #{n} is linked to known error {kb_id}: {title}.",
                  "tr": "#{n} numaralı kayıt {kb_id} bilinen hatasıyla ilişkilendirildi: {title}."},
    "kb.already_linked": {"en": "Ticket #{n} is already linked to {kb_id}.",
                          "tr": "#{n} numaralı kayıt zaten {kb_id} ile ilişkili."},
    "kb.not_resolved": {
        "en": "Ticket #{n} is {status}: only a resolved or closed ticket becomes a known error.",
        "tr": "#{n} numaralı kaydın durumu: {status}. Yalnızca çözülmüş ya da kapanmış bir "
              "kayıt bilinen hataya dönüştürülebilir.",
    },
    "kb.no_workaround": {
        "en": "Ticket #{n} has no workaround or resolution text to publish.",
        "tr": "#{n} numaralı kaydın yayımlanacak anlık çözüm ya da kalıcı çözüm metni yok.",
    },
    "kb.id_taken": {"en": "Known error {kb_id} already exists.",
                    "tr": "{kb_id} kimlikli bilinen hata zaten var."},
    "kb.added": {
        "en": "Draft known error {kb_id} created from ticket #{n}: {title}. Nobody else sees it "
              "yet: check it for the customer's own words, change a field with "
              "`kb edit {kb_id} title|symptoms|workaround|signature TEXT`, then `kb publish "
              "{kb_id}`.",
        "tr": "#{n} numaralı kayıttan {kb_id} taslak bilinen hatası oluşturuldu: {title}. "
              "Henüz kimse görmüyor: müşteriye özgü ifadeleri ayıklayın, bir alanı "
              "`kb edit {kb_id} title|symptoms|workaround|signature METİN` ile değiştirin, sonra "
              "`kb publish {kb_id}` yazın.",
    },
    "kb.edited": {"en": "{kb_id}: {field} changed (still a draft until `kb publish {kb_id}`).",
                  "tr": "{kb_id}: {field} değiştirildi (`kb publish {kb_id}` yazılana dek "
                        "taslak)."},
    "kb.edited_live": {"en": "{kb_id}: {field} changed.", "tr": "{kb_id}: {field} değiştirildi."},
    "kb.bad_field": {"en": "Unknown field {field!r}: use title, symptoms, workaround or "
                           "signature.",
                     "tr": "{field!r} diye bir alan yok: title, symptoms, workaround veya "
                           "signature kullanın."},
    "kb.published": {"en": "{kb_id} is published: self-help and AI drafts may offer it now.",
                     "tr": "{kb_id} yayımlandı: artık kendi kendine yardım ve yapay zekâ "
                           "taslakları onu önerebilir."},
    "kb.already_published": {"en": "{kb_id} is already published.",
                             "tr": "{kb_id} zaten yayımlanmış."},
})

# What `kb edit` may change on a known error (the command's word -> the column).
EDITABLE = {"title": "title", "symptoms": "symptoms", "workaround": "workaround",
            "signature": "signatures"}

LINK_EVENT = "kb-linked"
ADDED_EVENT = "kb-added"


def _short(text: str, n: int = 160) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def ticket_query(session: Session, ticket: Ticket) -> tuple[str, str | None, str | None]:
    """Search text, product name and version of a ticket."""
    product = session.get(Product, ticket.product_id) if ticket.product_id else None
    version = ticket.version_text
    if version is None and ticket.version_id:
        pv = session.get(ProductVersion, ticket.version_id)
        version = pv.version if pv else None
    text = " ".join(p for p in (ticket.summary, ticket.description, ticket.error_text or "") if p)
    return text, product.name if product else None, version


def matches_for_ticket(session: Session, ticket: Ticket, limit: int = 3) -> list[KBMatch]:
    text, product, version = ticket_query(session, ticket)
    return search_known_errors(session, text, product=product, version=version, limit=limit)


def suggest(session: Session, ticket_id: int, *, lang: str | None = "en",
            limit: int = 3) -> Reply:
    """``suggest N``: the best known-error matches for ticket N, each with a link button."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return Reply(t("kb.no_ticket", lang, n=ticket_id))
    found = matches_for_ticket(session, ticket, limit)
    if not found:
        return Reply(t("kb.none_found", lang, n=ticket_id), meta={"ticket": str(ticket_id)})
    lines = [t("kb.matches_head", lang, n=ticket_id)]
    for m in found:
        e = m.entry
        fixed = t("kb.fixed_in", lang, v=e.fixed_in) if e.fixed_in else ""
        lines.append(t("kb.match_line", lang, kb_id=e.id, title=e.title, score=f"{m.score:.2f}",
                       fixed=fixed, workaround=_short(e.workaround)))
    choices = tuple(Choice(f"link {ticket_id} {m.entry.id}",
                           t("kb.link_button", lang, kb_id=m.entry.id)) for m in found)
    return Reply("\n".join(lines), choices,
                 meta={"ticket": str(ticket_id), "kb_ids": ",".join(m.entry.id for m in found)})


def link(session: Session, ticket_id: int, kb_id: str, actor: Contact | None,
         *, lang: str | None = "en") -> Reply:
    """``link N KE-…``: record on the ticket's trail that this known error applies."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return Reply(t("kb.no_ticket", lang, n=ticket_id))
    entry = session.get(KnownError, kb_id.strip())
    if entry is None:
        return Reply(t("kb.no_entry", lang, kb_id=kb_id))
    for ev in tickets.events(session, ticket_id):
        if ev.kind == LINK_EVENT and ev.data and json.loads(ev.data).get("kb_id") == entry.id:
            return Reply(t("kb.already_linked", lang, n=ticket_id, kb_id=entry.id),
                         meta={"ticket": str(ticket_id)})
    tickets.add_event(session, ticket, LINK_EVENT, f"{entry.id}: {entry.title}", actor=actor,
                      data={"kb_id": entry.id, "workaround": entry.workaround,
                            "fixed_in": entry.fixed_in})
    return Reply(t("kb.linked", lang, n=ticket_id, kb_id=entry.id, title=entry.title),
                 meta={"ticket": str(ticket_id), "kb_id": entry.id})


def kb_add_from_ticket(session: Session, ticket_id: int, *, kb_id: str | None = None,
                       actor: Contact | None = None, title: str | None = None,
                       lang: str | None = "en") -> Reply:
    """``kb add N``: a resolved ticket as a new known error, an unpublished draft: its text
    is the customer's, so no other organisation sees it until an engineer publishes it."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return Reply(t("kb.no_ticket", lang, n=ticket_id))
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return Reply(t("kb.not_resolved", lang, n=ticket_id,
                       status=status_name(ticket.status, lang)))
    workaround = (ticket.workaround_text or ticket.resolution_text or "").strip()
    if not workaround:
        return Reply(t("kb.no_workaround", lang, n=ticket_id))
    new_id = (kb_id or next_id(session)).strip()
    if session.get(KnownError, new_id) is not None:
        return Reply(t("kb.id_taken", lang, kb_id=new_id))
    product = session.get(Product, ticket.product_id) if ticket.product_id else None
    _, _, version = ticket_query(session, ticket)
    error_lines = [ln.strip() for ln in (ticket.error_text or "").splitlines() if ln.strip()]
    entry = KnownError(
        id=new_id,
        title=(title or ticket.summary)[:300],
        family=product.family if product else ticket.family,
        product=product.name if product else None,
        affected_versions=version,
        symptoms=ticket.description or ticket.summary,
        signatures=json.dumps(error_lines[:1], ensure_ascii=False),
        workaround=workaround,
        fixed_in=ticket.fix_version,
        language=ticket.language if ticket.language in ("en", "tr") else "en",
        body=ticket.resolution_text or "",
        source_ticket_id=ticket.id,
        published=False,
    )
    session.add(entry)
    session.flush()
    tickets.add_event(session, ticket, ADDED_EVENT, f"{entry.id}: {entry.title}", actor=actor,
                      data={"kb_id": entry.id, "signatures": signature_list(entry)})
    return Reply(t("kb.added", lang, kb_id=entry.id, n=ticket_id, title=entry.title),
                 meta={"ticket": str(ticket_id), "kb_id": entry.id})


def kb_edit(session: Session, kb_id: str, field: str, text: str, *,
            lang: str | None = "en") -> Reply:
    """``kb edit ID FIELD TEXT``: change one field of a known error (a draft, typically)."""
    entry = session.get(KnownError, kb_id.strip())
    if entry is None:
        return Reply(t("kb.no_entry", lang, kb_id=kb_id))
    column = EDITABLE.get(field.lower())
    if column is None:
        return Reply(t("kb.bad_field", lang, field=field))
    value = text.strip()
    setattr(entry, column, json.dumps([value] if value else [], ensure_ascii=False)
            if column == "signatures" else value)
    session.add(entry)
    session.flush()
    key = "kb.edited_live" if entry.published else "kb.edited"
    return Reply(t(key, lang, kb_id=entry.id, field=field.lower()), meta={"kb_id": entry.id})


def kb_publish(session: Session, kb_id: str, *, actor: Contact | None = None,
               lang: str | None = "en") -> Reply:
    """``kb publish ID``: from now on self-help and the AI hook may offer this known error."""
    entry = session.get(KnownError, kb_id.strip())
    if entry is None:
        return Reply(t("kb.no_entry", lang, kb_id=kb_id))
    if entry.published:
        return Reply(t("kb.already_published", lang, kb_id=entry.id))
    entry.published = True
    session.add(entry)
    session.flush()
    source = session.get(Ticket, entry.source_ticket_id) if entry.source_ticket_id else None
    if source is not None:
        tickets.add_event(session, source, "kb-published", entry.id, actor=actor,
                          data={"kb_id": entry.id})
    return Reply(t("kb.published", lang, kb_id=entry.id), meta={"kb_id": entry.id})
