"""Charts of the monthly SLA report (matplotlib, Agg backend: no display).

One figure: attainment per severity (a bar per target) above a timeline of the breaches. The
PNG posted in chat uses it whole; the PDF embeds it without the figure title (its page has a
heading). Labels follow the report's language.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from handlers.i18n import t  # noqa: E402
from handlers.vocabulary import clock_name
from sla import ClockKind  # noqa: E402
from sla.attainment import SLAReport  # noqa: E402

from . import report_labels  # noqa: E402,F401  (registers the labels used below)

_COLOURS = {ClockKind.RESPONSE: "#1f77b4", ClockKind.WORKAROUND: "#ff7f0e",
            ClockKind.RESOLUTION: "#2ca02c"}


def title(report: SLAReport, lang: str = "en") -> str:
    """``SLA report 2026-10 — ACME`` (or all customers) in ``lang``."""
    scope = t("report.all", lang) if report.scope == "all" else report.scope
    return t("pdf.chart.title", lang, month=str(report.month), scope=scope)


def chart(report: SLAReport, lang: str = "en", tz: str = "UTC",
          with_title: bool = True) -> Figure:
    """Attainment per severity (bars per target) and a timeline of the breaches (deadline
    instants read in ``tz``). The legend sits below the bars, so it never hides one."""
    fig, (bars, line) = plt.subplots(2, 1, figsize=(9, 7), layout="constrained",
                                     gridspec_kw={"height_ratios": [3, 2]})
    if with_title:
        fig.suptitle(title(report, lang))
    sevs = sorted({r.severity for r in report.targets if r.severity != "ALL"})
    width = 0.25
    for i, kind in enumerate(ClockKind):
        xs, ys, labels = [], [], []
        for j, sev in enumerate(sevs):
            att = report.attainment(sev, kind)
            if att is not None:
                xs.append(j + (i - 1) * width)
                ys.append(att)
                labels.append(f"{att:.0f}%")
        bar = bars.bar(xs, ys, width, label=clock_name(kind, lang),
                       color=_COLOURS[kind])
        bars.bar_label(bar, labels=labels, fontsize=8)
    bars.set_xticks(range(len(sevs)), sevs)
    bars.set_ylim(0, 110)
    bars.set_ylabel(t("pdf.chart.ylabel", lang))
    bars.set_title(t("pdf.chart.bars", lang))
    # Outside the axes, under the severity ticks: bars reach from 0 to 100 %, so any corner
    # inside the plot may cover one.
    bars.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, fontsize=8,
                frameon=False)
    start, end = report.month.bounds(tz)
    breaches = report.breaches
    levels = sorted({r.severity for r in report.targets if r.severity != "ALL"}
                    | {c.severity for c in breaches})
    ypos = {sev: i for i, sev in enumerate(levels)}
    if breaches:
        for k, kind in enumerate(ClockKind):
            pts = [c for c in breaches if c.kind == kind and c.deadline is not None]
            if not pts:
                continue
            line.scatter([c.deadline for c in pts], [ypos[c.severity] for c in pts],
                         label=clock_name(kind, lang), color=_COLOURS[kind],
                         marker="x", s=60)
            for c in pts:
                assert c.deadline is not None
                line.annotate(f"#{c.ticket_id}", (mdates.date2num(c.deadline),
                                                   ypos[c.severity]),
                              # one label height apart per target: two breaches of a ticket
                              # close in time stay readable
                              fontsize=7, xytext=(3, 3 + 8 * k), textcoords="offset points")
        line.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8,
                    frameon=False)
    else:
        line.text(0.5, 0.5, t("pdf.breaches.none", lang), ha="center", va="center",
                  transform=line.transAxes)
    line.set_yticks(range(len(levels)), levels)
    line.set_ylim(-0.6, max(len(levels), 1) - 0.4)
    last = max([c.deadline for c in breaches if c.deadline] + [end])
    line.set_xlim(start, last)  # type: ignore[arg-type]
    line.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d", tz=ZoneInfo(tz)))
    line.set_title(t("pdf.chart.timeline", lang, zone=tz))
    return fig


def render_png(report: SLAReport, path: Path, lang: str = "en", tz: str = "UTC",
               with_title: bool = True, dpi: int = 100) -> Path:
    """Write the chart to ``path`` as PNG and return it."""
    fig = chart(report, lang, tz, with_title)
    try:
        fig.savefig(path, dpi=dpi)
    finally:
        plt.close(fig)
    return path
