/*
 * common/err.h -- the one error enum of dsyncd.
 *
 * Every function that can fail returns 0 (DS_OK) or a negative code below.
 * Codes that mirror errno values are -errno; project codes sit below -4096
 * so they never collide.  ds_strerror() gives a short text for logs; it is
 * never sent on the wire (the pipeline fills RCODE + EDE text separately).
 */
#ifndef DS_COMMON_ERR_H
#define DS_COMMON_ERR_H

#include <errno.h>
#include <stddef.h>

enum ds_err {
	DS_OK = 0,
	DS_ENOMEM = -ENOMEM,
	DS_EINVAL = -EINVAL,
	DS_ENOENT = -ENOENT,
	DS_EEXIST = -EEXIST,
	DS_ERANGE = -ERANGE,
	DS_EIO = -EIO,
	DS_EAGAIN = -EAGAIN,

	DS_EMALF = -4097,   /* malformed wire data */
	DS_ETRUNC = -4098,  /* wire data ends early */
	DS_ELIMIT = -4099,  /* a hard bound was exceeded */
	DS_ENOTSUP = -4100, /* algorithm/feature not supported */
	DS_ECRYPTO = -4101, /* OpenSSL failure (not a bad signature) */
	DS_EBADSIG = -4102, /* signature does not verify */
	DS_ESTORE = -4103,  /* store (SQLite) failure */
	DS_EBUSY = -4104,   /* store busy/locked */
	DS_ECONFIG = -4105, /* configuration error */
	DS_EPARSE = -4106,  /* text (presentation format) parse error */
	DS_EKEY = -4107,    /* key unusable (size, format, algorithm) */
	DS_ECHILD = -4108,  /* external program failed */

	/* understood and refused: an operator command's "no" (exit status 1) */
	DS_EREFUSED = -4109,
};

/*
 * The exit status (sysexits.h, doc/exit-status.md) of a command that failed
 * with err: DS_OK 0; DS_EREFUSED 1 (it ran, and the answer is no);
 * DS_EINVAL EX_USAGE (64: a bad argument); malformed, ambiguous or
 * out-of-bounds data EX_DATAERR (65); DS_ENOENT EX_NOINPUT (66: a file,
 * zone or key named does not exist); DS_ECHILD EX_UNAVAILABLE (69: a
 * program or peer failed); DS_EIO, DS_ESTORE EX_IOERR (74); DS_EBUSY,
 * DS_EAGAIN EX_TEMPFAIL (75: try again later); DS_ECONFIG EX_CONFIG (78);
 * anything else EX_SOFTWARE (70).
 */
int ds_exit_status(int err);

/* Short description of an error code; never NULL. */
const char *ds_strerror(int err);

/*
 * Write a one-line reason into why, cut to fit (why NULL or whylen 0: no-op).
 * The "why" buffers of every module (logs, EDE texts, audit rows) go
 * through it.
 */
void ds_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
