"""The engineers' command messages in English and Turkish (the ``cmd.*`` catalogue and the
``oncall`` verb's); the texts customers receive are in ``handlers.ticket_updates``."""

from __future__ import annotations

from ..i18n import register

register({
    "cmd.refused.unknown": {
        "en": "Sorry, I do not know you. Ask your administrator to register you as a contact.",
        "tr": "Üzgünüm, sizi tanımıyorum. Yöneticinizden sizi irtibat kişisi olarak kaydetmesini "
              "isteyin.",
    },
    "cmd.refused.customer": {
        "en": "The command \"{verb}\" is for our support engineers only. You can use: "
              "status N, list, help.",
        "tr": "\"{verb}\" komutunu yalnızca destek mühendislerimiz kullanabilir. "
              "Kullanabileceğiniz komutlar: status N, list, help.",
    },
    "cmd.err.unknown_verb": {
        "en": "Unknown command \"{verb}\". Type \"help\" for the list of commands.",
        "tr": "Bilinmeyen komut: \"{verb}\". Komut listesi için \"help\" yazın.",
    },
    "cmd.err.empty": {
        "en": "Type a command, for example \"status 12\", or \"help\".",
        "tr": "Bir komut yazın, örneğin \"status 12\" ya da \"help\".",
    },
    "cmd.err.usage": {
        "en": "Usage: {usage}",
        "tr": "Kullanım: {usage}",
    },
    "cmd.err.no_ticket": {
        "en": "There is no ticket #{n}.",
        "tr": "#{n} numaralı bir kayıt yok.",
    },
    "cmd.err.no_engineer": {
        "en": "\"{who}\" is not a known support engineer.",
        "tr": "\"{who}\" adlı bir destek mühendisi tanımıyorum.",
    },
    "cmd.err.bad_severity": {
        "en": "\"{sev}\" is not a severity: use {choices}.",
        "tr": "\"{sev}\" bir önem derecesi değil: {choices} kullanın.",
    },
    "cmd.err.already_assigned": {
        "en": "Ticket #{n} is already assigned to {engineer}: nothing changed.",
        "tr": "#{n} numaralı kaydın atanan mühendisi zaten {engineer}; bir şey değişmedi.",
    },
    "cmd.err.same_severity": {
        "en": "Ticket #{n} already has severity {sev}.",
        "tr": "#{n} numaralı kaydın önem derecesi zaten {sev}.",
    },
    "cmd.err.bad_tier": {
        "en": "\"{tier}\" is not a tier: use tier2 or tier3.",
        "tr": "\"{tier}\" bir destek kademesi değil: tier2 ya da tier3 yazın.",
    },
    "cmd.err.same_tier": {
        "en": "Ticket #{n} is already at tier {tier}.",
        "tr": "#{n} numaralı kayıt zaten {tier}. kademede.",
    },
    "cmd.err.closed": {
        "en": "Ticket #{n} is closed; reopen it first (reopen {n} reason).",
        "tr": "#{n} numaralı kayıt kapandı; önce yeniden açın (reopen {n} gerekçe).",
    },
    "cmd.err.resolved": {
        "en": "Ticket #{n} is resolved; close it or reopen it (reopen {n} reason).",
        "tr": "#{n} numaralı kayıt çözüldü; kapatın ya da yeniden açın (reopen {n} gerekçe).",
    },
    "cmd.err.already_pending": {
        "en": "Ticket #{n} is already waiting for the customer.",
        "tr": "#{n} numaralı kayıt zaten müşteriyi bekliyor.",
    },
    "cmd.err.not_pending": {
        "en": "Ticket #{n} is not waiting for the customer.",
        "tr": "#{n} numaralı kayıt müşteriyi beklemiyor.",
    },
    "cmd.err.not_resolved": {
        "en": "Ticket #{n} is neither resolved nor closed: nothing to reopen.",
        "tr": "#{n} numaralı kayıt ne çözüldü ne de kapandı: yeniden açılacak bir şey yok.",
    },
    "cmd.err.bad_list": {
        "en": "Usage: list [mine|breaching|customer CODE]",
        "tr": "Kullanım: list [mine|breaching|customer KOD]",
    },
    "cmd.err.no_customer": {
        "en": "There is no customer \"{code}\".",
        "tr": "\"{code}\" kodlu bir müşteri yok.",
    },
    "cmd.done.ack": {
        "en": "#{n}: assigned to {engineer}; the customer was told (response, P3).",
        "tr": "#{n}: kaydı {engineer} üstlendi; müşteriye bildirildi (yanıt, P3).",
    },
    "cmd.done.sev": {
        "en": "#{n}: severity {old} → {sev}; deadlines recomputed, waiting time kept.",
        "tr": "#{n}: önem derecesi {old} → {sev}; süreler yeniden hesaplandı, bekleme süreleri "
              "korundu.",
    },
    "cmd.done.pending": {
        "en": "#{n}: waiting for the customer; clocks paused. The customer was asked.",
        "tr": "#{n}: müşteri bekleniyor; süreler duraklatıldı. Müşteriden bilgi istendi.",
    },
    "cmd.done.resume": {
        "en": "#{n}: clocks running again.",
        "tr": "#{n}: süreler yeniden işliyor.",
    },
    "cmd.done.workaround": {
        "en": "#{n}: workaround recorded and sent to the customer; workaround clock stopped.",
        "tr": "#{n}: anlık çözüm kaydedildi ve müşteriye gönderildi; anlık çözüm süresi durdu.",
    },
    "cmd.done.resolve": {
        "en": "#{n}: resolved; resolution clock stopped. The customer was asked to confirm.",
        "tr": "#{n}: çözüldü; kalıcı çözüm süresi durdu. Müşteriden onay istendi.",
    },
    "cmd.done.close": {
        "en": "#{n}: closed.",
        "tr": "#{n}: kapatıldı.",
    },
    "cmd.done.reopen": {
        "en": "#{n}: reopened; the resolution clock resumes where it stopped.",
        "tr": "#{n}: yeniden açıldı; kalıcı çözüm süresi kaldığı yerden devam ediyor.",
    },
    "cmd.done.escalate": {
        "en": "#{n}: escalated to tier {tier}.",
        "tr": "#{n}: {tier}. kademeye yükseltildi.",
    },
    "cmd.done.reply": {
        "en": "#{n}: sent to the customer.",
        "tr": "#{n}: müşteriye gönderildi.",
    },
    "cmd.done.note": {
        "en": "#{n}: internal note added (not sent to the customer).",
        "tr": "#{n}: iç not eklendi (müşteriye gönderilmedi).",
    },
    "cmd.done.exception": {
        "en": "#{n}: SLA exception recorded and sent to the customer in writing.",
        "tr": "#{n}: SLA istisnası kaydedildi ve müşteriye yazılı olarak gönderildi.",
    },
    "cmd.status.head": {
        "en": "#{n} {customer} · {sev} {sev_name} · {status} · tier {tier} · {assignee}\n"
              "{summary}",
        "tr": "#{n} {customer} · {sev} {sev_name} · {status} · Kademe {tier} · {assignee}\n"
              "{summary}",
    },
    "cmd.status.unassigned": {"en": "unassigned", "tr": "atanmamış"},
    "cmd.status.no_clock": {
        "en": "No SLA clock (service request, billed separately).",
        "tr": "SLA süresi yok (ek hizmet talebi, ayrıca faturalandırılır).",
    },
    "cmd.clock.left": {
        "en": "{icon} {clock} ({target}): {left} left, due {due}",
        "tr": "{icon} {clock} ({target}): {left} kaldı, süre sonu {due}",
    },
    "cmd.clock.paused": {
        "en": "{icon} {clock} ({target}): paused, {left} left",
        "tr": "{icon} {clock} ({target}): duraklatıldı, {left} kaldı",
    },
    "cmd.clock.overdue": {
        "en": "{icon} {clock} ({target}): overdue by {over}, was due {due}",
        "tr": "{icon} {clock} ({target}): süre {due} itibarıyla doldu; {over} gecikme var",
    },
    "cmd.clock.met": {
        "en": "{icon} {clock} ({target}): met at {at}",
        "tr": "{icon} {clock} ({target}): {at} tarihinde karşılandı",
    },
    "cmd.clock.late": {
        "en": "{icon} {clock} ({target}): done late at {at}",
        "tr": "{icon} {clock} ({target}): {at} tarihinde gecikmeyle tamamlandı",
    },
    "cmd.clock.none": {
        "en": "{icon} {clock}: {target}",
        "tr": "{icon} {clock}: {target}",
    },
    "cmd.list.empty": {"en": "No tickets.", "tr": "Kayıt yok."},
    "cmd.list.line": {
        "en": "{icon} #{n} {customer} {sev} {status} · {assignee} · {next} · {summary}",
        "tr": "{icon} #{n} {customer} {sev} {status} · {assignee} · {next} · {summary}",
    },
    "cmd.list.next": {"en": "{clock} {left}", "tr": "{clock} {left}"},
    "cmd.list.more": {
        "en": "… and {count} more: narrow with list mine, list breaching or list customer CODE.",
        "tr": "… ve {count} kayıt daha: list mine, list breaching ya da list customer KOD ile "
              "daraltın.",
    },
    "cmd.help.staff": {
        "en": "Commands (N = ticket number):\n"
              "ack N · assign N @engineer · sev N S1..S4 reason\n"
              "pending N what-is-missing · resume N\n"
              "workaround N text · resolve N text [--fix-version V] · close N · "
              "reopen N reason\n"
              "escalate N tier2|tier3 reason · exception N text\n"
              "reply N text (to the customer) · note N text (internal; in a ticket's thread "
              "any message is a note, \"reply text\" writes to the customer)\n"
              "status N · list [mine|breaching|customer CODE] · suggest N · link N KB-ID\n"
              "kb add N [KB-ID] · kb edit KB-ID FIELD TEXT · kb publish KB-ID\n"
              "merge N into M · link N M (related tickets) · away [@engineer] · back\n"
              "report [CUSTOMER] [YYYY-MM] · planned · help\n"
              "oncall [ISO] · oncall swap @engineer until ISO",
        "tr": "Komutlar (N = kayıt numarası):\n"
              "ack N · assign N @mühendis · sev N S1..S4 gerekçe\n"
              "pending N eksik-bilgi · resume N\n"
              "workaround N metin · resolve N metin [--fix-version SÜRÜM] · close N · "
              "reopen N gerekçe\n"
              "escalate N tier2|tier3 gerekçe · exception N metin\n"
              "reply N metin (müşteriye) · note N metin (iç not; kaydın ileti dizisindeki her "
              "mesaj bir nottur, \"reply metin\" müşteriye yazar)\n"
              "status N · list [mine|breaching|customer KOD] · suggest N · link N KB-ID\n"
              "kb add N [KB-ID] · kb edit KB-ID ALAN METİN · kb publish KB-ID\n"
              "merge N into M · link N M (ilişkili kayıtlar) · away [@mühendis] · back\n"
              "report [MÜŞTERİ] [YYYY-AA] · planned · help\n"
              "oncall [ISO] · oncall swap @mühendis until ISO",
    },
    "cmd.eng.escalated": {
        "en": "#{n} {customer} {sev}: escalated to tier {tier} by {actor}. {reason}",
        "tr": "#{n} {customer} {sev}: {actor} tarafından {tier}. kademeye yükseltildi. {reason}",
    },
    # the oncall verb (handlers.commands.oncall)
    "oncall.swapped": {
        "en": "Done: {to} holds the {layer} layer instead of {frm} from {start} until {end}.",
        "tr": "Tamam: {start} – {end} arasında {frm} yerine nöbeti {to} tutacak ({layer}).",
    },
    "oncall.err.usage": {
        "en": "Usage: oncall [ISO-time] · oncall swap @engineer until ISO-time",
        "tr": "Kullanım: oncall [ISO-zaman] · oncall swap @mühendis until ISO-zaman",
    },
    "oncall.err.time": {
        "en": "{value!r} is not a time: use ISO 8601, e.g. 2026-11-30T09:00 (zone: {tz}) or "
              "2026-11-30T09:00+03:00.",
        "tr": "{value!r} bir zaman değil: ISO 8601 kullanın, ör. 2026-11-30T09:00 (saat "
              "dilimi: {tz}) ya da 2026-11-30T09:00+03:00.",
    },
    "oncall.err.past": {"en": "The end {end} has already passed.",
                        "tr": "Bitiş zamanı {end} geçmişte kaldı."},
    "oncall.err.no_engineer": {"en": "I do not know an engineer {who!r}.",
                               "tr": "{who!r} adında bir mühendis bulamadım."},
    "oncall.err.self": {"en": "Swap with someone else.",
                        "tr": "Nöbeti başka biriyle değiştirin."},
    "oncall.err.neither": {
        "en": "Neither you nor {who} is on call now: nothing to swap.",
        "tr": "Şu anda ne siz ne de {who} nöbetçi: değiştirilecek bir nöbet yok.",
    },
    "oncall.err.record": {"en": "Not saved: {error}", "tr": "Kaydedilmedi: {error}"},
})
