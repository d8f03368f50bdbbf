/*
 * common/keys.h -- the lifecycle states of a child's SIG(0) key
 * (doc/keystate.md), shared by the store (which persists them) and
 * keystate/ (which decides the transitions).  The values are stable: the
 * store writes them by name, never by number.
 */
#ifndef DS_COMMON_KEYS_H
#define DS_COMMON_KEYS_H

enum key_state {
	KEY_KNOWN = 0,
	KEY_VALIDATING = 1,
	KEY_TRUSTED = 2,
	KEY_VALIDATION_FAILED = 3,
	KEY_REFUSED = 4,
	KEY_REVOKED = 5,
};

#endif
