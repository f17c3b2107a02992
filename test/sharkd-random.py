#!/usr/bin/env python3
"""sharkd-random.py CAPTURE EXPECTED [CAPTURE EXPECTED ...] — GUI-style random access must show the
stored labels.

sharkd (the headless stand-in for the Wireshark GUI) loads each capture in turn in one session, as
the GUI opens one file after another, then dissects every frame again in a shuffled order; the
ikestate fields it shows must equal the two-pass golden output. One session for all captures: a
sharkd start costs more than the frames of most captures, and what one file leaves behind must not
change the labels of the next.
"""
import json, os, random, shutil, subprocess, sys, tempfile

COLS = ["ikestate.tunnel", "ikestate.msg", "ikestate.role", "ikestate.state", "ikestate.ios_state",
        "ikestate.qm_state", "ikestate.retransmission", "ikestate.retransmission_of",
        "ikestate.response_to", "ikestate.response_in"]
LOAD = 1000000   # a load's request id is the capture index + 1; a frame's (index + 1) * LOAD + number


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


def expected_rows(path):
    with open(path) as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh]
    header, rows = rows[0], rows[1:]
    idx = [header.index(c) for c in COLS]
    return {int(r[0]): [r[i] for i in idx] for r in rows}


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    pairs = list(zip(args[0::2], args[1::2]))
    want, orders, reqs = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        # tshark-plugin.sh copies this folder for user nobody; @CAPTURE@ is the copy.
        for i, (cap, expected) in enumerate(pairs):
            shutil.copy(cap, os.path.join(tmp, f"{i}.cap"))
            want.append(expected_rows(expected))
            order = sorted(want[i], reverse=True)
            random.Random(4).shuffle(order)
            orders.append(order)
            reqs.append({"jsonrpc": "2.0", "id": i + 1, "method": "load", "params": {"file": f"@CAPTURE@/{i}.cap"}})
            reqs += [{"jsonrpc": "2.0", "id": (i + 1) * LOAD + n, "method": "frame", "params": {"frame": n, "proto": True}}
                     for n in order]
        text = "\n".join(json.dumps(r) for r in reqs) + "\n"
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tshark-plugin.sh")
        proc = subprocess.run([script, tmp], input=text, capture_output=True, text=True,
                              env=dict(os.environ, IKESTATE_TOOL="sharkd"), check=False)
    if proc.returncode != 0:
        sys.exit(f"sharkd run failed ({proc.returncode}): {proc.stderr}")
    got = [{} for _ in pairs]
    loaded = set()
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        msg = json.loads(line)
        i, n = divmod(msg.get("id"), LOAD)
        if "error" in msg:   # that frame then counts as differing
            print(f"sharkd error: {msg}")
            continue
        if i == 0:
            loaded.add(n - 1)
            continue
        found = []
        fields_of(msg["result"]["tree"], found)
        got[i - 1][n] = ["|".join(v.get(c, "") for v in found if v.get(c, "")) for c in COLS]
    failed = 0
    for i, (cap, _) in enumerate(pairs):
        bad = [(n, want[i][n], got[i].get(n)) for n in orders[i] if got[i].get(n) != want[i][n]]
        for n, w, g in bad[:20]:
            print(f"{cap} frame {n}: expected {w}\n{'':>{len(cap) + len(str(n)) + 8}} got      {g}")
        if i not in loaded or bad or len(got[i]) != len(want[i]):
            print(f"FAIL {cap}: {'not loaded; ' if i not in loaded else ''}"
                  f"{len(bad)} of {len(want[i])} frames differ under random access")
            failed += 1
        else:
            print(f"ok {cap}: {len(want[i])} frames, random order, labels identical to the two-pass output")
    if failed:
        sys.exit(f"FAIL: {failed} of {len(pairs)} captures")


main()
