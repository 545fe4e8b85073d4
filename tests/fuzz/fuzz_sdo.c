// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the SDO server over the real TCU object dictionary
 * (sdo/server.c, sdo/fota_od.c, core/update.c), and the SDO client fed the
 * same bytes as responses. Input: records of 10 bytes:
 *	[0] bits 0..3 DLC (values above 8 mean 8), bits 4..7 update-machine event
 *	    to inject (0 = none, 1..12 = enum upd_event + 1; others none)
 *	[1] time advance in units of 100 ms
 *	[2..9] frame data
 * Besides "no crash, no UB" it checks what a CANopen client relies on: every
 * response is on 0x580+node with DLC 8, at most one response per request,
 * update_status always one of the defined values, and the client ends.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/update.h"
#include "sdo/client.h"
#include "sdo/fota_od.h"
#include "sdo/sdo.h"
#include "sdo/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NODE 0x27

static void check_status(const struct upd *u)
{
	if (!upd_status_str(u->update_status) || u->update_available > 1 ||
	    u->update_progress > 100)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct upd u;
	static struct fota_od fo;
	struct sdo_server s;
	struct sdo_client c;
	struct sdo_server_cfg scfg = { .node = NODE, .timeout_ms = 300 };
	struct sdo_client_cfg ccfg = { .node = NODE, .timeout_ms = 300 };
	struct sdo_server_event ev;
	struct bus_frame f, out;
	uint8_t buf[64];
	fota_us now = FOTA_SEC(1);
	int n;

	upd_init(&u);
	upd_set_clock(&u, now, 1700000000u);
	if (fota_od_init(&fo, &u, NULL) || sdo_server_init(&s, &scfg, &fo.od) ||
	    sdo_client_init(&c, &ccfg))
		abort();
	if (upd_offer(&u, "3f1c2a4e-8b7d-4c2e-9f10-5a6b7c8d9e0f", 0x701, 100, now))
		abort();
	if (sdo_client_upload(&c, FOTA_OD_INDEX, FOTA_SUB_UPDATE_REQUEST_ID, buf, sizeof(buf), now))
		abort();

	for (; size >= 10; data += 10, size -= 10) {
		unsigned evno = data[0] >> 4;

		now += FOTA_MS(100) * data[1];
		if (evno >= 1 && evno <= UPD_EV_COUNT && evno - 1 != UPD_EV_OFFER)
			upd_handle(&u, (enum upd_event)(evno - 1), now);
		upd_tick(&u, now);
		upd_take_actions(&u);
		sdo_server_tick(&s, now);
		sdo_client_tick(&c, now);

		memset(&f, 0, sizeof(f));
		f.id = SDO_COB_REQUEST + NODE;
		f.len = (data[0] & 0x0f) > 8 ? 8 : data[0] & 0x0f;
		memcpy(f.data, data + 2, 8);
		sdo_server_input(&s, &f, now);
		n = 0;
		while (sdo_server_output(&s, &out, now) == 1) {
			if (out.id != SDO_COB_RESPONSE + NODE || out.len != 8 || out.flags)
				abort();
			n++;
		}
		if (n > 2) /* a request; at most a timeout abort of the previous transfer besides */
			abort();
		while (sdo_server_take_event(&s, &ev) == 1)
			(void)sdo_abort_str(ev.abort_code);
		check_status(&u);

		/* The same bytes as a server's response to our client. */
		f.id = SDO_COB_RESPONSE + NODE;
		sdo_client_input(&c, &f, now);
		while (sdo_client_output(&c, &out, now) == 1)
			if (out.id != SDO_COB_REQUEST + NODE || out.len != 8)
				abort();
		if (sdo_client_result(&c, NULL) != -EINPROGRESS)
			sdo_client_upload(&c, FOTA_OD_INDEX, data[2] & 0x7f, buf,
					  1 + data[3] % sizeof(buf), now);
	}
	/* Every transfer ends: by the deadline at the latest. */
	now += FOTA_SEC(10);
	sdo_server_tick(&s, now);
	sdo_client_tick(&c, now);
	if (!sdo_server_idle(&s) || sdo_client_result(&c, NULL) == -EINPROGRESS)
		abort();
	return 0;
}
