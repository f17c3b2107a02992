#!/usr/bin/env python3
"""mismatch.py CAPTURES_DIR — ikestate.mismatch names the actual difference on the lab captures,
derived from each sidecar's config lines (`ike=` of initiator and responder), not from the plugin's
output: every item of the initiator's first proposal is named as offered; on INVALID_KE_PAYLOAD
the responder's group is the one asked for and the initiator's first group the KE sent; where the
same responder accepted a proposal earlier in the capture (lab-mismatch-*: the sidecar's "first
offer"), exactly the items in which the refused offer differs from it are named, each with both
values. With keys, the same for the child SA (lab-mismatch-v*-esp-*, -pfs, -ts: the sidecar's
"first offer: esp=" or "remote_ts=" against the initiator's esp= and TS): the ESP items or the
selector side that differ. Where each side initiated once and refused the other
(lab-mismatch-v*-own-offer), the second refusal names the items that differ from the refusing side's
own offer."""
import os, re, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
caps = sys.argv[1]
# strongSwan proposal keywords -> the IANA names the plugin prints (IKEv1 hash / IKEv2 integrity).
ENCR = {"aes128": "AES-CBC-128", "aes192": "AES-CBC-192", "aes256": "AES-CBC-256", "3des": "3DES"}
HASH = {"sha1": ("SHA1", "HMAC-SHA1-96"), "sha256": ("SHA2-256", "HMAC-SHA2-256-128"),
        "sha384": ("SHA2-384", "HMAC-SHA2-384-192"), "sha512": ("SHA2-512", "HMAC-SHA2-512-256")}
GROUP = {"modp1024": "MODP-1024", "modp2048": "MODP-2048", "modp3072": "MODP-3072", "ecp256": "ECP-256",
         "ecp384": "ECP-384", "x25519": "CURVE25519"}

def configs(md):
    out = {}
    for line in open(md):
        m = re.match(r"- (initiator|responder): .*?ike=([^,\s]+(?:,[^=\s]+)*?), esp=", line)
        if m:
            out[m.group(1)] = [p.split("-") for p in m.group(2).split(",")]
    return out

def names(prop, v2):
    encr, hsh, grp = prop
    return [ENCR[encr], HASH[hsh][1 if v2 else 0], GROUP[grp]]

def key_options(cap):
    """-o uat:… for the capture's key tables in captures/keys (none: no options)."""
    base = os.path.splitext(os.path.basename(cap))[0]
    kdir = os.path.join(os.path.dirname(cap), "keys")
    opts = []
    for f in sorted(os.listdir(kdir)) if os.path.isdir(kdir) else []:
        if f.startswith(base + "."):
            opts += [x for row in open(os.path.join(kdir, f)) if not row.startswith("#") and row.strip()
                     for x in ("-o", f"uat:{f[len(base) + 1:]}:{row.strip()}")]
    return opts

def mismatch(cap, keys=False):
    r = subprocess.run([os.path.join(here, "tshark-plugin.sh"), cap] + (key_options(cap) if keys else []) +
                       ["-2", "-T", "fields", "-e", "ikestate.mismatch"], capture_output=True, text=True, check=True)
    return [l for l in r.stdout.splitlines() if l.strip()]

def kinds(proposal, v2, child=False):
    """strongSwan keywords -> {kind: IANA name} as the plugin names the kinds of an item; child: of an
    ESP proposal (its group is the PFS group, no PRF, IKEv1 integrity as HMAC-…)."""
    out = {}
    for word in proposal.split("-"):
        if word in ENCR:
            out["encryption"] = ENCR[word]
        elif word in GROUP:
            out["PFS group" if child else "DH group"] = GROUP[word]
        elif word.startswith("prf") and word[3:] in HASH and not child:
            out["PRF"] = "PRF-HMAC-" + HASH[word[3:]][0]
        elif word in HASH and child:
            out["integrity"] = HASH[word][1] if v2 else "HMAC-" + HASH[word][0]
        elif word in HASH and v2:
            out["integrity"] = HASH[word][1]
            out.setdefault("PRF", "PRF-HMAC-" + HASH[word][0])
        elif word in HASH:
            out["hash"] = HASH[word][0]
        else:
            raise SystemExit(f"unknown strongSwan keyword {word} in {proposal}")
    return out

def first_offer(md, what="ike"):
    for line in open(md):
        m = re.match(r"- first offer: " + what + r"=(\S+) \(accepted", line)
        if m:
            return m.group(1)
    raise SystemExit(f"{md}: no first offer line ({what}=)")

def side_line(md, side):
    """(address, esp proposal, local TS, remote TS) of a sidecar's strongSwan line."""
    for line in open(md):
        m = re.match(r"- " + side + r": strongSwan \S+ charon at (\S+): .*, esp=([^,\s]+), TS (\S+) === (\S+)", line)
        if m:
            return m.groups()
    raise SystemExit(f"{md}: no {side} line")

fail = 0
for name in sorted(f[:-3] for f in os.listdir(caps) if re.match(r"lab-mismatch-v[12]-(esp-|pfs|ts).*\.md$", f)):
    v2 = "-v2-" in name
    md = os.path.join(caps, name + ".md")
    addr_r = side_line(md, "responder")[0]
    _, esp_i, _, rts_i = side_line(md, "initiator")
    texts = mismatch(os.path.join(caps, name + ".pcapng"), keys=True)
    if name.endswith("-ts"):
        accepted = first_offer(md, "remote_ts")
        want = [f"the side of {addr_r} differs ({rts_i} proposed, {accepted} accepted)"] if rts_i != accepted else []
    else:
        accepted, offered = kinds(first_offer(md, "esp"), v2, True), kinds(esp_i, v2, True)
        want = [f"the {k} differs ({offered.get(k, 'none')} offered, {accepted.get(k, 'none')} accepted)"
                for k in sorted(set(accepted) | set(offered)) if offered.get(k) != accepted.get(k)]
    ok = len(texts) == 1 and len(want) >= 1 and "; it accepted " in texts[0]
    ok = ok and texts[0].count(" differs (") == len(want) and all(w in texts[0] for w in want)
    print(("ok" if ok else "FAIL") + f": {name} (keys): {want}: {texts}")
    fail |= not ok
# Each side initiated once and refused the other (lab-mismatch-v*-own-offer): the second refusal,
# by the responder side, is compared with that side's own offer (its ike= line); the first names none.
for name in sorted(f[:-3] for f in os.listdir(caps) if re.match(r"lab-mismatch-v[12]-own-offer\.md$", f)):
    v2 = "-v2-" in name
    cfg = configs(os.path.join(caps, name + ".md"))
    own = kinds("-".join(cfg["responder"][0]), v2)
    offered = kinds("-".join(cfg["initiator"][0]), v2)
    want = [f"the {k} differs ({offered[k]} offered, {own[k]} its own)" for k in own if offered.get(k) != own[k]]
    texts = mismatch(os.path.join(caps, name + ".pcapng"))
    ok = len(texts) == 2 and "itself" not in texts[0] and "; it offers " in texts[1] and len(want) >= 1
    ok = ok and texts[1].count(" differs (") == len(want) and all(w in texts[1] for w in want)
    print(("ok" if ok else "FAIL") + f": {name}: {want}: {texts}")
    fail |= not ok
# strongSwan and libreswan (lab-ss-to-ls-mismatch: accepted first; lab-ls-to-ss-mismatch: own offer
# first): the items of the two sides' ike= lines (libreswan's "aes128-sha2_256;modp2048" spelling).
def ike_line(md, side):
    for line in open(md):
        m = re.match(r"- " + side + r": (strongSwan|libreswan) .*?ike=(\S+?),? ", line)
        if m:
            return m.group(2).replace("sha2_", "sha").replace(";", "-")
    raise SystemExit(f"{md}: no {side} ike= line")

for name, verb in (("lab-ss-to-ls-mismatch", "accepted"), ("lab-ls-to-ss-mismatch", "its own")):
    md = os.path.join(caps, name + ".md")
    theirs, offered = kinds(ike_line(md, "responder"), False), kinds(ike_line(md, "initiator"), False)
    want = [f"the {k} differs ({offered[k]} offered, {theirs[k]} {verb})" for k in theirs if offered.get(k) != theirs[k]]
    texts = [t for t in mismatch(os.path.join(caps, name + ".pcapng")) if " differs (" in t]
    ok = len(want) >= 1 and len(texts) >= 1 and all(t.count(" differs (") == len(want) and all(w in t for w in want) for t in texts)
    print(("ok" if ok else "FAIL") + f": {name}: {want}: {texts[:1]} ({len(texts)} refusals)")
    fail |= not ok
# IKEv1 authentication methods differ (lab-mismatch-v1-auth): the second refusal (at MM5, by the
# responder side) names the method chosen against the one of its own offer, from the sidecar's
# "RSA certificate" / "PSK" of each side.
for name in sorted(f[:-3] for f in os.listdir(caps) if re.match(r"lab-mismatch-v1-auth\.md$", f)):
    method = {}
    for line in open(os.path.join(caps, name + ".md")):
        m = re.match(r"- (initiator|responder): .*?IKEv1 main mode, (RSA certificate|PSK)", line)
        if m:
            method[m.group(1)] = "RSA-SIG" if m.group(2) == "RSA certificate" else "PSK"
    texts = mismatch(os.path.join(caps, name + ".pcapng"))
    want = f"the authentication differs ({method['initiator']} chosen, {method['responder']} its own)"
    ok = method["initiator"] != method["responder"] and len(texts) == 1 and want in texts[0]
    print(("ok" if ok else "FAIL") + f": {name}: {want!r}: {texts}")
    fail |= not ok
# A child SA refused with nothing to compare with: the initiator's own ESP offer or selectors.
for name, ts in (("lab-qm-proposal-mismatch", False), ("lab-qm-ts-mismatch", True), ("lab-ikev2-ts-mismatch", True)):
    md = os.path.join(caps, name + ".md")
    _, esp_i, lts_i, rts_i = side_line(md, "initiator")
    texts = mismatch(os.path.join(caps, name + ".pcapng"), keys=True)
    want = f"proposed {lts_i} === {rts_i} (" if ts else "offered " + "/".join(kinds(esp_i, False, True).values()) + "/TUNNEL"
    ok = len(texts) == 1 and texts[0].startswith(want) and "; it " not in texts[0]
    print(("ok" if ok else "FAIL") + f": {name} (keys): {want!r}: {texts}")
    fail |= not ok
for name in sorted(f[:-3] for f in os.listdir(caps) if re.match(r"lab-mismatch-v[12]-(dh|encr|hash|integ)\.md$", f)):
    v2 = "-v2-" in name
    cfg = configs(os.path.join(caps, name + ".md"))
    accepted = kinds(first_offer(os.path.join(caps, name + ".md")), v2)
    assert accepted == kinds("-".join(cfg["responder"][0]), v2), f"{name}: the first offer is the responder's"
    offered = kinds("-".join(cfg["initiator"][0]), v2)
    differ = [k for k in accepted if offered.get(k) != accepted[k]]
    texts = mismatch(os.path.join(caps, name + ".pcapng"))
    ok = len(texts) == 1 and len(differ) >= 1 and "; it accepted " in texts[0]
    ok = ok and texts[0].count(" differs (") == len(differ)
    ok = ok and all(f"the {k} differs ({offered[k]} offered, {accepted[k]} accepted)" in texts[0] for k in differ)
    print(("ok" if ok else "FAIL") + f": {name}: differs in {differ}: {texts}")
    fail |= not ok
for name, v2, ke in (("lab-mm-proposal-mismatch", False, False), ("lab-ikev2-proposal-mismatch", True, False),
                     ("lab-ikev2-invalid-ke", True, True)):
    cfg = configs(os.path.join(caps, name + ".md"))
    texts = mismatch(os.path.join(caps, name + ".pcapng"))
    ini = names(cfg["initiator"][0], v2)
    ok = len(texts) == 1
    if ok and ke:
        want, sent = GROUP[cfg["responder"][0][2]], ini[2]
        ok = f"asks for {want};" in texts[0] and f"KE sent was {sent};" in texts[0]
    elif ok:
        ok = texts[0].startswith("offered ") and all(n in texts[0] for n in ini)
        # The responder's items are not in the capture: they must not be claimed as offered.
        resp = names(cfg["responder"][0], v2)
        ok = ok and not any(n in texts[0] for n in resp if n not in ini)
    print(("ok" if ok else "FAIL") + f": {name}: {texts} (initiator {ini})")
    fail |= not ok
sys.exit(1 if fail else 0)
