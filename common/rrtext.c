/*
 * common/rrtext.c -- presentation format for the records dsyncd stores.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/dname.h"
#include "common/dns.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "common/wire.h"

static const struct {
	uint16_t type;
	const char *name;
} types[] = {
    {T_A, "A"},
    {T_NS, "NS"},
    {T_MD, "MD"},
    {T_MF, "MF"},
    {T_CNAME, "CNAME"},
    {T_SOA, "SOA"},
    {T_MB, "MB"},
    {T_MG, "MG"},
    {T_MR, "MR"},
    {T_NULL, "NULL"},
    {T_PTR, "PTR"},
    {T_MX, "MX"},
    {16, "TXT"},
    {T_SIG, "SIG"},
    {T_KEY, "KEY"},
    {T_AAAA, "AAAA"},
    {T_NXT, "NXT"},
    {33, "SRV"},
    {39, "DNAME"},
    {T_OPT, "OPT"},
    {T_DS, "DS"},
    {T_RRSIG, "RRSIG"},
    {T_NSEC, "NSEC"},
    {T_DNSKEY, "DNSKEY"},
    {T_NSEC3, "NSEC3"},
    {T_NSEC3PARAM, "NSEC3PARAM"},
    {52, "TLSA"},
    {T_CDS, "CDS"},
    {T_CDNSKEY, "CDNSKEY"},
    {T_CSYNC, "CSYNC"},
    {T_SVCB, "SVCB"},
    {65, "HTTPS"},
    {T_DSYNC, "DSYNC"},
    {T_TKEY, "TKEY"},
    {T_TSIG, "TSIG"},
    {T_IXFR, "IXFR"},
    {T_AXFR, "AXFR"},
    {T_MAILB, "MAILB"},
    {T_MAILA, "MAILA"},
    {T_ANY, "ANY"},
    {257, "CAA"},
};

const char *rr_type_str(uint16_t type, char *out, size_t outlen)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return types[i].name;
	snprintf(out, outlen, "TYPE%u", type);
	return out;
}

const char *rr_rcode_str(unsigned rcode, char *out, size_t outlen)
{
	static const char *const names[] = {
	    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED", "YXDOMAIN",
	    "YXRRSET", "NXRRSET", "NOTAUTH",  "NOTZONE",  NULL,	     NULL,	NULL,
	    NULL,      NULL,	  "BADVERS",  "BADKEY",	  "BADTIME",
	};
	if (rcode < sizeof(names) / sizeof(names[0]) && names[rcode] != NULL)
		return names[rcode];
	snprintf(out, outlen, "RCODE%u", rcode);
	return out;
}

uint16_t rr_type_from_str(const char *s)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(types[i].name, s) == 0)
			return types[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0 && isdigit((unsigned char)s[4])) {
		char *end;
		unsigned long v = strtoul(s + 4, &end, 10);
		if (*end == '\0' && v > 0 && v <= 65535)
			return (uint16_t)v;
	}
	return 0;
}

int b64_encode(const uint8_t *in, size_t inlen, char *out, size_t outlen)
{
	size_t need = 4 * ((inlen + 2) / 3) + 1;
	if (outlen < need)
		return DS_ELIMIT;
	return EVP_EncodeBlock((unsigned char *)out, in, (int)inlen);
}

int b64_decode(const char *in, uint8_t *out, size_t outlen)
{
	/* strip whitespace first: key files and zone files split base64 */
	size_t n = strlen(in), k = 0;
	char buf[8192];
	if (n >= sizeof(buf))
		return DS_ELIMIT;
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)in[i]))
			buf[k++] = in[i];
	buf[k] = '\0';
	if (k % 4 != 0)
		return DS_EPARSE;
	size_t pad = 0;
	if (k >= 1 && buf[k - 1] == '=')
		pad++;
	if (k >= 2 && buf[k - 2] == '=')
		pad++;
	size_t dlen = k / 4 * 3 - pad;
	if (dlen > outlen)
		return DS_ELIMIT;
	uint8_t tmp[8192];
	int r = EVP_DecodeBlock(tmp, (const unsigned char *)buf, (int)k);
	if (r < 0)
		return DS_EPARSE;
	memcpy(out, tmp, dlen);
	return (int)dlen;
}

static int hex(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	if (outlen < 2 * n + 1)
		return DS_ELIMIT;
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02X", p[i]);
	out[2 * n] = '\0';
	return DS_OK;
}

/*
 * The form DS and KEY share: three fields (16, 8 and 8 bits) and the rest
 * of the RDATA, in hex (DS: the digest) or base64 (KEY: the public key).
 */
static int fields_and_blob(const uint8_t *rd, size_t rdlen, bool base64, char *out, size_t outlen)
{
	if (rdlen < 5)
		return DS_EMALF;
	int n = snprintf(out, outlen, "%u %u %u ", rd_u16(rd), rd[2], rd[3]);
	if (n < 0 || (size_t)n >= outlen)
		return DS_ELIMIT;
	out += n;
	outlen -= (size_t)n;
	if (base64)
		return b64_encode(rd + 4, rdlen - 4, out, outlen) < 0 ? DS_ELIMIT : DS_OK;
	return hex(rd + 4, rdlen - 4, out, outlen);
}

int rr_rdata_to_str(uint16_t type, const uint8_t *rd, size_t rdlen, char *out, size_t outlen)
{
	int n;
	switch (type) {
	case T_A:
		if (rdlen != 4)
			return DS_EMALF;
		return inet_ntop(AF_INET, rd, out, (socklen_t)outlen) ? DS_OK : DS_ELIMIT;
	case T_AAAA:
		if (rdlen != 16)
			return DS_EMALF;
		return inet_ntop(AF_INET6, rd, out, (socklen_t)outlen) ? DS_OK : DS_ELIMIT;
	case T_NS: {
		/* exactly one uncompressed name filling the RDATA: callers may pass
		 * bytes that never went through the parser (fuzz: "\x03ns1") */
		uint8_t name[DNAME_MAX];
		struct wire w;
		wire_init(&w, rd, rdlen);
		if (wire_name_nocomp(&w, name) == 0 || wire_left(&w) != 0)
			return DS_EMALF;
		return dname_to_str(name, out, outlen);
	}
	case T_DS:
	case T_CDS:
		return fields_and_blob(rd, rdlen, false, out, outlen);
	case T_KEY:
	case T_DNSKEY:
	case T_CDNSKEY:
		return fields_and_blob(rd, rdlen, true, out, outlen);
	default:
		n = snprintf(out, outlen, "\\# %zu%s", rdlen, rdlen ? " " : "");
		if (n < 0 || (size_t)n >= outlen)
			return DS_ELIMIT;
		return hex(rd, rdlen, out + n, outlen - (size_t)n);
	}
}

int rr_to_str(const uint8_t *owner, uint32_t ttl, uint16_t type, const uint8_t *rdata, size_t rdlen,
	      char *out, size_t outlen)
{
	char name[DNAME_STR_MAX], tbuf[16];
	int rc = dname_to_str(owner, name, sizeof(name));
	if (rc != DS_OK)
		return rc;
	int n =
	    snprintf(out, outlen, "%s %u IN %s ", name, ttl, rr_type_str(type, tbuf, sizeof(tbuf)));
	if (n < 0 || (size_t)n >= outlen)
		return DS_ELIMIT;
	return rr_rdata_to_str(type, rdata, rdlen, out + n, outlen - (size_t)n);
}
