#!/usr/bin/env python3
"""Soak test: a mixed load on the release server for SOAK_MINUTES (default 30) per engine.

Each minute, side by side: wrk GET /api/onboarding/status (16 connections), wrk PUT
/api/onboarding/steps/company (16 connections), and completions of fresh users (8 threads). It
records per minute: requests, non-2xx, p99 of each, and the server's resident memory. Verdicts:
zero errors; resident memory growth after warm-up (minute 5 to the end) under 10 %; p99 stable
(the last five minutes' median p99 within 2x of minutes 5–10's). Writes Markdown to argv[1].

  SOAK_MINUTES=30 SOAK_ENGINES=sqlite,postgres python3 tools/soak.py RELIABILITY-soak.md
"""
import concurrent.futures, importlib.util, json, os, statistics, subprocess, sys, threading, time, uuid

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench", os.path.join(HERE, "bench-server.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

MINUTES = int(os.environ.get("SOAK_MINUTES", "30"))
WARMUP = min(5, MINUTES // 3)


def completions(port, stop, stats):
    """Fresh users complete the wizard until `stop`; counts completions and errors."""
    def one(n):
        user = f"soak-{uuid.uuid4().hex[:12]}"
        c = bench.Client(port); t = bench.token(user)
        codes = [c.call("POST", "/api/onboarding/start", t)]
        wizard = json.loads(json.dumps(bench.WIZARD)); wizard["company"]["company_name"] = f"Soak {n}"
        for step in ["welcome", "company", "organization", "objectives", "preferences", "review"]:
            codes.append(c.call("PUT", f"/api/onboarding/steps/{step}", t, wizard[step]))
        codes.append(c.call("POST", "/api/onboarding/complete", t))
        return codes
    n = 0
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        while not stop.is_set():
            for codes in pool.map(one, range(n, n + 8)):
                stats["requests"] += len(codes)
                stats["errors"] += sum(1 for s in codes if s >= 300)
                stats["completed"] += codes[-1] == 201
            n += 8


def run_engine(engine):
    rows = []
    with bench.running_server(engine, "soak") as (port, proc, _):
        readers = bench.prepare(port, [f"r{i}" for i in range(64)], fill=False)
        writers = bench.prepare(port, [f"w{i}" for i in range(64)], fill=False)
        stop = threading.Event()
        for minute in range(1, MINUTES + 1):
            stats = {"requests": 0, "errors": 0, "completed": 0}
            stop.clear()
            finisher = threading.Thread(target=completions, args=(port, stop, stats))
            finisher.start()
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                get = pool.submit(bench.wrk, port, readers, "GET", "/api/onboarding/status", None, 16, 60)
                put = pool.submit(bench.wrk, port, writers, "PUT", "/api/onboarding/steps/company", bench.WIZARD["company"], 16, 60)
                g, p = get.result(), put.result()
            stop.set(); finisher.join()
            row = {"minute": minute, "get": g, "put": p, "complete": dict(stats), "rss_mb": bench.rss_kb(proc.pid) / 1024}
            rows.append(row)
            print(f"{engine} min {minute}: GET {g['rps']:.0f}/s p99 {g['p99']:.1f} ms, PUT {p['rps']:.0f}/s p99 {p['p99']:.1f} ms, "
                  f"completed {stats['completed']}, errors {g['other'] + p['other'] + stats['errors']}, RSS {row['rss_mb']:.1f} MB", flush=True)
        return rows


def summary(engine, rows):
    errors = sum(r["get"]["other"] + r["put"]["other"] + r["complete"]["errors"] for r in rows)
    requests = sum(r["get"]["ok"] + r["get"]["other"] + r["put"]["ok"] + r["put"]["other"] + r["complete"]["requests"] for r in rows)
    base = rows[WARMUP - 1]["rss_mb"] if WARMUP > 0 else rows[0]["rss_mb"]
    growth = (rows[-1]["rss_mb"] - base) / base * 100
    early = [max(r["get"]["p99"], r["put"]["p99"]) for r in rows[WARMUP:WARMUP + 5]] or [0]
    late = [max(r["get"]["p99"], r["put"]["p99"]) for r in rows[-5:]]
    stable = statistics.median(late) <= 2 * statistics.median(early)
    completed = sum(r["complete"]["completed"] for r in rows)
    ok = lambda c: "met" if c else "**missed**"
    return [
        f"| {engine} | {len(rows)} min, {requests} requests ({completed} completions) | errors: {errors} | {ok(errors == 0)} |",
        f"| {engine} | resident memory after warm-up (min {WARMUP} → {len(rows)}) | {base:.1f} → {rows[-1]['rss_mb']:.1f} MB ({growth:+.1f} %) | < 10 %: {ok(growth < 10)} |",
        f"| {engine} | p99 (worse of GET/PUT), median of min {WARMUP + 1}–{WARMUP + 5} vs last 5 | {statistics.median(early):.1f} ms vs {statistics.median(late):.1f} ms | within 2x: {ok(stable)} |",
    ]


def main():
    out = ["| engine | measure | result | verdict |", "|---|---|---|---|"]
    for engine in os.environ.get("SOAK_ENGINES", "sqlite,postgres").split(","):
        out += summary(engine, run_engine(engine))
    machine = subprocess.run(["python3", os.path.join(HERE, "bench_report.py"), "--machine"], capture_output=True, text=True).stdout.strip()
    text = (f"Machine: {machine}\n\n" if machine else "") + "\n".join(out) + "\n"
    open(sys.argv[1], "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
