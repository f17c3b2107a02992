#!/usr/bin/env python3
"""libreswan-states.py CAPTURES_DIR — ikestate.libreswan_state says what libreswan itself logged.

On the strongSwan <-> libreswan lab captures, the libreswan side's sidecar has pluto's log: each state
it reaches is logged by its story ("sent Main Mode R1" is STATE_MAIN_R1; pluto names a state after
the last message sent). The states the plugin gives the messages libreswan sent, in order and
without resends, must be the states of those log lines, taken for libreswan's role in the exchange
(an initiator's "IKE SA established" is STATE_MAIN_I4, reached on receipt: no message of its own).
With -o ikestate.vocabulary:libreswan the Info column speaks libreswan while ikestate.state stays
ASA."""
import os, re, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
caps = sys.argv[1]
# pluto's state stories (its state table), per role of the sender.
STORY = {
    "initiator": {"STATE_MAIN_I1": "sent Main Mode request", "STATE_MAIN_I2": "sent Main Mode I2",
                  "STATE_MAIN_I3": "sent Main Mode I3", "STATE_QUICK_I1": "sent Quick Mode request",
                  "STATE_QUICK_I2": "IPsec SA established"},
    "responder": {"STATE_MAIN_R1": "sent Main Mode R1", "STATE_MAIN_R2": "sent Main Mode R2",
                  "STATE_MAIN_R3": "IKE SA established", "STATE_QUICK_R1": "sent Quick Mode reply"},
}


def tshark(cap, *args):
    r = subprocess.run([os.path.join(here, "tshark-plugin.sh"), cap, "-2", *args],
                       capture_output=True, text=True, check=True)
    return [l.split("\t") for l in r.stdout.splitlines() if l.strip()]


def pluto(md):
    """-> (libreswan's address, the story lines of its log in order)."""
    text = open(md).read()
    addr = re.search(r"- (?:initiator|responder): libreswan [^ ]+ pluto at ([0-9.]+)", text)
    log = re.search(r"# pluto log.*?\n(.*?)\n# ", text, re.S)
    if not addr or not log:
        sys.exit(f"{md}: no libreswan side or no pluto log")
    return addr.group(1), [re.sub(r'^\s*(\(x\d+\)\s*)?"lab" #\d+: ', "", l) for l in log.group(1).splitlines()]


fail = 0
for name in ("lab-ls-to-ss", "lab-ss-to-ls", "lab-ss-to-ls-psk-mismatch"):
    cap = os.path.join(caps, name + ".pcapng")
    addr, log = pluto(os.path.join(caps, name + ".md"))
    rows = tshark(cap, "-T", "fields", "-e", "ip.src", "-e", "ikestate.role", "-e", "ikestate.retransmission",
                  "-e", "ikestate.libreswan_state")
    sent = [r for r in rows if len(r) == 4 and r[0] == addr and r[1] and not r[2]]
    role = sent[0][1] if sent else "?"
    got = [STORY[role].get(r[3], f"({r[3] or 'none'})") for r in sent if r[3]]
    want = [l for l in log if any(l.startswith(s) for s in STORY.get(role, {}).values())]
    want = [next(s for s in STORY[role].values() if l.startswith(s)) for l in want]
    ok = bool(got) and got == want
    print(("ok" if ok else "FAIL") + f": {name}: libreswan {role} at {addr}: plugin {got}, pluto log {want}")
    fail |= not ok

# The vocabulary preference: the Info column in libreswan's words, the fields unchanged. The Info
# column from the text output: -T fields' _ws.col.info lacks post-dissector text on 4.4+.
cap = os.path.join(caps, "lab-ls-to-ss.pcapng")
fields = {int(r[0]): r[1:] for r in tshark(cap, "-o", "ikestate.vocabulary:libreswan", "-T", "fields", "-e", "frame.number",
                                           "-e", "ikestate.msg", "-e", "ikestate.libreswan_state", "-e", "ikestate.state")}
r = subprocess.run([os.path.join(here, "tshark-plugin.sh"), cap, "-2", "-o", "ikestate.vocabulary:libreswan",
                    "-o", 'gui.column.format:"No.","%m","Info","%i"'], capture_output=True, text=True, check=True)
info = {int(l.split(None, 1)[0]): l.split(None, 1)[1] for l in r.stdout.splitlines() if l.strip()}
named = [(n, f) for n, f in fields.items() if len(f) == 3 and f[1]]
ok = len(named) >= 9 and all(f"[{f[0]} {f[1]}]" in info.get(n, "") for n, f in named) and \
    any(f[2] == "MM_WAIT_MSG2" for _, f in named) and not any(f[2].startswith("STATE_") for f in fields.values() if len(f) == 3)
print(("ok" if ok else "FAIL") + f": vocabulary libreswan: {len(named)} Info suffixes in libreswan's words, ikestate.state stays ASA")
fail |= not ok
sys.exit(1 if fail else 0)
