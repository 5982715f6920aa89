/*
 * write_notifications.h — what follows a one-row ledger insert: badges
 * earned, podium entries, rep targets achieved (see write_notifications.c).
 */
#ifndef SALESPERF_WRITE_NOTIFICATIONS_H
#define SALESPERF_WRITE_NOTIFICATIONS_H

#include "postgres.h"

/*
 * After one new activity of `kind` (text) by rep_id on local day `day`
 * (date) is in the counters and standings.  Runs inside the caller's SPI
 * connection.
 */
extern void salesperf_after_one_write(int64 rep_id, Datum day, Datum kind);

#endif
