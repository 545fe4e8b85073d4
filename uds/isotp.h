// SPDX-License-Identifier: MIT
/*
 * ISO 15765-2:2016 transport (ISO-TP), user space and sans-I/O: one channel
 * (a tx id and an rx id), full duplex. Frames go in through isotp_input(), time
 * through isotp_tick(); frames to send come out of isotp_output(); whole PDUs
 * come out of isotp_recv(). Nothing here reads a clock or touches a socket.
 *
 * Covers SF/FF/CF/FC, BS and STmin both ways (0xF1-0xF9 = 100-900 us), FC.WAIT
 * (bounded by wft_max) and FC.OVFLW, N_Bs/N_Cr timeouts, SN wrap, escape
 * sequences for SF (FD) and FF (PDUs above 4095 bytes), CAN FD up to 64 bytes,
 * normal 11-bit and 29-bit ids (normal fixed 0x18DAxxyy is just a 29-bit id).
 */
#ifndef FOTA_UDS_ISOTP_H
#define FOTA_UDS_ISOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/frame.h"
#include "core/time.h"

struct isotp_cfg {
	uint32_t tx_id;	      /* id of the frames we send */
	uint32_t rx_id;	      /* id of the peer's frames; everything else is ignored */
	uint8_t id_flags;     /* BUS_FRAME_EFF if the ids are 29-bit */
	bool fd;	      /* send CAN FD frames with tx_dl bytes */
	uint8_t tx_dl;	      /* frame payload size: 8 (classic) or 12..64 (FD); 0 = 8 */
	int pad;	      /* padding byte 0x00..0xFF, or -1 to send frames of minimal length */
	uint8_t bs;	      /* BlockSize we advertise as receiver (0 = no more FC) */
	uint8_t stmin;	      /* STmin byte we advertise as receiver (raw ISO encoding) */
	uint32_t stmin_tx_us; /* our own floor for CF spacing when sending (0 = as peer asks) */
	uint32_t n_bs_ms;     /* wait for FC after FF or a block (default 1000) */
	uint32_t n_cr_ms;     /* wait for the next CF (default 1000) */
	uint8_t wft_max;      /* FC.WAIT frames accepted in a row (default 10; 0 = use default) */
	size_t rx_max;	      /* largest PDU accepted; above it FC.OVFLW (default 4095) */
};

#define ISOTP_RX_MAX_LIMIT (16u << 20) /* largest rx_max accepted: 16 MiB */

struct isotp; /* layout in isotp.c is private except through these calls */

/*
 * Allocate and set up a channel. The configuration is copied with defaults
 * filled in (isotp_cfg() shows the result). Returns NULL with errno ENOMEM on
 * allocation failure, or EINVAL for a configuration that cannot work: tx_dl
 * not 8 for classic CAN or not an FD length (8,12,16,20,24,32,48,64), pad
 * outside -1..0xFF, rx_max above ISOTP_RX_MAX_LIMIT, an id too wide for its
 * kind. The receive buffer starts small and grows to the FF_DL announced by
 * a peer (never above rx_max), so a 16 MiB rx_max costs nothing until used.
 *
 * Padding (ISO 15765-2:2016 10.4.2): pad 0x00..0xFF pads classic frames to 8
 * bytes and FD frames to 8 or the next FD length; pad -1 sends classic frames
 * with only their bytes, and FD frames exactly when <= 8 bytes, else rounded
 * up to the next FD length and filled with 0xCC (the standard's recommended
 * fill). FF and all CFs but the last always fill tx_dl.
 */
struct isotp *isotp_new(const struct isotp_cfg *cfg);
void isotp_free(struct isotp *tp);
const struct isotp_cfg *isotp_cfg(const struct isotp *tp);

/*
 * Queue one PDU for sending (copied). Returns 0, -EALREADY while a previous
 * PDU is still being sent, -EMSGSIZE if len is 0 or above 2^32-1, -ENOMEM if
 * the copy cannot be allocated (the tx buffer is reused, grown only when a
 * PDU is larger than any before).
 */
int isotp_send(struct isotp *tp, const uint8_t *pdu, size_t len, fota_us now);

/*
 * A frame arrived. Frames with another id (or 11/29-bit kind, or RTR) are
 * ignored, and so are frames of our id that are invalid or unexpected where
 * ISO 15765-2:2016 says to ignore them (9.8.3: a CF while not receiving, an FC
 * while not waiting for one; 9.6.2/9.6.3: bad SF_DL/FF_DL). An SF or FF during
 * a reception ends it (-EPROTO in isotp_rx_error()) and starts the new one.
 * Timeouts due at `now` fire first, as if isotp_tick(now) had been called.
 */
void isotp_input(struct isotp *tp, const struct bus_frame *f, fota_us now);

/* Time passed: fire N_Bs / N_Cr timeouts. */
void isotp_tick(struct isotp *tp, fota_us now);

/*
 * Next frame to put on the bus. Returns 1 and fills *f if one is due now, 0
 * otherwise (STmin pacing: isotp_deadline() says when the next one is due).
 * The caller sends it at once; the engine treats it as transmitted.
 */
int isotp_output(struct isotp *tp, struct bus_frame *f, fota_us now);

/* When isotp_tick() or isotp_output() next has something to do; FOTA_NEVER if idle. */
fota_us isotp_deadline(const struct isotp *tp);

/*
 * A received PDU, if one is complete: returns 1 and points *pdu and *len into
 * the engine's buffer (valid until the next isotp_input() or isotp_reset()),
 * and marks it taken. A PDU not taken before the next SF/FF starts is lost.
 * 0 if none.
 */
int isotp_recv(struct isotp *tp, const uint8_t **pdu, size_t *len);

/*
 * State of the last isotp_send(): -EINPROGRESS while frames remain, 0 when the
 * last frame went out (or nothing was sent), -ETIMEDOUT (N_Bs expired),
 * -EMSGSIZE (peer answered FC.OVFLW), -EPROTO (invalid FC, too many FC.WAIT).
 */
int isotp_tx_result(const struct isotp *tp);

/*
 * Last receive-side error since the previous call, then cleared: 0,
 * -ETIMEDOUT (N_Cr), -EPROTO (wrong SN, or a reception cut short by a new
 * SF/FF: N_UNEXP_PDU), -EMSGSIZE (PDU above rx_max, FC.OVFLW sent), -ENOMEM
 * (buffer could not grow, FC.OVFLW sent). For logs; the PDU in progress is
 * dropped. A stray CF while idle is ignored without an error (9.8.3).
 */
int isotp_rx_error(struct isotp *tp);

/* True while a segmented reception is in progress (FF seen, last CF not yet). */
bool isotp_rx_busy(const struct isotp *tp);

/*
 * Drop everything in progress both ways (queued frames, the PDU being sent or
 * received, an untaken received PDU, pending errors) and return to idle, as
 * after isotp_new(); isotp_tx_result() becomes 0. Buffers are kept.
 */
void isotp_reset(struct isotp *tp);

/*
 * Functional addressing carries single frames only (ISO 15765-2:2016 9.6.2,
 * 10.3.1: a functional request must fit an SF; no FF, CF or FC). These two
 * calls build and read such frames outside a channel's state.
 *
 * isotp_sf_frame(): an SF carrying pdu[0..len) on `id`, with the channel's
 * padding, FD setting and 11/29-bit kind. -EMSGSIZE if len is 0 or does not
 * fit one SF (7 bytes classic, tx_dl - 2 with CAN FD).
 *
 * isotp_sf_parse(): 1 with *pdu (pointing into f) and *len if f is a valid
 * SF, else 0 (FF, CF, FC, RTR, bad SF_DL: 9.6.2.2 says ignore). The id is not
 * looked at.
 */
int isotp_sf_frame(const struct isotp *tp, uint32_t id, const uint8_t *pdu, size_t len,
		   struct bus_frame *f);
int isotp_sf_parse(const struct bus_frame *f, const uint8_t **pdu, size_t *len);

/* Counters since isotp_new(); for logs, benchmarks and tests. */
struct isotp_stats {
	uint64_t frames_out;	 /* frames returned by isotp_output() */
	uint64_t frames_in;	 /* frames with our rx id passed to isotp_input() */
	uint64_t frames_ignored; /* of those, ignored as invalid or unexpected */
	uint64_t pdus_sent;	 /* PDUs whose last frame went out */
	uint64_t pdus_received;	 /* PDUs completed */
	uint64_t rx_aborted;	 /* receptions lost: wrong SN, N_Cr, new SF/FF, untaken PDU */
	uint64_t fc_wait_in;	 /* FC.WAIT frames received */
	size_t rx_buf_size;	 /* bytes allocated for reception */
};
void isotp_stats(const struct isotp *tp, struct isotp_stats *st);

/* STmin byte -> microseconds (ISO 15765-2 Table 20; reserved values = 127 ms). */
uint32_t isotp_stmin_us(uint8_t stmin);

#endif
