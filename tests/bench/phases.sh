#!/usr/bin/env bash
# Benchmark: the probe's phase timings and footprint against curl's, side by side, on the same
# local mock-relay (loopback only). Prints p50/p90 per phase for both and the probe/curl ratio,
# and the probe's peak memory. A measurement, not a test: nothing here passes or fails.
#
#   tests/bench/phases.sh [SAMPLES]        (default 200; builds release binaries first)
set -euo pipefail
cd "$(dirname "$0")/../.."
samples=${1:-200}
cargo build --release -q -p probe -p mock-relay
work=$(mktemp -d)
trap 'kill "$relay_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

./target/release/mock-relay serve --listen 127.0.0.1:0 --ca-out "$work/ca.pem" >"$work/addr" 2>"$work/relay.log" &
relay_pid=$!
for _ in $(seq 100); do [ -s "$work/addr" ] && break; sleep 0.05; done
addr=$(sed -n 's/.*tls=\([^ ]*\).*/\1/p' "$work/addr")
[ -n "$addr" ] || { echo "mock-relay did not start: $(cat "$work/relay.log")" >&2; exit 1; }
url="https://$addr/healthz"

# The probe: one run, SAMPLES passes, percentiles from its own histogram.
/usr/bin/time -f '%M' -o "$work/rss" ./target/release/probe run --target "$url" --ca-file "$work/ca.pem" \
  --count "$samples" --quick --format json --output "$work/probe.json" || true

# curl: SAMPLES separate runs (a fresh connection each, like the probe's passes).
: >"$work/curl.txt"
for _ in $(seq "$samples"); do
  curl -s -o /dev/null --cacert "$work/ca.pem" --http1.1 \
    -w '%{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}\n' "$url" >>"$work/curl.txt"
done

python3 - "$work/probe.json" "$work/curl.txt" "$(cat "$work/rss")" <<'PY'
import json, sys
probe = json.load(open(sys.argv[1]))["targets"][0]["timings_ms"]
rows = [list(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]
def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]
# curl's times are cumulative from the start; the probe's are per phase.
curl = {
    "connect": [r[0] * 1000 for r in rows],
    "tls": [(r[1] - r[0]) * 1000 for r in rows],
    "processing": [(r[2] - r[1]) * 1000 for r in rows],
    "transfer": [(r[3] - r[2]) * 1000 for r in rows],
}
print(f"{'phase':<11}{'probe p50':>11}{'curl p50':>10}{'ratio':>8}{'probe p90':>11}{'curl p90':>10}")
for phase in ["connect", "tls", "processing", "transfer"]:
    p = probe.get(phase)
    if not p:
        continue
    c50, c90 = pct(curl[phase], 0.5), pct(curl[phase], 0.9)
    ratio = p["p50"] / c50 if c50 > 0 else float("nan")
    print(f"{phase:<11}{p['p50']:>9.3f}ms{c50:>8.3f}ms{ratio:>8.2f}{p['p90']:>9.3f}ms{c90:>8.3f}ms")
print(f"samples: probe {probe['samples']} ({probe['failed_samples']} failed), curl {len(rows)}")
print(f"probe peak RSS: {int(sys.argv[3]) / 1024:.1f} MiB")
PY
