"""The intake dialog's questions, field names, choices and answers' checks in English and
Turkish (keys ``ask.<field>``, ``field.<field>``, ``choice.*``, ``invalid.*``)."""

from __future__ import annotations

from .i18n import register

register({
    "ask.summary": {
        "en": "In one sentence: what is wrong?",
        "tr": "Tek cümleyle: sorun nedir?",
    },
    "ask.selfhelp": {
        "en": "Before we open a ticket, these known issues look similar:\n{matches}\n"
              "Did one of them solve your problem?",
        "tr": "Kayıt açmadan önce şu bilinen sorunlar benzer görünüyor:\n{matches}\n"
              "Bunlardan biri sorununuzu çözdü mü?",
    },
    "ask.product_id": {"en": "Which product is affected?", "tr": "Hangi ürün etkileniyor?"},
    "ask.version_text": {
        "en": "Which version of {product}?",
        "tr": "{product} ürününün hangi sürümü?",
    },
    "ask.environment": {
        "en": "Is it the production or the test system?",
        "tr": "Üretim (canlı) sistem mi, test sistemi mi?",
    },
    "ask.description": {
        "en": "Please describe the problem in detail: what happens, since when, what should "
              "happen?",
        "tr": "Lütfen sorunu ayrıntılı anlatın: ne oluyor, ne zamandan beri, ne olması gerekiyor?",
    },
    "ask.steps": {
        "en": "How can we reproduce it? List the steps (and the user settings involved).",
        "tr": "Sorunu nasıl tekrarlayabiliriz? Adımları (ve ilgili kullanıcı ayarlarını) yazın.",
    },
    "ask.error_text": {
        "en": "Paste the exact error message text (or type \"none\" if there is no message).",
        "tr": "Hata mesajının tam metnini yapıştırın (mesaj yoksa \"yok\" yazın).",
    },
    "ask.attachments": {
        "en": "Send screenshots, logs or trace files now ({hint}). Press \"Done\" when finished, "
              "or \"Not available\" if you cannot provide any.",
        "tr": "Şimdi ekran görüntüsü, günlük (log) ya da izleme dosyalarını gönderin ({hint}). "
              "Bitince \"Tamam\", hiç gönderemiyorsanız \"Mevcut değil\" seçin.",
    },
    "ask.attachments_missing_reason": {
        "en": "Why are no screenshots or logs available?",
        "tr": "Ekran görüntüsü ya da log neden mevcut değil?",
    },
    "ask.production_down": {
        "en": "Is production down (the service unusable for its users)?",
        "tr": "Üretim durdu mu (hizmet kullanıcılar için kullanılamıyor mu)?",
    },
    "ask.workaround_available": {
        "en": "Is a workaround available, i.e. can users carry on another way?",
        "tr": "Anlık bir çözüm var mı, yani kullanıcılar işlerine başka bir yoldan devam "
              "edebiliyor mu?",
    },
    "ask.users_affected": {
        "en": "How many users are affected?",
        "tr": "Kaç kullanıcı etkileniyor?",
    },
    "ask.severity": {
        "en": "From your answers I propose severity {proposed}: {definition}\n"
              "Press it to accept, or pick another (you will be asked why).\n{definitions}",
        "tr": "Yanıtlarınıza göre önem derecesi olarak {proposed} öneriyorum: {definition}\n"
              "Kabul için onu seçin ya da başka birini seçin (nedenini soracağım).\n{definitions}",
    },
    "ask.severity_reason": {
        "en": "You chose {chosen} instead of {proposed}. Why?",
        "tr": "{proposed} yerine {chosen} seçtiniz. Nedeni nedir?",
    },
    "ask.remote_access": {
        "en": "Can our engineers get remote access to the system now? Our response and resolution "
              "times depend on it.",
        "tr": "Mühendislerimiz sisteme şimdi uzaktan erişebilir mi? Yanıt ve kalıcı "
              "çözüm sürelerimiz buna bağlıdır.",
    },
    "ask.remote_access_how": {
        "en": "How do we connect (VPN, remote desktop tool, whom to call)?",
        "tr": "Nasıl bağlanacağız (VPN, uzak masaüstü aracı, kimi arayacağız)?",
    },
    "ask.kind": {
        "en": "What kind of request is it?",
        "tr": "Talebin türü nedir?",
    },
    "ask.service_category": {
        "en": "Which service do you need? These are outside maintenance and billed separately.",
        "tr": "Hangi hizmete ihtiyacınız var? Bunlar bakım kapsamı dışındadır ve ayrıca "
              "faturalandırılır.",
    },
    "field.summary": {"en": "Summary", "tr": "Özet"},
    "field.selfhelp": {"en": "Self-help", "tr": "Kendi kendine çözüm"},
    "field.product_id": {"en": "Product", "tr": "Ürün"},
    "field.version_text": {"en": "Version", "tr": "Sürüm"},
    "field.environment": {"en": "Environment", "tr": "Ortam"},
    "field.description": {"en": "Description", "tr": "Açıklama"},
    "field.steps": {"en": "Steps", "tr": "Adımlar"},
    "field.error_text": {"en": "Error message", "tr": "Hata mesajı"},
    "field.attachments": {"en": "Attachments", "tr": "Ekler"},
    "field.attachments_missing_reason": {"en": "No attachments because", "tr": "Ek yok, çünkü"},
    "field.production_down": {"en": "Production down", "tr": "Üretim durdu"},
    "field.workaround_available": {"en": "Workaround", "tr": "Anlık çözüm"},
    "field.users_affected": {"en": "Users affected", "tr": "Etkilenen kullanıcı"},
    "field.severity": {"en": "Severity", "tr": "Önem derecesi"},
    "field.severity_reason": {"en": "Severity reason", "tr": "Önem derecesi gerekçesi"},
    "field.remote_access": {"en": "Remote access", "tr": "Uzaktan erişim"},
    "field.remote_access_how": {"en": "How to connect", "tr": "Bağlantı yolu"},
    "field.kind": {"en": "Kind", "tr": "Tür"},
    "field.service_category": {"en": "Service", "tr": "Hizmet"},
    "choice.yes": {"en": "Yes", "tr": "Evet"},
    "choice.no": {"en": "No", "tr": "Hayır"},
    "choice.production": {"en": "Production", "tr": "Üretim"},
    "choice.test": {"en": "Test", "tr": "Test"},
    "choice.solved": {"en": "Solved, thanks", "tr": "Çözüldü, teşekkürler"},
    "choice.continue": {"en": "Not solved, continue", "tr": "Çözülmedi, devam"},
    "choice.done": {"en": "Done", "tr": "Tamam"},
    "choice.not_available": {"en": "Not available", "tr": "Mevcut değil"},
    "choice.users.one": {"en": "One user", "tr": "Bir kullanıcı"},
    "choice.users.few": {"en": "A few (2-10)", "tr": "Birkaç (2-10)"},
    "choice.users.many": {"en": "Many (more than 10)", "tr": "Çok (10'dan fazla)"},
    "choice.users.all": {"en": "All users", "tr": "Tüm kullanıcılar"},
    "choice.kind.defect": {"en": "Product defect", "tr": "Ürün hatası"},
    "choice.kind.problem": {"en": "Product problem (configuration/usage)",
                            "tr": "Ürün sorunu (yapılandırma/kullanım)"},
    "choice.kind.question": {"en": "Question", "tr": "Soru"},
    "choice.kind.service_request": {"en": "Additional service / Redis maintenance",
                                    "tr": "Ek hizmet / Redis bakımı"},
    "value.none": {"en": "(none)", "tr": "(yok)"},
    "value.attachments": {"en": "{n} file(s)", "tr": "{n} dosya"},
    "invalid.summary_words": {
        "en": "Please say in words what is wrong (a few words are enough).",
        "tr": "Lütfen sorunu kelimelerle yazın (birkaç kelime yeterli).",
    },
    "invalid.too_short": {
        "en": "That is too short: please write at least {n} characters.",
        "tr": "Bu çok kısa: lütfen en az {n} karakter yazın.",
    },
    "invalid.too_long": {
        "en": "That is too long: please keep it under {n} characters.",
        "tr": "Bu çok uzun: lütfen {n} karakterin altında tutun.",
    },
    "invalid.yesno": {
        "en": "Please answer yes or no.",
        "tr": "Lütfen evet ya da hayır yanıtlayın.",
    },
    "invalid.choice": {
        "en": "Please pick one of: {options} (or type its number).",
        "tr": "Lütfen şunlardan birini seçin: {options} (ya da numarasını yazın).",
    },
    "invalid.version": {
        "en": "I do not know that version. Known versions: {options}.",
        "tr": "Bu sürümü tanımıyorum. Bilinen sürümler: {options}.",
    },
    "invalid.no_attachments": {
        "en": "No file has arrived yet: send a file, or choose \"Not available\".",
        "tr": "Henüz dosya gelmedi: bir dosya gönderin ya da \"Mevcut değil\" seçin.",
    },
    "invalid.attachments": {
        "en": "Please send a file, or choose \"Done\" or \"Not available\".",
        "tr": "Lütfen bir dosya gönderin ya da \"Tamam\" veya \"Mevcut değil\" seçin.",
    },
})
