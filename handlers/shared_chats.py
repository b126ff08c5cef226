"""Chats shared with one customer (Slack Connect channels): only that customer's words count.

A channel mapped to a customer (``storage.chats``) is where that customer's people report and
follow their tickets. Someone else writing there is refused before anything is read into a
dialog or a ticket: a contact of another customer (their words must not become this
customer's, nor this customer's tickets be shown to them), and the vendor's staff (the
engineers' commands answer with other customers' tickets: never in a customer's channel).
Unknown and untrained people get the P9/P12 refusals as anywhere else.
"""

from __future__ import annotations

from sqlmodel import Session

from storage.chats import customer_of_chat
from storage.models import Contact, Customer

from .i18n import register, t
from .identity import contact_language
from .types import Incoming, Reply

register({
    "shared.other_org": {
        "en": "Sorry, {name}: this channel is shared with another organisation, so I cannot "
              "take your message here. Please write in your own company's support channel "
              "with us.",
        "tr": "Üzgünüm {name}: bu kanal başka bir kuruluşla paylaşılıyor, bu yüzden "
              "mesajınızı burada alamıyorum. Lütfen şirketinizin bizimle olan destek kanalına "
              "yazın.",
    },
    "shared.staff": {
        "en": "This channel is shared with customer {customer}: commands are not run here, so "
              "nothing about another customer can show in it. Work the ticket from the "
              "engineers' channel; what you send the customer from there appears in the "
              "ticket's thread.",
        "tr": "Bu kanal {customer} müşterisiyle paylaşılıyor: komutlar burada çalıştırılmaz, "
              "böylece başka bir müşteriye ait hiçbir şey burada görünmez. Kaydı mühendis "
              "kanalından yürütün; oradan müşteriye gönderdikleriniz kaydın konu dizisinde "
              "görünür.",
    },
})


def outsider(session: Session, msg: Incoming, actor: Contact | None,
             staff: bool) -> list[Reply] | None:
    """The refusal of a message written in a chat shared with a customer by someone who is not
    one of that customer's contacts; None for every other message (unknown people included:
    the dispatch refuses them as anywhere)."""
    if actor is None or not msg.chat or msg.chat == msg.user_key:
        return None  # a direct conversation (the chat is the person): shared with nobody
    owner = customer_of_chat(session, msg.channel, msg.chat)
    if owner is None or actor.customer_id == owner and not staff:
        return None
    lang = contact_language(actor, None, msg.language_hint)
    if staff:
        customer = session.get(Customer, owner)
        text = t("shared.staff", lang, customer=customer.name if customer else str(owner))
        return [Reply(text, meta={"refused": "staff_in_shared_chat"})]
    return [Reply(t("shared.other_org", lang, name=actor.name),
                  meta={"refused": "other_organisation"})]
