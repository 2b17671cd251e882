#!/usr/bin/env bash
# The benchmark: every performance figure of the probe and mock-relay beside a reference measured
# in the same run on the same machine (curl, nginx, the injected delay, the firewall's own
# timeout), as medians and ratios. A measurement, not a test: nothing here passes or fails, but a
# section that cannot run says why. Loopback and the lab's own namespaces only.
#
#   tests/bench/run.sh [--only idle,phases,relay,footprint,requests,watch] [--json FILE]
#
# Sections:
#   idle       idle verdicts through the lab's nftables firewall (root, nft): bracket holds T,
#              bracket width, the idle check's wall time over its longest rung
#   phases     phase timings through a 40 ms each-way delay, against curl -w and the delay itself
#   relay      mock-relay: held TLS+WebSocket listeners (KiB each, push latency p50/p99) and full
#              TLS handshakes per second against nginx on the same certificate, one core each
#   footprint  probe --quick wall time against curl; probe peak RSS at 200 and 1,000 ladder
#              connections
#   requests   mock-relay Hybrid Connections: HTTP request mode (requests/s, p50/p99) and 1 MiB
#              rendezvous messages (MB/s) beside the same handler and a WebSocket over direct
#              TLS; relay RSS with 1,000 listeners and 100 requests in flight
#   watch      probe watch for 100,000 pushes (150 relay:// and 150 hc:// targets on one
#              mock-relay, a push about every second each): pushes/s, RSS after warm-up and at
#              the end, CPU per push beside mock-relay's. About 6 minutes: not in the default
#              set, ask for it with --only watch
# Builds release binaries first (not counted). Needs curl; nginx (Debian nginx-light) for the
# handshake comparison; taskset (util-linux) to give server and load generator a core each.
set -euo pipefail
cd "$(dirname "$0")/../.."
only="idle,phases,relay,footprint,requests"
json_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="${2:?--only needs a list}"; shift 2 ;;
    --json) json_out="${2:?--json needs a file}"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for s in ${only//,/ }; do
  case "$s" in idle|phases|relay|footprint|requests|watch) ;; *) echo "run.sh: --only: unknown section $s" >&2; exit 2 ;; esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }

cargo build --release -q -p probe -p mock-relay -p e2e --bins
target_dir="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}"
bin="$target_dir/release"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
started=$(date +%s)
results="$work/results.jsonl"
: >"$results"
# One JSON object per figure: {"section":..., ...}.
record() { echo "$1" >>"$results"; }
# The server on core 0, its load on core 1 (when there are two cores and taskset).
core0=() core1=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then core0=(taskset -c 0) core1=(taskset -c 1); fi

# Starts mock-relay serve in the background with ARGS; sets relay_pid and relay_addr.
start_relay() {
  local out="$work/relay-$RANDOM"
  RUST_LOG="${RELAY_LOG:-info}" "$@" >"$out.addr" 2>"$out.log" &
  relay_pid=$!
  pids+=("$relay_pid")
  for _ in $(seq 200); do [ -s "$out.addr" ] && break; sleep 0.05; done
  relay_addr=$(sed -n 's/.*tls=\([^ ]*\).*/\1/p' "$out.addr")
  [ -n "$relay_addr" ] || { echo "mock-relay did not start: $(cat "$out.log")" >&2; exit 1; }
}

if wants idle; then
  echo "== idle: verdicts through the kernel firewall" >&2
  if "$bin/bench-idle" >"$work/idle.jsonl" 2>"$work/idle.err"; then
    sed 's/^{/{"section":"idle",/' "$work/idle.jsonl" >>"$results"
  else
    record "{\"section\":\"idle\",\"skipped\":$(python3 -c 'import json,sys;print(json.dumps(sys.argv[1]))' "$(tail -1 "$work/idle.err")")}"
  fi
fi

if wants phases; then
  echo "== phases: through a 40 ms each-way delay, against curl" >&2
  start_relay "$bin/mock-relay" serve --listen 127.0.0.1:0 --ca-out "$work/ca.pem"
  "$bin/mock-relay" middlebox --listen 127.0.0.1:0 --upstream "$relay_addr" --idle-timeout 3600 \
    --on-idle reset --delay-ms 40 >"$work/mb.addr" 2>"$work/mb.log" &
  pids+=($!)
  for _ in $(seq 200); do [ -s "$work/mb.addr" ] && break; sleep 0.05; done
  delayed=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/mb.addr" | head -1)
  [ -n "$delayed" ] || { echo "middlebox did not start: $(cat "$work/mb.log")" >&2; exit 1; }
  samples=30
  "$bin/probe" run --target "https://$delayed/healthz" --ca-file "$work/ca.pem" --count "$samples" \
    --quick --format json --output "$work/phases.json" >/dev/null 2>&1 || true
  : >"$work/curl-phases.txt"
  for _ in $(seq "$samples"); do
    curl -s -o /dev/null --cacert "$work/ca.pem" --http1.1 --max-time 10 \
      -w '%{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}\n' \
      "https://$delayed/healthz" >>"$work/curl-phases.txt" || true
  done
  python3 - "$work/phases.json" "$work/curl-phases.txt" >>"$results" <<'PY'
import json, statistics, sys
probe = json.load(open(sys.argv[1]))["targets"][0]["timings_ms"]
rows = [list(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]
# curl's times are cumulative from the start; the probe's are per phase.
curl = {
    "connect": [r[0] * 1000 for r in rows],
    "tls": [(r[1] - r[0]) * 1000 for r in rows],
    "processing": [(r[2] - r[1]) * 1000 for r in rows],
}
# What the delay alone costs each phase: the middlebox accepts locally (connect: none); TLS 1.3
# is one round trip, a request and its answer another.
expected = {"connect": 0.0, "tls": 80.0, "processing": 80.0}
for phase in ["connect", "tls", "processing"]:
    p = (probe.get(phase) or {}).get("p50")
    c = statistics.median(curl[phase]) if curl[phase] else None
    print(json.dumps({"section": "phases", "phase": phase, "probe_p50_ms": p, "curl_p50_ms": c,
                      "delay_ms": expected[phase], "samples": len(rows)}))
PY
fi

if wants relay; then
  echo "== relay: held listeners" >&2
  "$bin/bench-hold" --json --mock-relay "$bin/mock-relay" --connections 1000,5000,15000 \
    >"$work/hold.jsonl" 2>"$work/hold.err" || { echo "bench-hold failed: $(tail -3 "$work/hold.err")" >&2; }
  sed 's/^{/{"section":"hold",/' "$work/hold.jsonl" >>"$results"

  echo "== relay: TLS handshakes against nginx" >&2
  start_relay "$bin/mock-relay" serve --listen 127.0.0.1:0 --ca-out "$work/hs-ca.pem" \
    --cert-out "$work/leaf.pem" --key-out "$work/key.pem"
  kill "$relay_pid"; wait "$relay_pid" 2>/dev/null || true
  # Both servers: the same ECDSA P-256 leaf, one core (0), logging off per connection; the load
  # generator on the other core.
  RELAY_LOG=warn start_relay "${core0[@]}" "$bin/mock-relay" serve --listen 127.0.0.1:0 --ca-out "$work/hs-ca.pem" \
    --cert "$work/leaf.pem" --key "$work/key.pem"
  for mode in flight full; do
    "${core1[@]}" "$bin/bench-handshake" --connect "$relay_addr" --server-pid "$relay_pid" --mode "$mode" \
      --seconds 8 | sed 's/^{/{"section":"handshake","server":"mock-relay",/' >>"$results" || true
  done
  kill "$relay_pid"
  if command -v nginx >/dev/null; then
    port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    mkdir -p "$work/nginx"
    cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log error;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $work/leaf.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "ok\n"; }
  }
}
EOF
    "${core0[@]}" nginx -c "$work/nginx.conf" -p "$work/nginx" >/dev/null 2>"$work/nginx-start.log" || true
    for _ in $(seq 100); do [ -s "$work/nginx.pid" ] && break; sleep 0.05; done
    worker=""
    [ -s "$work/nginx.pid" ] && worker=$(pgrep -P "$(cat "$work/nginx.pid")" | head -1 || true)
    if [ -n "$worker" ]; then
      for mode in flight full; do
        "${core1[@]}" "$bin/bench-handshake" --connect "127.0.0.1:$port" --server-pid "$worker" --mode "$mode" \
          --seconds 8 | sed 's/^{/{"section":"handshake","server":"nginx",/' >>"$results" || true
      done
      kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
      rm -f "$work/nginx.pid"
    else
      record "{\"section\":\"handshake\",\"server\":\"nginx\",\"skipped\":\"nginx did not start (see its error log)\"}"
      tail -3 "$work/nginx-start.log" "$work/nginx-error.log" >&2 2>/dev/null || true
    fi
  else
    record '{"section":"handshake","server":"nginx","skipped":"nginx is not installed (apt: nginx-light)"}'
  fi
fi

if wants footprint; then
  echo "== footprint: probe against curl" >&2
  start_relay "$bin/mock-relay" serve --listen 127.0.0.1:0 --ca-out "$work/fp-ca.pem"
  runs=20
  wall() { # microseconds of one run of "$@"
    local a b; a=$(date +%s%6N); "$@" >/dev/null 2>&1 || true; b=$(date +%s%6N); echo $((b - a)); }
  : >"$work/quick.txt"
  for _ in $(seq "$runs"); do
    p=$(wall "$bin/probe" run --target "https://$relay_addr/healthz" --ca-file "$work/fp-ca.pem" --quick --format json)
    c=$(wall curl -s -o /dev/null --cacert "$work/fp-ca.pem" --http1.1 --max-time 10 "https://$relay_addr/healthz")
    echo "$p $c" >>"$work/quick.txt"
  done
  python3 - "$work/quick.txt" >>"$results" <<'PY'
import json, statistics, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
print(json.dumps({"section": "quick", "probe_ms": statistics.median(r[0] for r in rows) / 1000,
                  "curl_ms": statistics.median(r[1] for r in rows) / 1000, "runs": len(rows)}))
PY
  # Ladders of 1 to 3 s in both directions: 101 rungs x 2 = 202 connections, 501 x 2 = 1,002.
  for step in 0.02 0.004; do
    /usr/bin/time -f '%M %e' -o "$work/rss" "$bin/probe" run --target "relay://$relay_addr" \
      --ca-file "$work/fp-ca.pem" --idle 3 --idle-min 1 --idle-max 3 --idle-step "$step" \
      --format json --output "$work/ladder.json" >/dev/null 2>&1 || true
    python3 - "$work/ladder.json" $(tail -1 "$work/rss") >>"$results" <<'PY'
import json, sys
idle = json.load(open(sys.argv[1]))["targets"][0]["idle"]
print(json.dumps({"section": "ladder", "connections": len(idle["probes"]), "verdict": idle["verdict"],
                  "peak_rss_mib": int(sys.argv[2]) / 1024, "wall_s": float(sys.argv[3]),
                  "longest_rung_s": max(p["idle_s"] for p in idle["probes"])}))
PY
  done
fi

if wants requests; then
  echo "== requests: Hybrid Connections request mode and rendezvous against direct TLS" >&2
  "$bin/bench-relay" --mock-relay "$bin/mock-relay" --seconds 10 --connections 16 --listeners 4 \
    --footprint-listeners 1000 --in-flight 100 >"$work/relayed.jsonl" 2>"$work/relayed.err" ||
    echo "bench-relay: not every request was answered: $(tail -3 "$work/relayed.err")" >&2
  cat "$work/relayed.jsonl" >>"$results"
fi

if wants watch; then
  echo "== watch: probe watch for 100,000 pushes" >&2
  "$bin/bench-watch" --probe "$bin/probe" --mock-relay "$bin/mock-relay" --pairs 150 --pushes 100000 \
    --limit 1200 >"$work/watch.jsonl" 2>"$work/watch.err" ||
    echo "bench-watch: $(tail -3 "$work/watch.err")" >&2
  sed 's/^{/{"section":"watch",/' "$work/watch.jsonl" >>"$results"
fi

[ -n "$json_out" ] && cp "$results" "$json_out"
python3 tests/bench/report.py "$results" "$(( $(date +%s) - started ))"
