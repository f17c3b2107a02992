#!/usr/bin/env python3
"""sweep-check.py STOCK PLUGIN — two `tshark -T json -J "isakmp ikestate"` outputs of one capture,
stock and with the plugin. Exit 1, with the reason, when
  - the layers differ once the "ikestate" layer is removed (the plugin changed what Wireshark's own
    dissectors say: the isakmp layer in full, the others as placeholders, so a changed protocol
    stack shows too), or
  - an IKEv1 / IKEv2 message outside an ICMP error has no ikestate.tunnel or ikestate.msg."""
import difflib
import json
import sys


def pairs(kv):
    # tshark repeats a key (a layer, a field) for each occurrence: keep them all, as lists.
    out = {}
    for k, v in kv:
        out.setdefault(k, []).append(v)
    return out


def count(node, key):
    if isinstance(node, dict):
        return sum(len(v) if k == key else 0 for k, v in node.items()) + \
            sum(count(x, key) for v in node.values() for x in v)
    if isinstance(node, list):
        return sum(count(x, key) for x in node)
    return 0


def load(path):
    txt = open(path, encoding="utf-8", errors="replace").read().strip()
    return json.loads(txt, object_pairs_hook=pairs) if txt else []


stock, plugin = load(sys.argv[1]), load(sys.argv[2])
unlabelled = []
for number, p in enumerate(plugin, 1):
    layers = p["_source"][0]["layers"][0]
    ours = layers.pop("ikestate", [])
    if "icmp" in layers or "icmpv6" in layers:
        continue
    ike = sum(1 for isakmp in layers.get("isakmp", []) for v in isakmp.get("isakmp.version", [])
              if v in ("0x10", "0x20"))
    if ike and (count(ours, "ikestate.tunnel") < ike or count(ours, "ikestate.msg") < ike):
        unlabelled.append(number)
a = "\n".join(json.dumps(p, indent=1, sort_keys=True) for p in stock).splitlines(True)
b = "\n".join(json.dumps(p, indent=1, sort_keys=True) for p in plugin).splitlines(True)
bad = False
if a != b:
    print("the plugin changed other layers:")
    sys.stdout.writelines(list(difflib.unified_diff(a, b, "stock", "ikestate"))[:40])
    bad = True
if unlabelled:
    print(f"IKE messages without ikestate.tunnel / ikestate.msg in frames {unlabelled[:5]}")
    bad = True
sys.exit(1 if bad else 0)
