#!/usr/bin/env bash
# The man page and the shell completions, from the static Linux probe that tests/dist.sh built
# first (it runs on this machine; the text is the same for every target).
#
#   tests/dist/docs.sh MAN_DIR COMPLETIONS_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
probe=$root/target/x86_64-unknown-linux-musl/dist/probe
"$probe" man >"$1/probe.1"
"$probe" completions bash >"$2/probe.bash"
"$probe" completions zsh >"$2/_probe"
"$probe" completions fish >"$2/probe.fish"
"$probe" completions powershell >"$2/_probe.ps1"
"$probe" completions elvish >"$2/probe.elv"
chmod 0644 "$1"/* "$2"/*
