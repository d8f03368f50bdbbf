/*
 * common/dns.h -- DNS constants used across dsyncd.
 */
#ifndef DS_COMMON_DNS_H
#define DS_COMMON_DNS_H

#define DNAME_MAX 255	 /* octets in a wire-format name */
#define DNAME_LABELS 127 /* labels in a name, root excluded */
#define DNS_HDR_LEN 12

enum dns_opcode { OP_QUERY = 0, OP_IQUERY = 1, OP_STATUS = 2, OP_NOTIFY = 4, OP_UPDATE = 5 };

enum dns_rcode {
	RC_NOERROR = 0,
	RC_FORMERR = 1,
	RC_SERVFAIL = 2,
	RC_NXDOMAIN = 3,
	RC_NOTIMP = 4,
	RC_REFUSED = 5,
	RC_YXDOMAIN = 6,
	RC_YXRRSET = 7,
	RC_NXRRSET = 8,
	RC_NOTAUTH = 9,
	RC_NOTZONE = 10,
	RC_BADVERS = 16, /* OPT space; never used for BADSIG (D3) */
	RC_BADKEY = 17,
	RC_BADTIME = 18,
};

enum dns_class { CLASS_IN = 1, CLASS_NONE = 254, CLASS_ANY = 255 };

enum dns_type {
	T_A = 1,
	T_NS = 2,
	T_MD = 3,
	T_MF = 4,
	T_CNAME = 5,
	T_SOA = 6,
	T_MB = 7,
	T_MG = 8,
	T_MR = 9,
	T_NULL = 10,
	T_PTR = 12,
	T_MX = 15,
	T_SIG = 24,
	T_KEY = 25,
	T_AAAA = 28,
	T_NXT = 30,
	T_DS = 43,
	T_RRSIG = 46,
	T_NSEC = 47,
	T_DNSKEY = 48,
	T_NSEC3 = 50,
	T_NSEC3PARAM = 51,
	T_CDS = 59,
	T_CDNSKEY = 60,
	T_CSYNC = 62,
	T_SVCB = 64,
	T_DSYNC = 66,
	T_OPT = 41,
	T_TKEY = 249,
	T_TSIG = 250,
	T_IXFR = 251,
	T_AXFR = 252,
	T_MAILB = 253,
	T_MAILA = 254,
	T_ANY = 255,
};

/* DNSSEC/SIG(0) algorithm numbers (RFC 8624 registry). */
enum dns_alg {
	ALG_RSAMD5 = 1,
	ALG_DSA = 3,
	ALG_RSASHA1 = 5,
	ALG_RSASHA1_NSEC3 = 7,
	ALG_RSASHA256 = 8,
	ALG_RSASHA512 = 10,
	ALG_ECDSAP256SHA256 = 13,
	ALG_ECDSAP384SHA384 = 14,
	ALG_ED25519 = 15,
	ALG_ED448 = 16,
};

/* EDNS(0) option codes. */
#define EDNS_OPT_EDE 15

/* Extended DNS Error info codes (RFC 8914) used by dsyncd. */
enum ede_code {
	EDE_OTHER = 0,
	EDE_UNSUPPORTED_KEY_ALG = 1,
	EDE_UNSUPPORTED_DS_DIGEST = 2,
	EDE_DNSSEC_BOGUS = 6,
	EDE_SIG_EXPIRED = 7,
	EDE_SIG_NOT_YET_VALID = 8,
	EDE_NOT_READY = 14,
	EDE_BLOCKED = 15,
	EDE_PROHIBITED = 18,
	EDE_NOT_AUTHORITATIVE = 20,
	EDE_NOT_SUPPORTED = 21,
};

/* RFC 2136 section numbering for UPDATE messages (same indices as QD/AN/NS/AR). */
enum dns_section { SEC_ZONE = 0, SEC_PREREQ = 1, SEC_UPDATE = 2, SEC_ADDITIONAL = 3 };

#endif
