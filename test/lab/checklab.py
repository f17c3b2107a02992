#!/usr/bin/python3
"""Check lab captures against test/lab/expect/*.expect with the ikestate plugin (see README.md).

usage: checklab.py CAPTURE_DIR EXPECT_DIR [--mutate] [--only NAME ...]

Each NAME.expect is checked against CAPTURE_DIR/lab-NAME.pcapng, labelled by tshark with the plugin
(run through test/tshark-plugin.sh). With --mutate, every expectation line is also negated one at a
time and must then FAIL: that proves each line is really evaluated and not vacuously true.
Exit 0 when everything passes, 1 on any failed expectation, 2 on usage/tool errors.
"""
import json
import os
from concurrent.futures import ThreadPoolExecutor
import re
import shlex
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WRAPPER = os.path.join(REPO, "test", "tshark-plugin.sh")
OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, ">=": lambda a, b: a >= b,
       "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b}
NEG = {"==": "!=", "!=": "==", ">=": "<", "<": ">=", "<=": ">", ">": "<="}
ROLES = ("initiator", "responder", "any")
FIELDS = ("msg", "state", "ios_state", "qm_state")
# Frame-count keywords -> (decrypt with the key tables, tshark -2: capture-end verdicts exist)
COUNTS = {"frames": (False, False), "decrypted": (True, False),
          "twopass": (False, True), "decrypted-twopass": (True, True)}


class ExpectError(Exception):
    pass


def tshark(cap, args, check_loaded=True):
    env = dict(os.environ)
    if not check_loaded:
        env["IKESTATE_CHECK_LOADED"] = "0"
    env.setdefault("IKESTATE_SO", os.path.join(REPO, "build/plugins/4.0/epan/ikestate.so"))
    env["IKESTATE_SO"] = os.path.abspath(env["IKESTATE_SO"])
    r = subprocess.run(["bash", WRAPPER, cap] + args, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"tshark-plugin.sh failed ({r.returncode}) on {cap}: {r.stderr.strip()[:500]}")
    return r.stdout


def as_list(x):
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def load_messages(cap):
    """-> list of dicts, one per ikestate-labelled message, in capture order."""
    out = tshark(cap, ["-T", "json", "--no-duplicate-keys", "-j", "frame ikestate"])
    msgs = []
    for pkt in json.loads(out or "[]"):
        layers = pkt["_source"]["layers"]
        frame = layers.get("frame", {})
        num = int(as_list(frame.get("frame.number", "0"))[0])
        for st in as_list(layers.get("ikestate")):
            if not isinstance(st, dict):
                continue
            g = lambda k: as_list(st.get("ikestate." + k))[0] if st.get("ikestate." + k) is not None else ""
            if not g("msg"):
                continue  # ESP / NAT-T keepalive: checked with display filters (frames, twopass)
            if g("copy_of") or g("duplicate_of"):
                continue  # another sighting of a transmission (capture points): frames filters see it
            msgs.append({"frame": num, "tunnel": g("tunnel"), "msg": g("msg"), "role": g("role"),
                         "state": g("state"), "ios_state": g("ios_state"), "qm_state": g("qm_state"),
                         "retransmission": int(g("retransmission") or 0)})
    return msgs


def key_options(capdir, name):
    """tshark -o options for the key tables run-lab wrote for this capture (natt-inside -> natt, scan-ss-r -> scan-ss)."""
    opts = []
    for base in (name, re.sub(r"-(inside|outside|i|r)$", "", name)):
        for table in ("ikev1_decryption_table", "ikev2_decryption_table"):
            path = os.path.join(capdir, "keys", f"lab-{base}.{table}")
            if os.path.exists(path):
                with open(path) as f:
                    for row in f:
                        if row.strip() and not row.startswith("#"):
                            opts += ["-o", f"uat:{table}:{row.strip()}"]
        if opts:
            break
    return opts


class Capture:
    def __init__(self, path, name):
        self.path = path
        self.keys = key_options(os.path.dirname(path), name)
        self.msgs = load_messages(path)
        self._filters = {}

    def _count(self, flt, decrypt, twopass=False):
        # load_messages() already proved that the plugin loads: skip that check (halves the cost)
        out = tshark(self.path, (self.keys if decrypt else []) + (["-2"] if twopass else []) +
                     ["-Y", flt, "-T", "fields", "-e", "frame.number"], check_loaded=False)
        return len([l for l in out.splitlines() if l.strip()])

    def _count_many(self, flts, decrypt, twopass):
        """Frame counts of several display filters from one tshark run: io,stat with one column per
        filter over the whole capture (interval 0) counts what -Y would select. Its argument is
        split at commas: those in string literals are written \\x2c; a filter with another comma
        (a set), or a run that fails (one bad filter fails it), falls back to one run each."""
        lit = re.compile(r'"(?:[^"\\]|\\.)*"')
        esc = [lit.sub(lambda m: m.group(0).replace(",", "\\x2c"), f) for f in flts]
        alone = [f for f, e in zip(flts, esc) if "," in e]
        together = [(f, e) for f, e in zip(flts, esc) if "," not in e]
        counts = {f: self._count(f, decrypt, twopass) for f in alone}
        if not together:
            return counts
        try:
            out = tshark(self.path, (self.keys if decrypt else []) + (["-2"] if twopass else []) +
                         ["-q", "-z", "io,stat,0," + ",".join(e for _, e in together)], check_loaded=False)
            rows = [l for l in out.splitlines() if re.match(r"\|\s*[\d.]+\s*<>", l)]
            cells = [c.strip() for c in rows[0].strip().strip("|").split("|")] if len(rows) == 1 else []
            frames = [int(c) for c in cells[1::2]]
            if len(frames) != len(together):
                raise RuntimeError(f"io,stat: {len(frames)} columns for {len(together)} filters")
            counts.update((f, n) for (f, _), n in zip(together, frames))
        except (RuntimeError, ValueError):
            counts.update((f, self._count(f, decrypt, twopass)) for f, _ in together)
        return counts

    def prefetch(self, lines):
        """Count the display filters of these expectation lines: one tshark per mode."""
        todo = {}
        for _, line in lines:
            try:
                toks = shlex.split(line)
            except ValueError:
                continue
            if len(toks) == 4 and toks[0] in COUNTS:
                mode = COUNTS[toks[0]]
                if (toks[1],) + mode not in self._filters and (self.keys or not mode[0]):
                    todo.setdefault(mode, [])
                    if toks[1] not in todo[mode]:
                        todo[mode].append(toks[1])
        with ThreadPoolExecutor(max_workers=3) as pool:
            for mode, counts in zip(todo, pool.map(lambda m: self._count_many(todo[m], *m), todo)):
                for flt, n in counts.items():
                    self._filters[(flt,) + mode] = n

    def count_filter(self, flt, decrypt=False, twopass=False):
        if decrypt and not self.keys:
            raise ExpectError("no key table for this capture (test/captures/keys/lab-NAME.*)")
        key = (flt, decrypt, twopass)
        if key not in self._filters:
            self._filters[key] = self._count(*key)
        return self._filters[key]

    def sel(self, tunnel, role):
        return [m for m in self.msgs
                if (tunnel == "*" or m["tunnel"] == tunnel) and (role == "any" or m["role"] == role)]

    def table(self):
        rows = ["frame tunnel role       msg   state          ios_state    qm_state     retx"]
        for m in self.msgs:
            rows.append(f'{m["frame"]:>5} {m["tunnel"]:>6} {m["role"]:<10} {m["msg"]:<5} {m["state"]:<14} '
                        f'{m["ios_state"]:<12} {m["qm_state"]:<12} {m["retransmission"] or ""}')
        return "\n".join(rows)


# What makes strongSwan put a message on the wire again: its own request's timer, or a resent
# request it answers with its cached response.
LOGGED_RESEND = re.compile(r"sending retransmit \d+ of request|retransmitting response")


def logged_resends(cap):
    """Resends the daemons logged in the capture's sidecar (run-lab folds N identical lines into one
    starting with "(xN)")."""
    n = 0
    side = os.path.splitext(cap.path)[0] + ".md"
    if not os.path.exists(side):  # lab-natt-inside / -outside: one run, one sidecar (lab-natt.md)
        side = re.sub(r"-(inside|outside|i|r)\.md$", ".md", side)
    with open(side, encoding="utf-8") as f:
        for line in f:
            if LOGGED_RESEND.search(line):
                m = re.match(r"\s*\(x(\d+)\)", line)
                n += int(m.group(1)) if m else 1
    return n


def parse_cmp(tokens, line, cap=None):
    """OP N, or OP logged: the resends the daemons logged (a loaded machine can make a daemon resend
    what it would otherwise answer in time: the capture and its logs still agree)."""
    if len(tokens) == 2 and tokens[0] in OPS and tokens[1] == "logged" and cap is not None:
        return tokens[0], logged_resends(cap)
    if len(tokens) != 2 or tokens[0] not in OPS or not tokens[1].isdigit():
        raise ExpectError(f"expected 'OP NUMBER' at the end of: {line}")
    return tokens[0], int(tokens[1])


def check_line(cap, line):
    """-> (ok, detail). Raises ExpectError on syntax errors."""
    toks = shlex.split(line)
    kw = toks[0]
    if kw == "tunnels":
        op, n = parse_cmp(toks[1:], line)
        got = len({m["tunnel"] for m in cap.msgs if m["tunnel"]})
        return OPS[op](got, n), f"distinct tunnels: got {got}"
    if kw in COUNTS:
        if len(toks) != 4:
            raise ExpectError(f"usage: {kw} \"DISPLAY FILTER\" OP N: {line}")
        op, n = parse_cmp(toks[2:], line)
        decrypt, twopass = COUNTS[kw]
        got = cap.count_filter(toks[1], decrypt, twopass)
        how = (" with the key table" if decrypt else "") + (" in two passes" if twopass else "")
        return OPS[op](got, n), f"frames matching {toks[1]!r}{how}: got {got}"
    if kw in ("seq", "last", "retransmissions", "count", "messages"):
        if len(toks) < 3:
            raise ExpectError(f"too short: {line}")
        tunnel, role = toks[1], toks[2].rstrip(":")
        if not (tunnel == "*" or tunnel.isdigit()) or role not in ROLES:
            raise ExpectError(f"expected TUNNEL ROLE after {kw}: {line}")
        sel = cap.sel(tunnel, role)
        if kw == "seq":
            want = toks[3:]
            got = [m["msg"] for m in sel if not m["retransmission"]]
            return got == want, f"got: {' '.join(got) or '(none)'}"
        if kw == "last":
            if len(toks) != 5 or toks[3].rstrip(":") not in FIELDS:
                raise ExpectError(f"usage: last T ROLE FIELD: VALUE ({'|'.join(FIELDS)}): {line}")
            field = toks[3].rstrip(":")
            vals = [m[field] for m in sel if m[field]]
            got = vals[-1] if vals else "(none)"
            return got == toks[4], f"got: {got}"
        if kw == "retransmissions":
            op, n = parse_cmp(toks[3:], line, cap)
            got = len([m for m in sel if m["retransmission"]])
            return OPS[op](got, n), f"got {got}"
        if kw == "messages":
            op, n = parse_cmp(toks[3:], line)
            return OPS[op](len(sel), n), f"got {len(sel)}"
        if kw == "count":
            if len(toks) != 6:
                raise ExpectError(f"usage: count T ROLE MSG OP N: {line}")
            op, n = parse_cmp(toks[4:], line)
            got = len([m for m in sel if m["msg"] == toks[3]])
            return OPS[op](got, n), f"got {got}"
    raise ExpectError(f"unknown expectation: {line}")


def negate(line):
    """A line that must fail wherever `line` passes."""
    toks = shlex.split(line)
    if len(toks) >= 3 and toks[-2] in NEG:
        toks[-2] = NEG[toks[-2]]
    elif toks[0] == "seq":
        toks.append("MUTATED")
    elif toks[0] == "last":
        toks[-1] += "_MUTATED"
    else:
        raise ExpectError(f"cannot negate: {line}")
    return " ".join(shlex.quote(t) for t in toks)


def read_expect(path):
    lines = []
    with open(path) as f:
        for no, raw in enumerate(f, 1):
            line = strip_comment(raw)
            if line:
                lines.append((no, line))
    return lines


def strip_comment(raw):
    # display filters may not contain '#', but quoted strings might; cut at a '#' outside quotes
    q = None
    for i, c in enumerate(raw):
        if c in "\"'" and q is None:
            q = c
        elif c == q:
            q = None
        elif c == "#" and q is None:
            return raw[:i].strip()
    return raw.strip()


def main():
    args = sys.argv[1:]
    mutate = "--mutate" in args
    args = [a for a in args if a != "--mutate"]
    only = []
    while "--only" in args:
        i = args.index("--only")
        only.append(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    capdir, expdir = args
    names = sorted(f[:-7] for f in os.listdir(expdir) if f.endswith(".expect"))
    if only:
        names = [n for n in names if n in only]
    if not names:
        print("checklab: no expectation files selected", file=sys.stderr)
        return 2
    failed, mut_survivors, total = [], [], 0
    for name in names:
        cpath = os.path.join(capdir, f"lab-{name}.pcapng")
        if not os.path.exists(cpath):
            print(f"FAIL {name}: capture {cpath} missing (scenario did not run?)")
            failed.append(name)
            continue
        try:
            cap = Capture(cpath, name)
            bad = []
            lines = read_expect(os.path.join(expdir, f"{name}.expect"))
            cap.prefetch(lines)
            for no, line in lines:
                total += 1
                ok, detail = check_line(cap, line)
                if not ok:
                    bad.append(f"  line {no}: expected: {line}\n  {' ' * len(str(no))}       {detail}")
            if mutate and not bad:
                for no, line in lines:
                    m = negate(line)
                    ok, _ = check_line(cap, m)
                    if ok:
                        mut_survivors.append(f"{name} line {no}: negated '{m}' still passes")
        except (ExpectError, RuntimeError) as e:
            print(f"FAIL {name}: {e}")
            failed.append(name)
            continue
        if bad:
            failed.append(name)
            print(f"FAIL {name} ({len(bad)} of {len(lines)} expectations)")
            print("\n".join(bad))
            print("  labels the plugin printed:")
            print("\n".join("    " + r for r in cap.table().splitlines()))
        else:
            print(f"ok   {name} ({len(lines)} expectations)")
    if mutate:
        if mut_survivors:
            print("FAIL mutation check: these expectations cannot fail:")
            print("\n".join("  " + s for s in mut_survivors))
        else:
            print(f"ok   mutation check: every expectation fails when negated")
    print(f"checklab: {len(names) - len(failed)}/{len(names)} captures pass, {total} expectations")
    return 1 if failed or mut_survivors else 0


if __name__ == "__main__":
    sys.exit(main())
