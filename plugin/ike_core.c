/* ike_core.c — the core's API (ike_fsm.h): each call runs the machine, then the diagnosis, in that
 * order; nothing below calls up (docs/architecture.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_diag.h"
#include "ike_offers.h"

#include <string.h>

struct iks_fsm {
	iks_machine mc;
	iks_offers offers;
	iks_diag diag;
};

iks_fsm *iks_fsm_new(const iks_config *cfg)
{
	iks_config defaults = { IKS_DEFAULT_STALL_RETRANSMISSIONS, (int64_t)IKS_DEFAULT_STALL_TIMEOUT_S * 1000000000,
				(int64_t)IKS_DEFAULT_SIGHTING_WINDOW_MS * 1000000,
				(int64_t)IKS_DEFAULT_EXCHANGE_EXPIRY_S * 1000000000 };
	if (!cfg)
		cfg = &defaults;
	iks_fsm *fsm = g_new0(iks_fsm, 1);
	iks_machine_init(&fsm->mc, cfg->sighting_window_ns, cfg->exchange_expiry_ns);
	iks_offers_init(&fsm->offers);
	iks_diag_init(&fsm->diag, &fsm->mc, cfg);
	return fsm;
}

void iks_fsm_free(iks_fsm *fsm)
{
	if (!fsm)
		return;
	iks_diag_free(&fsm->diag);
	iks_offers_free(&fsm->offers);
	iks_machine_free(&fsm->mc);
	g_free(fsm);
}

iks_result *iks_fsm_feed(iks_fsm *fsm, const iks_msg *m)
{
	iks_step s;
	iks_result *r = iks_machine_feed(&fsm->mc, m, &s);
	if (!r || !s.t)
		return r; /* a copy or duplicate: nothing to diagnose or settle */
	iks_offers_note(&fsm->offers, s.t, m, r);
	iks_offers_explain(&fsm->offers, &fsm->mc, s.t, m, r);
	if (s.new_tunnel)
		iks_diag_new_tunnel(&fsm->diag, s.t, m);
	iks_diag_message(&fsm->diag, &s, m, r);
	iks_machine_settle(&fsm->mc, m, &s, r);
	return r;
}

iks_result *iks_fsm_icmp(iks_fsm *fsm, int64_t ts_ns, uint64_t ispi, uint64_t rspi)
{
	iks_tunnel *t;
	iks_result *r = iks_machine_icmp(&fsm->mc, ts_ns, ispi, rspi, &t);
	if (r)
		iks_diag_icmp(&fsm->diag, t, r);
	return r;
}

void iks_fsm_finish(iks_fsm *fsm)
{
	iks_diag_finish(&fsm->diag);
	iks_esp_finish(&fsm->mc);
}

uint32_t iks_fsm_wire_seen(const iks_fsm *fsm, const iks_msg *m)
{
	return iks_offers_seen(&fsm->offers, m);
}

uint32_t iks_fsm_result_id(const iks_fsm *fsm, const iks_result *r)
{
	return iks_result_id(&fsm->mc, r);
}

const iks_result *iks_fsm_result(const iks_fsm *fsm, uint32_t id)
{
	return iks_result_at(&fsm->mc, id);
}

uint32_t iks_fsm_tunnel_count(const iks_fsm *fsm)
{
	return fsm->mc.tunnel_pool.n;
}

uint64_t iks_fsm_points(const iks_fsm *fsm)
{
	return fsm->mc.points;
}

uint8_t iks_fsm_missing_at(const iks_fsm *fsm, const iks_result *r)
{
	return iks_diag_missing_at(&fsm->diag, r);
}

const iks_offer *iks_fsm_offer(const iks_fsm *fsm, const iks_result *r)
{
	const iks_wire_rec *rec = iks_offers_of(&fsm->offers, r);
	return rec && rec->offer.n ? &rec->offer : NULL;
}

const iks_child *iks_fsm_child(const iks_fsm *fsm, const iks_result *r)
{
	return iks_offers_child(&fsm->offers, r);
}

const char *iks_fsm_mismatch(const iks_fsm *fsm, const iks_result *r)
{
	return iks_offers_mismatch(&fsm->offers, r);
}

uint8_t iks_fsm_pattern(const iks_fsm *fsm, uint32_t num)
{
	if (!num || num > fsm->mc.tunnel_pool.n)
		return 0;
	return iks_diag_pattern(&fsm->diag, iks_tunnel_at(&fsm->mc, num));
}

bool iks_fsm_captured_at(const iks_fsm *fsm, uint32_t num, iks_captured_at *out)
{
	if (num == 0 || num > fsm->mc.tunnel_pool.n)
		return false;
	*out = iks_diag_captured_at(&fsm->diag, iks_tunnel_at(&fsm->mc, num));
	return true;
}

bool iks_fsm_ra(const iks_fsm *fsm, const iks_result *r, iks_ra *out)
{
	return iks_machine_ra(&fsm->mc, r, out);
}

const iks_impl *iks_fsm_impl(const iks_fsm *fsm, const iks_result *r)
{
	const iks_wire_rec *rec = iks_offers_of(&fsm->offers, r);
	return rec && iks_impl_known(&rec->impl) ? &rec->impl : NULL;
}

uint32_t iks_fsm_rekey_of(const iks_fsm *fsm, uint32_t num)
{
	if (num == 0 || num > fsm->mc.tunnel_pool.n)
		return 0;
	return iks_diag_at(&fsm->diag, num)->rekey_of;
}

bool iks_fsm_summary(const iks_fsm *fsm, uint32_t num, iks_tunnel_summary *out)
{
	if (!iks_diag_summary(&fsm->diag, num, out))
		return false;
	const iks_offer_tunnel *ot = iks_offers_tunnel(&fsm->offers, num);
	if (ot && out->roles_known)
		memcpy(out->impl, ot->impl, sizeof out->impl);
	return true;
}

/* The SA's IKE SA is decided at its first packet: the one a decrypted message announced its SPI in,
 * else the one up between the two addresses. */
const iks_esp_sa *iks_fsm_esp(iks_fsm *fsm, uint32_t frame, int64_t ts_ns, const iks_addr *src, const iks_addr *dst,
			      uint32_t spi, uint32_t len, bool udp)
{
	iks_esp_sa *sa = iks_esp_find(&fsm->mc, src, dst, spi);
	if (!sa) {
		const iks_esp_sa *neg = iks_esp_negotiated(&fsm->mc, dst, spi);
		const iks_tunnel *t = neg ? iks_tunnel_at(&fsm->mc, neg->tunnel)
					  : iks_diag_tunnel_between(&fsm->diag, src, dst);
		sa = iks_esp_add(&fsm->mc, frame, ts_ns, src, dst, spi, udp, t, neg ? neg->negotiated_in : 0);
	}
	iks_esp_count(&fsm->mc, sa, frame, ts_ns, src, len);
	return sa;
}

const iks_esp_sa *iks_fsm_esp_sa(const iks_fsm *fsm, const iks_addr *src, const iks_addr *dst, uint32_t spi)
{
	return iks_esp_lookup(&fsm->mc, src, dst, spi);
}
