#!/usr/bin/env bash
# Records the example behind README's `probe watch` timeline: two segments, each a real
# `probe watch` (a push about every 2 s, for 100 s) on its own loopback mock-relay; dmz-1's relay
# is killed twice (12 s, then 5 s) and branch-7's once (4 s), each restarted on the same port
# with the same certificate. Then draws the timeline from the two event files.
#
#   docs/watch/record-example.sh [OUT_DIR]   (default docs/watch; binaries from target/debug,
#                                             or PROBE=... MOCK_RELAY=...)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
probe=${PROBE:-$root/target/debug/probe}
relay=${MOCK_RELAY:-$root/target/debug/mock-relay}
out=${1:-$root/docs/watch}
work=$(mktemp -d)
# Each relay's pid is in a file: the outages restart relays in background subshells.
cleanup() {
  for f in "$work"/*.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

port_of() { case $1 in dmz-1) echo 18443 ;; branch-7) echo 18444 ;; esac; }

# start_relay SEGMENT: the first start generates the certificate, a restart reuses it.
start_relay() {
  local s=$1 port
  port=$(port_of "$s")
  local tls=(--cert-out "$work/$s-leaf.pem" --key-out "$work/$s-key.pem")
  if [ -f "$work/$s-leaf.pem" ]; then
    tls=(--cert "$work/$s-leaf.pem" --key "$work/$s-key.pem")
  fi
  "$relay" serve --listen "127.0.0.1:$port" --ca-out "$work/$s-ca-out.pem" "${tls[@]}" \
    >>"$work/$s-relay.log" 2>&1 &
  echo $! >"$work/$s.pid"
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return; fi
    sleep 0.1
  done
  echo "mock-relay for $s did not listen on $port" >&2
  exit 1
}

# outage SEGMENT AT LASTING: kill the segment's relay AT seconds in, restart it LASTING later.
outage() {
  sleep "$2"
  kill -KILL "$(cat "$work/$1.pid")"
  sleep "$3"
  start_relay "$1"
}

for s in dmz-1 branch-7; do
  start_relay "$s"
  cp "$work/$s-ca-out.pem" "$work/$s-ca.pem"
  rm -f "$out/example-$s.jsonl"
done
watches=()
for s in dmz-1 branch-7; do
  "$probe" watch --segment "$s" --target "relay://127.0.0.1:$(port_of "$s")/" \
    --ca-file "$work/$s-ca.pem" --timeout 2 --push-every 2s --keepalive none --for 100s \
    --seed 23 --events "$out/example-$s.jsonl" >"$work/$s-summary.txt" 2>&1 &
  watches+=($!)
done
(outage dmz-1 25 12 && outage dmz-1 25 5) &
outages=$!
outage branch-7 55 4
wait "$outages"
for w in "${watches[@]}"; do wait "$w" || true; done
cat "$work"/*-summary.txt
"$probe" report "$out/example-dmz-1.jsonl" "$out/example-branch-7.jsonl" --format svg \
  --output "$out/example-timeline.svg"
