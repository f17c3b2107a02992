#!/usr/bin/env python3
"""mutate.py — the mutations of fuzz-mutations.sh, written as pcapng.

  mutate.py SEED K IN OUT [--no-timeshift]                    mutation K of run seed SEED, of IN
  mutate.py --batch SEED FIRST END CORPUS OUTDIR [--no-timeshift]
      mutations FIRST..END-1: mutation K of capture K mod N of CORPUS (one path a line) into
      OUTDIR/mK.pcapng; a capture it cannot read is left out (exit 0)

Mutation K's parameters all derive from (SEED, K): byte errors (each byte from an offset on,
with a probability, becomes a flipped bit, a random byte, a letter or digit, "%s", or starts a run
of 0xAA to the end of the packet: editcap -E's kinds and weights), sometimes truncated packets, a
dropped frame (a lost message), or a far-future time shift (year 2286). One process writes a whole
batch: editcap, one process per capture, cost half of the fuzzing's CPU.
"""
import math
import random
import struct
import sys

ALNUM = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SHIFT_S = 10_000_000_000


class Mutation:
    def __init__(self, seed, k, timeshift=True):
        h = (seed * 1000003 + k) * 2654435761 % 4294967291
        self.prob = (0.002, 0.01, 0.03, 0.08)[h % 4]
        self.offset = (42, 42, 46, 70, 0)[(h // 4) % 5]
        self.snap = 40 + (h // 100) % 300 if (h // 20) % 5 == 0 else None
        self.shift = timeshift and (h // 14000) % 400 == 0
        h = (seed * 7919 + k) * 40503 % 65521
        self.drop = 1 + h % 7 if h % 6 == 0 else None  # frame number, from 1
        self.rng = random.Random(seed * 100000 + k)
        self.log_q = math.log(1.0 - self.prob)

    def data(self, buf):
        """The packet's bytes, truncated and with errors."""
        if self.snap is not None:
            buf = buf[:self.snap]
        buf = bytearray(buf)
        n, rng, i = len(buf), self.rng, self.offset
        while True:
            # The gap to the next error: geometric, so the cost follows the errors, not the bytes.
            i += int(math.log(1.0 - rng.random()) / self.log_q)
            if i >= n:
                return bytes(buf)
            kind = rng.randrange(18)
            if kind < 5:
                buf[i] ^= 1 << rng.randrange(8)
            elif kind < 10:
                buf[i] = rng.randrange(256)
            elif kind < 15:
                buf[i] = ALNUM[rng.randrange(len(ALNUM))]
            elif kind < 17:
                if i < n - 2:
                    buf[i:i + 2] = b"%s"
            else:
                buf[i:] = b"\xaa" * (n - i)
                return bytes(buf)
            i += 1


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def block(e, btype, body):
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def from_pcap(raw, m):
    e = "<" if raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = raw[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    snaplen, network = struct.unpack_from(e + "II", raw, 16)
    out = [block("<", 0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
           block("<", 1, struct.pack("<HHI", network & 0xFFFF, 0, snaplen) +
                 (struct.pack("<HHB3xHH", 9, 1, 9, 0, 0) if nano else b""))]
    unit = 10**9 if nano else 10**6
    pos, num = 24, 0
    while pos + 16 <= len(raw):
        sec, frac, incl, orig = struct.unpack_from(e + "IIII", raw, pos)
        data = raw[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        num += 1
        if num == m.drop:
            continue
        ts = (sec * unit + frac + (SHIFT_S * unit if m.shift else 0)) % 2**64
        data = m.data(data)
        out.append(block("<", 6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), orig) + pad4(data)))
    return b"".join(out)


def from_pcapng(raw, m):
    out, pos, num, e, resol = [], 0, 0, "<", []
    while pos + 12 <= len(raw):
        if raw[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":  # a section: its byte order, its interfaces
            e = "<" if raw[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            resol = []
        btype, blen = struct.unpack_from(e + "II", raw, pos)
        if blen < 12 or pos + blen > len(raw):
            raise ValueError("bad block length")
        body = raw[pos + 8:pos + blen - 4]
        pos += blen
        if btype == 1:  # IDB: the time resolution (if_tsresol, option 9; default microseconds)
            unit, o = 10**6, 8
            while o + 4 <= len(body):
                code, olen = struct.unpack_from(e + "HH", body, o)
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    v = body[o + 4]
                    unit = 2**(v & 0x7F) if v & 0x80 else 10**v
                o += 4 + olen + (-olen % 4)
            resol.append(unit)
        if btype not in (2, 3, 6):
            out.append(raw[pos - blen:pos])
            continue
        num += 1
        if num == m.drop:
            continue
        if btype == 3:  # simple packet block: original length, then the data
            orig, = struct.unpack_from(e + "I", body)
            data = m.data(body[4:4 + orig])
            out.append(block(e, 3, struct.pack(e + "I", orig) + pad4(data)))
            continue
        # EPB (6): interface u32; obsolete packet block (2): interface u16, drops u16. Then as EPB.
        iface = struct.unpack_from(e + ("I" if btype == 6 else "H"), body)[0]
        th, tl, cap, orig = struct.unpack_from(e + "IIII", body, 4)
        data, opts = body[20:20 + cap], body[20 + cap + (-cap % 4):]
        ts = th << 32 | tl
        if m.shift:
            ts = (ts + SHIFT_S * (resol[iface] if iface < len(resol) else 10**6)) % 2**64
        data = m.data(data)
        out.append(block(e, btype, body[:4] + struct.pack(e + "IIII", ts >> 32, ts & 0xFFFFFFFF, len(data), orig) +
                         pad4(data) + opts))
    return b"".join(out)


def mutate(seed, k, src, dst, timeshift):
    with open(src, "rb") as f:
        raw = f.read()
    m = Mutation(seed, k, timeshift)
    if raw[:4] == b"\x0a\x0d\x0d\x0a":
        out = from_pcapng(raw, m)
    elif raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        out = from_pcap(raw, m)
    else:
        raise ValueError("neither pcap nor pcapng")
    with open(dst, "wb") as f:
        f.write(out)


def main(argv):
    timeshift = "--no-timeshift" not in argv
    argv = [a for a in argv if a != "--no-timeshift"]
    if len(argv) == 6 and argv[0] == "--batch":
        seed, first, end = int(argv[1]), int(argv[2]), int(argv[3])
        with open(argv[4]) as f:
            corpus = f.read().splitlines()
        for k in range(first, end):
            try:
                mutate(seed, k, corpus[k % len(corpus)], f"{argv[5]}/m{k}.pcapng", timeshift)
            except (OSError, ValueError, struct.error, IndexError) as e:
                print(f"mutate.py: capture {k} ({corpus[k % len(corpus)]}) left out: {e}", file=sys.stderr)
        return 0
    if len(argv) == 4:
        mutate(int(argv[0]), int(argv[1]), argv[2], argv[3], timeshift)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
