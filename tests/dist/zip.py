"""The Windows archive, reproducibly: `python3 zip.py BASE NAME OUT.zip` zips BASE/NAME with
entries sorted by name, every time set to SOURCE_DATE_EPOCH and Unix modes kept."""

import os
import sys
import time
import zipfile

base, name, out = sys.argv[1:4]
stamp = time.gmtime(int(os.environ["SOURCE_DATE_EPOCH"]))[:6]
paths = []
for top, dirs, files in os.walk(os.path.join(base, name)):
    for d in dirs:
        paths.append(os.path.join(top, d))
    for f in files:
        paths.append(os.path.join(top, f))
with zipfile.ZipFile(out + ".tmp", "w") as z:
    for path in sorted(paths, key=lambda p: os.path.relpath(p, base)):
        arc = os.path.relpath(path, base).replace(os.sep, "/")
        is_dir = os.path.isdir(path)
        info = zipfile.ZipInfo(arc + "/" if is_dir else arc, date_time=stamp)
        info.create_system = 3  # Unix: external_attr holds the mode
        mode = 0o755 if is_dir or os.access(path, os.X_OK) else 0o644
        info.external_attr = ((0o040000 if is_dir else 0o100000) | mode) << 16
        if is_dir:
            z.writestr(info, b"")
        else:
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                z.writestr(info, f.read(), compresslevel=9)
os.replace(out + ".tmp", out)
