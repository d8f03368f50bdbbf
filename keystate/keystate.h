/*
 * keystate/keystate.h -- a child's SIG(0) key lifecycle as a pure state
 * machine, and the KeyState EDNS(0) option (draft-berra-dnsop-keystate).
 *
 * No I/O, no clock, no store: callers persist the states (store/) and write
 * the audit rows; this module only says which transitions exist and what a
 * state means on the wire.  Bootstrap verification methods (at-apex, at-ns,
 * unsigned, manual) and their scheduler live in their own files of this
 * folder once they exist.
 */
#ifndef DS_KEYSTATE_KEYSTATE_H
#define DS_KEYSTATE_KEYSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/keys.h"
#include "common/wire.h"

/* What can happen to a key. */
enum ks_event {
	KS_EV_UPLOAD,		/* self-signed bootstrap UPDATE verified: proof of possession */
	KS_EV_VALIDATION_START, /* the scheduler picked it up */
	KS_EV_VALIDATION_OK,	/* a bootstrap method succeeded */
	KS_EV_VALIDATION_FAIL,	/* a method failed for good (retries exhausted) */
	KS_EV_POLICY_REFUSE,	/* the parent's policy will not take it (e.g. algorithm) */
	KS_EV_OPERATOR_TRUST,	/* manual method, or an operator override */
	KS_EV_OPERATOR_REVOKE,	/* operator (or the configuration) withdraws trust */
	KS_EV_ROLLOVER_ADD,	/* added by an UPDATE signed by the child's trusted key */
	KS_EV_SUPERSEDED,	/* another key of the child became trusted (D8: old keys go) */
	KS_EV_RESTART,		/* daemon restart: interrupted validations resume */
	KS_EV_AWAIT_OPERATOR,	/* no automatic method applies; manual is offered */
};

/*
 * The transition table (doc/keystate.md has every cell and why).  Sets
 * *next (when next is not NULL) and returns true when ev is allowed in cur;
 * returns false (and leaves *next) when it is not.  The table is
 * default-deny.  In short:
 *   - an upload makes a key known, except that it never demotes a trusted
 *     key and does not interrupt a running validation; an upload of a
 *     validation-failed, refused or revoked key starts afresh (-> known);
 *   - validation results apply only to known/validating keys;
 *   - operator trust applies to absent, known, validating and
 *     validation-failed keys, never to refused (change the policy and let
 *     the child upload again) or revoked keys;
 *   - a rollover add (an UPDATE signed by the child's trusted key) trusts
 *     absent, known, validating, validation-failed and (idempotently)
 *     trusted keys, never refused or revoked ones;
 *   - operator revoke and superseded revoke any stored key not yet revoked;
 *   - restart keeps every stored state (a validating key stays validating
 *     and the scheduler starts its method again);
 *   - await-operator takes a validating key back to known when no automatic
 *     method applies to the child and the parent offers manual.
 * So a revoked key is never trusted again except through a fresh upload
 * followed by a validation or an operator's trust.
 * exists=false means the key is not in the store at all (state "unknown"):
 * only KS_EV_UPLOAD, KS_EV_ROLLOVER_ADD and KS_EV_OPERATOR_TRUST apply then,
 * and cur is ignored.  A cur or ev outside its enum is never allowed.
 */
bool ks_next(bool exists, enum key_state cur, enum ks_event ev, enum key_state *next);

/* "upload", "validation-start", ... for audit rows and logs; "?" for a
 * value outside the enum.  Static strings. */
const char *ks_event_str(enum ks_event ev);

/* KeyState codes (doc/protocol.md, KeyState option: keystate-03 values as in tdns v2). */
enum ks_code {
	KS_MALFORMED = 0,
	KS_TEMPORARY_FAILURE = 1,
	KS_INQUIRE_KEY = 2,
	KS_TRUSTED = 4,
	KS_UNKNOWN = 5,
	KS_INVALID = 6,
	KS_REFUSED = 7,
	KS_VALIDATION_FAILED = 8,
	KS_BOOTSTRAP_AUTO = 9,
	KS_BOOTSTRAP_MANUAL = 10,
};

/*
 * The code that answers an inquiry about a key: exists=false -> 5; trusted
 * -> 4; refused -> 7; validation-failed -> 8; validating (an automatic
 * method is queued or running) -> 9; known (waiting for the operator) -> 10
 * when the parent offers manual, else 9; revoked -> 5 (the child must
 * bootstrap again).  A state outside the enum (a bad store row) -> 1,
 * temporary failure.
 */
enum ks_code ks_code_for(bool exists, enum key_state st, bool manual_offered);

/* The option's payload (D9: written as the 4-byte form + text). */
struct ks_opt {
	uint16_t key_id; /* key tag of the child's SIG(0) key */
	uint8_t state;	 /* enum ks_code */
	uint8_t data;	 /* KEY-DATA; 0 unless state is 6 or 7 */
	bool legacy;	 /* read from a 3-byte (keystate-01) payload: no KEY-DATA */
	char text[256];	 /* EXTRA-TEXT, NUL-terminated (bytes copied as they are) */
};

/*
 * Parse an option payload (the bytes after OPTION-CODE and OPTION-LENGTH).
 * Accepts >= 4 bytes (key id, state, data, text) and the legacy 3-byte form
 * (exactly 3 bytes: key id, state; sets legacy, data = 0).  A legacy payload
 * with text cannot be told from the current form and is read as the current
 * form.  *out is cleared first.  Returns DS_OK or DS_EMALF (p NULL or
 * shorter than 3 bytes).  Text longer than 255 bytes is cut.
 */
int ks_opt_parse(const uint8_t *p, size_t len, struct ks_opt *out);

/*
 * Append option code + length + payload (4-byte form) to b: key_id, state
 * and data as given (o->legacy is ignored), then o->text up to its first NUL
 * (at most 255 bytes).  All or nothing: when b lacks room nothing is written
 * and b->err becomes DS_ELIMIT (sticky, as for every wbuf write).
 */
void ks_opt_write(struct wbuf *b, uint16_t code, const struct ks_opt *o);

#endif
