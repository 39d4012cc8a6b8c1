#!/usr/bin/env python3
"""PostgreSQL restarted under load (`make fault-restart`; needs root for pg_ctlcluster).

Starts the release server on a fresh PostgreSQL database, runs step saves and completions
(each completion with its Idempotency-Key, retried on 503) from 16 threads, restarts the
PostgreSQL cluster after 4 s, keeps the load for 10 s more, then checks in SQL that every
completed session is whole and every retried key returned its first answer. Prints Markdown.
"""
import concurrent.futures, http.client, importlib.util, json, os, subprocess, sys, threading, time, uuid

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench", os.path.join(HERE, "bench-server.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def call(port, method, path, tok, body=None, headers=None):
    """One request on a fresh connection: (status, body, Retry-After, seconds), status 0 on a socket error."""
    started = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        h = {"Authorization": f"Bearer {tok}", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode(); h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse(); text = r.read().decode()
        return r.status, text, r.getheader("Retry-After"), time.monotonic() - started
    except OSError:
        return 0, "", None, time.monotonic() - started


def main():
    cluster = os.listdir("/etc/postgresql")[0]
    lock = threading.Lock()
    seen = []  # (time, kind, status, retry_after, seconds)
    first_answers = {}
    with bench.running_server("postgres", "fault") as (port, _, url):
        writers = bench.prepare(port, [f"w{i}" for i in range(8)], fill=False)
        finishers = [f"f{i}" for i in range(400)]
        bench.prepare(port, finishers, fill=True)
        t0 = time.monotonic()
        stop_at = t0 + 14
        company = bench.WIZARD["company"]

        def record(kind, result):
            status, _, retry, secs = result
            with lock:
                seen.append((time.monotonic() - t0, kind, status, retry, secs))

        def writer(tok):
            while time.monotonic() < stop_at:
                record("save", call(port, "PUT", "/api/onboarding/steps/company", tok, company))

        def finisher(user):
            tok = bench.token(user); key = f"key-{user}"
            while time.monotonic() < stop_at + 20:
                result = call(port, "POST", "/api/onboarding/complete", tok, headers={"Idempotency-Key": key})
                record("complete", result)
                if result[0] in (200, 201):
                    first_answers[user] = json.loads(result[1])
                    return
                time.sleep(0.05)

        def restart():
            time.sleep(4)
            started = time.monotonic() - t0
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True)
            return started, time.monotonic() - t0

        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            restarting = pool.submit(restart)
            for tok in writers:
                pool.submit(writer, tok)
            done = 0
            for user in finishers:  # completions paced across the run, 8 at a time
                pool.submit(finisher, user)
                done += 1
                if done % 8 == 0:
                    time.sleep(0.25)
                if time.monotonic() > stop_at:
                    break
            down_from, down_to = restarting.result()
        submitted = done

        # Replays: every key returns its first answer.
        replay_mismatch = 0
        for user, first in first_answers.items():
            status, text, _, _ = call(port, "POST", "/api/onboarding/complete", bench.token(user), headers={"Idempotency-Key": f"key-{user}"})
            if status not in (200, 201) or json.loads(text).get("organization") != first.get("organization"):
                replay_mismatch += 1
        invariants = subprocess.run(["psql", url, "-Atc", """
            select
              (select count(*) from onboarding_sessions where status = 'completed'),
              (select count(*) from organizations),
              (select count(*) from organizations o where (select count(*) from memberships m where m.organization_id = o.id and m.role = 'owner') <> 1),
              (select count(*) from organizations o where (select count(*) from objectives j where j.organization_id = o.id) <> 2
                  or (select count(*) from invitations i where i.organization_id = o.id) <> 2),
              (select count(*) from key_results k where not exists (select 1 from objectives j where j.id = k.objective_id)),
              (select count(*) from memberships m where not exists (select 1 from organizations o where o.id = m.organization_id))
        """], capture_output=True, text=True, check=True).stdout.strip().split("|")

    statuses = {}
    for _, kind, status, _, _ in seen:
        statuses[(kind, status)] = statuses.get((kind, status), 0) + 1
    unavailable = [s for s in seen if s[2] == 503]
    missing_retry = sum(1 for s in unavailable if not s[3])
    slowest = max((s[4] for s in seen), default=0)
    after = [s for s in seen if s[0] > down_to and s[2] in (200, 201)]
    recovered = (min(s[0] for s in after) - down_to) if after else None
    server_errors = sum(1 for s in seen if s[2] >= 500 and s[2] != 503)
    completed, orgs, bad_owner, bad_children, orphan_krs, orphan_members = map(int, invariants)
    rows = [
        "| measure | result |", "|---|---|",
        f"| load | 8 savers + {submitted} completions (Idempotency-Key, retried on 503) over 14 s; PostgreSQL restarted at {down_from:.1f} s, back at {down_to:.1f} s |",
        f"| answers | {', '.join(f'{k} {s}: {n}' for (k, s), n in sorted(statuses.items()))} |",
        f"| 5xx other than 503 | {server_errors} |",
        f"| 503 without Retry-After | {missing_retry} |",
        f"| slowest answer | {slowest:.2f} s |",
        f"| first success after the restart | {'%.2f s' % recovered if recovered is not None else 'none'} |",
        f"| completed sessions / organizations | {completed} / {orgs} (answered: {len(first_answers)}) |",
        f"| organizations without exactly one owner, or missing objectives/invitations | {bad_owner}, {bad_children} |",
        f"| orphan key results / memberships | {orphan_krs} / {orphan_members} |",
        f"| retried keys whose replay differs from the first answer | {replay_mismatch} |",
    ]
    ok = (server_errors == 0 and missing_retry == 0 and recovered is not None and recovered < 10 and completed == orgs == len(first_answers)
          and bad_owner == bad_children == orphan_krs == orphan_members == replay_mismatch == 0)
    rows.append(f"| verdict | {'**all invariants hold**' if ok else '**FAILED**'} |")
    text = "\n".join(rows) + "\n"
    if len(sys.argv) > 1:
        open(sys.argv[1], "w").write(text)
    print(text)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
