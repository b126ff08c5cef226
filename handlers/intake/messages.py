"""The intake's messages in English and Turkish."""

from __future__ import annotations

from ..i18n import register

register({
    "hint.attach": {
        "en": "up to {mb} MB each; {n} received so far",
        "tr": "her biri en fazla {mb} MB; şu ana kadar {n} dosya alındı",
    },
    "hint.attach.console": {
        "en": "type the path of a local file, up to {mb} MB; {n} received so far",
        "tr": "yerel bir dosyanın yolunu yazın, en fazla {mb} MB; şu ana kadar {n} dosya alındı",
    },
    "dialog.hello": {
        "en": "Hello {name} ({customer}). I will take your report step by step. You can type "
              "\"back\", \"cancel\" or \"edit FIELD\" at any time.",
        "tr": "Merhaba {name} ({customer}). Bildiriminizi adım adım alacağım. İstediğiniz an "
              "\"geri\", \"iptal\" ya da \"düzenle ALAN\" yazabilirsiniz.",
    },
    "dialog.continuing": {
        "en": "You have a report in progress; let us continue (type \"cancel\" to start over).",
        "tr": "Devam eden bir bildiriminiz var; kaldığımız yerden sürdürelim (baştan başlamak "
              "için \"iptal\" yazın).",
    },
    "dialog.help": {
        "en": "Answer the question below. \"back\" goes to the previous question, \"edit FIELD\" "
              "changes an answer (e.g. edit summary), \"cancel\" drops the report.",
        "tr": "Aşağıdaki soruyu yanıtlayın. \"geri\" önceki soruya döner, \"düzenle ALAN\" bir "
              "yanıtı değiştirir (ör. düzenle özet), \"iptal\" bildirimi siler.",
    },
    "dialog.reminder": {
        "en": "Your report is not finished yet (we stopped at: {step}). Answer to continue, or "
              "type \"cancel\". No ticket is open and no clock runs until you confirm.",
        "tr": "Bildiriminiz henüz tamamlanmadı (kaldığımız yer: {step}). Devam etmek için "
              "yanıtlayın ya da \"iptal\" yazın. Onaylayana kadar kayıt açılmaz, süre işlemez.",
    },
    "dialog.expired": {
        "en": "Your unfinished report has expired and was discarded; no ticket was opened. "
              "Write to me again to start a new one.",
        "tr": "Tamamlanmamış bildiriminizin süresi doldu ve silindi; kayıt açılmadı. Yeni bir "
              "bildirim için bana tekrar yazın.",
    },
    "cancelled": {
        "en": "Cancelled. Nothing was filed. Write to me again whenever you need.",
        "tr": "İptal edildi. Hiçbir kayıt açılmadı. İhtiyaç duyduğunuzda yine yazın.",
    },
    "cancel.nothing": {
        "en": "There is no report in progress.",
        "tr": "Devam eden bir bildirim yok.",
    },
    "back.none": {"en": "This is the first question.", "tr": "Bu ilk soru."},
    "button.stale": {
        "en": "That button belongs to an earlier question.",
        "tr": "Bu düğme önceki bir soruya ait.",
    },
    "edit.which": {"en": "Which answer do you want to change?",
                   "tr": "Hangi yanıtı değiştirmek istiyorsunuz?"},
    "edit.unknown": {
        "en": "I cannot edit \"{name}\". Pick one of the answers below.",
        "tr": "\"{name}\" düzenlenemiyor. Aşağıdaki yanıtlardan birini seçin.",
    },
    "confirm.title": {
        "en": "Please check your report:",
        "tr": "Lütfen bildiriminizi kontrol edin:",
    },
    "confirm.ask": {
        "en": "Open the ticket now? The clocks start when you confirm.",
        "tr": "Kayıt şimdi açılsın mı? Süreler onayladığınızda başlar.",
    },
    "confirm.invalid": {
        "en": "Please choose: confirm, edit or cancel.",
        "tr": "Lütfen seçin: onayla, düzenle ya da iptal.",
    },
    "choice.confirm": {"en": "Confirm", "tr": "Onayla"},
    "choice.edit": {"en": "Edit", "tr": "Düzenle"},
    "choice.cancel": {"en": "Cancel", "tr": "İptal"},
    "deflected": {
        "en": "Glad it is solved! I noted that the knowledge base helped; no ticket was opened.",
        "tr": "Çözülmesine sevindim! Bilgi bankasının yardımcı olduğunu not ettim; kayıt "
              "açılmadı.",
    },
    "note.eos": {
        "en": "Please note: version {version} reached its end of support on {ends} ({years} years "
              "after release). We record this on the ticket; the vendor decides what support is "
              "possible and a fix will need an upgrade.",
        "tr": "Lütfen dikkat: {version} sürümünün destek süresi {ends} tarihinde doldu "
              "(yayından {years} yıl sonra). Bunu kayda işliyoruz; hangi desteğin verilebileceğine "
              "firmamız karar verir ve düzeltme için sürüm yükseltmesi gerekir.",
    },
    "note.eos_short": {
        "en": "Version past end of support: recorded on the ticket.",
        "tr": "Destek süresi dolmuş sürüm: kayda işlendi.",
    },
    "note.service": {
        "en": "This is a service request: it is outside maintenance, billed separately, and runs "
              "no SLA clock.",
        "tr": "Bu bir hizmet talebidir: bakım kapsamı dışındadır, ayrıca faturalandırılır ve SLA "
              "süresi işlemez.",
    },
    "note.remote_pending": {
        "en": "Without remote access the clock waits: the ticket is paused as \"waiting for "
              "remote access\" until access is given.",
        "tr": "Uzaktan erişim olmadan süre bekler: erişim verilene kadar kayıt \"uzaktan erişim "
              "bekleniyor\" olarak duraklatılır.",
    },
    "note.out_of_hours": {
        "en": "It is outside your business hours. On the Standard plan the clock starts at the "
              "next opening, {opening}; out-of-hours support is an additional, separately billed "
              "service.",
        "tr": "Şu an iş saatleriniz dışındayız. Standart planda süre bir sonraki iş saati "
              "başlangıcında ({opening}) başlar; iş saatleri dışında destek, ayrıca "
              "faturalandırılan ek bir hizmettir.",
    },
    "opened": {
        "en": "Ticket #{number} is open. Severity {severity} ({severity_name}), plan {plan}, "
              "handled by tier {tier}.",
        "tr": "#{number} numaralı kayıt açıldı. Önem derecesi {severity} ({severity_name}), plan: "
              "{plan}, Kademe {tier} ekibine atandı.",
    },
    "due.at": {"en": "{clock} ({target}): due {at}", "tr": "{clock} ({target}): süre sonu {at}"},
    "due.none": {"en": "{clock}: {target}", "tr": "{clock}: {target}"},
    "due.paused": {
        "en": "{clock} ({target}): paused, waiting for remote access",
        "tr": "{clock} ({target}): duraklatıldı, uzaktan erişim bekleniyor",
    },
    "due.next": {"en": "{clock} due {at} ({state})",
                 "tr": "{clock} için süre sonu {at} ({state})"},
    "files.received": {"en": "Received {name} ({size}).", "tr": "{name} alındı ({size})."},
    "files.too_big": {
        "en": "{name} is {size}; the limit is {limit}. Please send a smaller file (e.g. zipped).",
        "tr": "{name} dosyasının boyutu {size}; sınır {limit}. Lütfen daha küçük bir dosya "
              "gönderin (ör. sıkıştırılmış).",
    },
    "files.empty": {"en": "{name} is empty.", "tr": "{name} boş."},
    "files.too_many": {
        "en": "{name} was not added: a report takes {limit} files at most. Zip them together, "
              "or say \"done\" to go on.",
        "tr": "{name} eklenmedi: bir kayda en fazla {limit} dosya eklenebilir. Dosyaları "
              "sıkıştırıp tek dosya gönderin ya da devam etmek için \"tamam\" yazın.",
    },
    "files.type": {
        "en": "{name} has a file type I cannot accept ({type}). Screenshots, text logs, PDF or "
              "zip files are fine.",
        "tr": "{name} kabul edemediğim bir dosya türünde ({type}). Ekran görüntüsü, metin log, "
              "PDF ya da zip dosyaları uygundur.",
    },
    "files.no_dialog": {
        "en": "Please start a report first (/new); then send files when I ask for them.",
        "tr": "Lütfen önce bir bildirim başlatın (/new); dosyaları sorduğumda gönderin.",
    },
    "invalid.required": {"en": "This answer is required.", "tr": "Bu yanıt zorunludur."},
    "cmd.unknown": {"en": "Unknown command /{command}. Try /help.",
                    "tr": "Bilinmeyen komut /{command}. /help yazın."},
    "access.usage": {
        "en": "Use /access N followed by how to connect, e.g. /access 12 VPN via AnyDesk.",
        "tr": "/access N ve bağlantı yolunu yazın, ör. /access 12 AnyDesk ile VPN.",
    },
    "access.already": {
        "en": "Ticket #{number} is not waiting for remote access.",
        "tr": "#{number} numaralı kayıt uzaktan erişim beklemiyor.",
    },
    "access.thanks": {
        "en": "Thank you: remote access for ticket #{number} is recorded and its clocks run "
              "again.",
        "tr": "Teşekkürler: #{number} numaralı kayıt için uzaktan erişim kaydedildi, süreler "
              "yeniden işliyor.",
    },
    "lang.usage": {"en": "Use /lang tr or /lang en.", "tr": "/lang tr ya da /lang en kullanın."},
    "waiting.answered": {
        "en": "Thank you: your answer is added to ticket #{number} and its clocks run again. "
              "To report something new, send /new.",
        "tr": "Teşekkürler: yanıtınız #{number} numaralı kayda eklendi, süreler yeniden "
              "işliyor. Yeni bir bildirim için /new yazın.",
    },
    "lang.set": {"en": "I will speak English with you.", "tr": "Sizinle Türkçe konuşacağım."},
    "list.none": {"en": "Your organisation has no open tickets.",
                  "tr": "Kurumunuzun açık kaydı yok."},
    "list.title": {"en": "Open tickets of {customer}:", "tr": "Açık kayıtlarınız ({customer}):"},
    "status.not_found": {
        "en": "I cannot find ticket {ref} for your organisation.",
        "tr": "Kurumunuza ait {ref} numaralı kaydı bulamıyorum.",
    },
    "status.assignee": {"en": "Engineer: {name}", "tr": "Atanan mühendis: {name}"},
})

