// SPDX-License-Identifier: MIT
/*
 * The kernel's ISO-TP (CAN_ISOTP socket, linux/can/isotp.h) as the PDU link
 * of a programming job, instead of uds/isotp.c: `fota flash --isotp kernel`.
 * Needs a SocketCAN interface and a kernel with can-isotp.
 */
#ifndef FOTA_CMD_ISOTP_KERNEL_H
#define FOTA_CMD_ISOTP_KERNEL_H

#include "core/config.h"
#include "uds/job.h"

/*
 * Run JOB's programming sequence for ECU over a CAN_ISOTP socket on IFNAME
 * (its ISO-TP settings: ids, padding, BS/STmin, FD), until it finishes or
 * SIGINT/SIGTERM cancels it. Reports setup errors itself ("kernel ISO-TP not
 * available: ..."); the sequence's outcome goes to *res (as
 * uds_job_result()). Returns 0 or the sequence's -errno; -EAFNOSUPPORT /
 * -EPROTONOSUPPORT when the kernel has no CAN or no CAN_ISOTP; -ENODEV for
 * an unknown interface; -EINVAL for a bus that is not a SocketCAN interface.
 */
int cmd_isotp_kernel_run(const char *ifname, const struct cfg_ecu *ecu, struct uds_job *job,
			 struct uds_job_result *res);

#endif
