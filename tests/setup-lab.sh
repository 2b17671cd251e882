#!/usr/bin/env bash
# Installs what the end-to-end lab needs on a Debian or Ubuntu host (run as root):
# network namespaces and nftables for the firewall profiles, dnsmasq, Squid, mitmproxy,
# htpasswd for Squid's basic auth, an MIT Kerberos KDC and kinit with libfaketime (Negotiate
# proxy authentication), curl, the reporting tests' consumers (promtool from
# prometheus, python3-junitparser, headless chromium), python3-websockets for the independent
# Hybrid Connections client (tests/hc_client.py), the Windows probe's toolchain (the Rust target
# x86_64-pc-windows-gnu, mingw-w64 to link it, Wine to run it), Microsoft's Node.js Hybrid
# Connections clients (hyco-ws, hyco-https; see tests/hyco/install.sh), the release's toolchain
# (tests/setup-dist.sh), and cargo-nextest as the test runner.
set -euo pipefail

packages=(nftables iproute2 conntrack dnsmasq-base squid mitmproxy apache2-utils curl prometheus python3-junitparser
  python3-websockets chromium gcc-mingw-w64-x86-64 wine64 krb5-kdc krb5-admin-server krb5-user faketime)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-lab: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Debian squid package starts a system squid on :3128; the tests run their own instances.
if command -v systemctl >/dev/null 2>&1; then
  systemctl stop squid 2>/dev/null || true
  # Likewise the prometheus package's server on :9090: the tests only use promtool.
  systemctl stop prometheus 2>/dev/null || true
  # And the KDC and kadmind of the machine's own (empty) realm: the tests start their own realms.
  systemctl stop krb5-kdc krb5-admin-server 2>/dev/null || true
fi

# The Windows probe's Rust target comes from rustup's servers; when it cannot be downloaded,
# the Windows tests say so and skip (a compile error, once it is there, always fails).
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  timeout 600 rustup target add x86_64-pc-windows-gnu ||
    echo "setup-lab: could not add the Rust target x86_64-pc-windows-gnu: the Windows build and tests will be skipped" >&2
fi

# Node.js and npm for Microsoft's clients: from apt only when missing (a Node.js that brings its
# own npm, as NodeSource's does, conflicts with Debian's npm package and is kept as it is).
node_missing=()
command -v node >/dev/null 2>&1 || node_missing+=(nodejs)
command -v npm >/dev/null 2>&1 || node_missing+=(npm)
if [ ${#node_missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${node_missing[@]}"
fi
# Microsoft's clients, unchanged, with the dependencies they were written for.
"$(dirname "$0")/hyco/install.sh"

# The release's toolchain (tests/dist.sh): musl, cargo-about, cargo-cyclonedx, cargo-deny.
"$(dirname "$0")/setup-dist.sh"

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
echo "setup-lab: ready"
