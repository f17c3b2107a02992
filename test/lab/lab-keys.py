#!/usr/bin/python3
"""Write Wireshark IKE decryption tables from a charon level-4 'ike' log.

Debian's strongSwan has no save-keys plugin, but at log level 4 charon prints the IKEv1 encryption
key ("encryption key Ka") and the IKEv2 keys ("Sk_ei secret" ...) as hex dumps, tagged <conn|N> with
the IKE SA's unique id.

IKEv1: to tie an IKE SA to its cookies seen in the capture we look for them in the same SA's other
dumps (HASH_I data contains both cookies) instead of guessing by order.

IKEv2: the keys of an IKE SA created by a CREATE_CHILD_SA rekey are logged under the *old* SA's tag
and no dump of that SA carries its SPIs, so the tag cannot be trusted. Instead every key set
(Sk_d ... Sk_pr, one derivation) is tried against the capture: a key set belongs to an SPI pair when
its SK_ai (messages from the original initiator) or SK_ar (from the original responder) verifies the
integrity checksum (ICV) of an encrypted message (SK or SKF payload) sent under that pair.

ESP (kernel-libipsec scenarios, where ESP really flows): at level 4 of 'chd' charon prints each CHILD_SA
key derivation ("encryption initiator key", "integrity responder key" ...). Each ESP SPI seen in the
capture (ESP-in-UDP) gets the initiator or responder key pair whose integrity key verifies the ICV of
its first packet; written as Wireshark's esp_sa UAT (needs -o esp.enable_encryption_decode:TRUE).
Encryption is taken to be AES-CBC (the lab's esp_proposals), the integrity algorithm from the key length.

usage: lab-keys.py KEYS.LOG CAPTURE OUTPREFIX   -> OUTPREFIX.ikev1_decryption_table / .ikev2_... / .esp_sa
"""
import hashlib
import hmac
import re
import subprocess
import sys
from collections import defaultdict

# IKEv2 algorithm names as Wireshark's ikev2_decryption_table UAT spells them, keyed by key length
ENCR_V2 = {16: "AES-CBC-128 [RFC3602]", 24: "AES-CBC-192 [RFC3602]", 32: "AES-CBC-256 [RFC3602]"}
INTEG_V2 = {20: "HMAC_SHA1_96 [RFC2404]", 32: "HMAC_SHA2_256_128 [RFC4868]",
            48: "HMAC_SHA2_384_192 [RFC4868]", 64: "HMAC_SHA2_512_256 [RFC4868]"}
# integrity key length -> (hash, ICV length) for the same algorithms
ICV_V2 = {20: (hashlib.sha1, 12), 32: (hashlib.sha256, 16), 48: (hashlib.sha384, 24), 64: (hashlib.sha512, 32)}
# ESP (esp_sa UAT names, Wireshark 4.0): integrity key length -> (name, hash, ICV length)
INTEG_ESP = {20: ("HMAC-SHA-1-96 [RFC2404]", hashlib.sha1, 12), 32: ("HMAC-SHA-256-128 [RFC4868]", hashlib.sha256, 16),
             48: ("HMAC-SHA-384-192 [RFC4868]", hashlib.sha384, 24), 64: ("HMAC-SHA-512-256 [RFC4868]", hashlib.sha512, 32)}
V2_KEYS = ("Sk_d secret", "Sk_ai secret", "Sk_ar secret", "Sk_ei secret", "Sk_er secret")


def parse_log(path):
    """-> {sa_id: [(label, bytes), ...]} in log order"""
    dumps = defaultdict(list)
    cur = None
    head = re.compile(r"<[^|>]*\|(\d+)> (.*?) => (\d+) bytes @ 0x[0-9a-f]+$")
    row = re.compile(r"<[^|>]*\|(\d+)>\s+\d+: ((?:[0-9A-F]{2} )+)")
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = head.search(line)
            if m:
                cur = [m.group(2), bytearray(), int(m.group(3))]
                dumps[int(m.group(1))].append(cur)
                continue
            m = row.search(line)
            if m and cur is not None:
                cur[1] += bytes.fromhex(m.group(2).replace(" ", ""))
            else:
                cur = None
    return {sa: [(lbl, bytes(b[:n])) for lbl, b, n in v] for sa, v in dumps.items()}


def v2_key_sets(path):
    """-> [{label: bytes}] one per IKEv2 key derivation, in log order (per thread: a derivation's
    dumps come from one thread, starting with Sk_d)."""
    head = re.compile(r"(\d+)\[\w+\] <[^>]*> (Sk_\w+ secret) => (\d+) bytes @ 0x[0-9a-f]+$")
    row = re.compile(r"(\d+)\[\w+\] <[^>]*>\s+\d+: ((?:[0-9A-F]{2} )+)")
    sets, open_by_thread, cur = [], {}, None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = head.search(line)
            if m:
                thread, label, n = m.group(1), m.group(2), int(m.group(3))
                if label == "Sk_d secret" or thread not in open_by_thread:
                    open_by_thread[thread] = {}
                    sets.append(open_by_thread[thread])
                cur = [open_by_thread[thread], label, bytearray(), n]
                continue
            m = row.search(line)
            if m and cur is not None:
                cur[2] += bytes.fromhex(m.group(2).replace(" ", ""))
                cur[0][cur[1]] = bytes(cur[2][:cur[3]])
            else:
                cur = None
    return [s for s in sets if all(k in s for k in V2_KEYS)]


def capture_packets(cap):
    """One tshark run for what the key matching reads (a tshark start costs more than a lab capture):
    -> [(protocols, ispi, rspi, ip.src, ip.dst, UDP payload)] of ISAKMP and ESP-in-UDP packets."""
    out = subprocess.run(["tshark", "-r", cap, "-Y", "isakmp or (esp and udp)", "-T", "fields",
                          "-e", "frame.protocols", "-e", "isakmp.ispi", "-e", "isakmp.rspi", "-e", "ip.src",
                          "-e", "ip.dst", "-e", "udp.payload"], capture_output=True, text=True, check=True).stdout
    return [tuple((line.split("\t") + [""] * 6)[:6]) for line in out.splitlines() if line.strip()]


def ike_outside_icmp(pkts):
    return [p for p in pkts if "isakmp" in p[0].split(":") and "icmp" not in p[0]]


def capture_v2_encrypted(pkts):
    """-> [(ispi, rspi, from_original_initiator, ike_message_bytes)] for IKEv2 messages with SK/SKF"""
    msgs = []
    for p in ike_outside_icmp(pkts):
        b = bytes.fromhex(p[5].split(",")[0])
        if len(b) >= 4 and b[:4] == b"\0\0\0\0":   # non-ESP marker (UDP 4500)
            b = b[4:]
        if len(b) < 28 or b[17] != 0x20 or b[16] not in (46, 53):
            continue
        length = int.from_bytes(b[24:28], "big")
        msgs.append((b[0:8].hex(), b[8:16].hex(), bool(b[19] & 0x08), b[:length]))
    return msgs


def icv_ok(keyset, initiator, msg):
    key = keyset["Sk_ai secret" if initiator else "Sk_ar secret"]
    if len(key) not in ICV_V2:
        return False
    algo, n = ICV_V2[len(key)]
    return len(msg) > n and hmac.compare_digest(hmac.new(key, msg[:-n], algo).digest()[:n], msg[-n:])


def v2_rows(log, pkts):
    sets, rows, done = v2_key_sets(log), [], set()
    for i, r, initiator, msg in capture_v2_encrypted(pkts):
        if (i, r) in done:
            continue
        for ks in sets:
            if icv_ok(ks, initiator, msg):
                ei, er, ai, ar = (ks[k] for k in ("Sk_ei secret", "Sk_er secret", "Sk_ai secret", "Sk_ar secret"))
                if len(ei) not in ENCR_V2 or len(ai) not in INTEG_V2:
                    print(f"lab-keys: IKEv2 SA {i}/{r}: unsupported key lengths", file=sys.stderr)
                    break
                # UAT syntax: hex fields bare, enum (algorithm) fields quoted
                rows.append(",".join((i, r, ei.hex(), er.hex(), f'"{ENCR_V2[len(ei)]}"',
                                      ai.hex(), ar.hex(), f'"{INTEG_V2[len(ai)]}"')))
                done.add((i, r))
                break
        else:
            print(f"lab-keys: IKEv2 SA {i}/{r}: no logged key set verifies its messages", file=sys.stderr)
            done.add((i, r))
    return rows


def esp_key_pairs(dumps):
    """-> [(encryption key, integrity key)] for every CHILD_SA derivation, both directions"""
    pairs = []
    for items in dumps.values():
        cur = {}
        for lbl, b in items:
            if lbl in ("encryption initiator key", "encryption responder key",
                       "integrity initiator key", "integrity responder key"):
                if lbl in cur:   # a new derivation (rekey) under the same IKE SA
                    cur = {}
                cur[lbl] = b
                for side in ("initiator", "responder"):
                    e, i = cur.get(f"encryption {side} key"), cur.get(f"integrity {side} key")
                    if e is not None and i is not None and (e, i) not in pairs:
                        pairs.append((e, i))
    return pairs


def esp_rows(dumps, pkts):
    keys, rows, done = esp_key_pairs(dumps), [], set()
    for protocols, _, _, src, dst, payload in pkts:
        layers = protocols.split(":")
        if "udp" not in layers or "esp" not in layers or not payload:
            continue
        esp = bytes.fromhex(payload.split(",")[0])
        spi = esp[:4].hex()
        if spi in done or len(esp) < 8:
            continue
        done.add(spi)
        for enc, integ in keys:
            if len(integ) not in INTEG_ESP or len(enc) not in (16, 24, 32):
                continue
            name, algo, n = INTEG_ESP[len(integ)]
            if len(esp) > n and hmac.compare_digest(hmac.new(integ, esp[:-n], algo).digest()[:n], esp[-n:]):
                rows.append(",".join(f'"{v}"' for v in ("IPv4", src, dst, "0x" + spi, "AES-CBC [RFC3602]",
                                                        "0x" + enc.hex(), name, "0x" + integ.hex())))
                break
        else:
            print(f"lab-keys: ESP SPI {spi}: no logged key verifies its ICV", file=sys.stderr)
    return rows


def capture_spis(pkts):
    pairs = []
    for p in ike_outside_icmp(pkts):
        i, r = p[1].split(",")[0], p[2].split(",")[0]
        if i and r and int(r, 16) != 0 and (i, r) not in pairs:
            pairs.append((i, r))
    return pairs


def main():
    log, cap, prefix = sys.argv[1:4]
    dumps = parse_log(log)
    pkts = capture_packets(cap)
    pairs = capture_spis(pkts)
    v1, v2 = [], v2_rows(log, pkts)
    for sa, items in sorted(dumps.items()):
        keys = {lbl: b for lbl, b in items}
        blob = b"".join(b for _, b in items).hex()
        found = [(i, r) for i, r in pairs if i + r in blob]
        if not found:
            continue
        i, r = found[0]
        if "encryption key Ka" in keys:
            v1.append(f'{i},{keys["encryption key Ka"].hex()}')
    esp = esp_rows(dumps, pkts)
    for ext, rows in (("ikev1_decryption_table", v1), ("ikev2_decryption_table", v2), ("esp_sa", esp)):
        if rows:
            with open(f"{prefix}.{ext}", "w") as f:
                f.write("# Wireshark UAT; generated by test/lab/lab-keys.py from charon's log\n")
                f.write("\n".join(rows) + "\n")
    print(f"lab-keys: {len(v1)} IKEv1 and {len(v2)} IKEv2 SA key(s)" + (f", {len(esp)} ESP SA key(s)" if esp else "")
          + " written", file=sys.stderr)


if __name__ == "__main__":
    main()
