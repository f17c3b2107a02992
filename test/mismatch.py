#!/usr/bin/env python3
"""mismatch.py CAPTURES_DIR — ikestate.mismatch names the actual difference on the lab captures,
derived from each sidecar's config lines (`ike=` of initiator and responder), not from the plugin's
output: every item of the initiator's first proposal is named as offered; on INVALID_KE_PAYLOAD
the responder's group is the one asked for and the initiator's first group the KE sent."""
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

def mismatch(cap):
    r = subprocess.run([os.path.join(here, "tshark-plugin.sh"), cap, "-2", "-T", "fields", "-e", "ikestate.mismatch"],
                       capture_output=True, text=True, check=True)
    return [l for l in r.stdout.splitlines() if l.strip()]

fail = 0
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
