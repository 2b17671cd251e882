#!/usr/bin/env bash
# Installs what tests/dist.sh (the release) and CI's licence policy need, pinned: the Rust
# targets (rustup), musl-gcc (apt: musl-tools) for the static build's C code (ring), and
# cargo-about, cargo-cyclonedx and cargo-deny from crates.io (compiled once per machine; on 2
# cores shared with other builds they took 15, 13 and 6 minutes; skipped when the pinned version
# is there, as on CI's machine after the first run). tests/setup-lab.sh
# runs it. Run as root for apt.
set -euo pipefail

if ! command -v musl-gcc >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-dist: need root to install musl-tools" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends musl-tools
fi

for t in x86_64-unknown-linux-musl x86_64-pc-windows-gnu; do
  if ! rustup target list --installed | grep -qx "$t"; then
    timeout 600 rustup target add "$t" ||
      echo "setup-dist: could not add the Rust target $t: tests/dist.sh cannot build it" >&2
  fi
done

# Each is skipped when `cargo NAME --version` already names the pinned version.
for spec in cargo-about@0.9.3 cargo-cyclonedx@0.5.9 cargo-deny@0.20.2; do
  name=${spec%@*} version=${spec#*@}
  said=$(cargo "${name#cargo-}" --version 2>&1 || true)
  if ! grep -qw "$version" <<<"$said"; then
    features=()
    [ "$name" = cargo-about ] && features=(--features cli) # its binary is behind a feature
    cargo install --locked "${features[@]}" "$spec"
  fi
done
echo "setup-dist: ready"
