#!/usr/bin/env bash
# Installs Microsoft's Node.js Hybrid Connections clients, unchanged, into tests/hyco/node_modules
# (gitignored) for tests/tests/hyco_clients.rs: hyco-ws 1.0.5 and hyco-https 1.4.5 from the npm
# registry as published (npm pack), each with the real dependencies it was written for. Their
# package.json also lists placeholder dependencies (crypto, http, https, util, events at
# "latest": Node built-ins) that must not be installed, so `npm install` of the packages
# themselves is not used: the tarballs are unpacked and `ws` and `moment` installed beside each.
#
# hyco-ws 1.0.5 requires ws 1.1.x (its lib reaches into ws 1.x's internals) and moment;
# hyco-https 1.4.5 requires ws ^6.0.0 and moment ^2.22.2. Idempotent: a complete install is
# left alone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/node_modules"
stamp="$dest/.installed-v1"
[ -f "$stamp" ] && { echo "hyco: clients already installed in $dest"; exit 0; }
command -v npm >/dev/null || { echo "hyco: npm is missing (apt: npm)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$dest"
mkdir -p "$dest"
# name@version:dependencies
for spec in "hyco-ws@1.0.5:ws@1.1.5 moment@2.29.4" "hyco-https@1.4.5:ws@6.2.3 moment@2.29.4"; do
  pkg="${spec%%:*}"
  deps="${spec#*:}"
  name="${pkg%@*}"
  (cd "$work" && timeout 300 npm pack --silent "$pkg" >/dev/null)
  mkdir -p "$dest/$name"
  tar -xzf "$work/$name-${pkg#*@}.tgz" -C "$dest/$name" --strip-components=1
  mkdir -p "$work/$name-deps"
  # shellcheck disable=SC2086
  (cd "$work/$name-deps" && timeout 300 npm install --silent --no-save --no-package-lock --no-audit \
    --no-fund --ignore-scripts $deps >/dev/null)
  mv "$work/$name-deps/node_modules" "$dest/$name/node_modules"
done
touch "$stamp"
echo "hyco: installed hyco-ws 1.0.5 (ws 1.1.5) and hyco-https 1.4.5 (ws 6.2.3) in $dest"
