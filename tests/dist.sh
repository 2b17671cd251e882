#!/usr/bin/env bash
# Makes a release: for each target an archive (.tar.gz, .zip for Windows) with probe and
# mock-relay, the README, the licence texts, the third-party licences, the built-in scenarios,
# the JSON schema, the man page and shell completions; beside them a CycloneDX SBOM per target
# and SHA256SUMS. The same source gives the same bytes (SOURCE_DATE_EPOCH: the commit's time).
#
#   tests/dist.sh [--out DIR] [TARGET...]
#
# Targets: x86_64-unknown-linux-musl (static) and x86_64-pc-windows-gnu by default; also
# aarch64-unknown-linux-musl (static) on request, with gcc-aarch64-linux-gnu. Output in
# target/dist-archives/ unless --out. Needs what tests/setup-dist.sh installs. Exit 2: bad usage.
set -euo pipefail
export LC_ALL=C TZ=UTC
caller=$PWD
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
here=$root/tests/dist

fail() {
  echo "dist: $*" >&2
  exit 2
}

out=$root/target/dist-archives
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out)
      [ $# -ge 2 ] || fail "--out needs a directory"
      out=$2
      [[ "$out" == /* ]] || out=$caller/$out
      shift 2
      ;;
    -h | --help)
      sed -n '2,11s/^# \{0,1\}//p' "$0"
      exit 0
      ;;
    x86_64-unknown-linux-musl | aarch64-unknown-linux-musl | x86_64-pc-windows-gnu)
      targets+=("$1")
      shift
      ;;
    *) fail "unknown argument or target '$1' (targets: x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-pc-windows-gnu)" ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-unknown-linux-musl x86_64-pc-windows-gnu)

for tool in cargo-about cargo-cyclonedx python3 gzip tar sha256sum flock; do
  command -v "$tool" >/dev/null || fail "$tool not found: run tests/setup-dist.sh"
done
installed=$(rustup target list --installed 2>/dev/null || true)
for t in x86_64-unknown-linux-musl "${targets[@]}"; do
  grep -qx "$t" <<<"$installed" || fail "the Rust target $t is not installed: run tests/setup-dist.sh"
done

if [[ " ${targets[*]} " == *" aarch64-unknown-linux-musl "* ]]; then
  command -v aarch64-linux-gnu-gcc >/dev/null ||
    fail "aarch64-linux-gnu-gcc not found (apt-get install gcc-aarch64-linux-gnu): it links the ARM64 binaries"
fi

# One release at a time in this checkout: cargo-cyclonedx writes beside the manifests.
mkdir -p target
exec 9>target/.dist.lock
flock 9

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
# The build identity (probe/build.rs) and the archives' timestamps come from the commit.
if commit=$(git rev-parse HEAD 2>/dev/null); then
  if [ -n "$(git status --porcelain)" ]; then tree=dirty; else tree=clean; fi
  : "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct)}"
else
  commit=unknown tree=unknown
  : "${SOURCE_DATE_EPOCH:=315532800}" # no git (a source tarball): 1980-01-01, zip's first day
fi
[ "$tree" = dirty ] && echo "dist: warning: the tree is dirty: the binaries say 'tree dirty'" >&2
# zip cannot say a time before 1980.
[ "$SOURCE_DATE_EPOCH" -ge 315532800 ] || SOURCE_DATE_EPOCH=315532800
export SOURCE_DATE_EPOCH PROBE_BUILD_COMMIT=$commit PROBE_BUILD_TREE=$tree

work=$(mktemp -d "${TMPDIR:-/tmp}/probe-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
rm -f "$out"/probe-"$version"-* "$out"/SHA256SUMS

# The third-party licences of every crate compiled into either binary, for every target.
# cargo-about scans every crate's files (minutes on 2 cores); its output depends only on the
# inputs hashed here, so it is kept in target/dist-cache/ (DIST_NO_CACHE=1: made anew).
# --frozen: offline, the licence texts come from the crates themselves (no clearlydefined.io).
key=$( (cat Cargo.lock "$here/about.toml" "$here/about.hbs"; cargo-about --version) | sha256sum | cut -c1-32)
cached=target/dist-cache/THIRD-PARTY-LICENSES-$key.txt
if [ -n "${DIST_NO_CACHE:-}" ] || [ ! -s "$cached" ]; then
  mkdir -p target/dist-cache
  cargo about generate --frozen --fail --config "$here/about.toml" \
    --manifest-path probe/Cargo.toml "$here/about.hbs" >"$cached.tmp"
  mv "$cached.tmp" "$cached"
fi
cp "$cached" "$work/THIRD-PARTY-LICENSES.txt"

# The man page and completions come from the static Linux probe: it is built first.
"$here/build.sh" x86_64-unknown-linux-musl
for t in "${targets[@]}"; do
  "$here/build.sh" "$t"
  bin=$root/target/$t/dist
  exe=
  [[ "$t" == *windows* ]] && exe=.exe
  name=probe-$version-$t
  stage=$work/$name
  mkdir -p "$stage"/{scenarios,schema,man,completions}
  install -m 0755 "$bin/probe$exe" "$bin/mock-relay$exe" "$stage/"
  install -m 0644 README.md LICENSE-MIT LICENSE-APACHE "$work/THIRD-PARTY-LICENSES.txt" "$stage/"
  install -m 0644 scenarios/*.toml "$stage/scenarios/"
  install -m 0644 probe/schema/result-v1.json "$stage/schema/"
  "$here/docs.sh" "$stage/man" "$stage/completions"
  "$here/sbom.sh" "$t" "$out/$name.cdx.json"
  if [[ "$t" == *windows* ]]; then
    python3 "$here/zip.py" "$work" "$name" "$out/$name.zip"
  else
    tar -C "$work" --sort=name --format=gnu --mtime="@$SOURCE_DATE_EPOCH" \
      --owner=0 --group=0 --numeric-owner --mode='go-w' -cf - "$name" | gzip -9n >"$out/$name.tar.gz"
  fi
done

(cd "$out" && sha256sum probe-"$version"-* >SHA256SUMS)
echo "dist: $out (commit $commit, tree $tree, SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH):"
cat "$out/SHA256SUMS"
