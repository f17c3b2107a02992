#!/usr/bin/env python3
"""json-layers-diff.py STOCK PLUGIN — compare two `tshark -T json` outputs packet by packet with the
"ikestate" layer removed; print a unified diff (first 40 lines) and exit 1 when they differ."""
import difflib
import json
import sys


def load(path):
    txt = open(path, encoding="utf-8", errors="replace").read().strip()
    packets = json.loads(txt) if txt else []
    for p in packets:
        p["_source"]["layers"].pop("ikestate", None)
    return "\n".join(json.dumps(p, indent=1, sort_keys=True) for p in packets).splitlines(True)


a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    sys.stdout.writelines(list(difflib.unified_diff(a, b, "stock", "ikestate"))[:40])
    sys.exit(1)
