#!/usr/bin/env python3
"""The API against its own OpenAPI document, with schemathesis and all its checks.

Starts the debug server twice on a fresh SQLite database of its own: in production mode (tokens
signed by a secret, the way it is deployed) and in development mode (the `dev` routes). Before
the production run it completes an onboarding through the API and has an invitee join, so the
organization routes have real ids to work on (`tests/contract/schemathesis.toml` explains the
settings). Any failure of any check fails the run; the report is in target/contract/.

Usage: python3 tests/contract/run.py [SCHEMATHESIS]   (default: target/venv/bin/schemathesis)
Environment: CONTRACT_EXAMPLES (examples per operation and phase, default 60).
"""

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.path.join(ROOT, "target", "debug", "onboarding-server")
SECRET = "contract-test-secret-0123456789abcdef0123456789"
OUT = os.path.join(ROOT, "target", "contract")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token=None, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text.startswith(("{", "[")) else text)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode() or "null")


def token(sub, email, admin=False):
    args = [SERVER, "token", "--sub", sub, "--email", email, "--ttl", "2h", "--jwt-secret", SECRET]
    if admin:
        args.append("--platform-admin")
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


class Server:
    def __init__(self, workdir, name, dev):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db = os.path.join(workdir, f"{name}.db")
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": f"sqlite://{self.db}?mode=rwc",
                "BIND": f"127.0.0.1:{self.port}",
                "AUTH_JWT_SECRET": SECRET,
                # The admin routes for the tokens `token --platform-admin` mints.
                "AUTH_ADMIN_CLAIM": "platform_admin=true",
                # Thousands of requests from one user and address: the limits would answer
                # most of them 429 (documented, but it would hide the routes behind it).
                "RATE_LIMIT_USER_PER_MIN": "1000000",
                "RATE_LIMIT_IP_PER_MIN": "1000000",
                "SUGGESTIONS_PER_MINUTE": "1000000",
                "RUST_LOG": "warn",
            }
        )
        for k in ("ONBOARDING_DEV", "REDIS_URL", "SMTP_URL", "AI_BASE_URL"):
            env.pop(k, None)
        args = [SERVER, "serve"] + (["--dev"] if dev else [])
        self.log = open(os.path.join(OUT, f"server-{name}.log"), "w")
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                if call(self.base, "GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit(f"the {name} server did not start; see {self.log.name}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def seed(server):
    """An organization with an owner (who is also a platform admin), a member who joined by
    invitation, and a pending invitation; returns the owner's token and the ids."""
    with open(os.path.join(ROOT, "tests", "fixtures", "valid_wizard.json")) as f:
        wizard = json.load(f)
    owner = token("contract-owner", "owner@example.com", admin=True)
    assert call(server.base, "POST", "/api/onboarding/start", owner)[0] == 201
    for step, data in wizard.items():
        status, body = call(server.base, "PUT", f"/api/onboarding/steps/{step}", owner, data)
        assert status == 200 and body["report"]["valid"], (step, body)
    status, body = call(server.base, "POST", "/api/onboarding/complete", owner)
    assert status == 201, body
    org = body["organization"]["id"]
    # The invitee's link is in the e-mail (no SMTP here: it waits in the outbox).
    invitee = wizard["review"]["invite_emails"][0].lower()
    with sqlite3.connect(server.db) as db:
        mail = db.execute(
            "select body from mail_outbox where recipient = ?", (invitee,)
        ).fetchone()[0]
    link_token = re.search(r"#token=([0-9a-f]{64})", mail).group(1)
    member = token("contract-member", invitee)
    status, body = call(server.base, "POST", "/api/invitations/accept", member, {"token": link_token})
    assert status == 200, body
    status, body = call(server.base, "GET", f"/api/organizations/{org}/invitations", owner)
    pending = [i["id"] for i in body["invitations"] if i["state"] == "pending"]
    assert status == 200 and pending, body
    # A second session for the owner, open, so the session routes have a draft to work on.
    assert call(server.base, "POST", "/api/onboarding/start", owner)[0] == 201
    return owner, {"id": org, "invitation": pending[0], "user": "contract-member"}


def schemathesis(st, server, owner, parameters, extra, name):
    config = os.path.join(OUT, f"schemathesis-{name}.toml")
    with open(os.path.join(ROOT, "tests", "contract", "schemathesis.toml")) as f:
        text = f.read()
    if parameters:
        # The seeded organization's ids, for its routes only (`{id}` names a suggestion elsewhere).
        text += '\n[[operations]]\ninclude-path-regex = "^/api/organizations/"\n'
        text += "".join(f'parameters."path.{k}" = "{v}"\n' for k, v in parameters.items())
    with open(config, "w") as f:
        f.write(text)
    examples = os.environ.get("CONTRACT_EXAMPLES", "60")
    args = [
        st, "--config-file", config, "run", server.base + "/api/openapi.json",
        "--checks", "all",
        "--header", f"Authorization: Bearer {owner}",
        "--max-examples", examples,
        "--seed", "20261203",
        "--report", "junit", "--report-dir", os.path.join(OUT, name),
    ] + extra
    print(f"contract ({name}): {' '.join(a if 'Bearer' not in a else 'Authorization: …' for a in args[1:])}", flush=True)
    return subprocess.run(args).returncode


def main():
    st = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "venv", "bin", "schemathesis")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    failed = []
    with tempfile.TemporaryDirectory() as work:
        server = Server(work, "production", dev=False)
        try:
            owner, ids = seed(server)
            if schemathesis(st, server, owner, ids, [], "production"):
                failed.append("production")
        finally:
            server.stop()
        server = Server(work, "development", dev=True)
        try:
            status, body = call(server.base, "POST", "/api/dev/token", body={"email": "dev@example.com"})
            assert status == 200, body
            if schemathesis(st, server, body["token"], {}, ["--include-tag", "dev"], "development"):
                failed.append("development")
        finally:
            server.stop()
    if failed:
        print(f"contract: schemathesis found failures ({', '.join(failed)}); see above and {OUT}")
        return 1
    print("contract: every operation conforms to the OpenAPI document")
    return 0


if __name__ == "__main__":
    sys.exit(main())
