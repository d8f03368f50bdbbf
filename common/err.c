/*
 * common/err.c -- texts for the error enum.
 */
#include <string.h>

#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <sysexits.h>

const char *ds_strerror(int err)
{
	switch (err) {
	case DS_OK:
		return "ok";
	case DS_EMALF:
		return "malformed data";
	case DS_ETRUNC:
		return "data ends early";
	case DS_ELIMIT:
		return "limit exceeded";
	case DS_ENOTSUP:
		return "not supported";
	case DS_ECRYPTO:
		return "cryptographic library failure";
	case DS_EBADSIG:
		return "signature does not verify";
	case DS_ESTORE:
		return "store failure";
	case DS_EBUSY:
		return "store busy";
	case DS_ECONFIG:
		return "configuration error";
	case DS_EPARSE:
		return "parse error";
	case DS_EKEY:
		return "unusable key";
	case DS_ECHILD:
		return "external program failed";
	case DS_EREFUSED:
		return "refused";
	default:
		if (err < 0 && err > -4096)
			return strerror(-err);
		return "unknown error";
	}
}

void ds_why(char *why, size_t whylen, const char *fmt, ...)
{
	if (why == NULL || whylen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(why, whylen, fmt, ap) < 0)
		why[0] = '\0';
	va_end(ap);
}

int ds_exit_status(int err)
{
	switch (err) {
	case DS_OK:
		return 0;
	case DS_EREFUSED:
		return 1;
	case DS_EINVAL:
		return EX_USAGE;
	case DS_EMALF:
	case DS_ETRUNC:
	case DS_EPARSE:
	case DS_EKEY:
	case DS_ELIMIT:
	case DS_ERANGE:
	case DS_EEXIST:
		return EX_DATAERR;
	case DS_ENOENT:
		return EX_NOINPUT;
	case DS_ECHILD:
		return EX_UNAVAILABLE;
	case DS_EIO:
	case DS_ESTORE:
		return EX_IOERR;
	case DS_EBUSY:
	case DS_EAGAIN:
		return EX_TEMPFAIL;
	case DS_ECONFIG:
		return EX_CONFIG;
	}
	return EX_SOFTWARE;
}
