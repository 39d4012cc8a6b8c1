#!/usr/bin/env bash
# Runs the fuzz targets (cargo fuzz, nightly) for FUZZ_SECONDS each (default 60), seeded from
# tests/vectors and the fixtures. Installs cargo-fuzz if missing. Exit status: non-zero on a
# crash (the reproducer is in fuzz/artifacts/<target>/).
#   FUZZ_SECONDS=600 bash tools/fuzz.sh            # the 10-minute runs recorded in RELIABILITY.md
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
NIGHTLY=$(cat tools/nightly-toolchain)  # the same pinned nightly as the npm package's build
rustup toolchain list | grep -q "^$NIGHTLY" || rustup toolchain install "$NIGHTLY" --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet

# Seeds: every vector's input and the fixtures, each prefixed with the selector byte of its step.
python3 - <<'PY'
import json, os, glob
steps = ["welcome", "company", "organization", "objectives", "preferences", "review"]
inputs = []
for path in sorted(glob.glob("tests/vectors/*.json")):
    for case in json.load(open(path))["cases"]:
        step = case.get("step")
        inputs.append((steps.index(step) + 1 if step in steps else 0, case["input"]))
for name in ["valid_wizard", "invalid_wizard"]:
    inputs.append((0, json.load(open(f"tests/fixtures/{name}.json"))))
for target in ["validate", "normalize", "preview"]:
    d = f"fuzz/corpus/{target}"
    os.makedirs(d, exist_ok=True)
    for i, (selector, value) in enumerate(inputs):
        text = json.dumps(value, ensure_ascii=False).encode()
        if len(text) > 60_000:
            continue
        for locale_bit in (0, 0x80):
            open(f"{d}/seed-{i}-{locale_bit}", "wb").write(bytes([selector | locale_bit]) + text)
PY

mkdir -p target
for target in validate normalize preview; do
  echo "fuzzing $target for ${SECONDS_EACH}s" >&2
  log="target/fuzz-$target.log"
  if ! cargo "+$NIGHTLY" fuzz run --fuzz-dir fuzz "$target" -- \
      -max_total_time="$SECONDS_EACH" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    tail -60 "$log" >&2
    echo "fuzz target $target failed; the reproducer is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" >&2 || true
done
