/*
 * common/wire.c -- bounds-checked reading and writing of DNS wire data.
 */
#include <stdbool.h>
#include <string.h>

#include "common/err.h"
#include "common/wire.h"

void wire_init(struct wire *w, const uint8_t *buf, size_t len)
{
	w->buf = buf;
	w->len = len;
	w->pos = 0;
	w->err = 0;
}

static bool need(struct wire *w, size_t n)
{
	if (w->err)
		return false;
	if (w->len - w->pos < n) {
		w->err = DS_ETRUNC;
		return false;
	}
	return true;
}

const uint8_t *wire_bytes(struct wire *w, size_t n)
{
	if (!need(w, n))
		return NULL;
	const uint8_t *p = w->buf + w->pos;
	w->pos += n;
	return p;
}

uint8_t wire_u8(struct wire *w)
{
	const uint8_t *p = wire_bytes(w, 1);
	return p ? p[0] : 0;
}

uint16_t wire_u16(struct wire *w)
{
	const uint8_t *p = wire_bytes(w, 2);
	return p ? rd_u16(p) : 0;
}

uint32_t wire_u32(struct wire *w)
{
	const uint8_t *p = wire_bytes(w, 4);
	return p ? rd_u32(p) : 0;
}

void wire_skip(struct wire *w, size_t n)
{
	(void)wire_bytes(w, n);
}

void wire_seek(struct wire *w, size_t pos)
{
	if (w->err)
		return;
	if (pos > w->len)
		w->err = DS_ETRUNC;
	else
		w->pos = pos;
}

/*
 * Each pointer must point strictly before itself, so a chain of pointers
 * always moves backwards and cannot loop; the output bound (DNAME_MAX) and
 * the label bound limit the work for names that mix labels and pointers.
 * Pointers to pointers add no output, so the jumps are bounded too: an
 * encoder needs at most one jump per label plus one (DNAME_LABELS + 1);
 * without the bound, a chain of ~8000 pointers in the first 16 KiB made
 * every name that ends in it cost ~8000 steps.
 */
#define MAX_JUMPS (DNAME_LABELS + 1)
static size_t read_name(struct wire *w, uint8_t out[DNAME_MAX], bool allow_comp)
{
	if (w->err)
		return 0;
	size_t pos = w->pos, end = 0, outlen = 0;
	unsigned labels = 0, jumps = 0;
	bool jumped = false;

	for (;;) {
		if (pos >= w->len) {
			w->err = DS_ETRUNC;
			return 0;
		}
		uint8_t c = w->buf[pos];
		if ((c & 0xc0) == 0xc0) {
			if (!allow_comp || pos + 1 >= w->len) {
				w->err = allow_comp ? DS_ETRUNC : DS_EMALF;
				return 0;
			}
			size_t target = (size_t)(c & 0x3f) << 8 | w->buf[pos + 1];
			if (target >= pos || ++jumps > MAX_JUMPS) {
				w->err = DS_EMALF; /* forward or self pointer, too many jumps */
				return 0;
			}
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = target;
			continue;
		}
		if (c & 0xc0) {
			w->err = DS_EMALF; /* 0x40/0x80: extended label types */
			return 0;
		}
		if (outlen + 1 + c > DNAME_MAX) {
			w->err = DS_EMALF;
			return 0;
		}
		if (pos + 1 + c > w->len) {
			w->err = DS_ETRUNC;
			return 0;
		}
		out[outlen++] = c;
		if (c == 0)
			break;
		if (++labels > DNAME_LABELS) {
			w->err = DS_EMALF;
			return 0;
		}
		memcpy(out + outlen, w->buf + pos + 1, c);
		outlen += c;
		pos += 1 + (size_t)c;
	}
	w->pos = jumped ? end : pos + 1;
	return outlen;
}

size_t wire_name(struct wire *w, uint8_t out[DNAME_MAX])
{
	return read_name(w, out, true);
}

size_t wire_name_nocomp(struct wire *w, uint8_t out[DNAME_MAX])
{
	return read_name(w, out, false);
}

void wbuf_init(struct wbuf *b, uint8_t *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->err = 0;
}

void wbuf_bytes(struct wbuf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (b->cap - b->len < n) {
		b->err = DS_ELIMIT;
		return;
	}
	if (n)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
}

void wbuf_u8(struct wbuf *b, uint8_t v)
{
	wbuf_bytes(b, &v, 1);
}

void wbuf_u16(struct wbuf *b, uint16_t v)
{
	uint8_t t[2];
	wr_u16(t, v);
	wbuf_bytes(b, t, 2);
}

void wbuf_u32(struct wbuf *b, uint32_t v)
{
	uint8_t t[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	wbuf_bytes(b, t, 4);
}

void wbuf_put_u16_at(struct wbuf *b, size_t off, uint16_t v)
{
	if (b->err)
		return;
	if (off > b->len || b->len - off < 2) { /* no off + 2 wrap-around */
		b->err = DS_ELIMIT;
		return;
	}
	wr_u16(b->buf + off, v);
}
