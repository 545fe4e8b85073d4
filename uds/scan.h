// SPDX-License-Identifier: MIT
/*
 * What UDS ECUs are on this bus (`fota scan`), sans-I/O.
 *
 * Discovery: TesterPresent (3E 00, a positive response wanted) by functional
 * addressing (ISO 14229-1 §7.5; 0x7DF, or 0x18DB33F1 for 29-bit normal fixed
 * addressing), as a single frame (ISO 15765-2 9.6.2). Every TesterPresent
 * answer within the window makes a responder: on 0x7E8..0x7EF (11-bit,
 * ISO 15765-4: the physical request id is the response id - 8) or on
 * 0x18DAF1xx (29-bit normal fixed: requests to 0x18DAxxF1). Optionally a
 * range of physical request ids is probed too, for ECUs that ignore
 * functional requests: those that have not answered the functional request
 * within timeout_ms get 3E 00 physically; their answers count until the
 * window ends (at least timeout_ms after the probes).
 *
 * Identification: each responder then gets one ReadDataByIdentifier per DID
 * (22 hi lo), physically and one after the other, over an ISO-TP channel of
 * its own: the VIN (0xF190, 17 bytes) comes as a first frame and the
 * channel sends the flow control to the ECU's request id. Physical requests
 * because a server keeps NRC 0x31 to itself for functional ones (§7.5): a
 * DID it lacks answers "0x31" here instead of nothing. Each answer is waited
 * for timeout_ms (P2client; from the first frame on, ISO-TP's N_Cr rules),
 * p2_star_ms after NRC 0x78. All responders are read at once.
 *
 *	uds_scan_new(&s, &cfg);
 *	uds_scan_start(s, now);
 *	drive uds_scan_member_ops (done: the window is over, every responder read)
 *	for i < uds_scan_count(s): uds_scan_ecu(s, i)
 *	uds_scan_free(s);
 */
#ifndef FOTA_UDS_SCAN_H
#define FOTA_UDS_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/frame.h"
#include "core/time.h"

#define UDS_SCAN_WINDOW_MS  300u  /* default collection window */
#define UDS_SCAN_TIMEOUT_MS 100u  /* default wait for each answer (P2client) */
#define UDS_SCAN_P2_STAR_MS 5000u /* default wait after NRC 0x78 (P2*client) */
#define UDS_SCAN_DIDS_MAX   8
#define UDS_SCAN_DATA_MAX   64	/* bytes of a DID's value kept */
#define UDS_SCAN_PHYS_MAX   256 /* physical request ids probed at most */

struct uds_scan_cfg {
	bool extended;		/* 29-bit normal fixed addressing, else 11-bit normal */
	uint32_t functional_id; /* 0: 0x7DF, or 0x18DB33F1 when extended */
	/*
	 * Physical request ids to probe, first..last (both 0: none). 11-bit:
	 * any id up to 0x7F7, answered on id + 8. 29-bit: 0x18DAxxF1, the
	 * target address xx counting from first's to last's.
	 */
	uint32_t phys_first, phys_last;
	uint32_t window_ms;   /* 0 = UDS_SCAN_WINDOW_MS */
	uint32_t timeout_ms;  /* 0 = UDS_SCAN_TIMEOUT_MS */
	uint32_t p2_star_ms;  /* 0 = UDS_SCAN_P2_STAR_MS */
	uint32_t limit_ms;    /* everything ends by then; 0 = no limit */
	const uint16_t *dids; /* read from each responder in this order (copied); may be none */
	size_t ndids;	      /* 0..UDS_SCAN_DIDS_MAX */
	int pad;	      /* padding byte of our frames, -1 for none (isotp_cfg.pad) */
};

struct uds_scan_did {
	uint16_t did;
	/*
	 * 0 with data; -EREMOTEIO (nrc: the negative response code),
	 * -ETIMEDOUT (no answer, or ISO-TP gave up on a multi-frame one),
	 * -ENODATA (not asked: the limit came first).
	 */
	int err;
	uint8_t nrc;
	size_t len; /* bytes of the value as answered; data holds up to UDS_SCAN_DATA_MAX */
	uint8_t data[UDS_SCAN_DATA_MAX];
};

struct uds_scan_ecu {
	uint32_t request_id, response_id;
	bool extended;
	bool functional; /* answered the functional request (else only a physical probe) */
	uint8_t nrc;	 /* 0: TesterPresent answered positively, else its NRC */
	struct uds_scan_did did[UDS_SCAN_DIDS_MAX];
	size_t ndids;
};

struct uds_scan; /* private */

/*
 * Returns 0, -EINVAL (an id of the wrong width, a physical range that is not
 * one, above UDS_SCAN_PHYS_MAX ids, or a 29-bit one not of the 0x18DAxxF1
 * form; ndids above UDS_SCAN_DIDS_MAX), -ENOMEM.
 */
int uds_scan_new(struct uds_scan **sp, const struct uds_scan_cfg *cfg);
void uds_scan_free(struct uds_scan *s);

/* Start now: the functional request goes out at once. */
void uds_scan_start(struct uds_scan *s, fota_us now);

void uds_scan_input(struct uds_scan *s, const struct bus_frame *f, fota_us now);
void uds_scan_tick(struct uds_scan *s, fota_us now);
int uds_scan_output(struct uds_scan *s, struct bus_frame *f, fota_us now);
fota_us uds_scan_deadline(const struct uds_scan *s);
/* Started, the window over, every responder read and its frames out; or the limit. */
bool uds_scan_done(const struct uds_scan *s);

/* Responders in the order they answered. */
size_t uds_scan_count(const struct uds_scan *s);
const struct uds_scan_ecu *uds_scan_ecu(const struct uds_scan *s, size_t i);

/*
 * The physical request id of an ECU that answers on rsp (0x7E8 -> 0x7E0,
 * 0x18DAF110 -> 0x18DA10F1), and back; 0 where there is none (an 11-bit
 * id below 8, a 29-bit one not of the form).
 */
uint32_t uds_scan_request_id(uint32_t rsp, bool extended);
uint32_t uds_scan_response_id(uint32_t req, bool extended);

/*
 * The CAN ids the scan listens to, for bus_set_filter() (add BUS_FILTER_EFF
 * when extended): the number written, at most cap.
 */
size_t uds_scan_filter(const struct uds_scan *s, uint32_t *ids, size_t cap);

/* core/loop.h member, ctx = struct uds_scan *. */
struct loop_member_ops;
extern const struct loop_member_ops uds_scan_member_ops;

#endif
