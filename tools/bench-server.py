#!/usr/bin/env python3
"""Load benchmark of the server on SQLite and PostgreSQL on 127.0.0.1 (`make bench`).

For each engine: start the release binary on a fresh database, prepare users over HTTP, then
  GET  /api/onboarding/status        64 connections, 10 s
  PUT  /api/onboarding/steps/company 64 connections, 10 s (64 users, no If-Match)
  POST /api/onboarding/complete      fresh users (each completes once), 32 connections, 3 s
each twice: with wrk (closed loop: every connection back to back, the most the server can do)
and with onboarding-loadgen (open loop: the budget's rate offered, latency counted from when
each request was due; tools/loadgen). A budget "≥ R req/s, p99 ≤ L ms" is met when the closed
loop reaches R and the open loop at R keeps p99 ≤ L. Also the resident memory with 1,000
sessions in progress. Writes a Markdown table to argv[1].
"""
import base64, concurrent.futures, contextlib, hashlib, hmac, http.client, json, os, re, socket, subprocess, sys, tempfile, time, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.path.join(ROOT, "target", "release", "onboarding-server")
LOADGEN = os.path.join(ROOT, "target", "release", "onboarding-loadgen")
SECRET = "bench-secret-bench-secret-bench-secret-42"
WIZARD = json.load(open(os.path.join(ROOT, "tests", "fixtures", "valid_wizard.json")))
PG_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
THREADS = 2


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(sub):
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": sub, "email": f"{sub}@bench.test", "exp": int(time.time()) + 7200}).encode())
    sig = b64(hmac.new(SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest())
    return f"{header}.{claims}.{sig}"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, tok, body=None):
        headers = {"Authorization": f"Bearer {tok}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode(); headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse(); r.read()
        return r.status


def prepare(port, users, fill):
    def one(user):
        c = Client(port); t = token(user)
        assert c.call("POST", "/api/onboarding/start", t) in (200, 201)
        if fill:
            wizard = json.loads(json.dumps(WIZARD)); wizard["company"]["company_name"] = f"Bench {user}"
            for step in ["welcome", "company", "organization", "objectives", "preferences", "review"]:
                assert c.call("PUT", f"/api/onboarding/steps/{step}", t, wizard[step]) == 200
        return t
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        return list(pool.map(one, users))


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_files(tokens, body):
    """The tokens (one per line) and the JSON body (or None) as temporary files for a load tool."""
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        f.write("\n".join(tokens) + "\n"); tokfile = f.name
    if body is None:
        return tokfile, None
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        json.dump(body, f); return tokfile, f.name


def wrk(port, tokens, method, path, body, connections, seconds, pid=None):
    """wrk against the server; with `pid`, also the server's CPU time per request (steadier than
    req/s on a shared VM, where wrk and the database take the same two cores)."""
    cpu_before = cpu_seconds(pid) if pid else 0
    tokfile, bodyfile = load_files(tokens, body)
    out = subprocess.run(["wrk", "-t", str(THREADS), "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s",
                          os.path.join(ROOT, "tools", "wrk", "tokens.lua"), f"http://127.0.0.1:{port}{path}", "--",
                          tokfile, method, path, bodyfile or "-"], capture_output=True, text=True, env={**os.environ, "WRK_THREADS": str(THREADS)})
    m = re.search(r"RESULT ok=(\d+) other=(\d+) created=(\d+) p50_ms=([\d.]+) p99_ms=([\d.]+) duration_s=([\d.]+)", out.stdout)
    if not m:
        raise SystemExit(f"wrk failed: {out.stdout}\n{out.stderr}")
    ok, other, created, p50, p99, dur = int(m[1]), int(m[2]), int(m[3]), float(m[4]), float(m[5]), float(m[6])
    for line in out.stdout.splitlines():
        if line.startswith("FAILURE"):
            print(f"{method} {path}: {line}", file=sys.stderr)
    cpu_us = 1e6 * (cpu_seconds(pid) - cpu_before) / max(ok + other, 1) if pid else None
    return {"rps": (ok + other) / dur, "created_rps": created / dur, "created": created, "ok": ok, "other": other, "p50": p50, "p99": p99,
            "cpu_us": cpu_us}


def offered(port, tokens, method, path, body, rate, connections, seconds, once=False):
    """onboarding-loadgen: `rate` req/s offered over `connections` for `seconds` (open loop)."""
    tokfile, bodyfile = load_files(tokens, body)
    cmd = [LOADGEN, "--addr", f"127.0.0.1:{port}", "--method", method, "--path", path, "--tokens", tokfile,
           "--rate", str(rate), "--connections", str(connections), "--seconds", str(seconds)]
    if bodyfile:
        cmd += ["--body", bodyfile]
    if once:
        cmd.append("--once")
    out = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"RESULT ok=(\d+) other=(\d+) created=(\d+) errors=(\d+) p50_ms=([\d.]+) p99_ms=([\d.]+) max_ms=([\d.]+) "
                  r"duration_s=([\d.]+) answered_rps=([\d.]+)", out.stdout)
    if not m:
        raise SystemExit(f"onboarding-loadgen failed: {out.stdout}\n{out.stderr}")
    return {"rate": rate, "ok": int(m[1]), "other": int(m[2]), "created": int(m[3]), "errors": int(m[4]),
            "p50": float(m[5]), "p99": float(m[6]), "max": float(m[7]), "rps": float(m[9])}


def start_server(url, port):
    """The release server on `url`, write rate limits off (the load comes from one address)."""
    env = {**os.environ, "AUTH_JWT_SECRET": SECRET, "DATABASE_URL": url, "BIND": f"127.0.0.1:{port}", "RUST_LOG": "warn",
           "RATE_LIMIT_USER_PER_MIN": "0", "RATE_LIMIT_IP_PER_MIN": "0"}
    return subprocess.Popen([SERVER, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def running_server(engine, label):
    """The release server on a fresh database of `engine` (sqlite or postgres), ready to serve:
    yields (port, process, database URL); stops it and drops the database afterwards."""
    port = free_port()
    if engine == "sqlite":
        url = f"sqlite://{tempfile.mkdtemp()}/{label}.db?mode=rwc"
    else:
        name = f"onboarding_{label}_{uuid.uuid4().hex[:8]}"
        subprocess.run(["psql", PG_ADMIN, "-qc", f"create database {name}"], check=True)
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    proc = start_server(url, port)
    try:
        for _ in range(100):
            try:
                if Client(port).call("GET", "/readyz", "x") == 200: break
            except OSError:
                time.sleep(0.1)
        yield port, proc, url
    finally:
        proc.terminate(); proc.wait(timeout=15)
        if engine == "postgres":
            subprocess.run(["psql", PG_ADMIN, "-qc", f"drop database if exists {name} with (force)"])


def run_engine(engine):
    with running_server(engine, "bench") as (port, proc, _):
        results = {}
        readers = prepare(port, [f"r{i}" for i in range(64)], fill=False)
        results["status"] = wrk(port, readers, "GET", "/api/onboarding/status", None, 64, 10, proc.pid)
        results["status_at"] = offered(port, readers, "GET", "/api/onboarding/status", None, 10000, 64, 10)
        results["put"] = wrk(port, readers, "PUT", "/api/onboarding/steps/company", WIZARD["company"], 64, 10, proc.pid)
        results["put_at"] = offered(port, readers, "PUT", "/api/onboarding/steps/company", WIZARD["company"], 3000, 64, 10)
        prepare(port, [f"s{i}" for i in range(1000 - 64)], fill=False)
        results["rss_mb"] = rss_kb(proc.pid) / 1024
        finishers = prepare(port, [f"c{i}" for i in range(4500)], fill=True)
        results["complete"] = wrk(port, finishers[:3000], "POST", "/api/onboarding/complete", None, 32, 3, proc.pid)
        results["complete"]["capped"] = results["complete"]["created"] >= 3000
        results["complete_at"] = offered(port, finishers[3000:], "POST", "/api/onboarding/complete", None, 500, 32, 3, once=True)
        results["rss_after_mb"] = rss_kb(proc.pid) / 1024
        return results


def verdict(ok):
    return "met" if ok else "**missed**"


def at_rate(o):
    """The open-loop row's text."""
    bad = o["other"] + o["errors"]
    return (f"{o['rate']:,} req/s offered: answered {o['rps']:.0f}/s, p50 {o['p50']:.2f} ms, p99 {o['p99']:.2f} ms, "
            f"max {o['max']:.2f} ms, non-2xx or failed {bad}")


def at_rate_ok(o, p99):
    return o["rps"] >= 0.98 * o["rate"] and o["p99"] <= p99 and o["other"] + o["errors"] == 0


def main():
    rows = ["| engine | measure | result | budget |", "|---|---|---|---|"]
    # BENCH_ENGINES=sqlite (or postgres) narrows a run while iterating; `make bench` runs both.
    for engine in os.environ.get("BENCH_ENGINES", "sqlite,postgres").split(","):
        r = run_engine(engine)
        s, p, c = r["status"], r["put"], r["complete"]
        sa, pa, ca = r["status_at"], r["put_at"], r["complete_at"]
        rows.append(f"| {engine} | GET status, 64 conns, closed loop (wrk) | {s['rps']:.0f} req/s, p50 {s['p50']:.2f} ms, p99 {s['p99']:.2f} ms, non-2xx {s['other']}; server CPU {s['cpu_us']:.0f} µs/req | ≥ 10,000 req/s: {verdict(s['rps'] >= 10000)} |")
        rows.append(f"| {engine} | GET status, 64 conns, open loop | {at_rate(sa)} | p99 ≤ 10 ms at 10,000 req/s: {verdict(at_rate_ok(sa, 10))} |")
        rows.append(f"| {engine} | PUT step, 64 conns, closed loop (wrk) | {p['rps']:.0f} req/s, p50 {p['p50']:.2f} ms, p99 {p['p99']:.2f} ms, non-2xx {p['other']}; server CPU {p['cpu_us']:.0f} µs/req | ≥ 3,000 req/s: {verdict(p['rps'] >= 3000)} |")
        rows.append(f"| {engine} | PUT step, 64 conns, open loop | {at_rate(pa)} | p99 ≤ 20 ms at 3,000 req/s: {verdict(at_rate_ok(pa, 20))} |")
        pg = engine == "postgres"
        rows.append(f"| {engine} | POST complete, fresh users, 32 conns, closed loop (wrk) | {'≥ ' if c['capped'] else ''}{c['created_rps']:.0f} completions/s ({c['created']} created; errors {c['other']}), p50 {c['p50']:.2f} ms, p99 {c['p99']:.2f} ms; server CPU {c['cpu_us']:.0f} µs/req | PostgreSQL ≥ 500/s{'' if pg else ' (not a SQLite budget)'}: {verdict(c['created_rps'] >= 500) if pg else 'n/a'} |")
        rows.append(f"| {engine} | POST complete, fresh users, 32 conns, open loop | {at_rate(ca)}; created {ca['created']} | PostgreSQL p99 ≤ 50 ms at 500/s{'' if pg else ' (not a SQLite budget)'}: {verdict(at_rate_ok(ca, 50) and ca['created'] == ca['ok']) if pg else 'n/a'} |")
        rows.append(f"| {engine} | resident memory, 1,000 sessions in progress | {r['rss_mb']:.1f} MB (after the load: {r['rss_after_mb']:.1f} MB) | ≤ 100 MB: {verdict(r['rss_mb'] <= 100)} |")
    table = "\n".join(rows)
    open(sys.argv[1], "w").write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
