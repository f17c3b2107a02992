/* ike_machine.h — the machine: the tables of tunnels and exchanges, their memory, each tunnel's
 * identity (attempt, the pair table), resend and duplicate detection, the version dispatch, and
 * the ESP data plane's link to tunnels (ike_esp.c). No verdicts: those are diagnosis (ike_diag.h),
 * which reads what is here as const. Not part of the API.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_MACHINE_H
#define IKE_MACHINE_H

#include "ike_track.h"
#include "ike_fsm.h"

#include <glib.h>

/* Items of one size in blocks, found by their 1-based index (0: none): 4 bytes where a pointer
 * takes 8. They live as long as the machine. */
typedef struct {
	GPtrArray *blocks;
	uint32_t n; /* items so far */
	uint32_t size;
} iks_pool;

void iks_pool_init(iks_pool *p, size_t size);
uint32_t iks_pool_add(iks_pool *p); /* a new zeroed item: its index */
void *iks_pool_at(const iks_pool *p, uint32_t num);
void iks_pool_free(iks_pool *p);

/* One sighting of an ISAKMP message, kept while the same bytes may still be seen again. */
typedef struct {
	uint64_t digest;
	uint64_t seen;      /* a transmission: the capture points that saw it (bit n: point n, 63 and above: 63) */
	int64_t ts_ns;
	iks_result *res;    /* the transmission's labels */
	uint32_t older;     /* the previous sighting in its hash bucket, 0 = none */
	uint32_t tx;        /* a copy or duplicate: its transmission's sighting; 0: it is one */
	uint32_t frame;
	uint16_t point;
	uint8_t dir;        /* a transmission: its direction in its tunnel */
} iks_sighting;

/* The sightings of the last seconds in feeding order: a ring found by sequence number (from 1),
 * each hash bucket chained newest first. What leaves the window is forgotten, so the memory
 * follows the message rate, not the capture's length. */
typedef struct {
	iks_sighting *ring;
	uint32_t *bucket; /* [2 * cap]: the newest sequence number whose digest hashes there */
	uint32_t cap;     /* a power of two, 0 until the first sighting */
	uint32_t oldest, next; /* the sequence numbers kept: [oldest, next) */
} iks_sightings;

iks_sighting *iks_sighting_at(const iks_sightings *w, uint32_t seq); /* NULL when not kept */
uint32_t iks_sighting_newest(const iks_sightings *w, uint64_t digest); /* its bucket's; 0 = none */
/* A new sighting (digest and bucket link set, the rest zero): its sequence number. Pointers from
 * iks_sighting_at are invalid after it. */
uint32_t iks_sighting_add(iks_sightings *w, uint64_t digest);
void iks_sightings_forget(iks_sightings *w, int64_t before_ns); /* the oldest ones seen before */
void iks_sightings_free(iks_sightings *w);

typedef struct {
	iks_pool tunnel_pool;  /* iks_tunnel, by index (iks_tunnel_at) */
	iks_pool v2_pool;      /* iks_v2_last[2] (iks_exchange.v2) */
	GHashTable *tunnels;   /* ispi -> first iks_tunnel with that ispi */
	GHashTable *exchanges; /* (tunnel, msgid, exch) -> iks_exchange */
	GHashTable *pairs;     /* the latest iks_tunnel between each two addresses */
	GPtrArray *results;    /* iks_result[RESULTS_PER_BLOCK] each: a result's id is its place, from 1 */
	unsigned used;         /* results used in the last block */
	GSList *arena;         /* blocks of iks_alloc, the newest first */
	size_t arena_left;     /* bytes left in the newest */
	int64_t last_ns;       /* newest packet time: the capture end for final verdicts */
	GHashTable *esp_sas;   /* iks_esp_sa (src, dst, spi) -> itself; created with the first ESP packet */
	GHashTable *esp_pairs; /* iks_esp_sa (src, dst, 0): ESP went from src to dst */
	GHashTable *esp_spis;  /* iks_esp_sa (0, receiver, spi) announced in a decrypted message: tunnel, frame */
	iks_esp_sa *esp_last;  /* SA of the latest ESP packet */
	iks_sightings sightings;
	int64_t window_ns;     /* iks_config.sighting_window_ns */
	int64_t newest_ns;     /* the newest sighting's time: the window ends there */
	uint64_t points;       /* capture points seen (bit n: point n, 63 and above: 63) */
	GHashTable *point_refs; /* (tunnel, point) -> the address its ref sender has there (NAT); NULL
				 * until a copy at a point other than its tunnel's shows it */
	GHashTable *ra;        /* iks_result -> its decrypted EAP / configuration payload (iks_ra packed
				* in a pointer); NULL until the first: only keyed remote access pays */
	int64_t expiry_ns;     /* iks_config.exchange_expiry_ns */
	int64_t clock_ns;      /* the time exchanges are forgotten by: jumps are believed when confirmed */
	int64_t sweep_ns;      /* the next look for quiet exchanges, 0 until the first message */
	bool clock_jumped;     /* the last message was more than the expiry ahead of clock_ns */
	uint32_t p1_from;      /* tunnels before it have no phase-1 exchange any more (from 1) */
	void *free_exchanges;  /* forgotten exchanges' memory, for the next ones (linked through it) */
	uint32_t free_v2;      /* forgotten v2_pool items, linked through their first bytes; 0 = none */
} iks_machine;

/* Where one message landed, for the diagnosis that follows it. */
typedef struct {
	iks_tunnel *t;
	iks_exchange *e;
	unsigned dir;
	bool new_tunnel;
	bool progressed; /* it moved its negotiation on */
} iks_step;

void iks_machine_init(iks_machine *mc, int64_t sighting_window_ns, int64_t exchange_expiry_ns);
void iks_machine_free(iks_machine *mc);

/* Place one message: its tunnel and exchange, resend or not, the version's step. The result's
 * labels are set; its verdict fields are the diagnosis's to set before iks_machine_settle. NULL
 * for a version other than 1 and 2. A copy or duplicate of a transmission (IKS_R_COPY,
 * IKS_R_DUPLICATE) takes its labels and moves nothing: step->t is then NULL, and it is settled. */
iks_result *iks_machine_feed(iks_machine *mc, const iks_msg *m, iks_step *step);
/* The message's effects on its tunnel once diagnosed: counts, addresses, progress, tail. */
void iks_machine_settle(iks_machine *mc, const iks_msg *m, const iks_step *step, iks_result *r);

/* An ICMP error quoting cookies of a known tunnel: a result for it, NULL for none. */
iks_result *iks_machine_icmp(iks_machine *mc, int64_t ts_ns, uint64_t ispi, uint64_t rspi, iks_tunnel **t);

iks_tunnel *iks_tunnel_at(const iks_machine *mc, uint32_t num);
/* The latest tunnel between two addresses (ports left out), NULL for none. */
const iks_tunnel *iks_machine_latest_between(const iks_machine *mc, const iks_addr *a, const iks_addr *b);
iks_addr iks_role_addr(const iks_tunnel *t, unsigned role); /* 0 initiator, 1 responder */
bool iks_addr_eq(const iks_addr *a, const iks_addr *b);
guint iks_addr_pair_hash(guint seed, const iks_addr *a, const iks_addr *b);
/* The decrypted EAP / configuration payload of r's message; false when it had none. */
bool iks_machine_ra(const iks_machine *mc, const iks_result *r, iks_ra *out);
void *iks_alloc(iks_machine *mc, size_t size); /* zeroed, lives as long as the machine */
/* A zeroed exchange: the memory of a forgotten one if there is one. */
iks_exchange *iks_exchange_new(iks_machine *mc);
/* Forget it: its memory (and its v2_pool item) goes to the next exchange. The caller has unlinked it. */
void iks_exchange_forget(iks_machine *mc, iks_exchange *e);
uint32_t iks_v2_items_new(iks_machine *mc); /* a zeroed v2_pool item, a forgotten one's if any */
/* The exchange table's hash and equality (tunnel, message ID, type): for tables of exchange keys. */
guint iks_exchange_hash(gconstpointer e);
gboolean iks_exchange_equal(gconstpointer a, gconstpointer b);
iks_result *iks_new_result(iks_machine *mc);
uint32_t iks_result_id(const iks_machine *mc, const iks_result *r); /* 0: not one of its results */
iks_result *iks_result_at(const iks_machine *mc, uint32_t id);       /* NULL: no such result */
/* Every result so far, in the order they were made. */
void iks_results_foreach(const iks_machine *mc, void (*fn)(iks_result *r, void *data), void *data);

/* ESP data plane (ike_esp.c). The SA of a packet, NULL when it is the SA's first: then the caller
 * decides its IKE SA and adds it with iks_esp_add. */
iks_esp_sa *iks_esp_find(iks_machine *mc, const iks_addr *src, const iks_addr *dst, uint32_t spi);
/* The IKE SA (tunnel index, frame) a decrypted message linked to the receiver's SPI, NULL if none. */
const iks_esp_sa *iks_esp_negotiated(const iks_machine *mc, const iks_addr *receiver, uint32_t spi);
iks_esp_sa *iks_esp_add(iks_machine *mc, uint32_t frame, int64_t ts_ns, const iks_addr *src, const iks_addr *dst,
			uint32_t spi, bool udp, const iks_tunnel *t, uint32_t negotiated_in);
void iks_esp_count(iks_machine *mc, iks_esp_sa *sa, uint32_t frame, int64_t ts_ns, const iks_addr *src, uint32_t len);
const iks_esp_sa *iks_esp_lookup(const iks_machine *mc, const iks_addr *src, const iks_addr *dst, uint32_t spi);
void iks_esp_note_spis(iks_machine *mc, const iks_msg *m, const iks_result *r);
void iks_esp_finish(iks_machine *mc); /* capture end: the one-way flags */
void iks_esp_free(iks_machine *mc);

#endif
