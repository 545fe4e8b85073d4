// SPDX-License-Identifier: MIT
/*
 * Reading DIDs over one ISO-TP channel as a loop member (see uds/read.h):
 * the glue of uds/job.c without the programming sequence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/bus.h"
#include "uds/isotp.h"
#include "uds/read.h"

struct uds_read {
	struct cfg_ecu ecu;
	uint16_t dids[UDS_RDBI_MAX];
	size_t ndids;
	unsigned max_per_request;
	struct isotp *tp;
	struct uds_client client;
	struct uds_rdbi rdbi;
	bool started, tx_busy;
	int tx_err; /* ISO-TP error of the last request, or 0 */
};

int uds_read_new(struct uds_read **rp, const struct uds_read_cfg *cfg)
{
	struct isotp_cfg tc = { 0 };
	struct uds_client_cfg cc = { 0 };
	struct uds_read *r;

	*rp = NULL;
	if (!cfg || !cfg->ecu || !cfg->ndids || cfg->ndids > UDS_RDBI_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ecu = *cfg->ecu;
	memcpy(r->dids, cfg->dids, cfg->ndids * sizeof(*r->dids));
	r->ndids = cfg->ndids;
	r->max_per_request = cfg->max_per_request;
	tc.tx_id = r->ecu.request_id;
	tc.rx_id = r->ecu.response_id;
	tc.id_flags = r->ecu.extended ? BUS_FRAME_EFF : 0;
	tc.fd = r->ecu.isotp.fd;
	tc.tx_dl = r->ecu.isotp.tx_dl;
	tc.pad = r->ecu.isotp.padding;
	tc.bs = r->ecu.isotp.block_size;
	tc.stmin = r->ecu.isotp.stmin;
	tc.n_bs_ms = r->ecu.timing.n_bs_ms;
	tc.n_cr_ms = r->ecu.timing.n_cr_ms;
	tc.rx_max = 4095;
	r->tp = isotp_new(&tc);
	if (!r->tp) {
		int err = -errno;

		free(r);
		return err;
	}
	cc.p2_ms = r->ecu.timing.p2_ms;
	cc.p2_star_ms = r->ecu.timing.p2_star_ms;
	cc.tester_present = UDS_TP_OFF; /* the default session: nothing to keep open */
	uds_client_init(&r->client, &cc);
	*rp = r;
	return 0;
}

void uds_read_free(struct uds_read *r)
{
	if (!r)
		return;
	isotp_free(r->tp);
	free(r);
}

int uds_read_start(struct uds_read *r, fota_us now)
{
	int err = uds_rdbi_start(&r->rdbi, &r->client, r->dids, r->ndids, r->max_per_request, now);

	if (!err)
		r->started = true;
	return err;
}

static const char *isotp_errstr(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return "no flow control from the ECU (N_Bs timeout)";
	case -EMSGSIZE:
		return "the ECU reported overflow (FC.OVFLW)";
	case -EPROTO:
		return "invalid flow control from the ECU";
	default:
		return strerror(-err);
	}
}

int uds_read_result(const struct uds_read *r, char *msg, size_t size)
{
	int err = r->started ? uds_rdbi_result(&r->rdbi) : -ENOENT;

	if (msg && size) {
		msg[0] = '\0';
		if (err == -ETIMEDOUT && r->tx_err)
			snprintf(msg, size, "ReadDataByIdentifier: no response (ISO-TP: %s)",
				 isotp_errstr(r->tx_err));
		else if (err == -ETIMEDOUT)
			snprintf(msg, size, "ReadDataByIdentifier: no response (timeout)");
		else if (err && r->rdbi.msg[0])
			snprintf(msg, size, "%s", r->rdbi.msg);
		else if (err && err != -EINPROGRESS)
			snprintf(msg, size, "ReadDataByIdentifier: %s", strerror(-err));
	}
	return err;
}

const struct uds_rdbi *uds_read_rdbi(const struct uds_read *r)
{
	return &r->rdbi;
}

uint32_t uds_read_rx_filter(const struct uds_read *r)
{
	return bus_filter_norm(r->ecu.response_id | (r->ecu.extended ? BUS_FILTER_EFF : 0));
}

static bool reading(const struct uds_read *r)
{
	return r->started && uds_rdbi_result(&r->rdbi) == -EINPROGRESS;
}

/* ISO-TP finished sending the request (T_Data.con: P2 starts now), or gave up. */
static void check_tx(struct uds_read *r, fota_us now)
{
	int e;

	if (!r->tx_busy)
		return;
	e = isotp_tx_result(r->tp);
	if (e == -EINPROGRESS)
		return;
	r->tx_busy = false;
	r->tx_err = e;
	if (!e)
		uds_rdbi_sent(&r->rdbi, now);
	/* On failure the P2 armed at hand-over runs out: -ETIMEDOUT. */
}

static void read_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct uds_read *r = ctx;
	const uint8_t *pdu;
	size_t len;

	if (!reading(r))
		return;
	isotp_input(r->tp, f, now);
	(void)isotp_rx_error(r->tp);
	check_tx(r, now);
	while (reading(r) && isotp_recv(r->tp, &pdu, &len) == 1)
		uds_rdbi_input(&r->rdbi, pdu, len, now);
}

static void read_tick(void *ctx, fota_us now)
{
	struct uds_read *r = ctx;

	if (!reading(r))
		return;
	isotp_tick(r->tp, now);
	check_tx(r, now);
	if (!r->tx_busy)
		uds_rdbi_tick(&r->rdbi, now);
}

static int read_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct uds_read *r = ctx;
	const uint8_t *pdu;
	size_t len;

	if (!reading(r))
		return 0;
	if (!r->tx_busy && uds_rdbi_output(&r->rdbi, &pdu, &len, now) == 1) {
		r->tx_err = isotp_send(r->tp, pdu, len, now);
		r->tx_busy = !r->tx_err;
	}
	if (isotp_output(r->tp, f, now) == 1) {
		check_tx(r, now);
		return 1;
	}
	check_tx(r, now);
	return 0;
}

static fota_us read_deadline(void *ctx)
{
	struct uds_read *r = ctx;
	fota_us d;

	if (!reading(r))
		return FOTA_NEVER;
	d = isotp_deadline(r->tp);
	if (!r->tx_busy)
		d = fota_min_deadline(d, uds_rdbi_deadline(&r->rdbi));
	return d;
}

static bool read_done(void *ctx)
{
	struct uds_read *r = ctx;

	return r->started && !reading(r);
}

const struct loop_member_ops uds_read_member_ops = {
	.input = read_input,
	.tick = read_tick,
	.output = read_output,
	.deadline = read_deadline,
	.done = read_done,
};
