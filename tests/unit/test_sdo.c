// SPDX-License-Identifier: MIT
/*
 * SDO codec, server and client (CiA 301 §7.2.4.3) over the TCU's 0x5FF3
 * object dictionary, byte for byte, in virtual time. The example workflow of
 * the ECU FOTA specification is replayed frame by frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include "core/bus.h"
#include "core/loop.h"
#include "core/update.h"
#include "sdo/client.h"
#include "sdo/fota_od.h"
#include "sdo/od.h"
#include "sdo/sdo.h"
#include "sdo/server.h"
#include "tests/sim/sim.h"
#include "tests/unit/t.h"

#define NODE  0x27
#define T0    FOTA_SEC(1000)
#define WALL0 1700000000u
#define UUID  "3f1c2a4e-8b7d-4c2e-9f10-5a6b7c8d9e0f"

static void unhex(uint8_t *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static struct bus_frame frame(uint32_t id, const char *hex)
{
	struct bus_frame f = { .id = id, .len = (uint8_t)(strlen(hex) / 2) };

	unhex(f.data, hex, f.len);
	return f;
}

struct fix {
	struct upd u;
	struct fota_od fo;
	struct sdo_server s;
	fota_us now;
};

static struct fix fx;

static void fix_init(void)
{
	struct sdo_server_cfg cfg = { .node = NODE };

	upd_init(&fx.u);
	fx.now = T0;
	upd_set_clock(&fx.u, T0, WALL0);
	T_OK(fota_od_init(&fx.fo, &fx.u, NULL));
	T_OK(sdo_server_init(&fx.s, &cfg, &fx.fo.od));
}

/* Send one request to the server; expect exactly one response equal to want (or none). */
static void xfer_at(const char *file, int line, const char *req, const char *want)
{
	struct bus_frame f = frame(SDO_COB_REQUEST + NODE, req), out;
	uint8_t exp[8];

	sdo_server_input(&fx.s, &f, fx.now);
	if (!want) {
		if (sdo_server_output(&fx.s, &out, fx.now))
			t_fail(file, line, "request %s: unexpected response", req);
		return;
	}
	if (sdo_server_output(&fx.s, &out, fx.now) != 1) {
		t_fail(file, line, "request %s: no response", req);
		return;
	}
	unhex(exp, want, 8);
	if (out.id != SDO_COB_RESPONSE + NODE || out.len != 8 || out.flags)
		t_fail(file, line, "response id 0x%x len %u", out.id, out.len);
	if (memcmp(out.data, exp, 8))
		t_fail_mem(file, line, req, out.data, exp, 8);
	if (sdo_server_output(&fx.s, &out, fx.now))
		t_fail(file, line, "request %s: more than one response", req);
}
#define XFER(req, want) xfer_at(__FILE__, __LINE__, req, want)

static void offer(void)
{
	T_OK(upd_offer(&fx.u, UUID, 0x701, 0, fx.now));
	upd_take_actions(&fx.u);
}

/* ---- codec ------------------------------------------------------------------- */

static void test_sdo__codec_expedited_download(void)
{
	struct sdo_msg m = { .kind = SDO_INIT_DOWNLOAD,
			     .index = 0x5FF3,
			     .sub = 0x40,
			     .expedited = true,
			     .size_indicated = true,
			     .len = 1,
			     .data = { 1 } };
	uint8_t d[8], want[8];

	T_OK(sdo_encode_request(d, &m));
	unhex(want, "2FF35F4001000000", 8);
	T_EQ_MEM(d, want, 8);
	memset(&m, 0xff, sizeof(m));
	T_OK(sdo_decode_request(&m, d));
	T_EQ(m.kind, SDO_INIT_DOWNLOAD);
	T_EQ(m.index, 0x5FF3);
	T_EQ(m.sub, 0x40);
	T_TRUE(m.expedited && m.size_indicated);
	T_EQ(m.len, 1);
	T_EQ(m.data[0], 1);

	/* e=1, s=0: four bytes, size unknown */
	unhex(d, "22F35F4001000000", 8);
	T_OK(sdo_decode_request(&m, d));
	T_TRUE(m.expedited && !m.size_indicated);
	T_EQ(m.len, 4);
}

static void test_sdo__codec_responses(void)
{
	struct sdo_msg m = { .kind = SDO_INIT_UPLOAD,
			     .index = 0x5FF3,
			     .sub = 0x01,
			     .expedited = true,
			     .size_indicated = true,
			     .len = 1,
			     .data = { 1 } };
	uint8_t d[8], want[8];

	T_OK(sdo_encode_response(d, &m));
	unhex(want, "4FF35F0101000000", 8);
	T_EQ_MEM(d, want, 8);

	m = (struct sdo_msg){ .kind = SDO_INIT_UPLOAD,
			      .index = 0x5FF3,
			      .sub = 0x02,
			      .size_indicated = true,
			      .size = 36 };
	T_OK(sdo_encode_response(d, &m));
	unhex(want, "41F35F0224000000", 8);
	T_EQ_MEM(d, want, 8);

	m = (struct sdo_msg){
		.kind = SDO_UPLOAD_SEG, .toggle = true, .last = true, .len = 1, .data = { 'x' }
	};
	T_OK(sdo_encode_response(d, &m));
	unhex(want, "1D78000000000000", 8);
	T_EQ_MEM(d, want, 8);
	T_OK(sdo_decode_response(&m, d));
	T_EQ(m.kind, SDO_UPLOAD_SEG);
	T_TRUE(m.toggle && m.last);
	T_EQ(m.len, 1);

	m = (struct sdo_msg){ .kind = SDO_INIT_DOWNLOAD, .index = 0x5FF3, .sub = 0x40 };
	T_OK(sdo_encode_response(d, &m));
	unhex(want, "60F35F4000000000", 8);
	T_EQ_MEM(d, want, 8);

	sdo_encode_abort(d, 0x5FF3, 0x40, SDO_ABORT_DEVICE_STATE);
	unhex(want, "80F35F4022000008", 8);
	T_EQ_MEM(d, want, 8);
	T_OK(sdo_decode_response(&m, d));
	T_EQ(m.kind, SDO_ABORT);
	T_EQ(m.abort_code, 0x08000022);
}

static void test_sdo__codec_bad_lengths_and_cs(void)
{
	struct sdo_msg m = {
		.kind = SDO_INIT_DOWNLOAD, .expedited = true, .size_indicated = true, .len = 5
	};
	uint8_t d[8];

	T_ERR(sdo_encode_request(d, &m), -EINVAL);
	m = (struct sdo_msg){ .kind = SDO_DOWNLOAD_SEG, .len = 8 };
	T_ERR(sdo_encode_request(d, &m), -EINVAL);
	unhex(d, "E0F35F0100000000", 8);
	T_ERR(sdo_decode_request(&m, d), -EPROTO);
	T_EQ(m.index, 0x5FF3);
	T_ERR(sdo_decode_response(&m, d), -EPROTO);
}

static void test_sdo__abort_names(void)
{
	T_EQ_STR(
		sdo_abort_str(0x08000022),
		"data cannot be transferred or stored to the application because of the present device state");
	T_EQ_STR(sdo_abort_str(0x05030000), "toggle bit not alternated");
	T_EQ_STR(sdo_abort_str(0x06020000), "object does not exist in the object dictionary");
	T_EQ_STR(sdo_abort_str(0x12345678), "unknown abort code");
	T_EQ(SDO_ABORT_TIMEOUT, 0x05040000);
	T_EQ(SDO_ABORT_CMD, 0x05040001);
	T_EQ(SDO_ABORT_WRITE_ONLY, 0x06010001);
	T_EQ(SDO_ABORT_READ_ONLY, 0x06010002);
	T_EQ(SDO_ABORT_TYPE_MISMATCH, 0x06070010);
	T_EQ(SDO_ABORT_DATA_LONG, 0x06070012);
	T_EQ(SDO_ABORT_DATA_SHORT, 0x06070013);
	T_EQ(SDO_ABORT_NO_SUBINDEX, 0x06090011);
	T_EQ(SDO_ABORT_VALUE_RANGE, 0x06090030);
	T_EQ(SDO_ABORT_LOCAL_CONTROL, 0x08000021);
}

/* ---- object dictionary ------------------------------------------------------- */

static void test_sdo__od_sorted_and_found(void)
{
	const struct od_entry *e;
	uint32_t code = 0;
	struct od od;
	uint8_t v8 = 0;
	struct od_entry bad[2] = {
		{ .index = 0x2000, .sub = 1, .type = OD_U8, .attr = OD_R, .data = &v8, .size = 1 },
		{ .index = 0x2000, .sub = 0, .type = OD_U8, .attr = OD_R, .data = &v8, .size = 1 },
	};

	fix_init();
	/* the real table is strictly sorted (od_init checks) and binary search finds every entry */
	od_for_each_entry(&fx.fo.od, e) {
		T_TRUE(od_find(&fx.fo.od, e->index, e->sub, NULL) == e);
	}
	T_TRUE(od_find(&fx.fo.od, 0x5FF3, 0x06, &code) == NULL);
	T_EQ(code, SDO_ABORT_NO_SUBINDEX);
	T_TRUE(od_find(&fx.fo.od, 0x5FF4, 0x00, &code) == NULL);
	T_EQ(code, SDO_ABORT_NO_OBJECT);
	T_TRUE(od_find(&fx.fo.od, 0x0001, 0x00, &code) == NULL);
	T_EQ(code, SDO_ABORT_NO_OBJECT);
	T_TRUE(od_find(&fx.fo.od, 0x1018, 0x05, &code) == NULL);
	T_EQ(code, SDO_ABORT_NO_SUBINDEX);
	T_ERR(od_init(&od, bad, 2, NULL), -EINVAL);
	bad[1].sub = 1;
	T_ERR(od_init(&od, bad, 2, NULL), -EINVAL); /* duplicate */
	bad[1].sub = 2;
	bad[1].size = 2; /* UNSIGNED8 of 2 bytes */
	T_ERR(od_init(&od, bad, 2, NULL), -EINVAL);
}

/* Every 0x5FF3 object has the access, type and persistence of the specification. */
static void test_sdo__fota_table_matches_spec(void)
{
	static const struct {
		uint8_t sub;
		uint16_t type;
		uint8_t attr;
	} spec[] = {
		{ 0x01, OD_U8, OD_R | OD_PERSIST },
		{ 0x02, OD_VISIBLE_STRING, OD_R | OD_PERSIST },
		{ 0x03, OD_U32, OD_R | OD_PERSIST },
		{ 0x04, OD_U32, OD_R | OD_PERSIST },
		{ 0x05, OD_U32, OD_R | OD_PERSIST },
		{ 0x40, OD_U8, OD_W },
		{ 0x50, OD_U8, OD_R | OD_PERSIST },
		{ 0x51, OD_U8, OD_R },
		{ 0x52, OD_U32, OD_R | OD_PERSIST },
		{ 0x53, OD_U32, OD_R | OD_PERSIST },
		{ 0x60, OD_U8, OD_W },
		{ 0x62, OD_U16, OD_RW | OD_PERSIST },
	};
	const struct od_entry *e;
	char text[1024] = "", path[64];
	FILE *fp;
	char dir[] = "/tmp/fota-test-sdo-XXXXXX";

	fix_init();
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(spec); i++) {
		e = od_find(&fx.fo.od, FOTA_OD_INDEX, spec[i].sub, NULL);
		T_TRUE(e != NULL);
		if (!e)
			continue;
		T_EQ(e->type, spec[i].type);
		T_EQ(e->attr, spec[i].attr);
		T_TRUE(fota_od_object(spec[i].sub) != NULL);
		T_EQ(fota_od_object(spec[i].sub)->attr, spec[i].attr);
	}
	T_EQ(fota_od_nobjects, FOTA_ARRAY_SIZE(spec) + 1);
	/* the clients' table and the server's entries come from one list: they agree */
	T_EQ(fx.fo.od.n, FOTA_OD_NENTRIES);
	for (size_t i = 0; i < fota_od_nobjects; i++) {
		const struct fota_od_object *o = &fota_od_objects[i];

		e = od_find(&fx.fo.od, FOTA_OD_INDEX, o->sub, NULL);
		T_TRUE(e != NULL);
		if (!e)
			continue;
		T_EQ(e->type, o->type);
		T_EQ(e->attr, o->attr);
		T_EQ(e->size, o->size);
	}
	T_EQ(fx.fo.highest_sub, FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT);

	/* OD_PERSIST drives the state file: every persistent object is a key in it. */
	T_TRUE(mkdtemp(dir) != NULL);
	T_OK(upd_save(&fx.u, dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	fp = fopen(path, "r");
	T_TRUE(fp != NULL);
	if (fp) {
		size_t n = fread(text, 1, sizeof(text) - 1, fp);

		text[n] = '\0';
		fclose(fp);
	}
	for (size_t i = 0; i < fota_od_nobjects; i++) {
		char key[64];

		if (!(fota_od_objects[i].attr & OD_PERSIST))
			continue;
		snprintf(key, sizeof(key), "\n%s=", fota_od_objects[i].name);
		if (!strstr(text, key))
			t_fail(__FILE__, __LINE__, "persistent %s not in state file",
			       fota_od_objects[i].name);
	}
	unlink(path);
	rmdir(dir);
}

/* ---- server: the specification's example workflow ----------------------------- */

static void test_sdo__spec_example_workflow(void)
{
	unsigned act;

	fix_init();
	offer();
	/* 1. Read update availability: 0x01 */
	XFER("40F35F0100000000", "4FF35F0101000000");
	/* 2. Read update attempts counter (UINT32): 1 */
	XFER("40F35F0300000000", "43F35F0301000000");
	/* 3. Approve the update */
	XFER("2FF35F4001000000", "60F35F4000000000");
	act = upd_take_actions(&fx.u);
	T_EQ(act & (UPD_ACT_BOOTLOADER_FRAME | UPD_ACT_PERSIST),
	     UPD_ACT_BOOTLOADER_FRAME | UPD_ACT_PERSIST);
	XFER("40F35F5000000000", "4FF35F5001000000"); /* flashing in progress */
	upd_tick(&fx.u, fx.now);		      /* bootloader delay 0 */
	T_TRUE(upd_take_actions(&fx.u) & UPD_ACT_START_FLASH);
	T_OK(upd_handle(&fx.u, UPD_EV_FLASH_OK, fx.now));
	/* 4. Poll update status: 0x10 */
	XFER("40F35F5000000000", "4FF35F5010000000");
	/* 5. Report verification result */
	XFER("2FF35F6001000000", "60F35F6000000000");
	/* 6. Confirm final status: 0x40 */
	XFER("40F35F5000000000", "4FF35F5040000000");
	XFER("40F35F0100000000", "4FF35F0100000000"); /* update_available back to 0 */
}

static void test_sdo__identity_objects(void)
{
	struct fota_od_identity id = { .vendor_id = 0x12345678, .serial = 42 };
	struct sdo_server_cfg cfg = { .node = NODE };

	fix_init();
	T_OK(fota_od_init(&fx.fo, &fx.u, &id));
	T_OK(sdo_server_init(&fx.s, &cfg, &fx.fo.od));
	XFER("40F35F0000000000", "4FF35F0062000000"); /* highest sub-index 0x62 */
	XFER("4000100000000000", "4300100000000000"); /* device type */
	XFER("4001100000000000", "4F01100000000000"); /* error register */
	XFER("4008100000000000", "43081000666F7461"); /* device name "fota" */
	XFER("4018100000000000", "4F18100004000000");
	XFER("4018100100000000", "4318100178563412");
	XFER("4018100400000000", "431810042A000000");
	XFER("4017100000000000", "4B17100000000000");
	XFER("2B171000E8030000", "6017100000000000"); /* heartbeat 1000 ms */
	XFER("4017100000000000", "4B171000E8030000");
	T_EQ(fx.fo.heartbeat_ms, 1000);
	XFER("40F35F6200000000", "4BF35F620A000000"); /* health timeout 10 min */
}

/* ---- server: every abort, byte for byte ----------------------------------------- */

static void test_sdo__abort_unknown_object_and_sub(void)
{
	fix_init();
	XFER("4000200000000000", "8000200000000206");
	XFER("40F35F0600000000", "80F35F0611000906");
	XFER("2FF35F3F01000000", "80F35F3F11000906");
	XFER("4018100500000000", "8018100511000906");
}

static void test_sdo__abort_access(void)
{
	fix_init();
	XFER("2FF35F0101000000", "80F35F0102000106"); /* write read-only */
	XFER("2FF35F5040000000", "80F35F5002000106");
	XFER("2FF35F0000000000", "80F35F0002000106");
	XFER("40F35F4000000000", "80F35F4001000106"); /* read write-only */
	XFER("40F35F6000000000", "80F35F6001000106");
}

static void test_sdo__abort_length(void)
{
	fix_init();
	offer();
	/* size indicated and wrong: too high / too low */
	XFER("2BF35F4001000000", "80F35F4012000706"); /* 2 bytes to UINT8 */
	XFER("23F35F4001000000", "80F35F4012000706"); /* 4 bytes to UINT8 */
	XFER("2FF35F620A000000", "80F35F6213000706"); /* 1 byte to UINT16 */
	XFER("21F35F4002000000", "80F35F4012000706"); /* segmented, announces 2 bytes */
	T_EQ(fx.u.state, UPD_ST_AVAILABLE);	      /* none of these approved */
	/* size not indicated: the server knows the size (CiA 301 e=1, s=0) */
	XFER("22F35F620F00FFFF", "60F35F6200000000");
	T_EQ(fx.u.ecu_health_check_timeout, 15);
	XFER("22F35F4001FFFFFF", "60F35F4000000000");
	T_EQ(fx.u.state, UPD_ST_BOOTLOADER);
}

static void test_sdo__abort_value_range(void)
{
	fix_init();
	/*
	 * A non-zero value where the state forbids the write is the state abort,
	 * whatever the value ("SDO Abort Conditions"); the range abort only where
	 * the write is allowed.
	 */
	XFER("2FF35F4003000000", "80F35F4022000008");
	XFER("2FF35F6003000000", "80F35F6022000008");
	offer();
	XFER("2FF35F4003000000", "80F35F4030000906");
	XFER("2FF35F40FF000000", "80F35F4030000906");
	XFER("2FF35F6003000000", "80F35F6022000008");
	T_EQ(fx.u.state, UPD_ST_AVAILABLE);
	XFER("2FF35F4001000000", "60F35F4000000000");
	upd_tick(&fx.u, fx.now);
	T_OK(upd_handle(&fx.u, UPD_EV_FLASH_OK, fx.now));
	XFER("2FF35F6003000000", "80F35F6030000906");
	XFER("2FF35F4003000000", "80F35F4022000008");
	T_EQ(fx.u.update_status, UPD_STATUS_VERIFYING);
}

/* 0x08000022 exactly where "SDO Abort Conditions" lists it; 0x00 always accepted. */
static void test_sdo__abort_device_state(void)
{
	fix_init();
	/* Idle: nothing available, not verifying */
	XFER("2FF35F4001000000", "80F35F4022000008");
	XFER("2FF35F4002000000", "80F35F4022000008");
	XFER("2FF35F6001000000", "80F35F6022000008");
	XFER("2FF35F6002000000", "80F35F6022000008");
	XFER("2FF35F4000000000", "60F35F4000000000");
	XFER("2FF35F6000000000", "60F35F6000000000");
	/* Available: health check refused, approval accepted */
	offer();
	XFER("2FF35F6001000000", "80F35F6022000008");
	XFER("2FF35F4001000000", "60F35F4000000000");
	/* Flashing: apply_update (including reject) and health check refused */
	XFER("2FF35F4002000000", "80F35F4022000008");
	XFER("2FF35F4001000000", "80F35F4022000008");
	XFER("2FF35F6001000000", "80F35F6022000008");
	XFER("2FF35F4000000000", "60F35F4000000000");
	upd_tick(&fx.u, fx.now);
	T_OK(upd_handle(&fx.u, UPD_EV_FLASH_OK, fx.now));
	/* Verifying: apply_update refused, verdict accepted once */
	XFER("2FF35F4001000000", "80F35F4022000008");
	XFER("2FF35F6002000000", "60F35F6000000000");
	T_EQ(fx.u.update_status, UPD_STATUS_VERIFY_FAILED);
	/* Final: both refused, 0x00 still accepted */
	XFER("2FF35F6001000000", "80F35F6022000008");
	XFER("2FF35F4001000000", "80F35F4022000008");
	XFER("2FF35F6000000000", "60F35F6000000000");
	XFER("40F35F5000000000", "4FF35F5051000000");
}

static void test_sdo__abort_command_specifier(void)
{
	fix_init();
	XFER("E0F35F0100000000", "80F35F0101000405"); /* ccs 7 */
	XFER("A0F35F0200000000", "80F35F0201000405"); /* block upload */
	XFER("C6F35F0224000000", "80F35F0201000405"); /* block download */
	/* a segment with no transfer open names the last transfer's mux */
	XFER("6000000000000000", "80F35F0201000405");
	XFER("0000000000000000", "80F35F0201000405");
}

/* ---- server: segmented transfers, toggle, timeout -------------------------------- */

/* Build the expected segment bytes from a string: byte 0 = t<<4 | n<<1 | c. */
static void seg_hex(char *out, bool toggle, const char *data, size_t len, bool last)
{
	uint8_t b[8] = { 0 };

	b[0] = (uint8_t)((toggle ? 0x10 : 0) | (7 - len) << 1 | (last ? 1 : 0));
	memcpy(b + 1, data, len);
	for (int i = 0; i < 8; i++)
		sprintf(out + 2 * i, "%02X", b[i]);
}

static void test_sdo__segmented_upload_request_id(void)
{
	char want[17];
	size_t pos = 0;
	bool t = false;

	fix_init();
	offer();
	XFER("40F35F0200000000", "41F35F0224000000"); /* size indicated: 36 bytes */
	/* 5 segments of 7 bytes, then 1 byte with c=1: toggles 0 1 0 1 0 1 */
	while (pos < 36) {
		size_t n = 36 - pos > 7 ? 7 : 36 - pos;

		seg_hex(want, t, &UUID[pos], n, pos + n == 36);
		XFER(t ? "7000000000000000" : "6000000000000000", want);
		pos += n;
		t = !t;
	}
	T_TRUE(sdo_server_idle(&fx.s));
	/* the last segment of the 36-byte id is "1D 66": t=1, n=6, c=1, 'f' */
	T_EQ_STR(want, "1D66000000000000");
	/* another segment after the end is a protocol error */
	XFER("6000000000000000", "80F35F0201000405");
}

static void test_sdo__empty_string_upload(void)
{
	fix_init();
	XFER("40F35F0200000000", "41F35F0200000000"); /* size 0 */
	XFER("6000000000000000", "0F00000000000000"); /* n=7, c=1: no data, last */
	T_TRUE(sdo_server_idle(&fx.s));
}

static void test_sdo__toggle_error(void)
{
	fix_init();
	offer();
	XFER("40F35F0200000000", "41F35F0224000000");
	XFER("7000000000000000", "80F35F0200000305"); /* first segment must have t=0 */
	T_TRUE(sdo_server_idle(&fx.s));
	XFER("40F35F0200000000", "41F35F0224000000");
	XFER("6000000000000000", "0033663163326134");
	XFER("6000000000000000", "80F35F0200000305"); /* not alternated */
}

static void test_sdo__server_timeout(void)
{
	struct bus_frame out;

	fix_init();
	offer();
	XFER("40F35F0200000000", "41F35F0224000000");
	T_EQ_U64(sdo_server_deadline(&fx.s), T0 + FOTA_MS(1000));
	sdo_server_tick(&fx.s, T0 + FOTA_MS(999));
	T_EQ(sdo_server_output(&fx.s, &out, fx.now), 0);
	fx.now = T0 + FOTA_MS(500);
	XFER("6000000000000000", "0033663163326134"); /* each segment restarts the timer */
	T_EQ_U64(sdo_server_deadline(&fx.s), T0 + FOTA_MS(1500));
	sdo_server_tick(&fx.s, T0 + FOTA_MS(1500));
	T_EQ(sdo_server_output(&fx.s, &out, fx.now), 1);
	{
		uint8_t want[8];

		unhex(want, "80F35F0200000405", 8);
		T_EQ_MEM(out.data, want, 8);
	}
	T_TRUE(sdo_server_idle(&fx.s));
	T_EQ_U64(sdo_server_deadline(&fx.s), FOTA_NEVER);
}

static void test_sdo__server_ignores_foreign_frames(void)
{
	struct bus_frame f = frame(SDO_COB_REQUEST + NODE, "40F35F01000000"), out;

	fix_init();
	sdo_server_input(&fx.s, &f, fx.now); /* DLC 7 */
	f = frame(SDO_COB_REQUEST + NODE + 1, "40F35F0100000000");
	sdo_server_input(&fx.s, &f, fx.now); /* another node */
	f = frame(SDO_COB_RESPONSE + NODE, "40F35F0100000000");
	sdo_server_input(&fx.s, &f, fx.now); /* a response */
	f = frame(SDO_COB_REQUEST + NODE, "40F35F0100000000");
	f.flags = BUS_FRAME_EFF;
	sdo_server_input(&fx.s, &f, fx.now);
	T_EQ(sdo_server_output(&fx.s, &out, fx.now), 0);
	/* a client abort is never answered and ends the transfer */
	XFER("40F35F0200000000", "41F35F0200000000");
	XFER("80F35F0200000405", NULL);
	T_TRUE(sdo_server_idle(&fx.s));
}

/* A writable string and number, to exercise segmented download. */
static char t_str[16];
static uint32_t t_u32;
static const struct od_entry t_entries[] = {
	{ .index = 0x2000,
	  .sub = 0,
	  .type = OD_VISIBLE_STRING,
	  .attr = OD_RW,
	  .data = t_str,
	  .size = sizeof(t_str) },
	{ .index = 0x2001, .sub = 0, .type = OD_U32, .attr = OD_RW, .data = &t_u32, .size = 4 },
};
static struct od t_od;

static void t_server(void)
{
	struct sdo_server_cfg cfg = { .node = NODE, .timeout_ms = 200 };

	memset(t_str, 0, sizeof(t_str));
	t_u32 = 0;
	fx.now = T0;
	T_OK(od_init(&t_od, t_entries, FOTA_ARRAY_SIZE(t_entries), NULL));
	T_OK(sdo_server_init(&fx.s, &cfg, &t_od));
}

static void test_sdo__segmented_download(void)
{
	t_server();
	XFER("2000200000000000", "6000200000000000"); /* no size: write "hello, world" */
	XFER("0068656C6C6F2C20", "2000000000000000");
	XFER("15776F726C640000", "3000000000000000"); /* t=1, n=2, c=1 */
	T_EQ_STR(t_str, "hello, world");
	T_TRUE(sdo_server_idle(&fx.s));
	/* announced 10, delivered 8: 0x06070010 */
	XFER("210020000A000000", "6000200000000000");
	XFER("0061616161616161", "2000000000000000");
	XFER("1D62000000000000", "8000200010000706");
	T_EQ_STR(t_str, "hello, world"); /* nothing stored */
	/* more than the object holds: 0x06070012 during the transfer */
	XFER("21002000", NULL); /* DLC 4: ignored */
	XFER("2000200000000000", "6000200000000000");
	XFER("0061616161616161", "2000000000000000");
	XFER("1061616161616161", "3000000000000000");
	XFER("0061616161616161", "8000200012000706");
	/* announced size above the object: refused at initiate */
	XFER("2100200011000000", "8000200012000706");
	/* a number by segmented download, size indicated */
	XFER("2101200004000000", "6001200000000000");
	XFER("0778563412000000", "2000000000000000"); /* n=3, c=1 */
	T_EQ(t_u32, 0x12345678);
	/* expedited string write shorter than the object */
	XFER("2700200061620000", "6000200000000000");
	T_EQ_STR(t_str, "ab");
	/* a new initiate abandons a half-done transfer */
	XFER("2000200000000000", "6000200000000000");
	XFER("4001200000000000", "4301200078563412");
	T_TRUE(sdo_server_idle(&fx.s));
}

/* ---- client against server, back to back ------------------------------------- */

/* Move frames both ways until the client's result is final; time jumps to deadlines. */
static int pump(struct sdo_client *c, struct sdo_result *res, int drop_server)
{
	struct bus_frame f;
	int err, moved;

	for (int i = 0; i < 1000; i++) {
		do {
			moved = 0;
			while (sdo_client_output(c, &f, fx.now) == 1) {
				sdo_server_input(&fx.s, &f, fx.now);
				moved = 1;
			}
			while (sdo_server_output(&fx.s, &f, fx.now) == 1) {
				if (!drop_server)
					sdo_client_input(c, &f, fx.now);
				moved = 1;
			}
		} while (moved);
		err = sdo_client_result(c, res);
		if (err != -EINPROGRESS)
			return err;
		/* nothing in flight: let virtual time jump to the next deadline */
		fx.now = fota_min_deadline(sdo_client_deadline(c), sdo_server_deadline(&fx.s));
		sdo_client_tick(c, fx.now);
		sdo_server_tick(&fx.s, fx.now);
	}
	return -EINPROGRESS;
}

static void test_sdo__client_server_fota(void)
{
	struct sdo_client_cfg cfg = { .node = NODE };
	struct sdo_client c;
	struct sdo_result res;
	char id[64] = "";
	uint8_t v = 0, one = 1;

	fix_init();
	offer();
	T_OK(sdo_client_init(&c, &cfg));
	T_OK(sdo_client_upload(&c, FOTA_OD_INDEX, FOTA_SUB_UPDATE_REQUEST_ID, id, sizeof(id),
			       fx.now));
	T_ERR(sdo_client_upload(&c, FOTA_OD_INDEX, 1, &v, 1, fx.now), -EALREADY);
	T_OK(pump(&c, &res, 0));
	T_EQ(res.len, 36);
	T_EQ_STR(id, UUID);

	T_OK(sdo_client_upload(&c, FOTA_OD_INDEX, FOTA_SUB_UPDATE_AVAILABLE, &v, 1, fx.now));
	T_OK(pump(&c, &res, 0));
	T_EQ(res.len, 1);
	T_EQ(v, 1);

	T_OK(sdo_client_download(&c, FOTA_OD_INDEX, FOTA_SUB_ECU_HEALTH_CHECK, &one, 1, fx.now));
	T_ERR(pump(&c, &res, 0), -EBUSY);
	T_EQ(res.abort_code, SDO_ABORT_DEVICE_STATE);
	T_EQ(res.sent_abort, 0);

	T_OK(sdo_client_upload(&c, FOTA_OD_INDEX, 0x07, &v, 1, fx.now));
	T_ERR(pump(&c, &res, 0), -EREMOTEIO);
	T_EQ(res.abort_code, SDO_ABORT_NO_SUBINDEX);

	/* upload larger than the caller's buffer: we abort with 0x05040005 */
	T_OK(sdo_client_upload(&c, FOTA_OD_INDEX, FOTA_SUB_UPDATE_REQUEST_ID, id, 10, fx.now));
	T_ERR(pump(&c, &res, 0), -EMSGSIZE);
	T_EQ(res.sent_abort, SDO_ABORT_OUT_OF_MEMORY);
	T_TRUE(sdo_server_idle(&fx.s)); /* the server got our abort */

	T_OK(sdo_client_download(&c, FOTA_OD_INDEX, FOTA_SUB_APPLY_UPDATE, &one, 1, fx.now));
	T_OK(pump(&c, &res, 0));
	T_EQ(fx.u.state, UPD_ST_BOOTLOADER);
}

static void test_sdo__client_segmented_download(void)
{
	struct sdo_client_cfg cfg = { .node = NODE };
	struct sdo_client c;
	struct sdo_result res;
	char back[16] = "";

	t_server();
	T_OK(sdo_client_init(&c, &cfg));
	T_OK(sdo_client_download(&c, 0x2000, 0, "fifteen chars!!", 15, fx.now));
	T_OK(pump(&c, &res, 0));
	T_EQ(res.len, 15);
	T_EQ_STR(t_str, "fifteen chars!!");
	T_OK(sdo_client_upload(&c, 0x2000, 0, back, sizeof(back), fx.now));
	T_OK(pump(&c, &res, 0));
	T_EQ(res.len, 15);
	T_EQ_MEM(back, "fifteen chars!!", 15);
	T_OK(sdo_client_download(&c, 0x2000, 0, "seventeen chars!!", 17, fx.now));
	T_ERR(pump(&c, &res, 0), -EREMOTEIO);
	T_EQ(res.abort_code, SDO_ABORT_DATA_LONG);
	T_ERR(sdo_client_download(&c, 0x2000, 0, "", 0, fx.now), -EMSGSIZE);
}

static void test_sdo__client_timeout(void)
{
	struct sdo_client_cfg cfg = { .node = NODE, .timeout_ms = 500 };
	struct sdo_client c;
	struct sdo_result res;
	struct bus_frame f;
	uint8_t v, want[8];

	fix_init();
	T_OK(sdo_client_init(&c, &cfg));
	T_OK(sdo_client_upload(&c, FOTA_OD_INDEX, 0x50, &v, 1, fx.now));
	T_EQ(sdo_client_output(&c, &f, fx.now), 1);
	unhex(want, "40F35F5000000000", 8);
	T_EQ(f.id, 0x627);
	T_EQ_MEM(f.data, want, 8);
	T_EQ_U64(sdo_client_deadline(&c), T0 + FOTA_MS(500));
	sdo_client_tick(&c, T0 + FOTA_MS(499));
	T_ERR(sdo_client_result(&c, &res), -EINPROGRESS);
	sdo_client_tick(&c, T0 + FOTA_MS(500));
	T_ERR(sdo_client_result(&c, &res), -ETIMEDOUT);
	T_EQ(res.sent_abort, SDO_ABORT_TIMEOUT);
	T_EQ(sdo_client_output(&c, &f, fx.now), 1);
	unhex(want, "80F35F5000000405", 8);
	T_EQ_MEM(f.data, want, 8);
	T_EQ_U64(sdo_client_deadline(&c), FOTA_NEVER);
}

static void test_sdo__client_protocol_errors(void)
{
	struct sdo_client_cfg cfg = { .node = NODE };
	struct sdo_client c;
	struct sdo_result res;
	struct bus_frame f;
	uint8_t buf[64], want[8];

	T_OK(sdo_client_init(&c, &cfg));
	/* toggle not alternated by the server */
	T_OK(sdo_client_upload(&c, FOTA_OD_INDEX, 2, buf, sizeof(buf), T0));
	sdo_client_output(&c, &f, T0);
	f = frame(0x5A7, "41F35F0224000000");
	sdo_client_input(&c, &f, T0);
	T_EQ(sdo_client_output(&c, &f, T0), 1);
	unhex(want, "6000000000000000", 8);
	T_EQ_MEM(f.data, want, 8);
	f = frame(0x5A7, "1033663163326134"); /* t=1, expected 0 */
	sdo_client_input(&c, &f, T0);
	T_ERR(sdo_client_result(&c, &res), -EPROTO);
	T_EQ(res.sent_abort, SDO_ABORT_TOGGLE);
	T_EQ(sdo_client_output(&c, &f, T0), 1);
	unhex(want, "80F35F0200000305", 8);
	T_EQ_MEM(f.data, want, 8);

	/* An initiate answer or an abort that names another object is the answer
	 * to another client of the same SDO channel (an HMI polls while the OEM
	 * writes its verdict): not ours, and no abort of ours on the bus, which
	 * the server would take as the end of the other client's transfer. */
	T_OK(sdo_client_upload(&c, FOTA_OD_INDEX, 0x50, buf, sizeof(buf), T0));
	sdo_client_output(&c, &f, T0);
	f = frame(0x5A7, "4FF35F5110000000"); /* upload of 5FF3:51 */
	sdo_client_input(&c, &f, T0);
	f = frame(0x5A7, "60F35F6000000000"); /* download of 5FF3:60 */
	sdo_client_input(&c, &f, T0);
	f = frame(0x5A7, "80F35F6022000008"); /* abort of 5FF3:60 */
	sdo_client_input(&c, &f, T0);
	T_ERR(sdo_client_result(&c, &res), -EINPROGRESS);
	T_EQ(sdo_client_output(&c, &f, T0), 0);
	f = frame(0x5A7, "4FF35F5010000000");
	sdo_client_input(&c, &f, T0);
	T_OK(sdo_client_result(&c, &res));
	T_EQ(buf[0], 0x10);

	/* our object, the wrong answer: a download response to an upload */
	T_OK(sdo_client_upload(&c, FOTA_OD_INDEX, 0x50, buf, sizeof(buf), T0));
	sdo_client_output(&c, &f, T0);
	f = frame(0x5A7, "60F35F5000000000");
	sdo_client_input(&c, &f, T0);
	T_ERR(sdo_client_result(&c, &res), -EPROTO);
	T_EQ(res.sent_abort, SDO_ABORT_CMD);

	/* frames of other nodes and DLCs are ignored */
	T_OK(sdo_client_upload(&c, FOTA_OD_INDEX, 0x50, buf, sizeof(buf), T0));
	sdo_client_output(&c, &f, T0);
	f = frame(0x5A8, "4FF35F5010000000");
	sdo_client_input(&c, &f, T0);
	f = frame(0x5A7, "4FF35F5010");
	sdo_client_input(&c, &f, T0);
	T_ERR(sdo_client_result(&c, &res), -EINPROGRESS);
	f = frame(0x5A7, "4FF35F5010000000");
	sdo_client_input(&c, &f, T0);
	T_OK(sdo_client_result(&c, &res));
	T_EQ(buf[0], 0x10);
	T_ERR(sdo_client_init(&c, &(struct sdo_client_cfg){ .node = 0 }), -EINVAL);
	T_ERR(sdo_client_init(&c, &(struct sdo_client_cfg){ .node = 128 }), -EINVAL);
}

/* The loop adapters over a mem: bus in virtual time: status read, then a timeout. */
static void test_sdo__loop_members_over_mem_bus(void)
{
	struct sdo_client_cfg cfg = { .node = NODE, .timeout_ms = 700 };
	struct bus *tcu = NULL, *hmi = NULL;
	struct sdo_client c;
	struct sdo_result res;
	struct sim sim;
	char id[40] = "";
	uint8_t v = 0;

	fix_init();
	offer();
	T_OK(sim_init(&sim, "sdo", T0));
	T_OK(bus_open(&tcu, "mem:sdo", NULL, NULL, 0));
	T_OK(bus_open(&hmi, "mem:sdo", NULL, NULL, 0));
	T_OK(sim_add(&sim, tcu, &sdo_server_loop_ops, &fx.s));
	T_OK(sim_add(&sim, hmi, &sdo_client_loop_ops, &c));
	T_OK(sdo_client_init(&c, &cfg));
	T_OK(sdo_client_upload(&c, FOTA_OD_INDEX, FOTA_SUB_UPDATE_REQUEST_ID, id, sizeof(id) - 1,
			       T0));
	T_OK(sim_run(&sim, FOTA_SEC(5)));
	T_OK(sdo_client_result(&c, &res));
	T_EQ_STR(id, UUID);

	/* a node nobody serves: abort 0x05040000 after 700 ms of virtual time */
	cfg.node = NODE + 1;
	T_OK(sdo_client_init(&c, &cfg));
	T_OK(sdo_client_upload(&c, FOTA_OD_INDEX, FOTA_SUB_UPDATE_STATUS, &v, 1, sim_now(&sim)));
	{
		fota_us start = sim_now(&sim);

		T_OK(sim_run(&sim, FOTA_SEC(5)));
		T_EQ_U64(sim_now(&sim) - start, FOTA_MS(700));
	}
	T_ERR(sdo_client_result(&c, &res), -ETIMEDOUT);
	bus_close(tcu);
	bus_close(hmi);
	sim_release(&sim);
}

static const struct t_case cases[] = {
	T_CASE(sdo__codec_expedited_download),
	T_CASE(sdo__codec_responses),
	T_CASE(sdo__codec_bad_lengths_and_cs),
	T_CASE(sdo__abort_names),
	T_CASE(sdo__od_sorted_and_found),
	T_CASE(sdo__fota_table_matches_spec),
	T_CASE(sdo__spec_example_workflow),
	T_CASE(sdo__identity_objects),
	T_CASE(sdo__abort_unknown_object_and_sub),
	T_CASE(sdo__abort_access),
	T_CASE(sdo__abort_length),
	T_CASE(sdo__abort_value_range),
	T_CASE(sdo__abort_device_state),
	T_CASE(sdo__abort_command_specifier),
	T_CASE(sdo__segmented_upload_request_id),
	T_CASE(sdo__empty_string_upload),
	T_CASE(sdo__toggle_error),
	T_CASE(sdo__server_timeout),
	T_CASE(sdo__server_ignores_foreign_frames),
	T_CASE(sdo__segmented_download),
	T_CASE(sdo__client_server_fota),
	T_CASE(sdo__client_segmented_download),
	T_CASE(sdo__client_timeout),
	T_CASE(sdo__client_protocol_errors),
	T_CASE(sdo__loop_members_over_mem_bus),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
