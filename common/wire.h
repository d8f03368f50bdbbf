/*
 * common/wire.h -- bounds-checked cursor over untrusted DNS wire data, and a
 * bounds-checked writer.
 *
 * Reads past the end never happen: the first failing read sets a sticky
 * error (DS_ETRUNC or DS_EMALF) and every later read returns zero, so a
 * caller checks wire_err() once after a group of reads (Knot's wire_ctx).
 *
 * Names are read with the hardening rules of R13: a compression pointer must
 * point strictly before the pointer itself, at most DNAME_LABELS labels, at
 * most DNAME_MAX octets, at most DNAME_LABELS + 1 compression jumps per name;
 * the work is linear in the output.
 */
#ifndef DS_COMMON_WIRE_H
#define DS_COMMON_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/dns.h"

struct wire {
	const uint8_t *buf; /* the whole message (for compression pointers) */
	size_t len;
	size_t pos;
	int err; /* 0 or the first error */
};

void wire_init(struct wire *w, const uint8_t *buf, size_t len);
static inline int wire_err(const struct wire *w)
{
	return w->err;
}
static inline size_t wire_left(const struct wire *w)
{
	return w->err ? 0 : w->len - w->pos;
}

uint8_t wire_u8(struct wire *w);
uint16_t wire_u16(struct wire *w);
uint32_t wire_u32(struct wire *w);
/* Pointer to the next n bytes and advance, or NULL (sets DS_ETRUNC). */
const uint8_t *wire_bytes(struct wire *w, size_t n);
void wire_skip(struct wire *w, size_t n);
/* Move to an absolute offset (<= len). */
void wire_seek(struct wire *w, size_t pos);

/*
 * Read a possibly compressed name at the cursor into out (uncompressed wire
 * form, case preserved) and advance past it.  Returns the name's length
 * (1..DNAME_MAX), or 0 and sets the sticky error.
 */
size_t wire_name(struct wire *w, uint8_t out[DNAME_MAX]);

/*
 * Like wire_name() but the name must not use compression (names inside SIG
 * RDATA, DSYNC targets).  The same limits apply.
 */
size_t wire_name_nocomp(struct wire *w, uint8_t out[DNAME_MAX]);

/* Writer over a caller buffer; overflow sets a sticky DS_ELIMIT. */
struct wbuf {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;
};

void wbuf_init(struct wbuf *b, uint8_t *buf, size_t cap);
void wbuf_u8(struct wbuf *b, uint8_t v);
void wbuf_u16(struct wbuf *b, uint16_t v);
void wbuf_u32(struct wbuf *b, uint32_t v);
void wbuf_bytes(struct wbuf *b, const void *p, size_t n);
/* Overwrite a u16 already written at offset off. */
void wbuf_put_u16_at(struct wbuf *b, size_t off, uint16_t v);

static inline uint16_t rd_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rd_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#endif
