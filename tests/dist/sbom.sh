#!/usr/bin/env bash
# The CycloneDX SBOM (JSON, spec 1.5) of probe and mock-relay for one target, from Cargo.lock:
# every crate compiled in (build-time crates left out), with its licence and purl.
# cargo-cyclonedx honours SOURCE_DATE_EPOCH for the timestamp; its random serial number is
# replaced by one derived from the content, so the same source gives the same bytes.
#
#   tests/dist/sbom.sh TARGET OUT.cdx.json
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=$1 out=$2
cd "$root"
# It writes NAME.json beside each manifest of the graph (tests/dist.sh holds a lock meanwhile).
name=.dist-sbom
cargo cyclonedx --manifest-path probe/Cargo.toml --format json --spec-version 1.5 \
  --target "$target" --no-build-deps --override-filename "$name" -q
written=$(find . -path ./target -prune -o -name "$name.json" -print)
trap 'rm -f $written' EXIT
python3 "$root/tests/dist/sbom_fix.py" probe/"$name".json "$root" >"$out"
