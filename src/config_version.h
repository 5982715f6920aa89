/*
 * config_version.h — the newest salesperf.notify_config_version, which
 * tells the write path whether its kept copy of the configuration is
 * current (see config_version.c).
 */
#ifndef SALESPERF_CONFIG_VERSION_H
#define SALESPERF_CONFIG_VERSION_H

#include "postgres.h"

/* max(version) as a new statement would see it; 0 when the table is empty. */
extern int64 salesperf_config_version(void);

#endif
