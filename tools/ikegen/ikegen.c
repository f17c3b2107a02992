/*
 * ikegen - deterministic synthetic IKEv1 (ISAKMP) and IKEv2 capture generator for the
 * ikestate project.
 *
 *   ikegen SCENARIO OUT.pcap        write one named scenario
 *   ikegen --list                   list scenarios with a one-line description
 *   ikegen --mix N [--seed S] [--ike-percent P] [--esp-packets K] OUT.pcap
 *                                   ~N packets of interleaved negotiations
 *                                   plus background non-IKE UDP/TCP traffic
 *                                   (P % of the packets in IKE flows, default 60)
 *   ikegen --flood N [--seed S] [--rate R] OUT.pcap
 *                                   N MM1 with distinct initiator cookies
 *                                   (cookie flood, R a second, default
 *                                   100000) + 4 complete negotiations
 *
 * Output is fully deterministic: a fixed-seed PRNG (splitmix64, seeded from
 * the scenario name or --seed), timestamps starting at 2026-01-01T00:00:00Z
 * and nothing taken from the clock or the environment.  Frames are
 * Ethernet + IPv4/IPv6 + UDP (or ICMP/ICMPv6/TCP), with correct lengths and
 * IPv4 header, UDP, TCP and ICMP checksums.  Addresses come only from the
 * documentation ranges 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and
 * 2001:db8::/32.
 *
 * ISAKMP messages follow RFC 2408/2409 (IKEv1); encrypted messages carry
 * pseudo-random bytes (a multiple of 16) after the header.  NAT-T follows
 * RFC 3947/3948 (UDP 4500, non-ESP marker, 0xff keepalives, ESP-in-UDP).
 */
#define _DEFAULT_SOURCE /* u_char etc. for pcap.h under -std=c11 */

#include <arpa/inet.h>
#include <glib.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-01-01T00:00:00Z */
#define EPOCH_2026 1767225600ULL

/* ------------------------------------------------------------------------ */
/* PRNG (splitmix64)                                                        */
/* ------------------------------------------------------------------------ */

static guint64 rng_state;

static guint64 rnd64(void)
{
    guint64 z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static guint32 rnd32(void) { return (guint32)(rnd64() >> 32); }

/* uniform-ish integer in [lo, hi] */
static guint32 rnd_range(guint32 lo, guint32 hi)
{
    return lo + (guint32)(rnd64() % ((guint64)hi - lo + 1));
}

static void rnd_fill(guint8 *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (guint8)(rnd64() >> 56);
}

static guint32 rnd_nonzero32(void)
{
    guint32 v;
    do {
        v = rnd32();
    } while (v == 0);
    return v;
}

static guint64 seed_from_string(const char *s)
{
    guint64 h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (guint8)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ------------------------------------------------------------------------ */
/* Byte helpers                                                             */
/* ------------------------------------------------------------------------ */

static void ba_u8(GByteArray *b, guint8 v) { g_byte_array_append(b, &v, 1); }

static void ba_u16(GByteArray *b, guint16 v)
{
    guint8 t[2] = { (guint8)(v >> 8), (guint8)v };
    g_byte_array_append(b, t, 2);
}

static void ba_u32(GByteArray *b, guint32 v)
{
    guint8 t[4] = { (guint8)(v >> 24), (guint8)(v >> 16), (guint8)(v >> 8), (guint8)v };
    g_byte_array_append(b, t, 4);
}

static void ba_bytes(GByteArray *b, const guint8 *p, size_t n)
{
    g_byte_array_append(b, p, (guint)n);
}

static void ba_rand(GByteArray *b, size_t n)
{
    guint oldlen = b->len;
    g_byte_array_set_size(b, oldlen + (guint)n);
    rnd_fill(b->data + oldlen, n);
}

static void put16(guint8 *p, guint16 v)
{
    p[0] = (guint8)(v >> 8);
    p[1] = (guint8)v;
}

static void put32(guint8 *p, guint32 v)
{
    p[0] = (guint8)(v >> 24);
    p[1] = (guint8)(v >> 16);
    p[2] = (guint8)(v >> 8);
    p[3] = (guint8)v;
}

static void ba_hex(GByteArray *b, const char *hex)
{
    while (hex[0] && hex[1]) {
        unsigned v;
        char t[3] = { hex[0], hex[1], 0 };
        v = (unsigned)strtoul(t, NULL, 16);
        ba_u8(b, (guint8)v);
        hex += 2;
    }
}

static guint32 csum_add(guint32 sum, const guint8 *p, size_t n)
{
    size_t i;
    for (i = 0; i + 1 < n; i += 2)
        sum += (guint32)((p[i] << 8) | p[i + 1]);
    if (i < n)
        sum += (guint32)(p[i] << 8);
    return sum;
}

static guint16 csum_fin(guint32 sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (guint16)~sum;
}

/* ------------------------------------------------------------------------ */
/* Packet store and pcap output                                             */
/* ------------------------------------------------------------------------ */

typedef struct {
    guint64 ts_us;   /* microseconds since EPOCH_2026 */
    guint32 seq;     /* emission order, tie-breaker for the sort */
    guint32 len;     /* original length */
    guint32 caplen;  /* captured length (<= len) */
    guint8 *data;
} Pkt;

static GArray *pkts;
static guint32 pkt_seq;
static guint64 now_us; /* current emission time */

static void store_frame(const guint8 *frame, size_t len, size_t caplen)
{
    Pkt p;
    p.ts_us = now_us;
    p.seq = pkt_seq++;
    p.len = (guint32)len;
    p.caplen = (guint32)(caplen && caplen < len ? caplen : len);
    p.data = g_memdup2(frame, p.caplen);
    g_array_append_val(pkts, p);
}

static gint pkt_cmp(gconstpointer a, gconstpointer b)
{
    const Pkt *x = a, *y = b;
    if (x->ts_us != y->ts_us)
        return x->ts_us < y->ts_us ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

/*
 * Output: packets are collected in pkts, then sorted by (timestamp, emission
 * order) and written.  Large --mix runs flush incrementally: everything
 * strictly older than the start of the flow being generated can no longer be
 * preceded by a new packet.
 */
static pcap_t *out_pd;
static pcap_dumper_t *out_dumper;
static guint64 pkts_written;

static int out_open(const char *path)
{
    out_pd = pcap_open_dead(DLT_EN10MB, 262144);
    if (!out_pd) {
        fprintf(stderr, "ikegen: pcap_open_dead failed\n");
        return 1;
    }
    out_dumper = pcap_dump_open(out_pd, path);
    if (!out_dumper) {
        fprintf(stderr, "ikegen: %s: %s\n", path, pcap_geterr(out_pd));
        pcap_close(out_pd);
        out_pd = NULL;
        return 1;
    }
    pkts_written = 0;
    return 0;
}

/* write (and drop) all stored packets with ts_us < limit */
static void out_flush_before(guint64 limit)
{
    guint i;
    g_array_sort(pkts, pkt_cmp);
    for (i = 0; i < pkts->len; i++) {
        Pkt *p = &g_array_index(pkts, Pkt, i);
        if (p->ts_us >= limit)
            break;
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof h);
        h.ts.tv_sec = (time_t)(EPOCH_2026 + p->ts_us / 1000000ULL);
        h.ts.tv_usec = (suseconds_t)(p->ts_us % 1000000ULL);
        h.caplen = p->caplen;
        h.len = p->len;
        pcap_dump((u_char *)out_dumper, &h, p->data);
        g_free(p->data);
    }
    pkts_written += i;
    g_array_remove_range(pkts, 0, i);
}

static int out_close(void)
{
    out_flush_before(G_MAXUINT64);
    int rc = 0;
    if (pcap_dump_flush(out_dumper) != 0) {
        fprintf(stderr, "ikegen: write error\n");
        rc = 1;
    }
    pcap_dump_close(out_dumper);
    pcap_close(out_pd);
    out_dumper = NULL;
    out_pd = NULL;
    return rc;
}

static void free_pkts(void)
{
    for (guint i = 0; i < pkts->len; i++)
        g_free(g_array_index(pkts, Pkt, i).data);
    g_array_set_size(pkts, 0);
}

/* time helpers */
static void wait_ms(guint32 lo, guint32 hi) { now_us += (guint64)rnd_range(lo * 1000, hi * 1000); }
static void wait_s(double s) { now_us += (guint64)(s * 1e6) + rnd_range(0, 20000); }

/* ------------------------------------------------------------------------ */
/* Endpoints, IP and UDP                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    int v6;
    guint8 addr[16];
    guint8 mac[6];
    guint16 ipid;
    guint8 ttl;
} Ep;

static GPtrArray *all_eps;

static Ep *ep_new(const char *s)
{
    Ep *e = g_new0(Ep, 1);
    if (inet_pton(AF_INET, s, e->addr) == 1) {
        e->v6 = 0;
    } else if (inet_pton(AF_INET6, s, e->addr) == 1) {
        e->v6 = 1;
    } else {
        fprintf(stderr, "ikegen: bad address %s\n", s);
        exit(2);
    }
    guint64 h = seed_from_string(s);
    e->mac[0] = 0x02; /* locally administered, unicast */
    e->mac[1] = 0x00;
    for (int i = 2; i < 6; i++)
        e->mac[i] = (guint8)(h >> (8 * i));
    e->ipid = (guint16)(h >> 16);
    e->ttl = (h & 1) ? 64 : 255;
    g_ptr_array_add(all_eps, e);
    return e;
}

/*
 * Build and store one frame: Ethernet + IP + l4 payload (already complete,
 * with checksum).  Returns the IP datagram (caller frees) when want_ip.
 * caplen_limit: 0 = whole frame captured, otherwise snap at this many bytes.
 */
static GByteArray *emit_ip(Ep *src, Ep *dst, guint8 proto, const guint8 *l4, size_t l4len,
                           size_t caplen_limit, int want_ip)
{
    GByteArray *f = g_byte_array_new();
    ba_bytes(f, dst->mac, 6);
    ba_bytes(f, src->mac, 6);
    ba_u16(f, src->v6 ? 0x86dd : 0x0800);
    guint iphdr = f->len;
    if (!src->v6) {
        ba_u8(f, 0x45);
        ba_u8(f, 0);
        ba_u16(f, (guint16)(20 + l4len));
        ba_u16(f, src->ipid++);
        ba_u16(f, 0);
        ba_u8(f, src->ttl);
        ba_u8(f, proto);
        ba_u16(f, 0);
        ba_bytes(f, src->addr, 4);
        ba_bytes(f, dst->addr, 4);
        put16(f->data + iphdr + 10, csum_fin(csum_add(0, f->data + iphdr, 20)));
    } else {
        ba_u32(f, 0x60000000);
        ba_u16(f, (guint16)l4len);
        ba_u8(f, proto);
        ba_u8(f, src->ttl);
        ba_bytes(f, src->addr, 16);
        ba_bytes(f, dst->addr, 16);
    }
    ba_bytes(f, l4, l4len);
    store_frame(f->data, f->len, caplen_limit);
    GByteArray *ip = NULL;
    if (want_ip) {
        ip = g_byte_array_new();
        ba_bytes(ip, f->data + iphdr, f->len - iphdr);
    }
    g_byte_array_free(f, TRUE);
    return ip;
}

static guint32 pseudo_sum(Ep *src, Ep *dst, guint8 proto, size_t l4len)
{
    guint32 sum = 0;
    guint8 t[8];
    if (!src->v6) {
        sum = csum_add(sum, src->addr, 4);
        sum = csum_add(sum, dst->addr, 4);
        t[0] = 0;
        t[1] = proto;
        put16(t + 2, (guint16)l4len);
        sum = csum_add(sum, t, 4);
    } else {
        sum = csum_add(sum, src->addr, 16);
        sum = csum_add(sum, dst->addr, 16);
        put32(t, (guint32)l4len);
        t[4] = t[5] = t[6] = 0;
        t[7] = proto;
        sum = csum_add(sum, t, 8);
    }
    return sum;
}

static GByteArray *emit_udp_ex(Ep *src, Ep *dst, guint16 sp, guint16 dp, const guint8 *pl, size_t plen,
                               size_t caplen_limit, int want_ip)
{
    GByteArray *u = g_byte_array_new();
    ba_u16(u, sp);
    ba_u16(u, dp);
    ba_u16(u, (guint16)(8 + plen));
    ba_u16(u, 0);
    ba_bytes(u, pl, plen);
    guint16 c = csum_fin(csum_add(pseudo_sum(src, dst, 17, u->len), u->data, u->len));
    put16(u->data + 6, c ? c : 0xffff);
    GByteArray *ip = emit_ip(src, dst, 17, u->data, u->len, caplen_limit ? caplen_limit : 0, want_ip);
    g_byte_array_free(u, TRUE);
    return ip;
}

static void emit_udp(Ep *src, Ep *dst, guint16 sp, guint16 dp, const guint8 *pl, size_t plen)
{
    emit_udp_ex(src, dst, sp, dp, pl, plen, 0, 0);
}

/* TCP segment (used for background traffic and IKE-over-TCP experiments) */
static void emit_tcp(Ep *src, Ep *dst, guint16 sp, guint16 dp, guint32 seq, guint32 ack, guint8 flags,
                     const guint8 *pl, size_t plen)
{
    GByteArray *t = g_byte_array_new();
    ba_u16(t, sp);
    ba_u16(t, dp);
    ba_u32(t, seq);
    ba_u32(t, ack);
    ba_u8(t, 5 << 4);
    ba_u8(t, flags);
    ba_u16(t, 64240);
    ba_u16(t, 0);
    ba_u16(t, 0);
    ba_bytes(t, pl, plen);
    put16(t->data + 16, csum_fin(csum_add(pseudo_sum(src, dst, 6, t->len), t->data, t->len)));
    emit_ip(src, dst, 6, t->data, t->len, 0, 0);
    g_byte_array_free(t, TRUE);
}

/* ICMP (type 3 code 3) / ICMPv6 (type 1 code 4) port unreachable quoting ipdg */
static void emit_port_unreach(Ep *from, Ep *to, const GByteArray *ipdg, size_t maxquote)
{
    GByteArray *m = g_byte_array_new();
    size_t q = MIN(ipdg->len, maxquote);
    if (!from->v6) {
        if (q > 576 - 28)
            q = 576 - 28; /* RFC 1812: as much as fits in 576 bytes */
        ba_u8(m, 3);
        ba_u8(m, 3);
        ba_u16(m, 0);
        ba_u32(m, 0);
        ba_bytes(m, ipdg->data, q);
        put16(m->data + 2, csum_fin(csum_add(0, m->data, m->len)));
        emit_ip(from, to, 1, m->data, m->len, 0, 0);
    } else {
        if (q > 1280 - 48)
            q = 1280 - 48; /* RFC 4443: must not exceed the minimum MTU */
        ba_u8(m, 1);
        ba_u8(m, 4);
        ba_u16(m, 0);
        ba_u32(m, 0);
        ba_bytes(m, ipdg->data, q);
        put16(m->data + 2, csum_fin(csum_add(pseudo_sum(from, to, 58, m->len), m->data, m->len)));
        emit_ip(from, to, 58, m->data, m->len, 0, 0);
    }
    g_byte_array_free(m, TRUE);
}

/* ------------------------------------------------------------------------ */
/* ISAKMP message construction                                              */
/* ------------------------------------------------------------------------ */

enum {
    PL_SA = 1, PL_P = 2, PL_T = 3, PL_KE = 4, PL_ID = 5, PL_HASH = 8, PL_NONCE = 10,
    PL_N = 11, PL_D = 12, PL_VID = 13, PL_ATTR = 14, PL_NATD = 20
};
enum { EX_MM = 2, EX_AM = 4, EX_INFO = 5, EX_TXN = 6, EX_QM = 32 };
enum { FL_E = 0x01, FL_C = 0x02 };

#define VID_NATT_RFC3947 "4a131c81070358455c5728f20e95452f"
#define VID_DPD          "afcad71368a1f1c96b8696fc77570100"
#define VID_CISCO_UNITY  "12f5f28c457168a9702d9fe274cc0100"
#define VID_XAUTH        "09002689dfd6b712"
#define VID_CISCO_FRAG   "4048b7d56ebce88525e7de7f00d6c2d3"

typedef struct {
    GByteArray *b;
    guint np; /* offset of the "next payload" byte to patch */
} Msg;

static Msg msg_new(const guint8 *ic, const guint8 *rc, guint8 exch, guint8 flags, guint32 mid)
{
    Msg m;
    m.b = g_byte_array_new();
    ba_bytes(m.b, ic, 8);
    ba_bytes(m.b, rc, 8);
    ba_u8(m.b, 0);    /* next payload, patched */
    ba_u8(m.b, 0x10); /* IKEv1 */
    ba_u8(m.b, exch);
    ba_u8(m.b, flags);
    ba_u32(m.b, mid);
    ba_u32(m.b, 0); /* length, patched */
    m.np = 16;
    return m;
}

static guint pl_begin(Msg *m, guint8 type)
{
    m->b->data[m->np] = type;
    guint off = m->b->len;
    m->np = off;
    ba_u8(m->b, 0);
    ba_u8(m->b, 0);
    ba_u16(m->b, 0);
    return off;
}

static void pl_end(Msg *m, guint off) { put16(m->b->data + off + 2, (guint16)(m->b->len - off)); }

static GByteArray *msg_finish(Msg *m)
{
    put32(m->b->data + 24, m->b->len);
    return m->b;
}

/* encrypted body: header np = first (encrypted) payload, then random bytes */
static GByteArray *msg_encrypted(Msg *m, guint8 first_np, guint nblocks)
{
    m->b->data[16] = first_np;
    ba_rand(m->b, 16 * (size_t)nblocks);
    return msg_finish(m);
}

typedef struct {
    guint16 enc, keylen, hash, auth, group;
} P1Transform;

static const P1Transform p1_transforms[] = {
    { 7, 256, 2, 1, 14 }, /* AES-256, SHA1, PSK, MODP2048 */
    { 7, 128, 2, 1, 5 },  /* AES-128, SHA1, PSK, MODP1536 */
    { 5, 0, 2, 1, 2 },    /* 3DES,    SHA1, PSK, MODP1024 */
    { 5, 0, 1, 1, 2 },    /* 3DES,    MD5,  PSK, MODP1024 */
};

static guint ke_len_for_group(guint16 g) { return g == 14 ? 256 : g == 5 ? 192 : 128; }

static void attr_tv(GByteArray *b, guint16 type, guint16 v)
{
    ba_u16(b, (guint16)(0x8000 | type));
    ba_u16(b, v);
}

/* SA payload: DOI IPsec, SIT_IDENTITY_ONLY, one ISAKMP proposal, nt transforms */
static void pl_sa(Msg *m, const int *tidx, int nt, guint32 lifetime)
{
    guint off = pl_begin(m, PL_SA);
    GByteArray *b = m->b;
    ba_u32(b, 1); /* DOI IPsec */
    ba_u32(b, 1); /* situation identity only */
    guint poff = b->len;
    ba_u8(b, 0); /* last proposal */
    ba_u8(b, 0);
    ba_u16(b, 0);
    ba_u8(b, 1);  /* proposal # */
    ba_u8(b, 1);  /* PROTO_ISAKMP */
    ba_u8(b, 0);  /* SPI size */
    ba_u8(b, (guint8)nt);
    for (int i = 0; i < nt; i++) {
        const P1Transform *t = &p1_transforms[tidx[i]];
        guint toff = b->len;
        ba_u8(b, i + 1 < nt ? PL_T : 0);
        ba_u8(b, 0);
        ba_u16(b, 0);
        ba_u8(b, (guint8)(tidx[i] + 1)); /* transform # */
        ba_u8(b, 1);                     /* KEY_IKE */
        ba_u16(b, 0);
        attr_tv(b, 1, t->enc);
        if (t->keylen)
            attr_tv(b, 14, t->keylen);
        attr_tv(b, 2, t->hash);
        attr_tv(b, 3, t->auth);
        attr_tv(b, 4, t->group);
        attr_tv(b, 11, 1); /* life type seconds */
        ba_u16(b, 12);     /* life duration, TLV, 4 bytes */
        ba_u16(b, 4);
        ba_u32(b, lifetime);
        put16(b->data + toff + 2, (guint16)(b->len - toff));
    }
    put16(b->data + poff + 2, (guint16)(b->len - poff));
    pl_end(m, off);
}

static void pl_blob(Msg *m, guint8 type, size_t n)
{
    guint off = pl_begin(m, type);
    ba_rand(m->b, n);
    pl_end(m, off);
}

static void pl_vid(Msg *m, const char *hex)
{
    guint off = pl_begin(m, PL_VID);
    ba_hex(m->b, hex);
    pl_end(m, off);
}

static void pl_id(Msg *m, const Ep *e)
{
    guint off = pl_begin(m, PL_ID);
    ba_u8(m->b, e->v6 ? 5 : 1); /* ID_IPV6_ADDR / ID_IPV4_ADDR */
    ba_u8(m->b, 17);            /* UDP */
    ba_u16(m->b, 500);
    ba_bytes(m->b, e->addr, e->v6 ? 16 : 4);
    pl_end(m, off);
}

static void pl_notify(Msg *m, guint16 type, const guint8 *spi, guint8 spisize)
{
    guint off = pl_begin(m, PL_N);
    ba_u32(m->b, 1); /* DOI IPsec */
    ba_u8(m->b, 1);  /* PROTO_ISAKMP */
    ba_u8(m->b, spisize);
    ba_u16(m->b, type);
    if (spisize)
        ba_bytes(m->b, spi, spisize);
    pl_end(m, off);
}

/* ------------------------------------------------------------------------ */
/* Negotiations and steps                                                   */
/* ------------------------------------------------------------------------ */

enum {
    S_NONE, S_MM1, S_MM2, S_MM3, S_MM4, S_MM5, S_MM6,
    S_AM1, S_AM2, S_AM3,
    S_QM1, S_QM2, S_QM3, S_QM4,
    S_INFO_I, S_INFO_R,
    S_TXN_REQ, S_TXN_REP, S_TXN_SET, S_TXN_ACK, S_CFG_REQ, S_CFG_REP,
    S_NPC,
    S_COUNT
};

typedef struct {
    Ep *ini, *rsp;
    guint16 iport, rport;  /* current UDP ports */
    int natt;              /* NAT detected: float to 4500 at MM5/AM3 */
    Ep *ini_inside;        /* initiator's address behind the NAT (NAT-D) */
    int floated;
    guint8 ic[8], rc[8];
    int tsel;              /* chosen phase-1 transform index */
    int am3_encrypted;
    guint8 qm_flags;       /* extra QM flags (commit bit) */
    int qm_by_rsp;         /* next QM started by the phase-1 responder */
    guint32 qm_mid, txn_mid, info_mid;
    guint32 esp_spi_i, esp_spi_r, esp_seq_i, esp_seq_r;
    GByteArray *cache[S_COUNT];
    /* mix mode */
    const int *script;
    int pos;
    guint64 t;
} Neg;

static GPtrArray *all_negs;

static Neg *neg_new(Ep *ini, Ep *rsp)
{
    Neg *n = g_new0(Neg, 1);
    n->ini = ini;
    n->rsp = rsp;
    n->iport = 500;
    n->rport = 500;
    rnd_fill(n->ic, 8);
    rnd_fill(n->rc, 8);
    n->tsel = 0;
    g_ptr_array_add(all_negs, n);
    return n;
}

static void neg_free(gpointer p)
{
    Neg *n = p;
    for (int i = 0; i < S_COUNT; i++)
        if (n->cache[i])
            g_byte_array_free(n->cache[i], TRUE);
    g_free(n);
}

static const guint8 zero8[8];

static int step_from_initiator(const Neg *n, int s)
{
    switch (s) {
    case S_MM1: case S_MM3: case S_MM5: case S_AM1: case S_AM3:
    case S_INFO_I: case S_TXN_REP: case S_TXN_ACK: case S_CFG_REQ:
        return 1;
    case S_QM1: case S_QM3:
        return !n->qm_by_rsp; /* the QM initiator may be either peer */
    case S_QM2: case S_QM4:
        return n->qm_by_rsp;
    default:
        return 0;
    }
}

static void send_raw(Neg *n, int from_ini, const guint8 *p, size_t len)
{
    Ep *s = from_ini ? n->ini : n->rsp, *d = from_ini ? n->rsp : n->ini;
    guint16 sp = from_ini ? n->iport : n->rport, dp = from_ini ? n->rport : n->iport;
    if (n->floated) {
        guint8 *buf = g_malloc(len + 4);
        memset(buf, 0, 4); /* non-ESP marker */
        memcpy(buf + 4, p, len);
        emit_udp(s, d, sp, dp, buf, len + 4);
        g_free(buf);
    } else {
        emit_udp(s, d, sp, dp, p, len);
    }
}

static void do_float(Neg *n)
{
    if (n->natt && !n->floated) {
        n->floated = 1;
        n->iport = 4500;
        n->rport = 4500;
    }
}

static void mm_vids(Msg *m, int responder)
{
    if (responder) {
        pl_vid(m, VID_NATT_RFC3947);
        pl_vid(m, VID_DPD);
    } else {
        pl_vid(m, VID_NATT_RFC3947);
        pl_vid(m, VID_CISCO_FRAG);
        pl_vid(m, VID_DPD);
    }
}

/* RFC 3947 NAT-D: HASH(CKY-I | CKY-R | IP | Port), negotiated hash (MD5/SHA1) */
static void pl_natd(Msg *m, const Neg *n, const Ep *e, guint16 port)
{
    GChecksum *c = g_checksum_new(p1_transforms[n->tsel].hash == 1 ? G_CHECKSUM_MD5 : G_CHECKSUM_SHA1);
    guint8 pb[2] = { (guint8)(port >> 8), (guint8)port };
    guint8 dig[20];
    gsize dl = sizeof dig;
    g_checksum_update(c, n->ic, 8);
    g_checksum_update(c, n->rc, 8);
    g_checksum_update(c, e->addr, e->v6 ? 16 : 4);
    g_checksum_update(c, pb, 2);
    g_checksum_get_digest(c, dig, &dl);
    g_checksum_free(c);
    guint off = pl_begin(m, PL_NATD);
    ba_bytes(m->b, dig, dl);
    pl_end(m, off);
}

/*
 * First NAT-D = the peer's address/port as the sender sees it, then the
 * sender's own.  An initiator behind NAT hashes its inside address, so the
 * responder detects the NAT.
 */
static void natd_pair(Msg *m, const Neg *n, int from_ini)
{
    if (from_ini) {
        pl_natd(m, n, n->rsp, n->rport);
        pl_natd(m, n, n->ini_inside ? n->ini_inside : n->ini, 500);
    } else {
        pl_natd(m, n, n->ini, n->iport);
        pl_natd(m, n, n->rsp, n->rport);
    }
}

static const int mm1_offer[] = { 0, 1, 2 };

/* main mode MM1..MM6 */
static GByteArray *build_main_mode(Neg *n, int s)
{
    Msg m;
    int t1 = n->tsel;
    guint kelen = ke_len_for_group(p1_transforms[n->tsel].group);
    switch (s) {
    case S_MM1:
        m = msg_new(n->ic, zero8, EX_MM, 0, 0);
        pl_sa(&m, mm1_offer, 3, 86400);
        mm_vids(&m, 0);
        return msg_finish(&m);
    case S_MM2:
        m = msg_new(n->ic, n->rc, EX_MM, 0, 0);
        pl_sa(&m, &t1, 1, 86400);
        mm_vids(&m, 1);
        return msg_finish(&m);
    case S_MM3:
    case S_MM4:
        m = msg_new(n->ic, n->rc, EX_MM, 0, 0);
        pl_blob(&m, PL_KE, kelen);
        pl_blob(&m, PL_NONCE, s == S_MM3 ? 32 : 20);
        if (s == S_MM4) {
            pl_vid(&m, VID_CISCO_UNITY);
            pl_vid(&m, VID_XAUTH);
        }
        natd_pair(&m, n, s == S_MM3);
        return msg_finish(&m);
    case S_MM5:
    case S_MM6:
        m = msg_new(n->ic, n->rc, EX_MM, FL_E, 0);
        return msg_encrypted(&m, PL_ID, s == S_MM5 ? 5 : 4);
    default:
        g_assert_not_reached();
    }
    return NULL;
}

/* aggressive mode AM1..AM3 (AM3 in clear or encrypted) */
static GByteArray *build_aggressive(Neg *n, int s)
{
    Msg m;
    int t1 = n->tsel;
    guint kelen = ke_len_for_group(p1_transforms[n->tsel].group);
    switch (s) {
    case S_AM1:
        m = msg_new(n->ic, zero8, EX_AM, 0, 0);
        pl_sa(&m, mm1_offer, 3, 86400);
        pl_blob(&m, PL_KE, kelen);
        pl_blob(&m, PL_NONCE, 32);
        pl_id(&m, n->ini);
        mm_vids(&m, 0);
        pl_vid(&m, VID_XAUTH);
        pl_vid(&m, VID_CISCO_UNITY);
        return msg_finish(&m);
    case S_AM2:
        m = msg_new(n->ic, n->rc, EX_AM, 0, 0);
        pl_sa(&m, &t1, 1, 86400);
        pl_blob(&m, PL_KE, kelen);
        pl_blob(&m, PL_NONCE, 20);
        pl_id(&m, n->rsp);
        pl_blob(&m, PL_HASH, 20);
        mm_vids(&m, 1);
        pl_vid(&m, VID_CISCO_UNITY);
        natd_pair(&m, n, 0);
        return msg_finish(&m);
    case S_AM3:
        if (n->am3_encrypted) {
            m = msg_new(n->ic, n->rc, EX_AM, FL_E, 0);
            return msg_encrypted(&m, PL_HASH, 5);
        }
        m = msg_new(n->ic, n->rc, EX_AM, 0, 0);
        pl_blob(&m, PL_HASH, 20);
        natd_pair(&m, n, 1);
        return msg_finish(&m);
    default:
        g_assert_not_reached();
    }
    return NULL;
}

/* quick mode QM1..QM4 (QM1 picks a new message ID); the HASH payload's padding differs by step */
static GByteArray *build_quick(Neg *n, int s)
{
    if (s == S_QM1)
        n->qm_mid = rnd_nonzero32();
    Msg m = msg_new(n->ic, n->rc, EX_QM, (guint8)(FL_E | n->qm_flags), n->qm_mid);
    switch (s) {
    case S_QM1:
        return msg_encrypted(&m, PL_HASH, rnd_range(18, 24));
    case S_QM2:
        return msg_encrypted(&m, PL_HASH, rnd_range(16, 22));
    case S_QM3:
        return msg_encrypted(&m, PL_HASH, 2);
    case S_QM4:
        return msg_encrypted(&m, PL_HASH, 5);
    default:
        g_assert_not_reached();
    }
    return NULL;
}

/* Informationals, XAUTH / mode-config transactions, and the clear NO-PROPOSAL-CHOSEN refusal */
static GByteArray *build_info_txn(Neg *n, int s)
{
    Msg m;
    switch (s) {
    case S_INFO_I:
    case S_INFO_R:
        n->info_mid = rnd_nonzero32();
        m = msg_new(n->ic, n->rc, EX_INFO, FL_E, n->info_mid);
        return msg_encrypted(&m, PL_HASH, 5);
    case S_TXN_REQ:
    case S_TXN_SET:
    case S_CFG_REQ:
        n->txn_mid = rnd_nonzero32();
        m = msg_new(n->ic, n->rc, EX_TXN, FL_E, n->txn_mid);
        return msg_encrypted(&m, PL_HASH, s == S_TXN_REQ ? 5 : s == S_CFG_REQ ? 6 : 4);
    case S_CFG_REP:
        m = msg_new(n->ic, n->rc, EX_TXN, FL_E, n->txn_mid);
        return msg_encrypted(&m, PL_HASH, 9);
    case S_TXN_REP:
    case S_TXN_ACK:
        m = msg_new(n->ic, n->rc, EX_TXN, FL_E, n->txn_mid);
        return msg_encrypted(&m, PL_HASH, s == S_TXN_REP ? 6 : 4);
    case S_NPC:
        /* unencrypted Informational, MID 0, rspi 0: N(NO-PROPOSAL-CHOSEN) */
        m = msg_new(n->ic, zero8, EX_INFO, 0, 0);
        pl_notify(&m, 14, NULL, 0);
        return msg_finish(&m);
    default:
        g_assert_not_reached();
    }
    return NULL;
}

/* build the message for step s (new content every call) */
static GByteArray *build_step(Neg *n, int s)
{
    switch (s) {
    case S_MM1: case S_MM2: case S_MM3: case S_MM4: case S_MM5: case S_MM6:
        return build_main_mode(n, s);
    case S_AM1: case S_AM2: case S_AM3:
        return build_aggressive(n, s);
    case S_QM1: case S_QM2: case S_QM3: case S_QM4:
        return build_quick(n, s);
    default:
        return build_info_txn(n, s);
    }
}

/* processing delay before a step is sent, in ms (DH steps are slower) */
static void step_delay(int s)
{
    switch (s) {
    case S_MM1: case S_AM1: case S_INFO_I: case S_INFO_R:
        break;
    case S_MM2: case S_MM3: case S_MM6: case S_NPC:
        wait_ms(1, 5);
        break;
    case S_MM4: case S_MM5: case S_AM2: case S_AM3:
        wait_ms(18, 60);
        break;
    case S_QM1: case S_QM3: case S_QM4: case S_TXN_ACK:
        wait_ms(1, 4);
        break;
    case S_QM2: case S_TXN_REQ: case S_TXN_SET: case S_CFG_REQ: case S_CFG_REP:
        wait_ms(3, 12);
        break;
    case S_TXN_REP:
        wait_ms(40, 200);
        break;
    default:
        break;
    }
}

/* build (and cache, for retransmission) the message for step s and send it now */
static void send_step(Neg *n, int s)
{
    if (s == S_MM5 || s == S_AM3)
        do_float(n); /* RFC 3947: float to 4500 with MM5/AM3 */
    if (n->cache[s])
        g_byte_array_free(n->cache[s], TRUE);
    n->cache[s] = build_step(n, s);
    send_raw(n, step_from_initiator(n, s), n->cache[s]->data, n->cache[s]->len);
}

/* send a freshly built message for step s after its processing delay */
static void step(Neg *n, int s)
{
    step_delay(s);
    send_step(n, s);
}

/* resend the cached bytes of step s (a retransmission), after wait seconds */
static void retx(Neg *n, int s, double wait)
{
    g_assert(n->cache[s]);
    if (wait > 0)
        wait_s(wait);
    else
        wait_ms(0, 2);
    send_raw(n, step_from_initiator(n, s), n->cache[s]->data, n->cache[s]->len);
}

static void run(Neg *n, const int *steps)
{
    for (; *steps; steps++)
        step(n, *steps);
}

static const int MM_ALL[] = { S_MM1, S_MM2, S_MM3, S_MM4, S_MM5, S_MM6, 0 };
static const int QM_ALL[] = { S_QM1, S_QM2, S_QM3, 0 };
static const int AM_ALL[] = { S_AM1, S_AM2, S_AM3, 0 };

/* NAT-T keepalive and ESP-in-UDP (only meaningful once floated) */
static void natt_keepalive(Neg *n)
{
    static const guint8 ff = 0xff;
    emit_udp(n->ini, n->rsp, n->iport, n->rport, &ff, 1);
}

/* One ESP packet (RFC 4303): in UDP 4500 when udp, else IP protocol 50. */
static void esp_packet(Neg *n, int from_ini, int udp)
{
    GByteArray *b = g_byte_array_new();
    if (!n->esp_spi_i) {
        n->esp_spi_i = rnd_range(0x1000, 0xfffffff0);
        n->esp_spi_r = rnd_range(0x1000, 0xfffffff0);
    }
    ba_u32(b, from_ini ? n->esp_spi_r : n->esp_spi_i); /* SPI of the receiver */
    ba_u32(b, from_ini ? ++n->esp_seq_i : ++n->esp_seq_r);
    ba_rand(b, 16 + 16 * rnd_range(3, 8) + 12); /* IV, ciphertext, ICV */
    Ep *src = from_ini ? n->ini : n->rsp, *dst = from_ini ? n->rsp : n->ini;
    if (udp)
        emit_udp(src, dst, 4500, 4500, b->data, b->len);
    else
        emit_ip(src, dst, 50, b->data, b->len, 0, 0);
    g_byte_array_free(b, TRUE);
}

static void esp_udp(Neg *n, int from_ini)
{
    esp_packet(n, from_ini, 1);
}

/* ------------------------------------------------------------------------ */
/* Scenarios                                                                */
/* ------------------------------------------------------------------------ */

/* 1. main mode + quick mode + encrypted informational */
static void sc_mm_ok(void)
{
    Neg *n = neg_new(ep_new("192.0.2.10"), ep_new("203.0.113.5"));
    run(n, MM_ALL);
    run(n, QM_ALL);
    wait_s(30);
    step(n, S_INFO_I);
}

/* 2. aggressive mode, AM3 clear then AM3 encrypted, each + QM */
static void sc_am_ok(void)
{
    Ep *r = ep_new("203.0.113.5");
    Neg *a = neg_new(ep_new("192.0.2.20"), r);
    run(a, AM_ALL);
    run(a, QM_ALL);
    wait_s(5);
    Neg *b = neg_new(ep_new("198.51.100.21"), r);
    b->tsel = 2;
    b->am3_encrypted = 1;
    run(b, AM_ALL);
    run(b, QM_ALL);
}

/* 3. NAT-T: MM1-MM4 on 500, float to 4500 with non-ESP marker, keepalives, ESP-in-UDP */
static void sc_natt(void)
{
    Neg *n = neg_new(ep_new("198.51.100.40"), ep_new("203.0.113.9"));
    n->natt = 1;
    n->ini_inside = ep_new("192.0.2.40"); /* stands in for the private address */
    run(n, MM_ALL);
    wait_ms(50, 200);
    natt_keepalive(n);
    run(n, QM_ALL);
    for (int i = 0; i < 6; i++) {
        wait_ms(5, 300);
        esp_udp(n, i % 2 == 0);
    }
    wait_s(20);
    natt_keepalive(n);
    for (int i = 0; i < 4; i++) {
        wait_ms(5, 300);
        esp_udp(n, i % 2 == 0);
    }
    wait_s(20);
    natt_keepalive(n);
    wait_s(5);
    step(n, S_INFO_I);
}

/* ESP data plane (issue #9): two-way ESP on one tunnel; one-way ESP ("encaps, no decaps") on a
 * second; two-way ESP between peers whose IKE SA is not in the capture. */
static void sc_esp(void)
{
    Neg *a = neg_new(ep_new("192.0.2.60"), ep_new("203.0.113.60"));
    Neg *b = neg_new(ep_new("192.0.2.61"), ep_new("203.0.113.61"));
    Neg *c = neg_new(ep_new("192.0.2.62"), ep_new("203.0.113.62"));
    run(a, MM_ALL);
    run(a, QM_ALL);
    run(b, MM_ALL);
    run(b, QM_ALL);
    for (int i = 0; i < 8; i++) {
        wait_ms(100, 300);
        esp_packet(a, 1, 0);
        esp_packet(a, 0, 0);
        esp_packet(b, 1, 0);
        esp_packet(c, i % 2, 0);
    }
}

/* Lifecycle without keys (issue #9): two Deletes then a new main mode between the same peers
 * (an inferred delete, and a rekey_of); DPD answered by its ACK, then silence (no delete); DPD
 * unanswered three times, 2 s apart (a dead peer); an Informational then 40 s of silence (an
 * inferred delete). */
static void sc_lifecycle(void)
{
    Neg *a = neg_new(ep_new("192.0.2.70"), ep_new("203.0.113.70"));
    Neg *b = neg_new(ep_new("192.0.2.71"), ep_new("203.0.113.71"));
    Neg *c = neg_new(ep_new("192.0.2.72"), ep_new("203.0.113.72"));
    Neg *d = neg_new(ep_new("192.0.2.73"), ep_new("203.0.113.73"));
    Neg *all[] = { a, b, c, d };
    for (int k = 0; k < 4; k++) {
        run(all[k], MM_ALL);
        run(all[k], QM_ALL);
    }
    for (int k = 0; k < 4; k++) {
        esp_packet(all[k], 1, 0);
        esp_packet(all[k], 0, 0);
    }
    wait_s(5);
    step(a, S_INFO_I); /* delete of the IPsec SA, then of the ISAKMP SA */
    step(a, S_INFO_I);
    step(b, S_INFO_I); /* R-U-THERE */
    step(b, S_INFO_R); /* R-U-THERE-ACK */
    step(d, S_INFO_R);
    for (int k = 0; k < 3; k++) {
        wait_s(2);
        step(c, S_INFO_I);
    }
    wait_s(2);
    Neg *a2 = neg_new(a->ini, a->rsp);
    run(a2, MM_ALL);
    run(a2, QM_ALL);
    wait_s(40);
    esp_packet(a2, 1, 0);
}

/* 4. retransmissions: MM1 x3, MM3/MM4 pair resent, QM1 resent */
static void sc_retrans(void)
{
    Neg *n = neg_new(ep_new("192.0.2.50"), ep_new("203.0.113.50"));
    step(n, S_MM1);
    retx(n, S_MM1, 8);
    retx(n, S_MM1, 8);
    step(n, S_MM2);
    step(n, S_MM3);
    step(n, S_MM4);
    retx(n, S_MM3, 8);
    retx(n, S_MM4, 0);
    step(n, S_MM5);
    step(n, S_MM6);
    step(n, S_QM1);
    retx(n, S_QM1, 8);
    step(n, S_QM2);
    step(n, S_QM3);
}

/* 5. four negotiations interleaved packet by packet */
static void sc_interleaved(void)
{
    static const int mmqm[] = { S_MM1, S_MM2, S_MM3, S_MM4, S_MM5, S_MM6, S_QM1, S_QM2, S_QM3, 0 };
    static const int amqm[] = { S_AM1, S_AM2, S_AM3, S_QM1, S_QM2, S_QM3, 0 };
    Ep *x = ep_new("198.51.100.60"), *y = ep_new("203.0.113.60");
    Neg *n[4];
    const int *sc[4] = { mmqm, mmqm, mmqm, amqm };
    n[0] = neg_new(ep_new("192.0.2.61"), ep_new("203.0.113.61"));
    n[1] = neg_new(ep_new("192.0.2.62"), ep_new("203.0.113.62"));
    n[2] = neg_new(x, y);
    n[3] = neg_new(x, y);
    n[3]->am3_encrypted = 1;
    int pos[4] = { 0, 0, 0, 0 };
    int active = 4;
    while (active) {
        active = 0;
        for (int i = 0; i < 4; i++) {
            if (!sc[i][pos[i]])
                continue;
            active++;
            wait_ms(1, 3);
            send_step(n[i], sc[i][pos[i]++]);
        }
    }
}

/* 6. stalled attempt (MM3 retransmitted, no MM4), then a fresh MM1 that completes */
static void sc_renegotiate(void)
{
    Ep *i = ep_new("192.0.2.70"), *r = ep_new("203.0.113.70");
    Neg *a = neg_new(i, r);
    step(a, S_MM1);
    step(a, S_MM2);
    step(a, S_MM3);
    retx(a, S_MM3, 8);
    retx(a, S_MM3, 8);
    retx(a, S_MM3, 8);
    wait_s(8);
    Neg *b = neg_new(i, r);
    run(b, MM_ALL);
    run(b, QM_ALL);
}

/* 7. captures starting mid-negotiation at MM2, MM3, MM5 and QM1 */
static void sc_midstart(void)
{
    static const int from_mm2[] = { S_MM2, S_MM3, S_MM4, S_MM5, S_MM6, S_QM1, S_QM2, S_QM3, 0 };
    static const int from_mm3[] = { S_MM3, S_MM4, S_MM5, S_MM6, S_QM1, S_QM2, S_QM3, 0 };
    static const int from_mm5[] = { S_MM5, S_MM6, S_QM1, S_QM2, S_QM3, 0 };
    Neg *a = neg_new(ep_new("192.0.2.81"), ep_new("203.0.113.81"));
    Neg *b = neg_new(ep_new("192.0.2.82"), ep_new("203.0.113.82"));
    Neg *c = neg_new(ep_new("192.0.2.83"), ep_new("203.0.113.83"));
    Neg *d = neg_new(ep_new("192.0.2.84"), ep_new("203.0.113.84"));
    run(a, from_mm2);
    wait_ms(200, 900);
    run(b, from_mm3);
    wait_ms(200, 900);
    run(c, from_mm5);
    wait_ms(200, 900);
    run(d, QM_ALL);
}

/* 8. reordered and unexpected messages */
static void sc_out_of_order(void)
{
    Ep *i = ep_new("192.0.2.90"), *r = ep_new("203.0.113.90");
    Neg *n = neg_new(i, r);
    step(n, S_MM1);
    step(n, S_MM2);
    /* MM3 and MM4 built in order but MM4 captured first (capture-point reordering) */
    wait_ms(1, 3);
    GByteArray *mm3 = build_step(n, S_MM3);
    GByteArray *mm4 = build_step(n, S_MM4);
    n->cache[S_MM3] = mm3;
    n->cache[S_MM4] = mm4;
    send_raw(n, 0, mm4->data, mm4->len);
    wait_ms(0, 1);
    send_raw(n, 1, mm3->data, mm3->len);
    /* a late MM2 with different content (same cookies) */
    wait_ms(5, 20);
    GByteArray *late = build_step(n, S_MM2);
    send_raw(n, 0, late->data, late->len);
    g_byte_array_free(late, TRUE);
    step(n, S_MM5);
    step(n, S_MM6);
    run(n, QM_ALL);
    /* QM3 for a message ID never seen */
    wait_s(2);
    n->qm_mid = rnd_nonzero32();
    GByteArray *orphan = build_step(n, S_QM3);
    send_raw(n, 1, orphan->data, orphan->len);
    g_byte_array_free(orphan, TRUE);
    /* MM1 with a non-zero responder cookie */
    wait_s(3);
    Neg *b = neg_new(ep_new("192.0.2.91"), r);
    Msg m = msg_new(b->ic, b->rc, EX_MM, 0, 0);
    pl_sa(&m, mm1_offer, 3, 86400);
    mm_vids(&m, 0);
    msg_finish(&m);
    send_raw(b, 1, m.b->data, m.b->len);
    g_byte_array_free(m.b, TRUE);
    /* quick mode packet for cookies never seen */
    wait_s(2);
    Neg *c = neg_new(ep_new("198.51.100.92"), r);
    step(c, S_QM1);
}

/* Cisco IKE fragmentation (payload 132): split msg into nfrag fragment messages */
static void send_cisco_frags(Neg *n, int from_ini, const GByteArray *msg, int nfrag, guint16 fid)
{
    size_t chunk = (msg->len + (size_t)nfrag - 1) / (size_t)nfrag;
    for (int k = 0; k < nfrag; k++) {
        size_t o = (size_t)k * chunk, l = MIN(chunk, msg->len - o);
        Msg m = msg_new(n->ic, n->rc, msg->data[18], 0, 0);
        guint off = pl_begin(&m, 132);
        ba_u16(m.b, fid);
        ba_u8(m.b, (guint8)(k + 1));
        ba_u8(m.b, k + 1 == nfrag);
        ba_bytes(m.b, msg->data + o, l);
        pl_end(&m, off);
        msg_finish(&m);
        if (k)
            wait_ms(0, 1);
        send_raw(n, from_ini, m.b->data, m.b->len);
        g_byte_array_free(m.b, TRUE);
    }
}

/*
 * 9. several ISAKMP messages in one frame: MM5 and MM6 are each sent as two
 * Cisco IKE fragments (payload 132).  Wireshark 4.0 reassembles them and
 * dissects the reassembled message inside the frame of the last fragment, so
 * that frame has two isakmp trees (carrier flags 0x00 + MM5/MM6 flags 0x01).
 * (IKE on TCP/500 is dissected only up to the first message of a segment.)
 */
static void sc_multi_msg(void)
{
    Ep *i = ep_new("192.0.2.100"), *r = ep_new("203.0.113.100");
    Neg *n = neg_new(i, r);
    step(n, S_MM1);
    step(n, S_MM2);
    step(n, S_MM3);
    step(n, S_MM4);
    step_delay(S_MM5);
    n->cache[S_MM5] = build_step(n, S_MM5);
    send_cisco_frags(n, 1, n->cache[S_MM5], 2, 1);
    step_delay(S_MM6);
    n->cache[S_MM6] = build_step(n, S_MM6);
    send_cisco_frags(n, 0, n->cache[S_MM6], 2, 2);
    run(n, QM_ALL);
}

/* 10. malformed / odd ISAKMP messages around a valid main mode */
static void sc_malformed(void)
{
    Ep *i = ep_new("192.0.2.110"), *r = ep_new("203.0.113.110");
    Ep *x = ep_new("198.51.100.111");
    Neg *n = neg_new(i, r);
    Neg *g = neg_new(x, r); /* junk sender */
    GByteArray *b;
    Msg m;

    step(n, S_MM1);

    /* payload length running past the end of the message */
    wait_ms(2, 10);
    b = build_step(g, S_MM1);
    put16(b->data + 28 + 2, (guint16)(b->len + 40)); /* SA payload length */
    send_raw(g, 1, b->data, b->len);
    g_byte_array_free(b, TRUE);

    step(n, S_MM2);

    /* zero payload length */
    wait_ms(2, 10);
    rnd_fill(g->ic, 8);
    b = build_step(g, S_MM1);
    put16(b->data + 28 + 2, 0);
    send_raw(g, 1, b->data, b->len);
    g_byte_array_free(b, TRUE);

    step(n, S_MM3);

    /* truncated frame: caplen < len */
    wait_ms(2, 10);
    rnd_fill(g->ic, 8);
    b = build_step(g, S_MM1);
    emit_udp_ex(x, r, 500, 500, b->data, b->len, 14 + 20 + 8 + 60, 0);
    g_byte_array_free(b, TRUE);

    step(n, S_MM4);

    /* header length larger than the datagram */
    wait_ms(2, 10);
    rnd_fill(g->ic, 8);
    b = build_step(g, S_MM1);
    put32(b->data + 24, b->len + 100);
    send_raw(g, 1, b->data, b->len);
    g_byte_array_free(b, TRUE);

    /* version 0x30 */
    wait_ms(2, 10);
    rnd_fill(g->ic, 8);
    b = build_step(g, S_MM1);
    b->data[17] = 0x30;
    send_raw(g, 1, b->data, b->len);
    g_byte_array_free(b, TRUE);

    step(n, S_MM5);

    /* unknown exchange type 99 */
    wait_ms(2, 10);
    rnd_fill(g->ic, 8);
    m = msg_new(g->ic, zero8, 99, 0, 0);
    pl_blob(&m, PL_NONCE, 16);
    msg_finish(&m);
    send_raw(g, 1, m.b->data, m.b->len);
    g_byte_array_free(m.b, TRUE);

    step(n, S_MM6);

    /* 20-byte runt on UDP 500 */
    wait_ms(2, 10);
    {
        guint8 runt[20];
        rnd_fill(runt, 20);
        send_raw(g, 1, runt, sizeof runt);
    }
    run(n, QM_ALL);
}

/* 11. MM1 to a host without an IKE daemon: ICMP / ICMPv6 port unreachable */
static void sc_icmp(void)
{
    Neg *n = neg_new(ep_new("192.0.2.120"), ep_new("203.0.113.120"));
    n->cache[S_MM1] = build_step(n, S_MM1);
    for (int k = 0; k < 3; k++) {
        if (k)
            wait_s(8);
        GByteArray *ip = emit_udp_ex(n->ini, n->rsp, 500, 500, n->cache[S_MM1]->data, n->cache[S_MM1]->len, 0, 1);
        wait_ms(0, 2);
        /* quote: all of it (Linux), IP+UDP+ISAKMP header only, IP+UDP+64 */
        emit_port_unreach(n->rsp, n->ini, ip, k == 0 ? 65535 : k == 1 ? 20 + 8 + 28 : 20 + 8 + 64);
        g_byte_array_free(ip, TRUE);
    }
    /* IPv6: ICMPv6 destination unreachable, port unreachable */
    wait_s(3);
    Neg *v = neg_new(ep_new("2001:db8:1::120"), ep_new("2001:db8:2::120"));
    v->cache[S_MM1] = build_step(v, S_MM1);
    GByteArray *ip = emit_udp_ex(v->ini, v->rsp, 500, 500, v->cache[S_MM1]->data, v->cache[S_MM1]->len, 0, 1);
    wait_ms(0, 2);
    emit_port_unreach(v->rsp, v->ini, ip, 65535);
    g_byte_array_free(ip, TRUE);
}

/* 12. main mode + quick mode over IPv6 */
static void sc_ipv6(void)
{
    Neg *n = neg_new(ep_new("2001:db8:1::10"), ep_new("2001:db8:2::20"));
    run(n, MM_ALL);
    run(n, QM_ALL);
}

/* 13. quick mode with the commit bit and QM4 (CONNECTED) */
static void sc_commit_bit(void)
{
    Neg *n = neg_new(ep_new("192.0.2.130"), ep_new("203.0.113.130"));
    run(n, MM_ALL);
    n->qm_flags = FL_C;
    run(n, QM_ALL);
    step(n, S_QM4);
}

/* 14. aggressive mode + XAUTH / Mode-Config transactions + quick mode */
static void sc_modecfg(void)
{
    Neg *n = neg_new(ep_new("198.51.100.140"), ep_new("203.0.113.140"));
    n->tsel = 2;
    n->am3_encrypted = 1;
    run(n, AM_ALL);
    step(n, S_TXN_REQ);
    step(n, S_TXN_REP);
    step(n, S_TXN_SET);
    step(n, S_TXN_ACK);
    step(n, S_CFG_REQ);
    step(n, S_CFG_REP);
    wait_ms(20, 80);
    run(n, QM_ALL);
}

/* 15. phase 1 refused: clear Informational N(NO-PROPOSAL-CHOSEN), MM1 retried */
static void sc_p1_refused(void)
{
    Neg *n = neg_new(ep_new("192.0.2.150"), ep_new("203.0.113.150"));
    step(n, S_MM1);
    step(n, S_NPC);
    retx(n, S_MM1, 8);
    retx(n, S_MM1, 8);
}

/* ------------------------------------------------------------------------ */
/* --mix: many interleaved negotiations plus background traffic             */
/* ------------------------------------------------------------------------ */

/*
 * Every negotiation and background flow is generated in one go on its own
 * timeline (now_us is set to its start time); the final sort by timestamp
 * interleaves them.  Start times are spread uniformly over the run length.
 */

static Ep *mix_ini[508 + 16], *mix_rsp[254 + 8];
static int n_mix_ini, n_mix_rsp;

static void mix_pools(void)
{
    char a[64];
    for (int k = 1; k <= 254; k++) {
        snprintf(a, sizeof a, "192.0.2.%d", k);
        mix_ini[n_mix_ini++] = ep_new(a);
        snprintf(a, sizeof a, "198.51.100.%d", k);
        mix_ini[n_mix_ini++] = ep_new(a);
        snprintf(a, sizeof a, "203.0.113.%d", k);
        mix_rsp[n_mix_rsp++] = ep_new(a);
    }
}

static Ep *mix_v6_ini[16], *mix_v6_rsp[8];

static void mix_pools_v6(void)
{
    char a[64];
    for (int k = 0; k < 16; k++) {
        snprintf(a, sizeof a, "2001:db8:1::%x", k + 1);
        mix_v6_ini[k] = ep_new(a);
    }
    for (int k = 0; k < 8; k++) {
        snprintf(a, sizeof a, "2001:db8:2::%x", k + 1);
        mix_v6_rsp[k] = ep_new(a);
    }
}

/* strongSwan-like retransmission schedule: 4 s * 1.8^n */
static double ss_retx(int k)
{
    double t = 4.0;
    for (int i = 0; i < k; i++)
        t *= 1.8;
    return t;
}

static guint esp_packets; /* --esp-packets: plain ESP after each main mode + quick mode of the mix */

/* main mode + QM (+ ESP, DPD / rekey QM) */
static void mix_main_mode(Neg *n)
{
    run(n, MM_ALL);
    run(n, QM_ALL);
    for (guint k = 0; k < esp_packets; k++) { /* plain ESP, both ways */
        wait_ms(1, 50);
        esp_packet(n, (int)(k % 2), 0);
    }
    if (rnd_range(0, 1)) {
        wait_s(rnd_range(10, 30));
        step(n, S_INFO_I);
        wait_ms(5, 40);
        step(n, S_INFO_R);
    }
    if (rnd_range(0, 3) == 0) { /* phase-2 rekey, started by either peer */
        wait_s(rnd_range(60, 600));
        n->qm_by_rsp = (int)rnd_range(0, 1);
        run(n, QM_ALL);
    }
}

/* aggressive mode (+ XAUTH) + QM */
static void mix_aggressive(Neg *n)
{
    n->am3_encrypted = (int)rnd_range(0, 1);
    run(n, AM_ALL);
    if (n->am3_encrypted) {
        step(n, S_TXN_REQ);
        step(n, S_TXN_REP);
        step(n, S_TXN_SET);
        step(n, S_TXN_ACK);
    }
    run(n, QM_ALL);
}

/* NAT-T with keepalives and ESP-in-UDP (no NAT between IPv6 peers) */
static void mix_natt(Neg *n, int v6)
{
    n->natt = !v6;
    if (n->natt)
        n->ini_inside = mix_ini[rnd_range(0, (guint32)n_mix_ini - 1)];
    run(n, MM_ALL);
    run(n, QM_ALL);
    if (n->natt) {
        int rounds = (int)rnd_range(1, 4);
        for (int k = 0; k < rounds; k++) {
            int e = (int)rnd_range(2, 8);
            for (int j = 0; j < e; j++) {
                wait_ms(2, 400);
                esp_udp(n, (int)rnd_range(0, 1));
            }
            wait_s(20);
            natt_keepalive(n);
        }
    }
}

/* no answer: MM1 retransmitted strongSwan-style */
static void mix_no_answer(Neg *n)
{
    step(n, S_MM1);
    for (int k = 0; k < 5; k++)
        retx(n, S_MM1, ss_retx(k));
}

/* lost replies: retransmissions in the middle */
static void mix_lost_replies(Neg *n)
{
    step(n, S_MM1);
    step(n, S_MM2);
    step(n, S_MM3);
    step(n, S_MM4);
    retx(n, S_MM3, 8);
    retx(n, S_MM4, 0);
    step(n, S_MM5);
    step(n, S_MM6);
    step(n, S_QM1);
    retx(n, S_QM1, 8);
    step(n, S_QM2);
    step(n, S_QM3);
}

/* refused: a clear NO-PROPOSAL-CHOSEN, MM1 resent */
static void mix_refused(Neg *n)
{
    step(n, S_MM1);
    step(n, S_NPC);
    retx(n, S_MM1, 8);
}

/* stall at MM3 */
static void mix_stall_mm3(Neg *n)
{
    step(n, S_MM1);
    step(n, S_MM2);
    step(n, S_MM3);
    for (int k = 0; k < 3; k++)
        retx(n, S_MM3, 8);
}

/* one negotiation of a random kind: 40 % main mode, 15 % aggressive, 15 % NAT-T, 10 % no answer,
 * 10 % lost replies, 5 % refused, 5 % stalled at MM3 (5 % of all between IPv6 peers) */
static void mix_negotiation(void)
{
    int v6 = rnd_range(0, 99) < 5;
    Ep *i = v6 ? mix_v6_ini[rnd_range(0, 15)] : mix_ini[rnd_range(0, (guint32)n_mix_ini - 1)];
    Ep *r = v6 ? mix_v6_rsp[rnd_range(0, 7)] : mix_rsp[rnd_range(0, (guint32)n_mix_rsp - 1)];
    Neg *n = neg_new(i, r);
    n->tsel = (int)rnd_range(0, 2);
    guint32 kind = rnd_range(0, 99);
    if (kind < 40)
        mix_main_mode(n);
    else if (kind < 55)
        mix_aggressive(n);
    else if (kind < 70)
        mix_natt(n, v6);
    else if (kind < 80)
        mix_no_answer(n);
    else if (kind < 90)
        mix_lost_replies(n);
    else if (kind < 95)
        mix_refused(n);
    else
        mix_stall_mm3(n);
    /* done with it: mix runs can be large (n is the last one added) */
    g_ptr_array_remove_index_fast(all_negs, all_negs->len - 1);
}

static const char *const dns_names[][3] = {
    { "www", "example", "com" }, { "mail", "example", "net" }, { "ntp", "example", "org" },
    { "vpn", "example", "com" },
};

static void bg_dns(Ep *c, Ep *srv)
{
    GByteArray *q = g_byte_array_new();
    guint16 id = (guint16)rnd32(), sp = (guint16)rnd_range(32768, 60999);
    const char *const *nm = dns_names[rnd_range(0, G_N_ELEMENTS(dns_names) - 1)];
    ba_u16(q, id);
    ba_u16(q, 0x0100);
    ba_u16(q, 1);
    ba_u16(q, 0);
    ba_u32(q, 0);
    for (int k = 0; k < 3; k++) {
        ba_u8(q, (guint8)strlen(nm[k]));
        ba_bytes(q, (const guint8 *)nm[k], strlen(nm[k]));
    }
    ba_u8(q, 0);
    ba_u16(q, 1);
    ba_u16(q, 1);
    emit_udp(c, srv, sp, 53, q->data, q->len);
    wait_ms(1, 30);
    q->data[2] = 0x81;
    q->data[3] = 0x80;
    q->data[7] = 1; /* ancount */
    ba_u16(q, 0xc00c);
    ba_u16(q, 1);
    ba_u16(q, 1);
    ba_u32(q, 300);
    ba_u16(q, 4);
    ba_u8(q, 203);
    ba_u8(q, 0);
    ba_u8(q, 113);
    ba_u8(q, (guint8)rnd_range(1, 254));
    emit_udp(srv, c, 53, sp, q->data, q->len);
    g_byte_array_free(q, TRUE);
}

/* TCP/443 flow: handshake, TLS application-data records, FIN */
static int bg_tls(Ep *c, Ep *srv, int budget)
{
    guint16 sp = (guint16)rnd_range(32768, 60999);
    guint32 cs = rnd32(), ss = rnd32();
    int sent = 0;
    emit_tcp(c, srv, sp, 443, cs++, 0, 0x02, NULL, 0);
    wait_ms(5, 40);
    emit_tcp(srv, c, 443, sp, ss++, cs, 0x12, NULL, 0);
    wait_ms(0, 2);
    emit_tcp(c, srv, sp, 443, cs, ss, 0x10, NULL, 0);
    sent += 3;
    GByteArray *b = g_byte_array_new();
    while (sent < budget - 2) {
        int from_c = (int)rnd_range(0, 2) == 0;
        size_t l = rnd_range(40, 1200);
        g_byte_array_set_size(b, 0);
        ba_u8(b, 0x17);
        ba_u16(b, 0x0303);
        ba_u16(b, (guint16)l);
        ba_rand(b, l);
        wait_ms(0, 50);
        if (from_c) {
            emit_tcp(c, srv, sp, 443, cs, ss, 0x18, b->data, b->len);
            cs += b->len;
        } else {
            emit_tcp(srv, c, 443, sp, ss, cs, 0x18, b->data, b->len);
            ss += b->len;
        }
        sent++;
    }
    g_byte_array_free(b, TRUE);
    wait_ms(10, 500);
    emit_tcp(c, srv, sp, 443, cs++, ss, 0x11, NULL, 0);
    wait_ms(1, 30);
    emit_tcp(srv, c, 443, sp, ss++, cs, 0x11, NULL, 0);
    return sent + 2;
}

static guint ike_percent = 60; /* --ike-percent */

/*
 * ~n packets: about ike_percent % IKE, the rest DNS and TCP/443 background.  Flows
 * start at increasing times (random gaps) over max(60 s, n/50 s); packets are
 * flushed to the file as soon as no later flow can precede them, so memory
 * stays bounded by the packets of flows still "in flight".
 */
static void mix(guint64 n)
{
    mix_pools();
    mix_pools_v6();
    guint64 dur_us = (guint64)MAX(60.0, (double)n / 50.0) * 1000000ULL;
    guint64 flows = MAX(n / 12, 1);
    guint64 mean_gap = MAX(dur_us / flows, 2);
    guint64 t = 0, ike = 0, bg = 0;
    while (ike + bg < n) {
        t += rnd64() % (2 * mean_gap);
        now_us = t;
        guint before = pkts->len;
        if (ike * 100 <= (ike + bg) * ike_percent) {
            mix_negotiation();
            ike += pkts->len - before;
        } else {
            Ep *c = mix_ini[rnd_range(0, (guint32)n_mix_ini - 1)];
            Ep *srv = mix_rsp[rnd_range(0, (guint32)n_mix_rsp - 1)];
            if (rnd_range(0, 2) == 0)
                bg_dns(c, srv);
            else
                bg_tls(c, srv, (int)MIN((guint64)rnd_range(6, 40), n - (ike + bg) + 2));
            bg += pkts->len - before;
        }
        if (pkts->len >= 65536)
            out_flush_before(t);
    }
}

/*
 * --flood: an IKE cookie flood (issue #7) against one responder: n MM1
 * packets, each with a new initiator cookie, from 254 spoofed sources at
 * flood_rate packets/s (--rate: a head-end's day of scanners and spoofed
 * cookies is a few a second), with 4 complete negotiations (MM + QM) running
 * through it.  Cookies are a bijection of the packet index, so all n are
 * distinct.
 */
static guint64 flood_rate = 100000; /* --rate */
static guint64 cookie_of(guint64 k)
{
    guint64 z = k + 0x9E3779B97F4A7C15ULL; /* splitmix64 finaliser: a bijection */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void flood(guint64 n)
{
    Ep *victim = ep_new("203.0.113.1");
    Ep *src[254];
    for (int i = 0; i < 254; i++) {
        char a[32];
        g_snprintf(a, sizeof a, "198.51.100.%d", i + 1);
        src[i] = ep_new(a);
    }
    Neg *f = neg_new(src[0], victim); /* reused: only cookie and source change */
    guint64 salt = rnd64(), every = MAX(n / 4, 1), real = 0;
    for (guint64 k = 0; k < n; k++) {
        if (k % every == every / 2) {
            /* a real peer negotiating during the flood: its packets interleave by time */
            char a[32];
            g_snprintf(a, sizeof a, "192.0.2.%u", (unsigned)(10 + real++ % 200));
            guint64 t0 = now_us;
            Neg *g = neg_new(ep_new(a), victim);
            run(g, MM_ALL);
            run(g, QM_ALL);
            now_us = t0;
        }
        guint64 c = cookie_of(k ^ salt);
        for (int b = 0; b < 8; b++)
            f->ic[b] = (guint8)(c >> (56 - 8 * b));
        f->ini = src[k % 254];
        now_us += MAX(1000000 / flood_rate, 1);
        send_step(f, S_MM1);
        if (pkts->len >= 65536)
            out_flush_before(now_us);
    }
}

/* ------------------------------------------------------------------------ */
/* IKEv2 (RFC 7296): clear IKE_SA_INIT, SK / SKF (RFC 7383) bodies as random */
/* bytes whose header names the first inner payload, as on the wire.        */
/* ------------------------------------------------------------------------ */

enum { V2_I = 0x08, V2_R = 0x20 };
enum { PL2_SA = 33, PL2_KE = 34, PL2_IDI = 35, PL2_IDR = 36, PL2_AUTH = 39, PL2_NONCE = 40, PL2_N = 41,
       PL2_D = 42, PL2_SK = 46, PL2_EAP = 48, PL2_SKF = 53 };
enum { EX_SA_INIT = 34, EX_AUTH = 35, EX_CHILD = 36, EX_INFO2 = 37 };

static Msg msg2_new(const guint8 *ispi, const guint8 *rspi, guint8 exch, guint8 flags, guint32 mid)
{
    Msg m = msg_new(ispi, rspi, exch, flags, mid);
    m.b->data[17] = 0x20; /* IKEv2 */
    return m;
}

static void pl2_notify(Msg *m, guint16 type, size_t datalen)
{
    guint off = pl_begin(m, PL2_N);
    ba_u8(m->b, 0); /* protocol: none */
    ba_u8(m->b, 0); /* SPI size */
    ba_u16(m->b, type);
    ba_rand(m->b, datalen);
    pl_end(m, off);
}

/* One IKE proposal: AES-CBC-128, HMAC-SHA2-256 PRF and integrity, DH group 14. */
static void pl2_sa(Msg *m)
{
    guint off = pl_begin(m, PL2_SA);
    ba_hex(m->b, "0000002c"            /* last proposal, length 44 */
                 "01010004"            /* #1, IKE, no SPI, 4 transforms */
                 "0300000c0100000c800e0080" /* ENCR AES-CBC, key length 128 */
                 "0300000802000005"    /* PRF HMAC-SHA2-256 */
                 "030000080300000c"    /* INTEG HMAC-SHA2-256-128 */
                 "000000080400000e");  /* DH group 14 */
    pl_end(m, off);
}

static GByteArray *v2_sa_init(Neg *n, int resp, int with_cookie)
{
    Msg m = msg2_new(n->ic, resp ? n->rc : zero8, EX_SA_INIT, resp ? V2_R : V2_I, 0);
    if (with_cookie)
        pl2_notify(&m, 16390, 16);
    pl2_sa(&m);
    guint off = pl_begin(&m, PL2_KE);
    ba_u16(m.b, 14);
    ba_u16(m.b, 0);
    ba_rand(m.b, 256);
    pl_end(&m, off);
    pl_blob(&m, PL2_NONCE, 32);
    pl2_notify(&m, 16388, 20); /* NAT_DETECTION_SOURCE_IP */
    pl2_notify(&m, 16389, 20); /* NAT_DETECTION_DESTINATION_IP */
    pl2_notify(&m, 16430, 0);  /* IKEV2_FRAGMENTATION_SUPPORTED */
    return msg_finish(&m);
}

/* A clear answer of notifies only (COOKIE, NO_PROPOSAL_CHOSEN...), responder SPI zero. */
static GByteArray *v2_notify_answer(Neg *n, guint16 type, size_t datalen)
{
    Msg m = msg2_new(n->ic, zero8, EX_SA_INIT, V2_R, 0);
    pl2_notify(&m, type, datalen);
    return msg_finish(&m);
}

/* An encrypted message: SK whose next payload is the first inner one; IV 16 + body + ICV 16. */
static GByteArray *v2_sk(Neg *n, guint8 exch, guint8 flags, guint32 mid, guint8 first, guint nblocks)
{
    Msg m = msg2_new(n->ic, n->rc, exch, flags, mid);
    guint off = pl_begin(&m, PL2_SK);
    m.b->data[off] = first;
    ba_rand(m.b, 16 + 16 * (size_t)nblocks + 16);
    pl_end(&m, off);
    return msg_finish(&m);
}

static GByteArray *v2_skf(Neg *n, guint8 exch, guint8 flags, guint32 mid, guint8 first, guint16 num,
                          guint16 total, size_t len)
{
    Msg m = msg2_new(n->ic, n->rc, exch, flags, mid);
    guint off = pl_begin(&m, PL2_SKF);
    m.b->data[off] = num == 1 ? first : 0;
    ba_u16(m.b, num);
    ba_u16(m.b, total);
    ba_rand(m.b, len);
    pl_end(&m, off);
    return msg_finish(&m);
}

static void v2_send(Neg *n, int from_ini, GByteArray *b)
{
    send_raw(n, from_ini, b->data, b->len);
}

static void v2_send_free(Neg *n, int from_ini, GByteArray *b)
{
    v2_send(n, from_ini, b);
    g_byte_array_free(b, TRUE);
}

/* The initiator's request b, sent `first` seconds from now and re-sent three times (2, 4, 6 s
 * apart), never answered. */
static void v2_send_resent(Neg *n, GByteArray *b, double first)
{
    for (int k = 0; k < 4; k++) {
        wait_s(k ? 2.0 * k : first);
        v2_send(n, 1, b);
    }
    g_byte_array_free(b, TRUE);
}

static void sc_ikev2(void)
{
    /* IKEv1 main mode and an IKEv2 SA between the same peers, interleaved. */
    Ep *a = ep_new("192.0.2.40"), *b = ep_new("203.0.113.40");
    Neg *v1 = neg_new(a, b), *n = neg_new(a, b);
    step(v1, S_MM1);
    step(v1, S_MM2);
    /* COOKIE challenge, retry with the cookie (same SPIi, SPIr 0). */
    wait_ms(5, 20);
    v2_send_free(n, 1, v2_sa_init(n, 0, 0));
    wait_ms(1, 5);
    v2_send_free(n, 0, v2_notify_answer(n, 16390, 16));
    step(v1, S_MM3);
    wait_ms(1, 5);
    v2_send_free(n, 1, v2_sa_init(n, 0, 1));
    wait_ms(5, 20);
    v2_send_free(n, 0, v2_sa_init(n, 1, 0));
    step(v1, S_MM4);
    /* IKE_AUTH in two IKEv2 fragments, both re-sent once before the answer. */
    GByteArray *f1 = v2_skf(n, EX_AUTH, V2_I, 1, PL2_IDI, 1, 2, 1100);
    GByteArray *f2 = v2_skf(n, EX_AUTH, V2_I, 1, PL2_IDI, 2, 2, 300);
    wait_ms(5, 20);
    v2_send(n, 1, f1);
    v2_send(n, 1, f2);
    step(v1, S_MM5);
    step(v1, S_MM6);
    wait_s(2);
    v2_send_free(n, 1, f1);
    v2_send_free(n, 1, f2);
    wait_ms(5, 20);
    v2_send_free(n, 0, v2_sk(n, EX_AUTH, V2_R, 1, PL2_IDR, 12));
    /* The original responder starts CREATE_CHILD_SA and then deletes the IKE SA, both with its
     * own message IDs 0 and 1 (flags 0x00; answers I|R). */
    wait_s(5);
    v2_send_free(n, 0, v2_sk(n, EX_CHILD, 0, 0, PL2_SA, 10));
    wait_ms(5, 20);
    v2_send_free(n, 1, v2_sk(n, EX_CHILD, V2_I | V2_R, 0, PL2_SA, 10));
    wait_s(5);
    v2_send_free(n, 1, v2_sk(n, EX_INFO2, V2_I, 2, 0, 0)); /* liveness check, empty */
    wait_ms(5, 20);
    v2_send_free(n, 0, v2_sk(n, EX_INFO2, V2_R, 2, 0, 0));
    wait_s(5);
    v2_send_free(n, 0, v2_sk(n, EX_INFO2, 0, 1, PL2_D, 1));
    wait_ms(5, 20);
    v2_send_free(n, 1, v2_sk(n, EX_INFO2, V2_I | V2_R, 1, 0, 0));

    /* IKE_SA_INIT never answered. */
    Neg *q = neg_new(ep_new("192.0.2.41"), ep_new("203.0.113.41"));
    v2_send_resent(q, v2_sa_init(q, 0, 0), 1);

    /* IKE_AUTH answered by a lone notify (AUTHENTICATION_FAILED without keys). */
    Neg *r = neg_new(ep_new("192.0.2.42"), ep_new("203.0.113.42"));
    wait_s(1);
    v2_send_free(r, 1, v2_sa_init(r, 0, 0));
    wait_ms(5, 20);
    v2_send_free(r, 0, v2_sa_init(r, 1, 0));
    wait_ms(5, 20);
    v2_send_free(r, 1, v2_sk(r, EX_AUTH, V2_I, 1, PL2_IDI, 14));
    wait_ms(5, 20);
    v2_send_free(r, 0, v2_sk(r, EX_AUTH, V2_R, 1, PL2_N, 1));

    /* IKE_SA_INIT refused in the clear: NO_PROPOSAL_CHOSEN. */
    Neg *p = neg_new(ep_new("192.0.2.43"), ep_new("203.0.113.43"));
    wait_s(1);
    v2_send_free(p, 1, v2_sa_init(p, 0, 0));
    wait_ms(5, 20);
    v2_send_free(p, 0, v2_notify_answer(p, 14, 0));
}

/* IKE_SA_INIT of n, answered. */
static void v2_init_pair(Neg *n)
{
    v2_send_free(n, 1, v2_sa_init(n, 0, 0));
    wait_ms(5, 20);
    v2_send_free(n, 0, v2_sa_init(n, 1, 0));
    wait_ms(5, 20);
}

/* One IKE_AUTH round: the client's request (first inner payload rq), the gateway's answer (rs). */
static void v2_auth_round(Neg *n, guint32 mid, guint8 rq, guint rq_blocks, guint8 rs, guint rs_blocks)
{
    v2_send_free(n, 1, v2_sk(n, EX_AUTH, V2_I, mid, rq, rq_blocks));
    wait_ms(5, 40);
    v2_send_free(n, 0, v2_sk(n, EX_AUTH, V2_R, mid, rs, rs_blocks));
    wait_ms(5, 40);
}

static void sc_eap_aka(void)
{
    /* A handset to an ePDG (Wi-Fi calling) with EAP-AKA: IDi without AUTH; the gateway answers with
     * IDr, CERT, AUTH and EAP-Request/AKA-Challenge; the handset's EAP-Response; EAP-Success; then
     * AUTH both ways (with CP, SA, TS): three IKE_AUTH rounds. */
    Neg *ok = neg_new(ep_new("198.51.100.60"), ep_new("203.0.113.60"));
    v2_init_pair(ok);
    v2_auth_round(ok, 1, PL2_IDI, 20, PL2_IDR, 60);
    v2_auth_round(ok, 2, PL2_EAP, 3, PL2_EAP, 1);
    v2_auth_round(ok, 3, PL2_AUTH, 2, PL2_AUTH, 12);

    /* The gateway's EAP answer is the last: the handset sends nothing more (an EAP Failure without
     * keys), and the capture runs on for 40 s (the third negotiation). */
    Neg *fail = neg_new(ep_new("198.51.100.61"), ep_new("203.0.113.60"));
    wait_s(1);
    v2_init_pair(fail);
    v2_auth_round(fail, 1, PL2_IDI, 20, PL2_IDR, 60);
    v2_auth_round(fail, 2, PL2_EAP, 3, PL2_EAP, 1);

    /* The handset's EAP-Response goes unanswered and is re-sent: the ePDG waits for its AAA server. */
    Neg *aaa = neg_new(ep_new("198.51.100.62"), ep_new("203.0.113.60"));
    wait_s(40);
    v2_init_pair(aaa);
    v2_auth_round(aaa, 1, PL2_IDI, 20, PL2_IDR, 60);
    v2_send_resent(aaa, v2_sk(aaa, EX_AUTH, V2_I, 2, PL2_EAP, 3), 0.01);

    /* IKEv1 remote access with mode-config pushed by the gateway: XAUTH REQUEST / REPLY, SET (status)
     * / ACK, then the gateway's SET (address) / the client's ACK, then quick mode. */
    Neg *push = neg_new(ep_new("198.51.100.63"), ep_new("203.0.113.63"));
    wait_s(1);
    run(push, MM_ALL);
    step(push, S_TXN_REQ);
    step(push, S_TXN_REP);
    step(push, S_TXN_SET);
    step(push, S_TXN_ACK);
    step(push, S_TXN_SET);
    step(push, S_TXN_ACK);
    wait_ms(20, 80);
    run(push, QM_ALL);
}

typedef struct {
    const char *name;
    const char *desc;
    void (*fn)(void);
} Scenario;

/*
 * ISAKMP reflection / amplification seen at the victim 192.0.2.99 (the capture point): someone sent
 * MM1s (and IKEv2 IKE_SA_INITs) with the victim's address as source to many IKE responders, all with
 * one initiator cookie; their answers all arrive at the victim, which never asked for them and sends
 * nothing back.  Two groups:
 *   A: 400 responders (198.51.100.0/24 and 203.0.113.0/24, port 500) each send one MM2 [SA V V]
 *      (their own random responder cookie, the same initiator cookie) within about 0.4 s; 12 of them
 *      re-send the identical MM2 about 4-6 s later, 4 of those once more about 9-11 s later;
 *   B: 30 other responders answer IKEv2 IKE_SA_INIT responses to one SPIi (2 s later, 0.1 s long).
 * For contrast the victim's own genuine main mode + quick mode with 203.0.113.250 (1 s in).
 * TTLs: the victim 64, the remote hosts 64/128/255 minus 6..24 hops.
 */
static void sc_reflection(void)
{
    Ep *victim = ep_new("192.0.2.99");
    victim->ttl = 64;
    /* the responders: a shuffle of both /24s (hosts 1..254; 203.0.113.250 is the genuine peer) */
    int pool[2 * 254], np = 0;
    for (int net = 0; net < 2; net++)
        for (int h = 1; h <= 254; h++)
            if (!(net == 1 && h == 250))
                pool[np++] = net * 256 + h;
    for (int i = np - 1; i > 0; i--) {
        int j = (int)rnd_range(0, (guint32)i), t = pool[i];
        pool[i] = pool[j];
        pool[j] = t;
    }
    static const guint8 initial_ttl[] = { 64, 128, 255 };
    Ep *rsp[430];
    for (int k = 0; k < 430; k++) {
        char a[32];
        g_snprintf(a, sizeof a, "%s.%d", pool[k] >> 8 ? "203.0.113" : "198.51.100", pool[k] & 0xff);
        rsp[k] = ep_new(a);
        rsp[k]->ttl = (guint8)(initial_ttl[rnd_range(0, 2)] - rnd_range(6, 24));
    }

    /* A: 400 MM2 to the spoofed initiator cookie */
    guint8 spoofed_ic[8];
    rnd_fill(spoofed_ic, 8);
    Neg *a[400];
    for (int k = 0; k < 400; k++) {
        a[k] = neg_new(victim, rsp[k]);
        memcpy(a[k]->ic, spoofed_ic, 8);
        a[k]->tsel = (int)rnd_range(0, 2); /* whichever of the three offered transforms it liked */
        now_us += rnd_range(200, 1800);
        send_step(a[k], S_MM2);
    }
    guint64 t_end_a = now_us;

    /* the victim's own negotiation, in the middle of it */
    now_us = 1000000;
    Ep *peer = ep_new("203.0.113.250");
    peer->ttl = 52;
    Neg *g = neg_new(victim, peer);
    run(g, MM_ALL);
    run(g, QM_ALL);

    /* B: 30 IKEv2 responders answer a spoofed IKE_SA_INIT (one SPIi) */
    guint8 spoofed_spii[8];
    rnd_fill(spoofed_spii, 8);
    now_us = 2000000;
    for (int k = 0; k < 30; k++) {
        Neg *b = neg_new(victim, rsp[400 + k]);
        memcpy(b->ic, spoofed_spii, 8);
        now_us += rnd_range(1000, 5000);
        v2_send_free(b, 0, v2_sa_init(b, 1, 0));
    }

    /* a few group-A responders (older implementations) resend their MM2, byte for byte */
    for (int r = 0; r < 12; r++) {
        Neg *n = a[r * 33 + 7];
        now_us = t_end_a + 4000000 + rnd_range(0, 2000000);
        retx(n, S_MM2, 0);
        if (r % 3 == 0) {
            now_us += 5000000;
            retx(n, S_MM2, 0);
        }
    }
}


static const Scenario scenarios[] = {
    { "mm-ok", "main mode MM1-MM6, quick mode QM1-QM3, encrypted Informational", sc_mm_ok },
    { "am-ok", "aggressive mode with clear AM3, then a second one with encrypted AM3, each + QM", sc_am_ok },
    { "natt", "main mode with NAT-D, float to UDP 4500 at MM5, keepalives, ESP-in-UDP", sc_natt },
    { "retrans", "MM1 sent 3 times, MM3/MM4 pair retransmitted, QM1 retransmitted", sc_retrans },
    { "interleaved", "4 negotiations interleaved (2 peer pairs + MM and AM on one pair)", sc_interleaved },
    { "renegotiate", "MM3 retransmitted 3 times without MM4, then a fresh MM that completes", sc_renegotiate },
    { "midstart", "capture starts mid-negotiation at MM2, MM3, MM5 and QM1 (4 peers)", sc_midstart },
    { "out-of-order", "MM4 before MM3, late MM2, orphan QM3, MM1 with rspi, QM for unknown cookies", sc_out_of_order },
    { "multi-msg", "MM5/MM6 as Cisco IKE fragments: last fragment frame also holds the reassembled message", sc_multi_msg },
    { "malformed", "malformed/odd ISAKMP datagrams mixed into a valid main mode", sc_malformed },
    { "icmp", "MM1 x3 answered by ICMP port unreachable, plus an ICMPv6 case", sc_icmp },
    { "ipv6", "main mode + quick mode over IPv6", sc_ipv6 },
    { "commit-bit", "quick mode with commit bit and QM4 (CONNECTED)", sc_commit_bit },
    { "modecfg", "aggressive mode, XAUTH + Mode-Config transactions (type 6), quick mode", sc_modecfg },
    { "p1-refused", "MM1 answered by clear N(NO-PROPOSAL-CHOSEN), MM1 retried twice", sc_p1_refused },
    { "lifecycle", "deletes then a new main mode, DPD answered, DPD unanswered (dead peer), Informational then silence", sc_lifecycle },
    { "esp", "ESP both ways on one tunnel, one way only on a second, ESP without IKE SA on a third pair", sc_esp },
    { "eap-aka", "remote access shapes: IKEv2 EAP-AKA in three IKE_AUTH rounds; EAP ending on the gateway's answer; an EAP round unanswered (AAA); IKEv1 XAUTH + pushed mode-config", sc_eap_aka },
    { "ikev2", "IKEv2 beside IKEv1: COOKIE retry, fragmented IKE_AUTH re-sent, responder CHILD/INFO with MID 0/1 and delete; no answer; AUTH refused; NO_PROPOSAL_CHOSEN", sc_ikev2 },
    { "reflection", "ISAKMP reflection at the victim: 400 MM2 to one spoofed initiator cookie within 0.4 s (12 re-sent), 30 IKEv2 IKE_SA_INIT responses to one SPIi, and the victim's own main mode + quick mode", sc_reflection },
};

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr, "usage: ikegen SCENARIO OUT.pcap\n"
                    "       ikegen --list\n"
                    "       ikegen --mix N [--seed S] [--ike-percent P] [--esp-packets K] OUT.pcap\n"
                    "       ikegen --flood N [--seed S] [--rate R] OUT.pcap\n");
}

static void init_state(guint64 seed)
{
    rng_state = seed;
    now_us = 0;
    pkt_seq = 0;
    pkts = g_array_new(FALSE, FALSE, sizeof(Pkt));
    all_eps = g_ptr_array_new_with_free_func(g_free);
    all_negs = g_ptr_array_new_with_free_func(neg_free);
}

static void fini_state(void)
{
    free_pkts();
    g_array_free(pkts, TRUE);
    g_ptr_array_free(all_negs, TRUE);
    g_ptr_array_free(all_eps, TRUE);
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage();
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < G_N_ELEMENTS(scenarios); i++)
            printf("%-13s %s\n", scenarios[i].name, scenarios[i].desc);
        return 0;
    }
    if (argc >= 4 && (strcmp(argv[1], "--mix") == 0 || strcmp(argv[1], "--flood") == 0)) {
        int is_flood = strcmp(argv[1], "--flood") == 0;
        char *end;
        guint64 n = g_ascii_strtoull(argv[2], &end, 10), seed = 1;
        const char *out = argv[argc - 1];
        if (*end || n == 0) {
            usage();
            return 2;
        }
        /* options between N and OUT.pcap, as pairs */
        if (argc % 2 != 0) {
            usage();
            return 2;
        }
        for (int a = 3; a + 1 < argc - 1; a += 2) {
            guint64 v = g_ascii_strtoull(argv[a + 1], &end, 10);
            if (*end) {
                usage();
                return 2;
            }
            if (strcmp(argv[a], "--seed") == 0) {
                seed = v;
            } else if (!is_flood && strcmp(argv[a], "--ike-percent") == 0 && v >= 1 && v <= 100) {
                ike_percent = (guint)v;
            } else if (!is_flood && strcmp(argv[a], "--esp-packets") == 0 && v <= 100000) {
                esp_packets = (guint)v;
            } else if (is_flood && strcmp(argv[a], "--rate") == 0 && v >= 1 && v <= 1000000) {
                flood_rate = v;
            } else {
                usage();
                return 2;
            }
        }
        init_state(seed_from_string(is_flood ? "flood" : "mix") ^ (seed * 0x9E3779B97F4A7C15ULL));
        if (out_open(out) != 0)
            return 1;
        if (is_flood)
            flood(n);
        else
            mix(n);
        int rc = out_close();
        fini_state();
        return rc;
    }
    if (argc != 3) {
        usage();
        return 2;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(scenarios); i++) {
        if (strcmp(argv[1], scenarios[i].name) == 0) {
            init_state(seed_from_string(scenarios[i].name));
            if (out_open(argv[2]) != 0)
                return 1;
            scenarios[i].fn();
            int rc = out_close();
            fini_state();
            return rc;
        }
    }
    fprintf(stderr, "ikegen: unknown scenario '%s' (try --list)\n", argv[1]);
    return 2;
}
