#!/usr/bin/env bash
# Installs what the end-to-end lab needs on a Debian or Ubuntu host (run as root):
# network namespaces and nftables for the firewall profiles, dnsmasq, Squid, mitmproxy,
# htpasswd for Squid's basic auth, curl, the reporting tests' consumers (promtool from
# prometheus, python3-junitparser, headless chromium), python3-websockets for the independent
# Hybrid Connections client (tests/hc_client.py), and cargo-nextest as the test runner.
set -euo pipefail

packages=(nftables iproute2 dnsmasq-base squid mitmproxy apache2-utils curl prometheus python3-junitparser python3-websockets chromium)

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
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
echo "setup-lab: ready"
