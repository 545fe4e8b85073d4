// SPDX-License-Identifier: MIT
/*
 * Reading DIDs from one ECU on CAN frames: an ISO-TP channel (ISO 15765-2,
 * uds/isotp.h) built from a struct cfg_ecu, a UDS client and the DID-list
 * read of uds/rdbi.h, as one core/loop.h member (uds_read_member_ops).
 * `fota info` runs it. No session change: identification DIDs are readable
 * in the default session (ISO 14229-1 Annex C). Sans-I/O, never prints.
 */
#ifndef FOTA_UDS_READ_H
#define FOTA_UDS_READ_H

#include <stddef.h>
#include <stdint.h>
#include "core/config.h"
#include "core/loop.h"
#include "core/time.h"
#include "uds/rdbi.h"

struct uds_read; /* private */

struct uds_read_cfg {
	const struct cfg_ecu *ecu; /* copied */
	const uint16_t *dids;	   /* copied; 1..UDS_RDBI_MAX, no duplicates */
	size_t ndids;
	unsigned max_per_request; /* DIDs per request; 0 = all */
};

/* Build a read (idle until uds_read_start()). 0, -EINVAL (bad DID list or ISO-TP settings), -ENOMEM. */
int uds_read_new(struct uds_read **rp, const struct uds_read_cfg *cfg);
void uds_read_free(struct uds_read *r);

/* Send the first request at `now`. 0 or the errors of uds_rdbi_start(). */
int uds_read_start(struct uds_read *r, fota_us now);

/*
 * -EINPROGRESS while reading, then 0 or the failure (uds_rdbi_result()).
 * msg: one line for the user on failure ("no response (timeout)", with the
 * ISO-TP reason when the request could not be sent).
 */
int uds_read_result(const struct uds_read *r, char *msg, size_t size);

/* The outcome per DID (valid after the read ended). */
const struct uds_rdbi *uds_read_rdbi(const struct uds_read *r);

/* The response id as a bus filter key (bus_filter_norm()). */
uint32_t uds_read_rx_filter(const struct uds_read *r);

/* The loop member: ctx is the struct uds_read *; done once the read ended. */
extern const struct loop_member_ops uds_read_member_ops;

#endif
