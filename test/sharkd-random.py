#!/usr/bin/env python3
"""sharkd-random.py CAPTURE EXPECTED — GUI-style random access must show the stored labels.

sharkd (the headless stand-in for the Wireshark GUI) loads the capture, then dissects every frame
again in a shuffled order; the ikestate fields it shows must equal the two-pass golden output.
"""
import json, os, random, subprocess, sys

COLS = ["ikestate.tunnel", "ikestate.msg", "ikestate.role", "ikestate.state", "ikestate.ios_state",
        "ikestate.qm_state", "ikestate.retransmission", "ikestate.retransmission_of",
        "ikestate.response_to", "ikestate.response_in"]


def fields_of(tree, out):
    for node in tree:
        f = node.get("f", "")
        if f == "ikestate":
            vals = {}
            for child in node.get("n", []):
                name, _, value = child.get("f", "").partition(" == ")
                if name in COLS:
                    vals[name] = value.strip('"')
            out.append(vals)
        fields_of(node.get("n", []), out)


def main():
    cap, expected = sys.argv[1], sys.argv[2]
    with open(expected) as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh]
    header, rows = rows[0], rows[1:]
    idx = [header.index(c) for c in COLS]
    want = {int(r[0]): [r[i] for i in idx] for r in rows}

    order = sorted(want, reverse=True)
    random.Random(4).shuffle(order)
    reqs = [{"jsonrpc": "2.0", "id": 1000000000, "method": "load", "params": {"file": "@CAPTURE@"}}]
    reqs += [{"jsonrpc": "2.0", "id": n, "method": "frame", "params": {"frame": n, "proto": True}}
             for n in order]
    text = "\n".join(json.dumps(r) for r in reqs) + "\n"
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tshark-plugin.sh")
    proc = subprocess.run([script, cap], input=text, capture_output=True, text=True,
                          env=dict(os.environ, IKESTATE_TOOL="sharkd"), check=False)
    if proc.returncode != 0:
        sys.exit(f"sharkd run failed ({proc.returncode}): {proc.stderr}")
    got = {}
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        msg = json.loads(line)
        if "error" in msg:
            sys.exit(f"sharkd error: {msg}")
        if msg.get("id") == 1000000000:
            continue
        found = []
        fields_of(msg["result"]["tree"], found)
        got[msg["id"]] = ["|".join(v.get(c, "") for v in found if v.get(c, "")) for c in COLS]
    bad = [(n, want[n], got.get(n)) for n in order if got.get(n) != want[n]]
    for n, w, g in bad[:20]:
        print(f"frame {n}: expected {w}\n{'':>{len(str(n)) + 7}} got      {g}")
    if bad or len(got) != len(want):
        sys.exit(f"FAIL: {len(bad)} of {len(want)} frames differ under random access")
    print(f"ok: {len(want)} frames, random order, labels identical to the two-pass output")


main()
