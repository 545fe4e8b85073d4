// SPDX-License-Identifier: MIT
/*
 * fota flash: reprogram one ECU from an Intel HEX file with the UDS
 * programming sequence (ISO 14229-1) over ISO-TP (ISO 15765-2), driven by the
 * job engine of uds/job.h that `fota serve` uses too. The HEX is checked
 * against the ECU's memory regions before any frame is sent.
 * Documented in man/fota-flash.1 (its JSON event keys are a stable interface).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/isotp_kernel.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/loop.h"
#include "hex/ihex.h"
#include "hex/image.h"
#include "uds/job.h"
#include "uds/key.h"

static const char *const flash_usage[] = {
	"fota flash -b BUS (-c FILE -e NAME | --request-id ID --response-id ID) [options] FILE[@ADDR]",
	"fota flash --dry-run (-c FILE -e NAME | --request-id ID --response-id ID) FILE[@ADDR]",
	NULL,
};

#define KEY_REQ_ID	FOTA_OPT_LONG(1)
#define KEY_RSP_ID	FOTA_OPT_LONG(2)
#define KEY_KEY		FOTA_OPT_LONG(3)
#define KEY_BLOCK_LEN	FOTA_OPT_LONG(4)
#define KEY_DRY_RUN	FOTA_OPT_LONG(5)
#define KEY_ISOTP	FOTA_OPT_LONG(6)
#define KEY_LEVEL	FOTA_OPT_LONG(7)
#define KEY_NO_RESET	FOTA_OPT_LONG(8)
#define KEY_REGION	FOTA_OPT_LONG(9)
#define KEY_BL_SWITCH	FOTA_OPT_LONG(10)
#define KEY_NO_SECURITY FOTA_OPT_LONG(11)
#define KEY_TP		FOTA_OPT_LONG(12)
#define KEY_FUNC_ID	FOTA_OPT_LONG(13)
#define KEY_WAIT_ECU	FOTA_OPT_LONG(14)
#define KEY_NO_BL_SW	FOTA_OPT_LONG(15)
#define KEY_IDENTIFY	FOTA_OPT_LONG(16)
#define KEY_EXPECT	FOTA_OPT_LONG(17)
#define KEY_NO_IDENTIFY FOTA_OPT_LONG(18)

#define EXPECT_MAX	8
#define KEY_FORMAT	FOTA_OPT_LONG(19)
#define KEY_COMPRESSION FOTA_OPT_LONG(20)

struct flash_args {
	const char *ecu_name, *key_spec, *isotp;
	struct fota_can_id req, rsp, func;
	uint32_t block_len, level, bitrate, wait_ecu;
	bool no_reset, no_security, dry_run, bl_switch, no_bl_switch, has_tp;
	enum cfg_tester_present tp;
	enum img_format format;
	struct cfg_region regions[CFG_REGIONS_MAX];
	size_t nregions;
	uint16_t identify[CFG_IDENTIFY_MAX];
	size_t nidentify;
	bool no_identify;
	bool has_compression;
	enum fota_compress_method compression;
	struct uds_prog_expect expect[EXPECT_MAX];
	size_t nexpect;
};

static int opt_identify(void *args, const char *value, char *msg, size_t size)
{
	struct flash_args *a = args;

	return cmd_parse_dids("--identify", value, a->identify, &a->nidentify, CFG_IDENTIFY_MAX,
			      msg, size);
}

/* DID=VALUE: VALUE as fota info prints it (text, or hex:BYTES). */
static int opt_expect(void *args, const char *value, char *msg, size_t size)
{
	struct flash_args *a = args;
	const char *eq = strchr(value, '=');
	char did[16];
	uint16_t d[1];
	size_t n = 0;

	if (a->nexpect == EXPECT_MAX)
		return fota_opt_error(msg, size, "at most %d --expect", EXPECT_MAX);
	if (!eq || eq == value || (size_t)(eq - value) >= sizeof(did) || !eq[1] ||
	    strlen(eq + 1) > 2 * CFG_FINGERPRINT_MAX + 4)
		return fota_opt_error(msg, size, "invalid --expect '%s' (DID=VALUE)", value);
	memcpy(did, value, (size_t)(eq - value));
	did[eq - value] = '\0';
	if (cmd_parse_dids("--expect", did, d, &n, 1, msg, size))
		return -EINVAL;
	for (size_t i = 0; i < a->nexpect; i++)
		if (a->expect[i].did == d[0])
			return fota_opt_error(msg, size, "--expect %04X given twice", d[0]);
	a->expect[a->nexpect].did = d[0];
	a->expect[a->nexpect].value = eq + 1; /* argv outlives the run */
	a->nexpect++;
	return 0;
}

static int opt_region(void *args, const char *value, char *msg, size_t size)
{
	struct flash_args *a = args;
	const char *colon = strchr(value, ':');
	struct cfg_region *r = &a->regions[a->nregions];
	char start_s[32];
	uint64_t start, len;

	if (a->nregions == CFG_REGIONS_MAX)
		return fota_opt_error(msg, size, "at most %d regions", CFG_REGIONS_MAX);
	if (!colon || (size_t)(colon - value) >= sizeof(start_s))
		goto bad;
	memcpy(start_s, value, (size_t)(colon - value));
	start_s[colon - value] = '\0';
	if (fota_parse_u64(start_s, 0, UINT32_MAX, &start) ||
	    fota_parse_u64(colon + 1, 1, 1ull << 32, &len) || start + len > 1ull << 32)
		goto bad;
	r->start = (uint32_t)start;
	r->size = (uint32_t)(len == 1ull << 32 ? UINT32_MAX : len);
	a->nregions++;
	return 0;
bad:
	return fota_opt_error(msg, size, "invalid region '%s' (START:SIZE)", value);
}

static int opt_level(void *args, const char *value, char *msg, size_t size)
{
	struct flash_args *a = args;

	if (!fota_parse_u32(value, 1, 0x7D, &a->level) && (a->level & 1))
		return 0;
	return fota_opt_error(msg, size, "invalid --level '%s' (odd, 0x01..0x7d)", value);
}

static int opt_format(void *args, const char *value, char *msg, size_t size)
{
	struct flash_args *a = args;

	if (img_format_parse(value, &a->format))
		return fota_opt_error(msg, size,
				      "invalid --format '%s' (expected ihex, srec, bin or auto)",
				      value);
	return 0;
}

static int opt_isotp(void *args, const char *value, char *msg, size_t size)
{
	struct flash_args *a = args;

	if (strcmp(value, "user") && strcmp(value, "kernel"))
		return fota_opt_error(msg, size, "--isotp takes 'user' or 'kernel'");
	a->isotp = value;
	return 0;
}

static int opt_compression(void *args, const char *value, char *msg, size_t size)
{
	struct flash_args *a = args;

	if (fota_compress_method_parse(value, &a->compression))
		return fota_opt_error(msg, size, "--compression takes lz4, deflate or none");
	a->has_compression = true;
	return 0;
}

static int opt_tp(void *args, const char *value, char *msg, size_t size)
{
	struct flash_args *a = args;

	if (cfg_tester_present_parse(value, &a->tp))
		return fota_opt_error(msg, size,
				      "invalid --tester-present '%s' (functional, physical, "
				      "idle or off)",
				      value);
	a->has_tp = true;
	return 0;
}

#define ARG(field) offsetof(struct flash_args, field)

static const struct fota_opt flash_opts[] = {
	FOTA_OPT_BUS,
	FOTA_OPT_CONFIG,
	FOTA_OPT_STRING('e', "ecu", "NAME", "the ECU of the configuration to program", FOTA_OPT_ECU,
			ARG(ecu_name)),
	FOTA_OPT_CAN_ID(KEY_REQ_ID, "request-id",
			"CAN id of requests to the ECU (0x7E0, 29-bit accepted)", ARG(req)),
	FOTA_OPT_CAN_ID(KEY_RSP_ID, "response-id", "CAN id of the ECU's responses (0x7E8)",
			ARG(rsp)),
	FOTA_OPT_FN(KEY_REGION, "region", "START:SIZE",
		    "ECU memory region, repeatable (default 0x08000000:0x100000 without -e)",
		    FOTA_OPT_NUMBER, opt_region),
	FOTA_OPT_STRING(KEY_KEY, "key", "SPEC",
			"seed/key algorithm: xor:HEX, cmd:PATH or lib:PATH[:SYMBOL]", 0,
			ARG(key_spec)),
	FOTA_OPT_FN(KEY_LEVEL, "level", "N", "SecurityAccess requestSeed level, odd (default 0x01)",
		    FOTA_OPT_NUMBER, opt_level),
	FOTA_OPT_FLAG(KEY_NO_SECURITY, "no-security", "skip SecurityAccess", ARG(no_security)),
	FOTA_OPT_U32(KEY_BLOCK_LEN, "block-length", "N",
		     "cap on the ECU's maxNumberOfBlockLength (TransferData bytes incl. SID and "
		     "counter)",
		     ARG(block_len), 3, UINT32_MAX, NULL),
	FOTA_OPT_FLAG(KEY_NO_RESET, "no-reset", "leave out the final ECUReset", ARG(no_reset)),
	FOTA_OPT_FLAG(KEY_BL_SWITCH, "bootloader-switch",
		      "send the ECU's bootloader switch frame first (default when configured)",
		      ARG(bl_switch)),
	FOTA_OPT_FLAG(KEY_NO_BL_SW, "no-bootloader-switch",
		      "do not send the configured bootloader switch frame (ECU already in it)",
		      ARG(no_bl_switch)),
	FOTA_OPT_U32(KEY_WAIT_ECU, "wait-ecu", "SECONDS",
		     "repeat the first request until the ECU answers, at most this long",
		     ARG(wait_ecu), 0, 3600, "s"),
	FOTA_OPT_FN(KEY_IDENTIFY, "identify", "LIST",
		    "DIDs read before programming and after the reset, hex, comma-separated "
		    "(default: the ECU's identify)",
		    0, opt_identify),
	FOTA_OPT_FLAG(KEY_NO_IDENTIFY, "no-identify", "read no identification DIDs",
		      ARG(no_identify)),
	FOTA_OPT_FN(KEY_EXPECT, "expect", "DID=VALUE",
		    "fail unless the ECU reports VALUE for DID after the reset, repeatable", 0,
		    opt_expect),
	FOTA_OPT_FN(KEY_TP, "tester-present", "functional|physical|idle|off",
		    "keep the session open: 3E 80 every period on the functional id (default), "
		    "on the physical id between requests, only when idle, or never",
		    0, opt_tp),
	FOTA_OPT_CAN_ID(KEY_FUNC_ID, "functional-id",
			"CAN id of functional requests (default 0x7DF, 29-bit 0x18DB33F1)",
			ARG(func)),
	FOTA_OPT_U32(FOTA_KEY_BITRATE, "bitrate", "N",
		     "set the interface bitrate first (SocketCAN)", ARG(bitrate), 1, 10000000,
		     "bit/s"),
	FOTA_OPT_FN(KEY_ISOTP, "isotp", "user|kernel",
		    "ISO-TP in fota (user, default) or the kernel's CAN_ISOTP socket", 0,
		    opt_isotp),
	FOTA_OPT_FN(KEY_COMPRESSION, "compression", "lz4|deflate|none",
		    "compress the data of each RequestDownload (default: the ECU's "
		    "compression, else none)",
		    0, opt_compression),
	FOTA_OPT_FN(KEY_FORMAT, "format", "auto|ihex|srec|bin",
		    "read the image as this format (default: detected by content; a binary "
		    "needs FILE@ADDR)",
		    0, opt_format),
	FOTA_OPT_FLAG(KEY_DRY_RUN, "dry-run", "print the plan and exit without opening the bus",
		      ARG(dry_run)),
	FOTA_OPT_JSON,
	FOTA_OPT_TRACE,
	FOTA_OPT_VERBOSE,
	FOTA_OPT_QUIET,
	FOTA_OPT_END,
};

struct flash {
	struct cmd_ctx ctx;
	const char *hex_path;
	char label[CFG_NAME_MAX + 16]; /* "ecu 'hydraulics'" or "ecu 0x7E0" */
	struct uds_job *job;
	const struct cfg_ecu *ecu;
	bool tty_bar, bar_shown;
	fota_us t_start, t_last_progress;
	uint64_t total;
};

/* ---- output: text, progress bar, JSON events ---- */

static void json_emit(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(o);
}

/*
 * A JSON number written with DECIMALS digits after the point: json-c
 * otherwise prints a double with 17 significant digits
 * ("time": 0.00031100000000000002 for 311 us).
 */
static json_object *json_rounded(double v, int decimals)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(strtod(buf, NULL), buf);
}

/* "time": seconds since the start, to the microsecond the clock counts in. */
static json_object *json_event(const char *name, const struct flash *fl, fota_us now)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(name));
	json_object_object_add(o, "time", json_rounded((double)(now - fl->t_start) / 1e6, 6));
	return o;
}

static void bar_clear(struct flash *fl)
{
	if (fl->bar_shown)
		fputs("\r\033[K", stderr);
	fl->bar_shown = false;
}

static void bar_draw(struct flash *fl, uint64_t done, uint64_t total, fota_us now)
{
	double secs = (double)(now - fl->t_start) / 1e6;
	double rate = secs > 0 ? (double)done / secs : 0;
	unsigned pct = total ? (unsigned)(done * 100 / total) : 100;
	char bar[31];
	unsigned fill = pct * 30 / 100;
	long eta = rate > 0 ? (long)((double)(total - done) / rate + 0.5) : -1;

	memset(bar, '#', fill);
	memset(bar + fill, '.', 30 - fill);
	bar[30] = '\0';
	if (eta >= 0)
		fprintf(stderr,
			"\r[%s] %3u%% %" PRIu64 "/%" PRIu64 " B %.1f KiB/s ETA %ld:%02ld\033[K",
			bar, pct, done, total, rate / 1024, eta / 60, eta % 60);
	else
		fprintf(stderr, "\r[%s] %3u%% %" PRIu64 "/%" PRIu64 " B\033[K", bar, pct, done,
			total);
	fl->bar_shown = true;
}

static void on_prog_event(struct flash *fl, const struct uds_prog_event *ev)
{
	const char *step = uds_prog_step_str(ev->step);
	json_object *o;

	switch (ev->type) {
	case UDS_PROG_EV_STEP_START:
	case UDS_PROG_EV_STEP_DONE:
		if (fl->ctx.json) {
			o = json_event("step", fl, ev->now);
			json_object_object_add(o, "step", json_object_new_string(step));
			json_object_object_add(
				o, "state",
				json_object_new_string(ev->type == UDS_PROG_EV_STEP_START ?
							       "started" :
							       "finished"));
			if (ev->segment >= 0)
				json_object_object_add(o, "segment",
						       json_object_new_int(ev->segment));
			if (ev->len) {
				json_object_object_add(o, "address",
						       json_object_new_int64(ev->addr));
				json_object_object_add(o, "length", json_object_new_int64(ev->len));
			}
			if (ev->type == UDS_PROG_EV_STEP_DONE) {
				json_object_object_add(o, "ok", json_object_new_boolean(!ev->err));
				if (ev->nrc)
					json_object_object_add(o, "nrc",
							       json_object_new_int(ev->nrc));
				if (ev->pending)
					json_object_object_add(
						o, "pending",
						json_object_new_int((int)ev->pending));
			}
			json_emit(o);
		} else if (ev->type == UDS_PROG_EV_STEP_START &&
			   fota_log_level() >= FOTA_LOG_STEP) {
			/* -v: each service once (a segment's TransferData as a whole); -vv: each block */
			bar_clear(fl);
			if (ev->len)
				fota_step("%s: %s 0x%08" PRIx32 " (%" PRIu32 " bytes)", fl->label,
					  step, ev->addr, ev->len);
			else if (ev->step == UDS_PROG_STEP_TRANSFER_DATA)
				fota_debug("%s: %s", fl->label, step);
			else
				fota_step("%s: %s", fl->label, step);
		}
		break;
	case UDS_PROG_EV_PROGRESS: {
		fota_us now = fota_now();
		bool last = ev->done == ev->total;

		if (!last && now - fl->t_last_progress < FOTA_MS(200))
			break;
		fl->t_last_progress = now;
		if (fl->ctx.json) {
			double secs = (double)(now - fl->t_start) / 1e6;

			o = json_event("progress", fl, now);
			json_object_object_add(o, "done", json_object_new_int64((int64_t)ev->done));
			json_object_object_add(o, "total",
					       json_object_new_int64((int64_t)ev->total));
			json_object_object_add(
				o, "rate", json_rounded(secs > 0 ? (double)ev->done / secs : 0, 1));
			json_emit(o);
		} else if (fl->tty_bar) {
			bar_draw(fl, ev->done, ev->total, now);
		}
		break;
	}
	case UDS_PROG_EV_RETRY:
		if (fl->ctx.json) {
			o = json_event("retry", fl, ev->now);
			json_object_object_add(o, "step", json_object_new_string(step));
			json_object_object_add(o, "bsc", json_object_new_int(ev->bsc));
			json_object_object_add(o, "attempt", json_object_new_int((int)ev->attempt));
			json_emit(o);
		} else {
			bar_clear(fl);
			fota_warn("%s: no answer to TransferData block 0x%02x, sending it again",
				  fl->label, ev->bsc);
		}
		break;
	case UDS_PROG_EV_PENDING:
		break;
	}
}

static void on_job_event(void *ctx, const struct uds_job_event *ev)
{
	struct flash *fl = ctx;

	if (ev->type == UDS_JOB_EV_PROG) {
		on_prog_event(fl, ev->prog);
		return;
	}
	if (fl->ctx.json)
		json_emit(json_event("bootloader_switch", fl, ev->now));
	else
		fota_step("%s: bootloader switch frame sent", fl->label);
}

/* ---- the plan (--dry-run) ---- */

/* The length of a segment's compressed stream, as the download will send it; 0 on failure. */
static uint64_t stream_length(const struct cfg_ecu *ecu, const struct uds_segment *sg)
{
	struct fota_compress_enc *e =
		fota_compress_enc_new(ecu->compression.method, ecu->compression.level);
	static uint8_t buf[65536];
	uint64_t n = 0;
	long r;

	if (!e || fota_compress_enc_start(e, sg->data, sg->len)) {
		fota_compress_enc_free(e);
		return 0;
	}
	while ((r = fota_compress_enc_read(e, buf, sizeof(buf))) > 0)
		n += (uint64_t)r;
	fota_compress_enc_free(e);
	return r < 0 ? 0 : n;
}

/* Bytes a segment puts into TransferData blocks: the image's, or its compressed stream's. */
static uint64_t sent_length(const struct cfg_ecu *ecu, const struct uds_segment *sg)
{
	return ecu->compression.method == COMPRESS_NONE ? sg->len : stream_length(ecu, sg);
}

static void print_plan(const struct flash *fl, const struct cfg_ecu *ecu, bool bl_switch)
{
	const struct uds_prog_cfg *pc = uds_job_prog_cfg(fl->job);
	const struct uds_segment *seg, *er;
	size_t nseg, ner;
	uint32_t blen = pc->max_block_len;
	char bf[128];

	seg = uds_job_segments(fl->job, &nseg);
	er = uds_job_erase_ranges(fl->job, &ner);
	printf("%s: %s, request 0x%" PRIX32 ", response 0x%" PRIX32 "%s\n", fl->hex_path, fl->label,
	       ecu->request_id, ecu->response_id, ecu->extended ? " (29-bit)" : "");
	if (bl_switch && ecu->has_bootloader_switch) {
		bus_frame_format(bf, sizeof(bf), &ecu->bootloader_switch);
		printf("  bootloader switch   %s, then wait %" PRIu32 " ms\n", bf,
		       ecu->bootloader_switch_delay_ms);
	}
	if (pc->extended_session)
		printf("  session             10 03 extendedDiagnosticSession\n"
		       "  dtc setting         85 02 off\n"
		       "  communication       28 %02x %02x\n",
		       pc->comm_control_type, pc->comm_type);
	printf("  session             10 %02x programming\n", pc->programming_session);
	switch (uds_job_tp_mode(ecu)) {
	case UDS_TP_FUNCTIONAL:
		printf("  keep-alive          3E 80 every %" PRIu32 " ms on 0x%" PRIX32
		       " (functional)\n",
		       ecu->timing.tester_present_ms, cfg_ecu_functional_id(ecu));
		break;
	case UDS_TP_PHYSICAL:
		printf("  keep-alive          3E 80 every %" PRIu32
		       " ms between requests (physical)\n",
		       ecu->timing.tester_present_ms);
		break;
	case UDS_TP_IDLE:
		printf("  keep-alive          3E 80 after %" PRIu32
		       " ms without a request (idle)\n",
		       ecu->timing.tester_present_ms);
		break;
	default:
		printf("  keep-alive          none\n");
		break;
	}
	if (pc->security_level)
		printf("  security            27 %02x / 27 %02x, key %s:\n", pc->security_level,
		       pc->security_level + 1, cfg_key_kind_name(ecu->key.kind));
	else
		printf("  security            none\n");
	if (pc->fingerprint_len)
		printf("  fingerprint         2e %04x \"%.*s\"\n", pc->fingerprint_did,
		       (int)pc->fingerprint_len, (const char *)pc->fingerprint);
	for (size_t i = 0; i < ner; i++)
		printf("  erase               31 01 %04x 0x%08" PRIx32 " +0x%" PRIx32 "%s\n",
		       pc->erase_routine, er[i].addr, er[i].len,
		       pc->erase_no_record ? " (no option record)" : "");
	for (size_t i = 0; i < nseg; i++) {
		uint64_t sent = sent_length(ecu, &seg[i]);
		char how[64] = "";

		if (pc->compression != COMPRESS_NONE)
			snprintf(how, sizeof(how), ", %s to %" PRIu64,
				 fota_compress_method_str(pc->compression), sent);
		if (blen >= 3) {
			uint64_t per = blen - 2, nb = (sent + per - 1) / per;

			printf("  download            34 %02x %02x 0x%08" PRIx32 " %" PRIu32
			       " bytes%s: %" PRIu64 " TransferData blocks of <= %" PRIu64
			       " bytes, 37\n",
			       pc->dfi, pc->alfid, seg[i].addr, seg[i].len, how, nb, per);
		} else {
			printf("  download            34 %02x %02x 0x%08" PRIx32 " %" PRIu32
			       " bytes%s: TransferData blocks as the ECU's maxNumberOfBlockLength "
			       "allows, 37\n",
			       pc->dfi, pc->alfid, seg[i].addr, seg[i].len, how);
		}
	}
	if (pc->check)
		printf("  check               31 01 %04x%s\n", pc->check_routine,
		       pc->check_no_crc ? "" : " CRC-32 of the data sent");
	if (pc->check && !pc->check_no_crc) {
		uint32_t crc = 0;

		for (size_t i = 0; i < nseg; i++)
			crc = ihex_crc32(crc, seg[i].data, seg[i].len);
		printf("  crc32               0x%08" PRIx32 "\n", crc);
	}
	if (pc->reset_type)
		printf("  reset               11 %02x\n", pc->reset_type);
	else
		printf("  reset               none\n");
}

/* The plan as one JSON object (--dry-run --json): the same facts as print_plan(). */
static void print_plan_json(const struct flash *fl, const struct cfg_ecu *ecu, bool bl_switch)
{
	static const char *const tp_names[] = {
		[UDS_TP_FUNCTIONAL] = "functional",
		[UDS_TP_PHYSICAL] = "physical",
		[UDS_TP_IDLE] = "idle",
	};
	const struct uds_prog_cfg *pc = uds_job_prog_cfg(fl->job);
	const struct uds_segment *seg, *er;
	enum uds_tp_mode tp = uds_job_tp_mode(ecu);
	json_object *o = json_object_new_object(), *x, *a;
	uint32_t blen = pc->max_block_len;
	size_t nseg, ner;
	char bf[128];

	seg = uds_job_segments(fl->job, &nseg);
	er = uds_job_erase_ranges(fl->job, &ner);
	json_object_object_add(o, "event", json_object_new_string("plan"));
	json_object_object_add(o, "file", json_object_new_string(fl->hex_path));
	json_object_object_add(o, "ecu", json_object_new_string(fl->label));
	json_object_object_add(o, "request_id", json_object_new_int64(ecu->request_id));
	json_object_object_add(o, "response_id", json_object_new_int64(ecu->response_id));
	json_object_object_add(o, "extended_id", json_object_new_boolean(ecu->extended));
	x = NULL;
	if (bl_switch && ecu->has_bootloader_switch) {
		bus_frame_format(bf, sizeof(bf), &ecu->bootloader_switch);
		x = json_object_new_object();
		json_object_object_add(x, "frame", json_object_new_string(bf));
		json_object_object_add(x, "delay_ms",
				       json_object_new_int64(ecu->bootloader_switch_delay_ms));
	}
	json_object_object_add(o, "bootloader_switch", x);
	json_object_object_add(o, "extended_session",
			       json_object_new_boolean(pc->extended_session));
	json_object_object_add(o, "programming_session",
			       json_object_new_int(pc->programming_session));
	x = NULL;
	if (tp < FOTA_ARRAY_SIZE(tp_names) && tp_names[tp]) {
		x = json_object_new_object();
		json_object_object_add(x, "mode", json_object_new_string(tp_names[tp]));
		json_object_object_add(x, "period_ms",
				       json_object_new_int64(ecu->timing.tester_present_ms));
		if (tp == UDS_TP_FUNCTIONAL)
			json_object_object_add(x, "id",
					       json_object_new_int64(cfg_ecu_functional_id(ecu)));
	}
	json_object_object_add(o, "tester_present", x);
	x = NULL;
	if (pc->security_level) {
		x = json_object_new_object();
		json_object_object_add(x, "level", json_object_new_int(pc->security_level));
		json_object_object_add(x, "key",
				       json_object_new_string(cfg_key_kind_name(ecu->key.kind)));
	}
	json_object_object_add(o, "security", x);
	x = NULL;
	if (pc->fingerprint_len) {
		x = json_object_new_object();
		json_object_object_add(x, "did", json_object_new_int(pc->fingerprint_did));
		json_object_object_add(x, "value",
				       json_object_new_string_len((const char *)pc->fingerprint,
								  (int)pc->fingerprint_len));
	}
	json_object_object_add(o, "fingerprint", x);
	a = json_object_new_array();
	for (size_t i = 0; i < ner; i++) {
		x = json_object_new_object();
		json_object_object_add(x, "routine", json_object_new_int(pc->erase_routine));
		json_object_object_add(x, "address", json_object_new_int64(er[i].addr));
		json_object_object_add(x, "length", json_object_new_int64(er[i].len));
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "erase", a);
	a = json_object_new_array();
	for (size_t i = 0; i < nseg; i++) {
		uint64_t per = blen >= 3 ? blen - 2 : 0, sent = sent_length(ecu, &seg[i]);

		x = json_object_new_object();
		json_object_object_add(x, "address", json_object_new_int64(seg[i].addr));
		json_object_object_add(x, "length", json_object_new_int64(seg[i].len));
		json_object_object_add(x, "compressed_length",
				       pc->compression != COMPRESS_NONE ?
					       json_object_new_int64((int64_t)sent) :
					       NULL);
		json_object_object_add(
			x, "blocks",
			per ? json_object_new_int64((int64_t)((sent + per - 1) / per)) : NULL);
		json_object_object_add(x, "block_bytes",
				       per ? json_object_new_int64((int64_t)per) : NULL);
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "download", a);
	x = NULL;
	if (pc->check) {
		uint32_t crc = 0;

		for (size_t i = 0; i < nseg; i++)
			crc = ihex_crc32(crc, seg[i].data, seg[i].len);
		x = json_object_new_object();
		json_object_object_add(x, "routine", json_object_new_int(pc->check_routine));
		json_object_object_add(x, "crc32",
				       pc->check_no_crc ? NULL : json_object_new_int64(crc));
	}
	json_object_object_add(o, "check", x);
	json_object_object_add(o, "reset",
			       pc->reset_type ? json_object_new_int(pc->reset_type) : NULL);
	json_emit(o);
}

/* ---- running ---- */

static int run_loop(struct flash *fl, const struct cfg_ecu *ecu)
{
	static const int sigs[] = { SIGINT, SIGTERM };
	struct loop l;
	uint32_t filt = uds_job_rx_filter(fl->job);
	bool cancelled = false;
	int err;

	err = bus_set_filter(fl->ctx.bus, &filt, 1);
	if (err) {
		fota_error_errno(err, "%s: receive filter", fl->ctx.bus->name);
		return err;
	}
	loop_init(&l, fl->ctx.bus);
	err = loop_add(&l, &uds_job_member_ops, fl->job);
	if (!err)
		err = loop_catch_signals(&l, sigs, FOTA_ARRAY_SIZE(sigs));
	if (err) {
		loop_release(&l);
		fota_error_errno(err, "%s", fl->ctx.bus->name);
		return err;
	}
	fl->t_start = fota_now();
	err = uds_job_start(fl->job, fl->t_start);
	for (;;) {
		if (err)
			break;
		err = loop_run(&l, FOTA_NEVER);
		if (err == -EINTR && !cancelled) {
			/* Stop at the next safe point: no request is cut in half. */
			cancelled = true;
			bar_clear(fl);
			fota_info("%s: cancelling (signal %d)", fl->label, l.signo);
			uds_job_cancel(fl->job);
			err = 0;
			if (!uds_job_running(fl->job))
				break;
			continue;
		}
		break;
	}
	loop_release(&l);
	if (err == -EINTR)
		err = -ECANCELED; /* a second signal: give up at once */
	return err;
}

/* The identification before and after: lines on stdout, or a JSON array. */
static json_object *report_identity(struct flash *fl, const struct cfg_ecu *ecu, bool json)
{
	const struct uds_rdbi *rb = uds_job_identity(fl->job, false);
	const struct uds_rdbi *ra = uds_job_identity(fl->job, true);

	if (json)
		return cmd_identity_json(rb, ra, ecu->identify, ecu->nidentify);
	cmd_identity_print(rb, ra, ecu->identify, ecu->nidentify);
	return NULL;
}

/* Print the outcome (of the job, or `given` for the kernel link); returns the exit status. */
static int report(struct flash *fl, int loop_err, const struct uds_job_result *given)
{
	struct uds_job_result r;
	uint64_t done, total;
	int err, code;

	if (given) {
		r = *given;
		err = r.err;
		loop_err = 0;
	} else {
		err = loop_err ? loop_err : uds_job_result(fl->job, &r);
	}

	bar_clear(fl);
	if (loop_err) {
		memset(&r, 0, sizeof(r));
		cmd_bus_strerror(fl->ctx.bus, loop_err, r.msg, sizeof(r.msg));
		r.err = loop_err;
	}
	if (err == -EINPROGRESS) /* loop ended without a result (cannot happen) */
		err = -EIO;
	code = fota_exit_status(FOTA_FAIL_RUN, err);
	uds_job_progress(fl->job, &done, &total);
	if (given && !err)
		done = total;
	if (fl->ctx.json) {
		json_object *o = json_event("result", fl, fota_now());

		json_object_object_add(o, "ok", json_object_new_boolean(!err));
		json_object_object_add(o, "exit", json_object_new_int(code));
		json_object_object_add(o, "done", json_object_new_int64((int64_t)done));
		json_object_object_add(o, "total", json_object_new_int64((int64_t)total));
		if (fl->ecu->nidentify && !given)
			json_object_object_add(o, "identify", report_identity(fl, fl->ecu, true));
		if (err) {
			json_object_object_add(o, "error", json_object_new_string(r.msg));
			if (!loop_err)
				json_object_object_add(
					o, "step",
					json_object_new_string(uds_prog_step_str(r.prog.step)));
			if (r.prog.nrc) {
				json_object_object_add(o, "nrc", json_object_new_int(r.prog.nrc));
				json_object_object_add(
					o, "nrc_name",
					json_object_new_string(uds_nrc_str(r.prog.nrc)));
			}
		}
		/* last, after the keys scripts already match: every failure object has it */
		json_object_object_add(o, "exit_status", json_object_new_int(code));
		json_emit(o);
		fl->ctx.json_printed = true;
	} else if (fl->ecu->nidentify && !given) {
		report_identity(fl, fl->ecu, false);
	}
	if (err) {
		fota_error("%s: %s", fl->label, r.msg);
	} else {
		/* the summary always, on stderr (-q silences it): stdout may be a pipe */
		double secs = (double)(fota_now() - fl->t_start) / 1e6;

		fota_info("%s: %" PRIu64 " bytes programmed in %.1f s", fl->label, total, secs);
	}
	return code;
}

static int cmp_region(const void *a, const void *b)
{
	const struct cfg_region *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The rules between options, once they are parsed. 0 or a usage error. */
static int check_args(struct flash *fl, const struct flash_args *a, int n, char **argv)
{
	const struct fota_cmd *cmd = &cmd_flash;
	bool has_req = cmd_opt_given(&fl->ctx, KEY_REQ_ID);
	bool has_rsp = cmd_opt_given(&fl->ctx, KEY_RSP_ID);

	if (!n)
		return fota_usage_error(cmd, "no HEX file given");
	fl->hex_path = argv[0];
	if (a->ecu_name && (has_req || has_rsp))
		return fota_usage_error(cmd,
					"--ecu and --request-id/--response-id exclude each other");
	if (!a->ecu_name && !(has_req && has_rsp))
		return fota_usage_error(cmd,
					"give -e NAME, or both --request-id and --response-id");
	if (a->ecu_name && a->nregions)
		return fota_usage_error(cmd, "--region is for --request-id; with -e the "
					     "configuration has the regions");
	if (a->no_security && (a->key_spec || a->level))
		return fota_usage_error(cmd, "--no-security with --key or --level");
	if (a->bl_switch && a->no_bl_switch)
		return fota_usage_error(cmd, "--bootloader-switch with --no-bootloader-switch");
	return 0;
}

/* The ECU as configured, then the command line on top. */
static int build_ecu(struct flash *fl, struct flash_args *a, const struct fota_config *cfg,
		     struct cfg_ecu *ecu)
{
	char why[160];

	if (a->ecu_name) {
		const struct cfg_ecu *e;
		int rc = cmd_find_ecu(cfg, a->ecu_name, &e);

		if (rc)
			return rc;
		*ecu = *e;
		snprintf(fl->label, sizeof(fl->label), "ecu '%s'", e->name);
	} else {
		cfg_ecu_defaults(ecu);
		ecu->request_id = a->req.id;
		ecu->response_id = a->rsp.id;
		ecu->extended = a->req.eff || a->rsp.eff;
		if (a->nregions) {
			qsort(a->regions, a->nregions, sizeof(a->regions[0]), cmp_region);
			for (size_t i = 1; i < a->nregions; i++)
				if ((uint64_t)a->regions[i - 1].start + a->regions[i - 1].size >
				    a->regions[i].start)
					return fota_usage_error(&cmd_flash, "overlapping regions");
			memcpy(ecu->regions, a->regions, a->nregions * sizeof(a->regions[0]));
			ecu->nregions = a->nregions;
		} else {
			ecu->regions[0].start = 0x08000000;
			ecu->regions[0].size = 0x100000;
			ecu->nregions = 1;
		}
		snprintf(ecu->name, sizeof(ecu->name), "0x%" PRIX32, a->req.id);
		snprintf(fl->label, sizeof(fl->label), "ecu 0x%" PRIX32, a->req.id);
	}
	if (a->key_spec) {
		if (cfg_key_parse(a->key_spec, &ecu->key, why, sizeof(why)))
			return fota_usage_error(&cmd_flash, "--key: %s", why);
		ecu->has_security = true;
		if (!ecu->security_level)
			ecu->security_level = 0x01;
	}
	if (a->level) {
		ecu->security_level = (uint8_t)a->level;
		if (!ecu->has_security)
			return fota_usage_error(&cmd_flash, "--level needs --key (or a key in "
							    "the configuration)");
	}
	if (a->no_security)
		ecu->has_security = false;
	if (a->no_reset)
		ecu->sequence.reset = CFG_RESET_NONE;
	if (a->bl_switch && !ecu->has_bootloader_switch)
		return fota_usage_error(
			&cmd_flash, "--bootloader-switch: %s has no bootloader_switch configured",
			fl->label);
	/* A configured switch frame is part of the ECU's programming sequence. */
	a->bl_switch = ecu->has_bootloader_switch && !a->no_bl_switch;
	if (a->has_tp)
		ecu->tester_present = a->tp;
	if (a->has_compression && a->compression != ecu->compression.method) {
		/* Another method than configured: its default dataFormatIdentifier and level. */
		ecu->compression.method = a->compression;
		ecu->compression.dfi = fota_compress_default_dfi(a->compression);
		ecu->compression.level = -1;
	}
	if (ecu->compression.method != COMPRESS_NONE && ecu->sequence.data_format)
		return fota_usage_error(&cmd_flash,
					"--compression: %s has sequence: data_format 0x%02X",
					fl->label, ecu->sequence.data_format);
	if (cmd_opt_given(&fl->ctx, KEY_FUNC_ID)) {
		if (a->func.eff != ecu->extended)
			return fota_usage_error(&cmd_flash, "--functional-id: %s uses %s ids",
						fl->label, ecu->extended ? "29-bit" : "11-bit");
		ecu->functional_id = a->func.id;
		ecu->has_functional_id = true;
	}
	if (a->no_identify && (a->nidentify || a->nexpect))
		return fota_usage_error(&cmd_flash, "--no-identify with --identify or --expect");
	if (a->no_identify)
		ecu->nidentify = 0;
	if (a->nidentify) {
		memcpy(ecu->identify, a->identify, a->nidentify * sizeof(a->identify[0]));
		ecu->nidentify = a->nidentify;
	}
	for (size_t i = 0; i < a->nexpect; i++) {
		size_t k = 0;

		while (k < ecu->nidentify && ecu->identify[k] != a->expect[i].did)
			k++;
		if (k < ecu->nidentify)
			continue;
		if (ecu->nidentify == CFG_IDENTIFY_MAX)
			return fota_usage_error(&cmd_flash, "more than %d identification DIDs",
						CFG_IDENTIFY_MAX);
		ecu->identify[ecu->nidentify++] = a->expect[i].did;
	}
	if (cfg_ecu_functional_id(ecu) == ecu->request_id ||
	    cfg_ecu_functional_id(ecu) == ecu->response_id)
		return fota_usage_error(
			&cmd_flash, "functional id 0x%" PRIX32 " equals the request or response id",
			cfg_ecu_functional_id(ecu));
	return 0;
}

static int run_flash(int argc, char **argv)
{
	struct flash fl;
	struct flash_args a = { 0 };
	struct fota_config cfg;
	struct cfg_ecu ecu;
	struct ihex_image img;
	struct uds_job_result jr;
	struct uds_job_cfg jc = { 0 };
	struct bus_opts bo = { 0 };
	int rc, err;

	memset(&fl, 0, sizeof(fl));
	cmd_ctx_init(&fl.ctx, &cmd_flash);
	rc = check_args(&fl, &a, cmd_parse_options(&fl.ctx, &a, argc, argv), argv);
	if (rc)
		return cmd_json_failure(&fl.ctx, rc);
	rc = cmd_load_config(&fl.ctx, &cfg, a.ecu_name != NULL);
	if (rc)
		return cmd_json_failure(&fl.ctx, rc);
	rc = build_ecu(&fl, &a, &cfg, &ecu);
	if (rc)
		goto out_cfg;

	rc = cmd_load_image(fl.hex_path, a.format, &img, NULL, NULL);
	if (rc)
		goto out_cfg;
	if (!img.nseg) {
		fota_error("%s: no data records", fl.hex_path);
		rc = FOTA_EXIT_DATA;
		goto out_img;
	}
	jc.ecu = &ecu;
	fl.ecu = &ecu;
	jc.img = &img;
	jc.bootloader_switch = a.bl_switch;
	jc.block_length = a.block_len;
	jc.wait_ecu_ms = a.wait_ecu * 1000;
	jc.expect = a.expect;
	jc.nexpect = a.nexpect;
	jc.on_event = on_job_event;
	jc.event_ctx = &fl;
	err = uds_job_new(&fl.job, &jc, &jr);
	if (err) {
		fota_error("%s: %s", fl.hex_path, jr.msg[0] ? jr.msg : strerror(-err));
		/* the image outside the ECU's regions; or settings that cannot work */
		rc = fota_exit_status(err == -ERANGE ? FOTA_FAIL_INPUT : FOTA_FAIL_USAGE, err);
		goto out_img;
	}
	if (a.dry_run) {
		if (fl.ctx.json) {
			print_plan_json(&fl, &ecu, a.bl_switch);
			fl.ctx.json_printed = true;
		} else {
			print_plan(&fl, &ecu, a.bl_switch);
		}
		rc = FOTA_EXIT_OK;
		goto out_job;
	}
	fl.tty_bar = !fl.ctx.json && fl.ctx.verbose >= 0 && isatty(STDERR_FILENO);

	if (a.isotp && !strcmp(a.isotp, "kernel")) {
		const char *spec = fl.ctx.bus_spec ? fl.ctx.bus_spec : cfg.bus;

		if (!spec || !*spec) {
			rc = fota_usage_error(&cmd_flash, "no bus given (-b BUS)");
			goto out_job;
		}
		fl.t_start = fota_now();
		err = cmd_isotp_kernel_run(spec, &ecu, fl.job, &jr);
		if (err && !jr.msg[0]) /* setup failed, already reported */
			rc = fota_exit_status(FOTA_FAIL_BUS, err);
		else
			rc = report(&fl, 0, &jr);
		goto out_job;
	}

	bo.fd = cfg.fd || ecu.isotp.fd;
	if (a.wait_ecu)
		fl.ctx.join = BUS_JOIN_EXISTING; /* the ECU may join later */
	bo.bitrate = a.bitrate ? a.bitrate : cfg.bitrate;
	bo.data_bitrate = cfg.data_bitrate;
	rc = cmd_open_bus(&fl.ctx, &cfg, &bo);
	if (rc)
		goto out_job;
	if (a.bitrate && strchr(fl.ctx.bus->name, ':'))
		fota_warn("--bitrate %" PRIu32 " is ignored: %s is no SocketCAN interface",
			  a.bitrate, fl.ctx.bus->name);
	err = run_loop(&fl, &ecu);
	rc = report(&fl, err, NULL);
out_job:
	uds_job_free(fl.job);
out_img:
	ihex_release(&img);
out_cfg:
	cfg_release(&cfg);
	return cmd_json_failure(&fl.ctx, fota_exit_worst(rc, cmd_ctx_release(&fl.ctx)));
}

const struct fota_cmd cmd_flash = {
	.name = "flash",
	.summary = "program an ECU with a firmware image over UDS (ISO 14229) and ISO-TP",
	.usage = flash_usage,
	.opts = flash_opts,
	.run = run_flash,
	.operand_flags = FOTA_OPT_FILE,
	.max_operands = 1,
};
