// SPDX-License-Identifier: MIT
/*
 * The ECU side of a UDS link: a UDS server (uds/server.h) behind an ISO-TP
 * channel (uds/isotp.h), as one core/loop.h member. The counterpart of
 * uds/job.h (the tester side). `fota ecu`, the whole-session unit tests and
 * the flash bench all run it; hooks let `fota ecu` log and persist without
 * copying the glue.
 *
 * One response at a time: a response waits in the server until ISO-TP has
 * sent the previous one. Sans-I/O, never prints.
 */
#ifndef FOTA_UDS_ECU_H
#define FOTA_UDS_ECU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/loop.h"
#include "core/time.h"
#include "uds/isotp.h"
#include "uds/server.h"

/* Optional callbacks (each may be NULL), called synchronously. */
struct uds_ecu_hooks {
	/* A request PDU arrived; the server takes it right after this. */
	void (*request)(void *ctx, const uint8_t *pdu, size_t len, fota_us now);
	/* The server has taken it: a hook that persists runs before the answer goes out. */
	void (*handled)(void *ctx, fota_us now);
	/* A response goes to ISO-TP now. */
	void (*response)(void *ctx, const uint8_t *pdu, size_t len);
	/* A reception was dropped: isotp_rx_error()'s -ETIMEDOUT/-EPROTO/-EMSGSIZE/-ENOMEM. */
	void (*rx_dropped)(void *ctx, int err);
	/* A response of len bytes went out but did not reach the tester: isotp_tx_result()'s
	 * -ETIMEDOUT (N_Bs), -EMSGSIZE (FC.OVFLW), -EPROTO (bad FC). */
	void (*tx_failed)(void *ctx, int err, size_t len);
	/* ISO-TP refused a response of len bytes (isotp_send()'s error): nothing went out. */
	void (*send_refused)(void *ctx, int err, size_t len);
	void *ctx;
};

struct uds_ecu {
	struct uds_server *srv; /* borrowed */
	struct isotp *tp;	/* borrowed; its ids are the ECU's (tx = response id) */
	struct uds_ecu_hooks hooks;
	bool functional; /* also take single-frame requests on func_id */
	uint32_t func_id;
	uint8_t func_flags; /* BUS_FRAME_EFF for a 29-bit func_id */
	bool sending;	    /* a response is with ISO-TP */
	size_t sent_len;    /* its length, for tx_failed */
};

void uds_ecu_init(struct uds_ecu *e, struct uds_server *srv, struct isotp *tp,
		  const struct uds_ecu_hooks *hooks);

/*
 * Also accept requests on a functional request id (ISO 14229-1 §7.5: 0x7DF
 * for 11-bit OBD-style addressing, 0x18DB33F1 for 29-bit normal fixed).
 * Functional requests are single frames (ISO 15765-2 9.6.2); they are
 * answered on the physical response id, without the NRCs a server keeps to
 * itself for functional requests. The request hook sees them too.
 */
void uds_ecu_set_functional(struct uds_ecu *e, uint32_t id, bool extended);

/*
 * The ECU restarts (a bootloader switch frame, a power cycle): whatever
 * ISO-TP had in flight either way is dropped. The server is the caller's.
 */
void uds_ecu_reset(struct uds_ecu *e);

/* loop member: ctx is a struct uds_ecu */
extern const struct loop_member_ops uds_ecu_member_ops;

#endif
