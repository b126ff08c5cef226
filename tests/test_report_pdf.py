"""The typeset PDF of the monthly SLA report, read back with poppler's ``pdftotext``.

The demo month: ``bot.demo.seed`` loaded on Mon 12 Oct 2026 (its two tickets open then), and
October's other tickets of the demo customers on top: ACME (Premium, Turkish, Istanbul) with
breaches, a pause for the customer's logs, a written exception (P18) and AI calls (P26);
Northwind (Standard, Chicago) with a breach. Reported as of Mon 2 Nov 2026 09:00 UTC. The PDFs
and their pages as PNG go to ``test-artifacts/`` for people to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.demo import seed
from bot.report_render import render, report_context
from handlers.reports import monthly_report
from sla import Policy
from sla.attainment import Month, SLAReport
from storage import directory, tickets
from storage.db import session_scope
from storage.models import AIUsage, Ticket, TicketPause, TicketStatus

IST = timezone(timedelta(hours=3))
CHI = timezone(timedelta(hours=-5))  # Chicago in October (CDT)
MONTH = Month(2026, 10)
AS_OF = datetime(2026, 11, 2, 9, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) is not installed: scripts/system-deps.sh")


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=IST)


def demo_month(session: Session, policy: Policy) -> None:
    """The demo data and October's tickets of ACME and Northwind."""
    seed(session, policy, ist(12, 10))
    acme = directory.get_customer(session, "ACME")
    nw = directory.get_customer(session, "NORTHWIND")
    ayse = directory.find_contact(session, "Ayşe Demir")
    jane = directory.find_contact(session, "Jane Miller")
    deniz = directory.find_contact(session, "Deniz Yılmaz")
    assert ayse and jane and deniz
    bot = directory.get_product(session, "Voice Bot")
    rec = directory.get_product(session, "Call Recorder")
    analytics = directory.get_product(session, "Speech Analytics")

    def acme_ticket(summary: str, sev: str, reported: datetime, product) -> Ticket:  # type: ignore[no-untyped-def]
        return tickets.open_ticket(session, policy, acme, ayse, "premium", summary, sev,
                                   reported.astimezone(UTC), product=product)

    seeded = session.get(Ticket, 1)
    assert seeded is not None and seeded.customer_id == acme.id
    seeded.responded_at = ist(12, 9, 55)
    seeded.workaround_at = ist(12, 12, 30)
    seeded.resolved_at = ist(14, 9, 30)
    seeded.status = TicketStatus.CLOSED
    # Gulf Bank gave remote access the next morning: the seeded ticket's wait ends (P17).
    for pause in tickets.pauses(session, 2):
        pause.ended_at = datetime(2026, 10, 13, 9, tzinfo=UTC)
    gulf = session.get(Ticket, 2)
    assert gulf is not None
    gulf.responded_at = datetime(2026, 10, 13, 10, tzinfo=UTC)
    gulf.status = TicketStatus.OPEN
    t2 = acme_ticket("Rapor ekranında Türkçe karakterler (ğ, ş, ı, İ) bozuk görünüyor", "S3",
                     ist(5, 10), analytics)
    t2.responded_at = ist(5, 11)
    t2.workaround_at = ist(6, 15)
    t2.resolved_at = ist(16, 16)
    t2.status = TicketStatus.CLOSED
    t3 = acme_ticket("İstanbul şubesinde çağrı kayıtlarında arama çalışmıyor", "S2",
                     ist(20, 14), rec)
    t3.responded_at = ist(20, 17, 30)
    t3.workaround_at = ist(23, 15)
    t3.resolved_at = ist(27, 12)
    t3.status = TicketStatus.RESOLVED
    session.add(TicketPause(ticket_id=t3.id, started_at=ist(21, 9), ended_at=ist(22, 11),
                            reason="Müşteriden log dosyaları ve ekran görüntüleri bekleniyor"))
    t4 = acme_ticket("Sesli asistan çağrıları sessizlikle yanıtlıyor (üretim)", "S1",
                     ist(30, 16), bot)
    t4.responded_at = ist(30, 16, 50)
    tickets.add_event(session, t4, "exception",
                      "Uzak erişim (VPN) müşteri tarafında kapalıydı; yanıt süresinin aşılması "
                      "yazılı olarak kabul edildi.", actor=deniz, at=ist(30, 18))
    for day, model, prompt, completion, outcome in [
        (5, "gpt-4o-mini", 1450, 320, "ok"), (6, "gpt-4o-mini", 1320, 290, "ok"),
        (20, "gpt-4o-mini", 1610, 0, "timeout"), (21, "gpt-4o", 2100, 540, "ok"),
        (30, "gpt-4o-mini", 1500, 350, "ok"),
    ]:
        session.add(AIUsage(at=ist(day, 11), customer_id=acme.id, model=model,
                            prompt_tokens=prompt, completion_tokens=completion, outcome=outcome))
    t5 = tickets.open_ticket(session, policy, nw, jane, "standard",
                             "Recordings cannot be exported to the archive", "S2",
                             datetime(2026, 10, 14, 10, tzinfo=CHI).astimezone(UTC),
                             product=rec)
    t5.responded_at = datetime(2026, 10, 14, 11, tzinfo=CHI)
    t5.workaround_at = datetime(2026, 10, 19, 12, tzinfo=CHI)
    t5.resolved_at = datetime(2026, 10, 22, 15, tzinfo=CHI)
    t5.status = TicketStatus.CLOSED
    session.flush()


def pdf_text(path: Path, layout: bool = False) -> str:
    """The PDF's text by poppler: in reading order (a table cell's lines together), or laid
    out as on the page."""
    return subprocess.run(["pdftotext", *(["-layout"] if layout else []), str(path), "-"],
                          check=True, capture_output=True, text=True).stdout


def page_count(text: str) -> int:
    return text.count("\f") + (0 if text.endswith("\f") else 1)


def write_artifacts(report: SLAReport, pdf: Path, name: str) -> list[Path]:
    """Copy the PDF to test-artifacts/report-NAME-MONTH.pdf and render its pages as PNG."""
    ARTIFACTS.mkdir(exist_ok=True)
    stem = ARTIFACTS / f"report-{name}-{report.month}"
    for old in ARTIFACTS.glob(f"{stem.name}-*.png"):
        old.unlink()
    shutil.copyfile(pdf, f"{stem}.pdf")
    subprocess.run(["pdftoppm", "-png", "-r", "60", f"{stem}.pdf", str(stem)], check=True)
    return sorted(ARTIFACTS.glob(f"{stem.name}-*.png"))


@needs_poppler
def test_demo_month_pdf_for_acme_in_turkish(engine: Engine, policy: Policy,
                                             tmp_path: Path) -> None:
    with session_scope(engine) as s:
        demo_month(s, policy)
    with session_scope(engine) as s:
        report = monthly_report(s, policy, MONTH, "ACME", AS_OF)
        ctx = report_context(s, policy, report, "Destek Yazılım A.Ş.")
    assert (ctx.lang, ctx.tz, ctx.plans) == ("tr", "Europe/Istanbul", ("premium",))
    assert len(report.breaches) >= 2 and report.exceptions and report.waiting and report.usage
    pdf = render(report, "pdf", tmp_path / "acme.pdf", ctx)
    assert isinstance(pdf, Path) and pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf, layout=True)
    flat = " ".join(pdf_text(pdf).split())

    # The title page: customer, month, plan, when (zone named), the vendor.
    for expected in ["Aylık SLA raporu", "Acme Telekom A.Ş. (ACME)", "Ekim 2026",
                     "Premium", "2026-11-02 12:00 (Europe/Istanbul)", "Destek Yazılım A.Ş."]:
        assert expected in flat, expected
    # Section and column headings, in Turkish with İ ı ş ğ as they are.
    for expected in ["Plan, önem derecesi ve hedefe göre başarı oranı", "Kalıcı çözüm",
                     "Anlık çözüm", "Aşılan hedefler", "Hariç tutulan bekleme süresi (P17)",
                     "Hizmet seviyesi istisnaları, yazılı (P18)", "Yapay zekâ kullanımı (P26)",
                     "Grafikler", "Son tarih", "Durduğu an", "İş saati", "Başarı oranı",
                     "Saatler Europe/Istanbul saat dilimindedir.", "S1 Kritik", "hâlâ işliyor"]:
        assert expected in flat, expected
    # The customer's own words, and the numbers of the sections.
    assert "İstanbul şubesinde çağrı kayıtlarında arama çalışmıyor" in flat
    assert "Müşteriden log dosyaları ve ekran görüntüleri bekleniyor" in flat
    assert "Uzak erişim (VPN) müşteri tarafında kapalıydı" in flat
    assert "Deniz Yılmaz" in flat
    assert "gpt-4o-mini 4 5880 960 6840 başarılı 3, zaman aşımı 1" in flat
    # The S1 response: 30 min 24x7 from Fri 30 16:00, answered 16:50 → breached.
    assert "#5 S1 Kritik Yanıt" in flat and "2026-10-30 16:30 2026-10-30 16:50" in flat

    pages = page_count(text)
    assert 3 <= pages <= 6, pages
    for n in range(1, pages + 1):
        assert f"Sayfa {n} / {pages}" in text
    assert "Page " not in text  # nothing left in English
    assert not any(line.lstrip().startswith("#") and not line.lstrip()[1:2].isdigit()
                   for line in text.splitlines())  # no Markdown heading
    assert "|---" not in text and "| " not in text
    assert "\ufffd" not in text  # no glyph the font lacks

    pngs = write_artifacts(report, pdf, "ACME")
    assert len(pngs) == pages and all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)


@needs_poppler
def test_demo_month_pdf_for_all_customers_in_english(engine: Engine, policy: Policy,
                                                     tmp_path: Path) -> None:
    with session_scope(engine) as s:
        demo_month(s, policy)
    with session_scope(engine) as s:
        report = monthly_report(s, policy, MONTH, None, AS_OF)
        ctx = report_context(s, policy, report)
    assert (ctx.lang, ctx.tz, ctx.plans) == ("en", None, ("premium", "standard"))
    pdf = render(report, "pdf", tmp_path / "all.pdf", ctx)
    assert isinstance(pdf, Path)
    text = pdf_text(pdf, layout=True)
    flat = " ".join(pdf_text(pdf).split())
    for expected in ["Monthly SLA report", "All customers", "October 2026", "Premium, Standard",
                     "2026-11-02 09:00 (UTC)", "Attainment per plan, severity and target",
                     "Resolution", "Breaches", "Waiting time excluded (P17)",
                     "Written exceptions to the service levels (P18)", "AI usage (P26)",
                     "Charts", "Times are in each customer's zone (column Zone).",
                     "America/Chicago", "Europe/Istanbul", "NORTHWIND", "GULFBANK"]:
        assert expected in flat, expected
    # Customers' words come out as written, Turkish letters included.
    assert "İstanbul şubesinde çağrı kayıtlarında arama çalışmıyor" in flat
    pages = page_count(text)
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in text
    assert "|---" not in text and "\ufffd" not in text
    pngs = write_artifacts(report, pdf, "all")
    assert len(pngs) == pages


def test_pdf_without_context_and_markup_in_user_text(engine: Engine, policy: Policy,
                                                      tmp_path: Path) -> None:
    """No context: English, each ticket's zone. A summary with markup is printed as text."""
    with session_scope(engine) as s:
        demo_month(s, policy)
        t = s.get(Ticket, 3)
        assert t is not None
        t.summary = "<b>bold</b> & <font size=40>big</font>"
        t4 = s.get(Ticket, 4)
        assert t4 is not None
        t4.summary = "https://logs.example.com/" + "x" * 250  # one word wider than the page
    with session_scope(engine) as s:
        report = monthly_report(s, policy, MONTH, "ACME", AS_OF)
    out = render(report, "pdf", tmp_path / "plain.pdf")
    assert isinstance(out, Path) and out.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        flat = " ".join(pdf_text(out).split())
        assert "<b>bold</b> & <font size=40>big</font>" in flat
        assert "Page 1 of" in flat
        # The long word is split inside its column; the table stays on the page.
        assert flat.count("x") >= 250 and "https://logs.example.com/" in flat
        boxes = subprocess.run(["pdftotext", "-bbox", str(out), "-"], check=True,
                               capture_output=True, text=True).stdout
        right = [float(x) for x in re.findall(r'xMax="([\d.]+)"', boxes)]
        assert right and max(right) <= 595.3 - 18 * 72 / 25.4 + 1  # inside the right margin


def test_pdf_of_an_empty_month(engine: Engine, policy: Policy, tmp_path: Path) -> None:
    """A month without tickets still gives a whole report: every section says so."""
    with session_scope(engine) as s:
        demo_month(s, policy)
    with session_scope(engine) as s:
        report = monthly_report(s, policy, Month(2026, 12), "ACME", AS_OF)
        ctx = report_context(s, policy, report)
    assert report.tickets == [] and ctx.plans == ("premium",)
    out = render(report, "pdf", tmp_path / "empty.pdf", ctx)
    assert isinstance(out, Path) and out.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        flat = " ".join(pdf_text(out).split())
        for expected in ["Aralık 2026", "Bu ay bildirilen kayıt yok.", "Aşılan hedef yok.",
                         "Bekleme süresi yok.", "Bu ay yazılı istisna yok.",
                         "Bu ay yapay zekâ çağrısı yapılmadı.", "Grafikler"]:
            assert expected in flat, expected
