/*
 * keystate/keystate.c -- the child key lifecycle table and the KeyState
 * EDNS(0) option codec.  doc/keystate.md explains every cell of the table
 * and the choices made where the drafts leave room.
 */
#include "keystate/keystate.h"

#include <string.h>

#include "common/err.h"

#define KS_EVENTS (KS_EV_AWAIT_OPERATOR + 1)

/*
 * Rows: the key is absent from the store (row ROW_ABSENT), or in one of the
 * six stored states (row = state + 1).  A cell holds TO(next state); a cell
 * left out of an initializer is 0 = "not allowed", so the table is
 * default-deny: a new event or state is refused until someone decides.
 */
#define ROW_ABSENT 0
#define ROW(st) ((st) + 1)
#define ROWS (ROW(KEY_REVOKED) + 1)
#define TO(st) ((uint8_t)((st) + 1))

/*
 * The cells by short name, so that a row reads like the matrix in
 * doc/keystate.md.  Reasons for the cells that need one:
 *   known/validating + upload: a retransmitted bootstrap; it must not abort
 *     the running validation.
 *   validating + validation-start, restart: the scheduler picks it up again.
 *   known + validation-ok: a method that ran inline.
 *   absent/known/... + operator-trust: the operator adds or trusts a key.
 *   trusted + upload: an upload never demotes; + rollover-add: retransmitted.
 *   v-failed/refused/revoked + upload: the child tries again, policy is
 *     evaluated anew, a revoked key starts afresh (validated anew).
 */
#define NO 0
#define KN TO(KEY_KNOWN)
#define VA TO(KEY_VALIDATING)
#define TR TO(KEY_TRUSTED)
#define VF TO(KEY_VALIDATION_FAILED)
#define RF TO(KEY_REFUSED)
#define RV TO(KEY_REVOKED)

_Static_assert(KS_EVENTS == 11 && KS_EV_UPLOAD == 0 && KS_EV_AWAIT_OPERATOR == 10,
	       "the columns of ks_table follow enum ks_event");

/* clang-format off */
static const uint8_t ks_table[ROWS][KS_EVENTS] = {
	/*                              upl vst vok vfl ref otr orv add sup rst awt */
	[ROW_ABSENT]                 = {KN, NO, NO, NO, NO, TR, NO, TR, NO, NO, NO},
	[ROW(KEY_KNOWN)]             = {KN, VA, TR, VF, RF, TR, RV, TR, RV, KN, NO},
	[ROW(KEY_VALIDATING)]        = {VA, VA, TR, VF, RF, TR, RV, TR, RV, VA, KN},
	[ROW(KEY_TRUSTED)]           = {TR, NO, NO, NO, NO, NO, RV, TR, RV, TR, NO},
	[ROW(KEY_VALIDATION_FAILED)] = {KN, NO, NO, NO, NO, TR, RV, TR, RV, VF, NO},
	[ROW(KEY_REFUSED)]           = {KN, NO, NO, NO, NO, NO, RV, NO, RV, RF, NO},
	[ROW(KEY_REVOKED)]           = {KN, NO, NO, NO, NO, NO, NO, NO, NO, RV, NO},
};
/* clang-format on */

#undef NO
#undef KN
#undef VA
#undef TR
#undef VF
#undef RF
#undef RV

bool ks_next(bool exists, enum key_state cur, enum ks_event ev, enum key_state *next)
{
	unsigned row, col = (unsigned)ev;

	if (exists) {
		if ((unsigned)cur > (unsigned)KEY_REVOKED)
			return false;
		row = ROW((unsigned)cur);
	} else {
		row = ROW_ABSENT;
	}
	if (col >= KS_EVENTS)
		return false;
	uint8_t cell = ks_table[row][col];
	if (cell == 0)
		return false;
	if (next)
		*next = (enum key_state)(cell - 1);
	return true;
}

static const char *const ks_event_names[KS_EVENTS] = {
    [KS_EV_UPLOAD] = "upload",
    [KS_EV_VALIDATION_START] = "validation-start",
    [KS_EV_VALIDATION_OK] = "validation-ok",
    [KS_EV_VALIDATION_FAIL] = "validation-fail",
    [KS_EV_POLICY_REFUSE] = "policy-refuse",
    [KS_EV_OPERATOR_TRUST] = "operator-trust",
    [KS_EV_OPERATOR_REVOKE] = "operator-revoke",
    [KS_EV_ROLLOVER_ADD] = "rollover-add",
    [KS_EV_SUPERSEDED] = "superseded",
    [KS_EV_RESTART] = "restart",
    [KS_EV_AWAIT_OPERATOR] = "await-operator",
};

const char *ks_event_str(enum ks_event ev)
{
	if ((unsigned)ev >= KS_EVENTS || !ks_event_names[ev])
		return "?";
	return ks_event_names[ev];
}

enum ks_code ks_code_for(bool exists, enum key_state st, bool manual_offered)
{
	if (!exists)
		return KS_UNKNOWN;
	switch (st) {
	case KEY_TRUSTED:
		return KS_TRUSTED;
	case KEY_KNOWN:
		return manual_offered ? KS_BOOTSTRAP_MANUAL : KS_BOOTSTRAP_AUTO;
	case KEY_VALIDATING:
		return KS_BOOTSTRAP_AUTO;
	case KEY_VALIDATION_FAILED:
		return KS_VALIDATION_FAILED;
	case KEY_REFUSED:
		return KS_REFUSED;
	case KEY_REVOKED:
		/* to the child a withdrawn key is as good as none: bootstrap again */
		return KS_UNKNOWN;
	}
	/* a value outside the enum is our bug or a bad store row, not the child's */
	return KS_TEMPORARY_FAILURE;
}

int ks_opt_parse(const uint8_t *p, size_t len, struct ks_opt *out)
{
	memset(out, 0, sizeof(*out));
	if (!p || len < 3)
		return DS_EMALF;
	out->key_id = rd_u16(p);
	out->state = p[2];
	if (len == 3) {
		/* keystate-01: no KEY-DATA.  Only an exact 3-byte payload can be
		 * recognised; with text the two forms look alike, and the
		 * current form wins. */
		out->legacy = true;
		return DS_OK;
	}
	out->data = p[3];
	size_t tl = len - 4;
	if (tl > sizeof(out->text) - 1)
		tl = sizeof(out->text) - 1;
	if (tl)
		memcpy(out->text, p + 4, tl);
	out->text[tl] = '\0';
	return DS_OK;
}

void ks_opt_write(struct wbuf *b, uint16_t code, const struct ks_opt *o)
{
	size_t tl = strnlen(o->text, sizeof(o->text) - 1);

	if (b->err)
		return;
	/* all or nothing: a half-written option would corrupt the OPT RDATA */
	if (b->cap - b->len < 8 + tl) {
		b->err = DS_ELIMIT;
		return;
	}
	wbuf_u16(b, code);
	wbuf_u16(b, (uint16_t)(4 + tl));
	wbuf_u16(b, o->key_id);
	wbuf_u8(b, o->state);
	wbuf_u8(b, o->data);
	wbuf_bytes(b, o->text, tl);
}
