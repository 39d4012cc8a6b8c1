#!/usr/bin/env bash
# Refreshes server/data/{free,disposable}-email-domains.txt (issue 36, server/src/domains.rs)
# from the npm registry's maintained lists, sorted and de-duplicated, each file's first line
# naming the package and version it came from. Usage: tools/update-domain-lists.sh [FREE_VERSION
# DISPOSABLE_VERSION] (default: the latest of each). Review the diff, run the server's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
free=${1:-$(npm view free-email-domains version)}
disposable=${2:-$(npm view disposable-email-domains version)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "free-email-domains@$free" "disposable-email-domains@$disposable" >/dev/null \
  && for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done)
python3 - "$work" "$free" "$disposable" <<'PY'
import json, sys
work, free, disposable = sys.argv[1:]
def write(path, header, domains):
    domains = sorted({d.strip().lower() for d in domains if d.strip()})
    with open(path, "w") as f:
        f.write(header + "\n" + "\n".join(domains) + "\n")
    print(f"{path}: {len(domains)} domains")
pkg = f"{work}/free-email-domains-{free}/package"
write("server/data/free-email-domains.txt",
      f"# npm free-email-domains {free} (HubSpot's list of free e-mail providers), sorted; tools/update-domain-lists.sh",
      json.load(open(f"{pkg}/domains.json")))
pkg = f"{work}/disposable-email-domains-{disposable}/package"
write("server/data/disposable-email-domains.txt",
      f"# npm disposable-email-domains {disposable} (index.json and wildcard.json), sorted; tools/update-domain-lists.sh",
      json.load(open(f"{pkg}/index.json")) + json.load(open(f"{pkg}/wildcard.json")))
PY
