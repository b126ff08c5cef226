"""Every word of the typeset monthly report and its chart, in English and Turkish.

Registered in :mod:`handlers.i18n` (keys ``pdf.*``); the clock names come from
:func:`handlers.vocabulary.clock_name` (one name per clock and language).
"""

from __future__ import annotations

import handlers.reports  # noqa: F401  (registers report.all)
from handlers.i18n import register

_MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "tr": ["Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül",
           "Ekim", "Kasım", "Aralık"],
}

register({
    "pdf.title": {"en": "Monthly SLA report", "tr": "Aylık SLA raporu"},
    "pdf.all_customers": {"en": "All customers", "tr": "Tüm müşteriler"},
    "pdf.customer": {"en": "Customer", "tr": "Müşteri"},
    "pdf.month": {"en": "Month", "tr": "Ay"},
    "pdf.plan": {"en": "Plan", "tr": "Plan"},
    "pdf.plans": {"en": "Plans", "tr": "Planlar"},
    "pdf.generated": {"en": "Generated", "tr": "Oluşturulma"},
    "pdf.vendor": {"en": "Prepared by", "tr": "Hazırlayan"},
    "pdf.tickets_count": {"en": "Tickets reported", "tr": "Bildirilen kayıt"},
    "pdf.page": {"en": "Page {n} of {total}", "tr": "Sayfa {n} / {total}"},
    "pdf.summary": {"en": "Summary", "tr": "Özet"},
    "pdf.definition": {
        "en": "A ticket belongs to the month in which it was reported (its clocks started, "
              "P15), in the customer's local time. Each target is counted at the report's "
              "instant: met = stopped within the target; breached = stopped late or still "
              "running past the deadline; pending = still running before its deadline. "
              "Attainment = met / (met + breached). Business time only (P16); time spent "
              "waiting for the customer (P17) is excluded. Median and p90 (nearest rank) are "
              "taken over stopped clocks.",
        "tr": "Bir kayıt, müşterinin yerel saatine göre bildirildiği (sürelerinin başladığı, "
              "P15) aya aittir. Her hedef raporun oluşturulduğu andaki durumuyla sayılır: "
              "karşılandı = hedef süre içinde durdu; aşıldı = geç durdu ya da son tarihi "
              "geçtiği hâlde işliyor; devam ediyor = son tarihinden önce işliyor. "
              "Başarı oranı = karşılanan / (karşılanan + aşılan). Yalnızca iş saatleri sayılır "
              "(P16); müşteriden bilgi beklenen süre (P17) hariçtir. Medyan ve p90 (en yakın "
              "sıra) durmuş süreler üzerinden hesaplanır.",
    },
    # Section headings
    "pdf.h.attainment": {"en": "Attainment per plan, severity and target",
                         "tr": "Plan, önem derecesi ve hedefe göre başarı oranı"},
    "pdf.h.tickets": {"en": "Tickets ({n})", "tr": "Kayıtlar ({n})"},
    "pdf.h.breaches": {"en": "Breaches ({n})", "tr": "Aşılan hedefler ({n})"},
    "pdf.h.waiting": {"en": "Waiting time excluded (P17)",
                      "tr": "Hariç tutulan bekleme süresi (P17)"},
    "pdf.h.exceptions": {"en": "Written exceptions to the service levels (P18)",
                         "tr": "Hizmet seviyesi istisnaları, yazılı (P18)"},
    "pdf.h.usage": {"en": "AI usage (P26)", "tr": "Yapay zekâ kullanımı (P26)"},
    "pdf.h.csat": {"en": "Customer satisfaction", "tr": "Müşteri memnuniyeti"},
    "pdf.csat.none": {"en": "No survey answers this month.",
                      "tr": "Bu ay anket yanıtı yok."},
    "pdf.csat.note": {
        "en": "One answer per closed ticket, 1 (not at all satisfied) to 5 (very satisfied); "
              "CSAT is the share of answers of 4 or 5.",
        "tr": "Kapanan her kayıt için bir yanıt, 1 (hiç memnun değil) ile 5 (çok memnun) "
              "arası; CSAT, 4 ya da 5 verilen yanıtların oranıdır."},
    "pdf.csat.by.customer": {"en": "Customer", "tr": "Müşteri"},
    "pdf.csat.by.plan": {"en": "Plan", "tr": "Plan"},
    "pdf.csat.by.engineer": {"en": "Engineer", "tr": "Mühendis"},
    "pdf.csat.by.all": {"en": "All", "tr": "Tümü"},
    "pdf.c.csat_by": {"en": "By", "tr": "Kırılım"},
    "pdf.c.csat_who": {"en": "Who", "tr": "Kim"},
    "pdf.c.csat_answers": {"en": "Answers", "tr": "Yanıt"},
    "pdf.c.csat_satisfied": {"en": "Satisfied (4-5)", "tr": "Memnun (4-5)"},
    "pdf.c.csat": {"en": "CSAT", "tr": "CSAT"},
    "pdf.c.csat_avg": {"en": "Average", "tr": "Ortalama"},
    "pdf.h.charts": {"en": "Charts", "tr": "Grafikler"},
    # Column headings
    "pdf.c.plan": {"en": "Plan", "tr": "Plan"},
    "pdf.c.severity": {"en": "Severity", "tr": "Önem"},
    "pdf.c.target": {"en": "Target", "tr": "Hedef"},
    "pdf.c.limit": {"en": "Limit", "tr": "Süre sınırı"},
    "pdf.c.met_total": {"en": "Met / decided", "tr": "Karşılanan / sonuçlanan"},
    "pdf.c.breached": {"en": "Breached", "tr": "Aşıldı"},
    "pdf.c.pending": {"en": "Pending", "tr": "Devam eden"},
    "pdf.c.attainment": {"en": "Attainment", "tr": "Başarı oranı"},
    "pdf.c.median": {"en": "Median", "tr": "Medyan"},
    "pdf.c.ticket": {"en": "Ticket", "tr": "Kayıt"},
    "pdf.c.customer": {"en": "Customer", "tr": "Müşteri"},
    "pdf.c.reported": {"en": "Reported", "tr": "Bildirilme"},
    "pdf.c.product": {"en": "Product", "tr": "Ürün"},
    "pdf.c.status": {"en": "Status", "tr": "Durum"},
    "pdf.c.summary": {"en": "Summary", "tr": "Özet"},
    "pdf.c.deadline": {"en": "Deadline", "tr": "Son tarih"},
    "pdf.c.stopped": {"en": "Stopped at", "tr": "Durduğu an"},
    "pdf.c.zone": {"en": "Zone", "tr": "Saat dilimi"},
    "pdf.c.from": {"en": "From", "tr": "Başlangıç"},
    "pdf.c.to": {"en": "To", "tr": "Bitiş"},
    "pdf.c.reason": {"en": "Reason", "tr": "Neden"},
    "pdf.c.business": {"en": "Business time", "tr": "İş saati"},
    "pdf.c.wall": {"en": "Clock time", "tr": "Takvim süresi"},
    "pdf.c.at": {"en": "At", "tr": "Tarih"},
    "pdf.c.by": {"en": "By", "tr": "Yazan"},
    "pdf.c.text": {"en": "Text", "tr": "Metin"},
    "pdf.c.model": {"en": "Model", "tr": "Model"},
    "pdf.c.calls": {"en": "Calls", "tr": "Çağrı"},
    "pdf.c.prompt": {"en": "Prompt tokens", "tr": "Girdi token"},
    "pdf.c.completion": {"en": "Completion tokens", "tr": "Çıktı token"},
    "pdf.c.total_tokens": {"en": "Total tokens", "tr": "Toplam token"},
    "pdf.c.outcomes": {"en": "Outcomes", "tr": "Sonuçlar"},
    # Values and sentences
    "pdf.all_severities": {"en": "all severities", "tr": "tüm önem dereceleri"},
    "pdf.total": {"en": "Total", "tr": "Toplam"},
    "pdf.still_running": {"en": "still running", "tr": "hâlâ işliyor"},
    "pdf.ongoing": {"en": "ongoing", "tr": "sürüyor"},
    "pdf.times_in": {"en": "Times are in {zone}.", "tr": "Saatler {zone} saat dilimindedir."},
    "pdf.times_local": {"en": "Times are in each customer's zone (column Zone).",
                        "tr": "Saatler her müşterinin kendi saat dilimindedir (Saat dilimi "
                              "sütunu)."},
    "pdf.tickets.none": {"en": "No tickets were reported in this month.",
                         "tr": "Bu ay bildirilen kayıt yok."},
    "pdf.service_requests": {
        "en": "Service requests (billed separately, no SLA clock, P10): {n}.",
        "tr": "Hizmet talepleri (ayrıca ücretlendirilir, SLA süresi işlemez, P10): {n}."},
    "pdf.breaches.none": {"en": "No target was breached.", "tr": "Aşılan hedef yok."},
    "pdf.waiting.total": {"en": "Total waiting time excluded: {total}.",
                          "tr": "Hariç tutulan toplam bekleme süresi: {total}."},
    "pdf.waiting.ticket": {"en": "Ticket #{id}: {total} in total.",
                           "tr": "Kayıt #{id}: toplam {total}."},
    "pdf.waiting.none": {"en": "No waiting time.", "tr": "Bekleme süresi yok."},
    "pdf.exceptions.none": {"en": "No written exception this month.",
                            "tr": "Bu ay yazılı istisna yok."},
    "pdf.usage.none": {"en": "No AI calls were made this month.",
                       "tr": "Bu ay yapay zekâ çağrısı yapılmadı."},
    "pdf.usage.note": {
        "en": "OpenAI outages or slowness never count against the SLA (P27).",
        "tr": "OpenAI kesintileri veya yavaşlığı SLA hesabına hiçbir zaman katılmaz (P27)."},
    "pdf.outcome.ok": {"en": "ok", "tr": "başarılı"},
    "pdf.outcome.dropped": {"en": "dropped", "tr": "elendi"},
    "pdf.outcome.timeout": {"en": "timeout", "tr": "zaman aşımı"},
    "pdf.outcome.error": {"en": "error", "tr": "hata"},
    "pdf.outcome.circuit-open": {"en": "circuit open", "tr": "devre açık"},
    # Chart
    "pdf.chart.title": {"en": "SLA report {month} — {scope}", "tr": "SLA raporu {month} — {scope}"},
    "pdf.chart.ylabel": {"en": "attainment %", "tr": "başarı oranı %"},
    "pdf.chart.bars": {"en": "Attainment per severity (met / decided)",
                       "tr": "Önem derecesine göre başarı oranı (karşılanan / sonuçlanan)"},
    "pdf.chart.timeline": {"en": "Breaches over time (deadline instants, {zone})",
                           "tr": "Zamana göre aşılan hedefler (son tarihler, {zone})"},
})


def month_name(month: int, lang: str) -> str:
    """``Ekim`` / ``October`` for 10."""
    return _MONTHS.get(lang, _MONTHS["en"])[month - 1]
