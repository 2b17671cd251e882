"""Makes cargo-cyclonedx's SBOM reproducible: `python3 sbom_fix.py BOM.json ROOT` prints it with
the random serial number replaced by a UUID derived from the rest, and the checkout's path
(ROOT, in the workspace crates' purls and file references) replaced by `/build`."""

import hashlib
import json
import sys
import uuid

path, root = sys.argv[1:3]
with open(path, encoding="utf-8") as f:
    text = f.read().replace(root, "/build")
bom = json.loads(text)
bom.pop("serialNumber", None)
body = json.dumps(bom, sort_keys=True, ensure_ascii=False)
digest = hashlib.sha256(body.encode()).digest()[:16]
bom = {"serialNumber": f"urn:uuid:{uuid.UUID(bytes=digest, version=4)}", **bom}
print(json.dumps(bom, indent=2, ensure_ascii=False))
