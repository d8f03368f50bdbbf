/*
 * tests/unit/upd_start.h -- the start of a test UPDATE, shared by the unit
 * programs and the benchmarks that build their own messages.
 */
#ifndef DS_TESTS_UNIT_UPD_START_H
#define DS_TESTS_UNIT_UPD_START_H

#include "common/dname.h"
#include "common/dns.h"
#include "common/wire.h"

/*
 * The header (ID id, one zone entry, no prerequisites, nupd updates, nadd
 * additional records) and the zone section: zone (wire form) SOA IN.
 */
static inline void upd_start(struct wbuf *b, uint16_t id, const uint8_t *zone, uint16_t nupd,
			     uint16_t nadd)
{
	wbuf_u16(b, id);
	wbuf_u16(b, (uint16_t)(OP_UPDATE << 11));
	wbuf_u16(b, 1);
	wbuf_u16(b, 0);
	wbuf_u16(b, nupd);
	wbuf_u16(b, nadd);
	wbuf_bytes(b, zone, dname_len(zone));
	wbuf_u16(b, T_SOA);
	wbuf_u16(b, CLASS_IN);
}

/* The rest of an NS record whose owner is written: NS IN ttl, target (text). */
static inline void upd_ns_rest(struct wbuf *b, uint32_t ttl, const char *target)
{
	uint8_t t[DNAME_MAX];
	int tl = dname_from_str(target, t);
	wbuf_u16(b, T_NS);
	wbuf_u16(b, CLASS_IN);
	wbuf_u32(b, ttl);
	wbuf_u16(b, (uint16_t)tl);
	wbuf_bytes(b, t, (size_t)tl);
}

#endif
