"""Benchmark knowledge-base search: full-text index against a plain LIKE scan, same data.

    python benchmarks/bench_kb.py [--entries N] [--queries Q] [--seed S] [--pg URL] [--json]

Generates N known errors (seeded; English and Turkish words with Zipf frequencies over a
6 000 / 4 000-word vocabulary, product names, error codes and log-line signatures), loads them
into a freshly migrated SQLite database (and PostgreSQL when ``--pg`` gives a server URL; a
scratch database is created there), then times Q queries of the
kind tickets produce (a few symptom words, half of them with a log line holding an entry's
error signature, a product and version) through ``storage.kb.search_known_errors``:

* ``fts``: the engine's full-text index (FTS5 / tsvector) + signature/product/version boosts;
* ``scan``: the same function with ``method="scan"``: a ``LIKE '%word%'`` scan, same boosts.

Reports p50/p99 latency per method and the speed-up; checks that an entry whose signature is in
the query is ranked first by the index. Goal: p99 under 20 ms and at least 10x the scan.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from storage import kb  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402

PRODUCTS = [("Voice Bot", "conversational-ai", ["3.1", "4.0", "4.2"]),
            ("Chatbot", "conversational-ai", ["2.6", "2.8"]),
            ("Speech Analytics", "conversational-analytics", ["6.4", "7.0"]),
            ("Call Recorder", "call-recording", ["4.0", "5.5"])]
EN = """call calls recording recorder silence prompt timeout queue index disk license trunk sip
rtp codec transcript transcription sentiment keyword search export import report dashboard
agent screen capture archive storage cache service worker restart crash memory leak cpu
latency delay audio voice speech recognition synthesis engine model intent nlu widget
session websocket proxy database connection pool login password certificate expired tls
upgrade patch version config setting node cluster failover backup restore schedule job
missing empty wrong slow hangs fails stops loop duplicate corrupt encoding unicode date
time zone clock ntp drift alarm alert email sms webhook api token quota limit throttle""".split()
TR = """kayıt kayıtlar çağrı ses sessizlik istek yanıt zaman aşımı kuyruk dizin disk lisans hat
kodek döküm duygu arama dışa aktarma rapor pano temsilci ekran arşiv depolama önbellek servis
yeniden başlatma çökme bellek gecikme konuşma tanıma sentez motor model niyet oturum bağlantı
şifre sertifika yükseltme yama sürüm ayar düğüm yedek geri yükleme eksik boş yanlış yavaş
takılıyor başarısız duruyor döngü bozuk karakter tarih saat uyarı""".split()
CODES = ["ERR", "E", "WARN", "SIPREC", "ASR", "TTS", "NLU", "REC", "LIC", "IDX", "DB"]


SYLLABLES = "ka te ri no sa lu mi do ve pa zo ge bi tu ra le ko fi ne su ya ho".split()


class Vocabulary:
    """Words drawn with Zipf frequencies (rank r has weight 1/r), like natural text: a few
    words everywhere, most words rare. ``--uniform`` draws the small base vocabulary evenly
    instead (every word in about half the entries: a worst case for any inverted index)."""

    def __init__(self, base: list[str], rng: random.Random, size: int, uniform: bool) -> None:
        words = list(base)
        while len(words) < size and not uniform:
            w = "".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))
            if w not in words:
                words.append(w)
        self.words = words
        weights = [1.0] * len(words) if uniform else [1 / (r + 1) for r in range(len(words))]
        acc, self.cum = 0.0, []
        for w8 in weights:
            acc += w8
            self.cum.append(acc)

    def draw(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cum, k=k)


def generate(n: int, rng: random.Random, uniform: bool = False) -> list[dict[str, Any]]:
    en = Vocabulary(EN, rng, 6000, uniform)
    tr = Vocabulary(TR, rng, 4000, uniform)
    rows = []
    for i in range(n):
        name, family, versions = rng.choice(PRODUCTS)
        vocab = tr if rng.random() < 0.3 else en
        code = f"{rng.choice(CODES)}_{rng.choice(EN).upper()}_{i:05d}"
        sig = f"{code}: {' '.join(en.draw(rng, 3))}"
        rows.append({
            "id": f"KE-{i + 1:05d}",
            "title": " ".join(vocab.draw(rng, 6)),
            "family": family, "product": name,
            "affected_versions": rng.choice(versions),
            "symptoms": " ".join(vocab.draw(rng, 40)),
            "signatures": json.dumps([sig]),
            "workaround": " ".join(vocab.draw(rng, 30)),
            "fixed_in": None, "language": "tr" if vocab is tr else "en", "body": "",
            "published": True, "source_ticket_id": None,
            "updated_at": "2026-11-25 00:00:00+00:00",
        })
    return rows


def load(url: str, rows: list[dict[str, Any]]) -> None:
    upgrade(url)
    engine = make_engine(url)
    cols = list(rows[0]) + ["search_text"]
    sql = text(f"INSERT INTO known_errors ({', '.join(cols)}) "
               f"VALUES ({', '.join(':' + c for c in cols)})")
    with session_scope(engine) as s:
        conn = s.connection()
        batch = [{**r, "search_text": kb.search_text_for(r)} for r in rows]
        for i in range(0, len(batch), 1000):
            conn.execute(sql, batch[i:i + 1000])
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE known_errors"))
    engine.dispose()


def queries(rows: list[dict[str, Any]], q: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for _ in range(q):
        r = rng.choice(rows)
        words = rng.sample(r["symptoms"].split(), 3) + rng.sample(r["title"].split(), 2)
        with_sig = rng.random() < 0.5
        qtext = " ".join(words)
        if with_sig:
            qtext += " log: " + json.loads(r["signatures"])[0] + " at 12:00:03"
        out.append({"text": qtext, "product": r["product"], "version": r["affected_versions"],
                    "expect": r["id"] if with_sig else None})
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def run(url: str, qs: list[dict[str, Any]], method: str) -> tuple[list[float], int, int]:
    engine = make_engine(url)
    times: list[float] = []
    hits = total = 0
    with session_scope(engine) as s:
        for q in qs[:5]:  # warm caches
            kb.search_known_errors(s, q["text"], product=q["product"], version=q["version"],
                                   method=method)
        for q in qs:
            t0 = time.perf_counter()
            found = kb.search_known_errors(s, q["text"], product=q["product"],
                                           version=q["version"], method=method)
            times.append((time.perf_counter() - t0) * 1000)
            if q["expect"]:
                total += 1
                hits += bool(found) and found[0].entry.id == q["expect"]
            s.expunge_all()
    engine.dispose()
    return times, hits, total


def bench(label: str, url: str, rows: list[dict[str, Any]], qs: list[dict[str, Any]],
          scan_queries: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    load(url, rows)
    load_s = time.perf_counter() - t0
    fts, hits, total = run(url, qs, "fts")
    scan, shits, stotal = run(url, qs[:scan_queries], "scan")
    res = {
        "db": label, "entries": len(rows), "load_s": round(load_s, 2),
        "fts_queries": len(fts), "fts_p50_ms": round(pct(fts, 50), 2),
        "fts_p99_ms": round(pct(fts, 99), 2), "fts_mean_ms": round(statistics.mean(fts), 2),
        "scan_queries": len(scan), "scan_p50_ms": round(pct(scan, 50), 2),
        "scan_p99_ms": round(pct(scan, 99), 2),
        "speedup_p50": round(pct(scan, 50) / pct(fts, 50), 1),
        "speedup_p99": round(pct(scan, 99) / pct(fts, 99), 1),
        "signature_top1_fts": f"{hits}/{total}", "signature_top1_scan": f"{shits}/{stotal}",
    }
    res["goal_met"] = res["fts_p99_ms"] < 20 and res["speedup_p50"] >= 10
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--scan-queries", type=int, default=100,
                    help="queries timed for the (slow) scan baseline")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg", help="PostgreSQL server URL (a scratch database is created)")
    ap.add_argument("--uniform", action="store_true",
                    help="worst case: a small vocabulary drawn evenly (see Vocabulary)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rows = generate(args.entries, rng, args.uniform)
    qs = queries(rows, args.queries, rng)
    results = []
    with tempfile.TemporaryDirectory() as d:
        results.append(bench("sqlite", f"sqlite:///{d}/bench.db", rows, qs, args.scan_queries))
    if args.pg:
        name = "bench_" + uuid.uuid4().hex[:8]
        admin = make_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            results.append(bench("postgresql", args.pg.rsplit("/", 1)[0] + "/" + name, rows, qs,
                                 args.scan_queries))
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"[{r['db']}] {r['entries']} entries (load {r['load_s']} s)")
            print(f"  full-text: p50 {r['fts_p50_ms']} ms  p99 {r['fts_p99_ms']} ms  "
                  f"({r['fts_queries']} queries)")
            print(f"  LIKE scan: p50 {r['scan_p50_ms']} ms  p99 {r['scan_p99_ms']} ms  "
                  f"({r['scan_queries']} queries)")
            print(f"  speed-up: {r['speedup_p50']}x at p50, {r['speedup_p99']}x at p99; "
                  f"signature ranked first: index {r['signature_top1_fts']}, "
                  f"scan {r['signature_top1_scan']}; goal met: {r['goal_met']}")
    return 0 if all(r["goal_met"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
