#!/usr/bin/env bash
# Load test for mock-relay: thousands of idle and garbage clients (idle TCP, random bytes,
# slowloris, half-open TLS, slow readers, idle Hybrid Connections listeners) on loopback while a
# real client checks /healthz; prints the health latency p50/p99 and the relay's RSS before,
# during and after. Exit 1 if a health check went unanswered.
#
#   tests/load/mock_relay.sh [--clients N] [--seconds S] [-- MOCK-RELAY-ARGS...]
#
# PROFILE=debug uses a debug build (faster to build, slower to run); the default is release.
set -euo pipefail
cd "$(dirname "$0")/../.."
profile="${PROFILE:-release}"
flag=()
[ "$profile" = release ] && flag=(--release)
cargo build -q "${flag[@]}" -p mock-relay --bin mock-relay
cargo build -q "${flag[@]}" -p e2e --bin load-mock-relay
target_dir="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}"
exec "$target_dir/$profile/load-mock-relay" --mock-relay "$target_dir/$profile/mock-relay" "$@"
