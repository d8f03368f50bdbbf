/*
 * common/rrtext.h -- presentation format of the RDATA types dsyncd stores
 * (NS, DS, A, AAAA, KEY) and RFC 3597 "\# len hex" for anything else.
 * Names are escaped with dname_to_str() (R15).
 */
#ifndef DS_COMMON_RRTEXT_H
#define DS_COMMON_RRTEXT_H

#include <stddef.h>
#include <stdint.h>

/* Mnemonic of a type ("NS", "TYPE65280" for unknown); out >= 16 bytes. */
const char *rr_type_str(uint16_t type, char *out, size_t outlen);

/* Name of a (possibly extended) RCODE: "NOERROR" .. "NOTZONE", "BADVERS",
 * "BADKEY", "BADTIME"; "RCODE<n>" in out (>= 16 bytes) for others. */
const char *rr_rcode_str(unsigned rcode, char *out, size_t outlen);

/* Type from a mnemonic ("ns", "TYPE99" accepted); 0 if unknown. */
uint16_t rr_type_from_str(const char *s);

/* RDATA (uncompressed) to text.  Returns DS_OK, DS_ELIMIT or DS_EMALF. */
int rr_rdata_to_str(uint16_t type, const uint8_t *rdata, size_t rdlen, char *out, size_t outlen);

/*
 * One whole RR line: "<owner> <ttl> IN <type> <rdata>" (no newline).
 * Returns DS_OK, DS_ELIMIT or DS_EMALF.
 */
int rr_to_str(const uint8_t *owner, uint32_t ttl, uint16_t type, const uint8_t *rdata, size_t rdlen,
	      char *out, size_t outlen);

/* Base64 / hex helpers (OpenSSL-backed); return output length or negative error. */
int b64_encode(const uint8_t *in, size_t inlen, char *out, size_t outlen);
int b64_decode(const char *in, uint8_t *out, size_t outlen);

#endif
