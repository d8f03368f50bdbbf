/*
 * keys/records.c -- `dsyncd records [ZONE]`: what the parent publishes so
 * that children find and trust this receiver (RFC 9859 and the ddns draft):
 *   *._dsync.<zone> and _dsync.<zone>   DSYNC ANY <scheme> <port> <target>
 *   <target>  A / AAAA                  where the receiver listens
 *   <target>  KEY                       the receiver's published keys (D5)
 *   <target>  SVCB 1 . key65282="..."   the bootstrap methods offered (D2)
 * DSYNC is printed in RFC 3597 generic form (TYPE66 \# ...), which every
 * zone parser takes whether or not it knows the type, with the readable form
 * in a comment above it.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "common/wire.h"
#include "keys/keys.h"

static void print_dsync(const struct cfg *c, const char *owner, const char *target, FILE *out)
{
	uint8_t rd[3 + 2 + DNAME_MAX];
	struct wbuf b;
	wbuf_init(&b, rd, sizeof(rd));
	wbuf_u16(&b, T_ANY);
	wbuf_u8(&b, c->receiver.dsync_scheme);
	wbuf_u16(&b, c->port);
	wbuf_bytes(&b, c->receiver.name, dname_len(c->receiver.name));
	fprintf(out, "; %s %u IN DSYNC ANY %u %u %s\n", owner, c->receiver.publish_ttl,
		c->receiver.dsync_scheme, c->port, target);
	fprintf(out, "%s %u IN TYPE66 \\# %zu ", owner, c->receiver.publish_ttl, b.len);
	for (size_t i = 0; i < b.len; i++)
		fprintf(out, "%02X", rd[i]);
	fputc('\n', out);
}

static void print_zone(const struct cfg *c, const struct cfg_zone *z,
		       const struct sig0_key *const *keys, size_t nkeys, FILE *out)
{
	char zone[DNAME_STR_MAX], target[DNAME_STR_MAX], owner[DNAME_STR_MAX + 16], line[8192];
	uint32_t ttl = c->receiver.publish_ttl;
	dname_to_str(z->name, zone, sizeof(zone));
	dname_to_str(c->receiver.name, target, sizeof(target));
	fprintf(out, "; zone %s: records that let children find and trust this receiver\n", zone);
	snprintf(owner, sizeof(owner), "*._dsync.%s", zone);
	print_dsync(c, owner, target, out);
	snprintf(owner, sizeof(owner), "_dsync.%s", zone);
	print_dsync(c, owner, target, out);

	char **addr = c->receiver.naddresses ? c->receiver.addresses : c->listen;
	size_t naddr = c->receiver.naddresses ? c->receiver.naddresses : c->nlisten;
	for (size_t i = 0; i < naddr; i++) {
		uint8_t a[16];
		if (inet_pton(AF_INET, addr[i], a) == 1 && memcmp(a, "\0\0\0\0", 4) != 0)
			fprintf(out, "%s %u IN A %s\n", target, ttl, addr[i]);
		else if (inet_pton(AF_INET6, addr[i], a) == 1 &&
			 memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) != 0)
			fprintf(out, "%s %u IN AAAA %s\n", target, ttl, addr[i]);
	}
	for (size_t i = 0; i < nkeys; i++) {
		size_t rdlen;
		const uint8_t *rd = sig0_key_rdata(keys[i], &rdlen);
		if (rr_to_str(c->receiver.name, ttl, T_KEY, rd, rdlen, line, sizeof(line)) == DS_OK)
			fprintf(out, "%s\n", line);
	}
	/* D2: ServiceMode, target ".", the methods this zone offers in its
	 * configured order, comma-separated (no SVCB when it offers none) */
	char methods[64] = "";
	for (unsigned i = 0; i < z->nboot_order; i++) {
		size_t n = strlen(methods);
		snprintf(methods + n, sizeof(methods) - n, "%s%s", n ? "," : "",
			 cfg_boot_method_str(z->boot_order[i]));
	}
	if (methods[0] != '\0')
		fprintf(out, "%s %u IN SVCB 1 . key%u=\"%s\"\n", target, ttl, c->receiver.svcb_key,
			methods);
}

int keys_records(const struct cfg *c, const char *zone, FILE *out)
{
	uint8_t zname[DNAME_MAX];
	if (!c->receiver.enabled) {
		fprintf(out, "records: set receiver.name (the DSYNC target) first\n");
		return DS_ECONFIG;
	}
	if (zone != NULL && (dname_from_str(zone, zname) < 0 || cfg_zone_find(c, zname) == NULL)) {
		fprintf(out, "records: zone %s is not configured\n", zone);
		return DS_ENOENT;
	}
	struct rkeys *set;
	int rc = rkeys_load(c, false, &set);
	if (rc != DS_OK) {
		fprintf(out, "records: cannot read the receiver keys in %s\n", c->receiver.key_dir);
		return rc;
	}
	const struct sig0_key *keys[16];
	size_t nkeys = rkeys_published(set, (int64_t)time(NULL), keys, 16);
	if (nkeys == 0)
		fprintf(out,
			"; no receiver key is published yet: start dsyncd once to create one\n");
	for (size_t i = 0; i < c->nzones; i++)
		if (zone == NULL || dname_equal(c->zones[i].name, zname))
			print_zone(c, &c->zones[i], keys, nkeys, out);
	rkeys_free(set);
	return DS_OK;
}
