/*
 * common/dname.c -- wire-format names: compare, escape, parse.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/dname.h"
#include "common/err.h"

static inline uint8_t lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

size_t dname_len(const uint8_t *name)
{
	size_t n = 0;
	while (name[n] != 0)
		n += 1 + (size_t)name[n];
	return n + 1;
}

unsigned dname_labels(const uint8_t *name)
{
	unsigned l = 0;
	for (size_t n = 0; name[n] != 0; n += 1 + (size_t)name[n])
		l++;
	return l;
}

bool dname_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		uint8_t n = *a;
		if (n == 0)
			return true;
		for (uint8_t i = 1; i <= n; i++)
			if (lc(a[i]) != lc(b[i]))
				return false;
		a += 1 + n;
		b += 1 + n;
	}
}

const uint8_t *dname_parent(const uint8_t *name)
{
	return name[0] == 0 ? name : name + 1 + name[0];
}

bool dname_is_sub(const uint8_t *name, const uint8_t *parent)
{
	unsigned ln = dname_labels(name), lp = dname_labels(parent);
	if (ln < lp)
		return false;
	while (ln-- > lp)
		name = dname_parent(name);
	return dname_equal(name, parent);
}

bool dname_is_strict_sub(const uint8_t *name, const uint8_t *parent)
{
	return dname_labels(name) > dname_labels(parent) && dname_is_sub(name, parent);
}

/* Compare label sequences from the right, as RFC 4034 6.1 orders names. */
int dname_compare(const uint8_t *a, const uint8_t *b)
{
	const uint8_t *la[DNAME_LABELS + 1], *lb[DNAME_LABELS + 1];
	int na = 0, nb = 0;
	for (const uint8_t *p = a; *p; p += 1 + *p)
		la[na++] = p;
	for (const uint8_t *p = b; *p; p += 1 + *p)
		lb[nb++] = p;
	while (na > 0 && nb > 0) {
		const uint8_t *x = la[--na], *y = lb[--nb];
		uint8_t n = x[0] < y[0] ? x[0] : y[0];
		for (uint8_t i = 1; i <= n; i++) {
			uint8_t cx = lc(x[i]), cy = lc(y[i]);
			if (cx != cy)
				return cx < cy ? -1 : 1;
		}
		if (x[0] != y[0])
			return x[0] < y[0] ? -1 : 1;
	}
	return na == nb ? 0 : (na < nb ? -1 : 1);
}

size_t dname_lower(uint8_t out[DNAME_MAX], const uint8_t *name)
{
	size_t n = dname_len(name);
	for (size_t i = 0; i < n; i++)
		out[i] = name[i];
	for (size_t p = 0; out[p]; p += 1 + out[p])
		for (size_t i = 1; i <= out[p]; i++)
			out[p + i] = lc(out[p + i]);
	return n;
}

int dname_to_str(const uint8_t *name, char *out, size_t outlen)
{
	size_t o = 0;
	int rc = DS_OK;
	char tmp[8];
#define PUT(s, n)                                                                                  \
	do {                                                                                       \
		if (o + (n) >= outlen) {                                                           \
			rc = DS_ELIMIT;                                                            \
			goto done;                                                                 \
		}                                                                                  \
		memcpy(out + o, (s), (n));                                                         \
		o += (n);                                                                          \
	} while (0)
	if (outlen == 0)
		return DS_ELIMIT;
	if (name[0] == 0)
		PUT(".", 1);
	for (const uint8_t *p = name; *p; p += 1 + *p) {
		for (uint8_t i = 1; i <= p[0]; i++) {
			uint8_t c = p[i];
			if (c <= 0x20 || c >= 0x7f) {
				snprintf(tmp, sizeof(tmp), "\\%03u", c);
				PUT(tmp, 4);
			} else if (strchr(".;()\\\"$@", c)) {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				PUT(tmp, 2);
			} else {
				tmp[0] = (char)c;
				PUT(tmp, 1);
			}
		}
		PUT(".", 1);
	}
done:
	out[o] = '\0';
	return rc;
#undef PUT
}

const char *dname_str(const uint8_t *name, char *out, size_t outlen)
{
	if (dname_to_str(name, out, outlen) != DS_OK && outlen > 4)
		strcpy(out + outlen - 4, "...");
	return out;
}

int dname_from_str(const char *s, uint8_t out[DNAME_MAX])
{
	size_t o = 0, lab = 0; /* lab: offset of the current label's length byte */
	unsigned labels = 0;
	if (strcmp(s, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	if (*s == '\0' || *s == '.')
		return DS_EPARSE;
	out[o++] = 0;
	while (*s) {
		uint8_t c = (uint8_t)*s++;
		if (c == '.') {
			if (out[lab] == 0)
				return DS_EPARSE; /* empty label */
			if (++labels > DNAME_LABELS || o >= DNAME_MAX)
				return DS_ELIMIT;
			lab = o;
			out[o++] = 0;
			continue;
		}
		if (c == '\\') {
			if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
			    isdigit((unsigned char)s[2])) {
				unsigned v = (unsigned)(s[0] - '0') * 100 +
					     (unsigned)(s[1] - '0') * 10 + (unsigned)(s[2] - '0');
				if (v > 255)
					return DS_EPARSE;
				c = (uint8_t)v;
				s += 3;
			} else if (*s) {
				c = (uint8_t)*s++;
			} else {
				return DS_EPARSE;
			}
		}
		if (out[lab] == 63 || o + 1 >= DNAME_MAX)
			return DS_ELIMIT;
		out[o++] = c;
		out[lab]++;
	}
	if (out[lab] != 0) { /* no trailing dot: absolute anyway */
		if (++labels > DNAME_LABELS || o >= DNAME_MAX)
			return DS_ELIMIT;
		out[o++] = 0;
	}
	return (int)o;
}

uint64_t dname_hash(const uint8_t *name)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	size_t n = dname_len(name);
	for (size_t i = 0; i < n; i++) {
		h ^= lc(name[i]);
		h *= 1099511628211ull;
	}
	return h;
}
