#!/usr/bin/env bash
# tests/dist.sh's build of probe and mock-relay for one target, in the `dist` profile
# (target/TARGET/dist/), reproducibly: the paths of this checkout and of Cargo's registry are
# remapped out of the binaries, and the Windows linker writes no timestamp.
#
#   tests/dist/build.sh TARGET
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=$1
cargo_home=${CARGO_HOME:-$HOME/.cargo}
flags="--remap-path-prefix=$root=/build --remap-path-prefix=$cargo_home=/cargo"
case "$target" in
  *-windows-gnu) flags+=" -C link-arg=-Wl,--no-insert-timestamp" ;;
  aarch64-unknown-linux-musl)
    # Debian's cross gcc links the static binary; Rust brings musl's own C runtime.
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
    export CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc
    ;;
esac
# RUSTFLAGS applies to the target's crates only (build scripts and proc macros are host
# crates with --target), so the host's own builds stay as they are.
cd "$root"
# The build identity (probe/build.rs), exact even for an edit not yet added to git.
if [ -z "${PROBE_BUILD_COMMIT:-}" ]; then
  PROBE_BUILD_COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  if [ "$PROBE_BUILD_COMMIT" = unknown ]; then
    PROBE_BUILD_TREE=unknown
  elif [ -n "$(git status --porcelain)" ]; then
    PROBE_BUILD_TREE=dirty
  else
    PROBE_BUILD_TREE=clean
  fi
fi
export PROBE_BUILD_COMMIT PROBE_BUILD_TREE
# rustc writes no timestamps; but ring's build script reruns when SOURCE_DATE_EPOCH changes
# (cc-rs watches it), so with it every commit would rebuild ring and all above it.
unset SOURCE_DATE_EPOCH
RUSTFLAGS=$flags cargo build --profile dist --locked -p probe -p mock-relay --bins --target "$target"
