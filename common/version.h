/*
 * common/version.h -- the one version string of dsyncd and its tools.
 */
#ifndef DS_COMMON_VERSION_H
#define DS_COMMON_VERSION_H

#define DSYNC_VERSION "0.1.0"

#endif
