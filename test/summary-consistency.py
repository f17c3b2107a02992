#!/usr/bin/env python3
"""summary-consistency.py CAPTURE... — `-z ikestate,tunnels,csv` must say what the packets say,
and the stats tree (`-z ikestate,tree`) must count what the summary lists (one `tshark -2` run).

For every tunnel of every capture, the summary row and the two-pass per-packet fields agree:
retransmissions = packets with ikestate.retransmission (a transmission once: not its copies at
another capture point, nor capture duplicates), quick modes completed = QM3s, setup time =
ikestate.setup_time, FAILED: X = the first ikestate.failed of the tunnel since its last completion
(phase 1, quick mode, child SA; before it: OK, recovered from X), STALLED in S = its
capture-end ikestate.stalled, ESP ONE-WAY = one of its ESP packets has ikestate.esp.one_way, ? = no
message of it could be placed, OK = none of these. DELETED in the state column = a packet with
ikestate.deleted.
"""
import collections, csv, io, os, re, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = ["ikestate.tunnel", "ikestate.retransmission", "ikestate.setup_time", "ikestate.failed",
          "ikestate.stalled", "ikestate.final", "ikestate.state", "ikestate.msg", "ikestate.esp.one_way",
          "ikestate.deleted", "ikestate.qm_time", "ikestate.copy_of", "ikestate.duplicate_of", "ikestate.pattern"]


def tshark(cap, *args):
    p = subprocess.run([os.path.join(HERE, "tshark-plugin.sh"), cap, *args], capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"tshark {' '.join(args)} on {cap} failed ({p.returncode}): {p.stderr}")
    return p.stdout


def split_output(out):
    """One run prints the packets' fields, then both taps (in either order): -> fields, csv, tree."""
    lines = out.splitlines()
    head = next(i for i, l in enumerate(lines) if l.startswith("tunnel,attempt,"))
    tree = next(i for i, l in enumerate(lines) if l.startswith("====="))
    end = head
    while end < len(lines) and lines[end] and not lines[end].startswith("="):
        end += 1
    first = min(head, tree)
    fields = lines[:first - 1] if first and not lines[first - 1] else lines[:first]
    return fields, "\n".join(lines[head:end]), "\n".join(lines[tree:head] if tree < head else lines[tree:])


def check(cap):
    # One tshark run per capture (a start costs more than the capture): both taps run on the second
    # pass, after the capture-end verdicts, as a summary read after a single pass would.
    fields, summary, tree = split_output(tshark(cap, "-2", "-T", "fields", "-E", "separator=/t", "-E",
                                                "occurrence=f", *sum([["-e", f] for f in FIELDS], []),
                                                "-z", "ikestate,tunnels,csv", "-z", "ikestate,tree"))
    per = {}
    for line in fields:
        v = dict(zip(FIELDS, line.split("\t")))
        if not v["ikestate.tunnel"] or v["ikestate.copy_of"] or v["ikestate.duplicate_of"]:
            continue  # another sighting of a transmission counts once, as in the summary
        t = per.setdefault(v["ikestate.tunnel"], {"retr": 0, "qm": 0, "setup": "", "failed": "", "final": "",
                                                          "recovered": "",
                                                          "placed": False, "unknown": False,
                                                          "one_way": False, "deleted": False, "pattern": ""})
        t["retr"] += bool(v["ikestate.retransmission"])
        t["qm"] += v["ikestate.msg"] == "QM3" and not v["ikestate.retransmission"]
        # IKEv2 child SAs: the one IKE_AUTH carries (READY, not refused), and each CREATE_CHILD_SA answer
        # under a READY SA that refuses nothing.
        t["qm"] += (not v["ikestate.retransmission"] and not v["ikestate.failed"] and
                    ((v["ikestate.msg"] == "AUTH_RESP" and v["ikestate.setup_time"] != "") or
                     (v["ikestate.msg"] == "CHILD_RESP" and v["ikestate.state"] == "READY")))
        t["setup"] = t["setup"] or v["ikestate.setup_time"]
        t["failed"] = t["failed"] or v["ikestate.failed"]
        # A completion (phase 1, a quick mode, a child SA) after a refusal: it recovered from it.
        done = not v["ikestate.retransmission"] and (v["ikestate.setup_time"] or v["ikestate.qm_time"] or
                                                     v["ikestate.msg"] in ("MM6", "AM3"))
        if done and t["failed"] and not v["ikestate.failed"]:
            t["recovered"], t["failed"] = t["failed"], ""
        t["pattern"] = t["pattern"] or v["ikestate.pattern"]
        t["placed"] |= v["ikestate.state"] != ""
        t["unknown"] |= v["ikestate.msg"] == "?"
        t["one_way"] |= v["ikestate.esp.one_way"] not in ("", "0", "False")
        t["deleted"] |= v["ikestate.deleted"] not in ("", "0", "False")
        if v["ikestate.final"]:
            t["final"] = v["ikestate.stalled"]
    rows = list(csv.DictReader(io.StringIO(summary)))
    bad = []
    if sorted(r["tunnel"] for r in rows) != sorted(per):
        bad.append(f"tunnels {sorted(r['tunnel'] for r in rows)} vs packets {sorted(per)}")
    for r in rows:
        t = per.get(r["tunnel"])
        if not t:
            continue
        want_v = ((t["pattern"].upper() + (f", FAILED: {t['failed']}" if t["failed"] else "")) if t["pattern"]
                  else f"FAILED: {t['failed']}" if t["failed"]
                  else f"STALLED in {t['final']}" if t["final"]
                  else "ESP ONE-WAY" if t["one_way"]
                  else "?" if t["unknown"] and not t["placed"]
                  else f"OK, recovered from {t['recovered']}" if t["recovered"] else "OK")
        got = (int(r["retransmissions"]), int(r["qm_completed"]), r["verdict"],
               r["asa_state"] in ("DELETED", "DELETE"))
        want = (t["retr"], t["qm"], want_v, t["deleted"])
        if got != want or (t["setup"] and abs(float(r["setup_time"]) - float(t["setup"])) > 0.0005):
            bad.append(f"tunnel {r['tunnel']}: summary {got} setup {r['setup_time']}, packets {want} setup {t['setup']}")
    return bad + check_tree(tree, rows)


def tree_counts(text):
    """{(parent, item): count} of a stats tree printout; parent = the nearest less indented item."""
    counts, stack, body = {}, [], False
    for line in text.splitlines():
        if line.startswith("---"):
            body = not body
            continue
        m = re.match(r"^( *)(\S.*?)\s{2,}(\d+)", line) if body else None
        if not m:
            continue
        depth, name = len(m.group(1)), m.group(2)
        stack[depth:] = [name]
        if int(m.group(3)):
            counts[(stack[depth - 1] if depth else "", name)] = int(m.group(3))
    return counts


def check_tree(tree, rows):
    got = tree_counts(tree)
    want = collections.Counter()
    for r in rows:
        want[("", "IKE negotiations")] += 1
        for group in ("By final state", "By verdict", "By peer pair"):
            want[("IKE negotiations", group)] += 1
        want[("By final state", "(none)" if r["asa_state"] == "-" else r["asa_state"])] += 1
        want[("By verdict", r["verdict"])] += 1
        pair = " - ".join(sorted((r[k].rstrip("?").rsplit(":", 1)[0].strip("[]") for k in ("initiator", "responder")),
                                 key=lambda a: tuple(int(x, 16 if ":" in a else 10) for x in re.split("[.:]", a) if x)))
        want[("By peer pair", pair)] += 1
        want[(pair, r["verdict"])] += 1
        life = {"Rekey of an IKE SA still up": r["rekey_of"] != "0",
                "Deleted": r["asa_state"] in ("DELETED", "DELETE"),
                "With ESP traffic": r["esp_out"] != "0" or r["esp_in"] != "0",
                "ESP one way": r["esp_one_way"] != "0"}
        for item, yes in life.items():
            want[("Lifecycle", item)] += yes
        want[("IKE negotiations", "Lifecycle")] += any(life.values())
    got = {k: v for k, v in got.items() if k[0] != "IKE messages" and k[1] != "IKE messages"}
    want = +want  # drop zero counts: the tree prints no empty node
    if got != dict(want):
        return [f"tree {sorted(got.items())} vs summary {sorted(want.items())}"]
    return []


failures = 0
with ThreadPoolExecutor(os.cpu_count()) as pool:
    for cap, bad in zip(sys.argv[1:], pool.map(check, sys.argv[1:])):
        failures += bool(bad)
        for b in bad:
            print(f"FAIL {os.path.basename(cap)}: {b}")
print(f"{len(sys.argv) - 1} captures, {failures} with disagreements")
sys.exit(1 if failures else 0)
