// SPDX-License-Identifier: MIT
/*
 * fota ecu: a simulated ECU bootloader on a CAN bus, for benches, demos and
 * the end-to-end tests. Glues one ISO-TP channel (ISO 15765-2, uds/isotp.c)
 * to the UDS server engine (ISO 14229-1, uds/server.c) as one member of the
 * driver loop, keeps the engine's flash in a file, answers the configured
 * "switch to bootloader" frame, and turns command-line fault options into the
 * engine's fault knobs. Documented in man/fota-ecu.1.
 */
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/loop.h"
#include "core/time.h"
#include "uds/ecu.h"
#include "uds/isotp.h"
#include "uds/key.h"
#include "uds/server.h"
#include "uds/uds.h"

static const char *const ecu_usage[] = {
	"fota ecu -b BUS [--request-id ID --response-id ID] [--region START:SIZE]... "
	"[--memory FILE] [--key SPEC] [--block-length N] [fault options]",
	"fota ecu -c FILE -e NAME [-b BUS] [--memory FILE] [fault options]",
	NULL,
};

#define KEY_REQ_ID     FOTA_OPT_LONG(1)
#define KEY_RSP_ID     FOTA_OPT_LONG(2)
#define KEY_REGION     FOTA_OPT_LONG(3)
#define KEY_MEMORY     FOTA_OPT_LONG(4)
#define KEY_KEY	       FOTA_OPT_LONG(5)
#define KEY_BLOCK_LEN  FOTA_OPT_LONG(6)
#define KEY_BL_SWITCH  FOTA_OPT_LONG(7)
#define KEY_LEVEL      FOTA_OPT_LONG(8)
#define KEY_P2	       FOTA_OPT_LONG(9)
#define KEY_P2_STAR    FOTA_OPT_LONG(10)
#define KEY_S3	       FOTA_OPT_LONG(11)
#define KEY_DID	       FOTA_OPT_LONG(12)
#define KEY_READY_FILE FOTA_OPT_LONG(13)
#define KEY_FUNC_ID    FOTA_OPT_LONG(14)
#define KEY_S3_RESTART FOTA_OPT_LONG(15)
#define KEY_FC_BS      FOTA_OPT_LONG(16)
#define KEY_FC_STMIN   FOTA_OPT_LONG(17)
#define KEY_NO_FUNC    FOTA_OPT_LONG(18)
#define KEY_FAIL       FOTA_OPT_LONG(20)
#define KEY_PENDING    FOTA_OPT_LONG(21)
#define KEY_DROP       FOTA_OPT_LONG(22)
#define KEY_DELAY      FOTA_OPT_LONG(23)
#define KEY_WRONG_BSC  FOTA_OPT_LONG(24)
#define KEY_NO_BSC     FOTA_OPT_LONG(25)
#define KEY_RESET_XFER FOTA_OPT_LONG(26)
#define KEY_WRITE_DID  FOTA_OPT_LONG(27)
#define KEY_MAX_DIDS   FOTA_OPT_LONG(28)
#define KEY_COMPRESS   FOTA_OPT_LONG(29)

#define ECU_DEF_REQ_ID	0x7E0u
#define ECU_DEF_RSP_ID	0x7E8u
#define ECU_DEF_START	0x08000000u
#define ECU_DEF_SIZE	0x100000u
#define ECU_DEF_KEY	"xor:A5A5A5A5" /* the bench key of examples/fota.yaml */
#define ECU_DEF_BLOCK	4095u
#define ECU_DID_MAX	32
#define ECU_DID_LEN_MAX 64
#define ECU_LOG_BYTES	12 /* bytes of a PDU shown by -v before "..." */

struct ecu_did {
	uint16_t did;
	uint8_t data[ECU_DID_LEN_MAX];
	size_t len;
	bool writable;
};

/* Everything the command line and the configuration decide. */
struct ecu_args {
	struct cmd_ctx ctx;
	const char *ecu_name;
	const char *memory;
	const char *ready_file;
	const char *key_spec;
	struct fota_can_id req, rsp, func;
	struct uds_region regions[CFG_REGIONS_MAX];
	size_t nregions;
	int level; /* -1: not given */
	uint32_t block_len, p2_ms, p2_star_ms, s3_ms, fc_bs, fc_stmin;
	bool s3_session_only;
	bool has_compression;
	enum fota_compress_method compression;
	bool no_functional; /* fault: functional requests ignored */
	bool has_switch;
	struct bus_frame sw;
	struct ecu_did dids[ECU_DID_MAX];
	size_t ndids;
	uint32_t max_dids;
	struct uds_server_faults faults;
	bool fail_set, pending_set, drop_set;
};

/* The loop member: one ISO-TP channel and the UDS server behind it. */
struct ecu {
	struct isotp *tp;
	struct uds_server *srv;
	const char *memory; /* NULL: memory only in RAM */
	bool has_switch;
	struct bus_frame sw;
	bool verbose;
	struct uds_ecu side; /* the UDS server behind ISO-TP */
	unsigned resets;     /* uds_server_resets() before the request in hand */
	int save_err;	     /* last failed save, reported at exit */
	uint64_t saves;	     /* for -v */
};

/* ---- parsing of option values ---- */

/* The lowest SID whose name is s ("RequestDownload"), or a number 0x00..0xFF. */
static int parse_service(const char *s, uint8_t *sid)
{
	uint32_t v;

	if (!fota_parse_u32(s, 0, 0xFF, &v)) {
		*sid = (uint8_t)v;
		return 0;
	}
	/* Request SIDs sort below their response SIDs (SID + 0x40), so the first wins. */
	for (unsigned i = 0; i <= 0xFF; i++) {
		if (!strcasecmp(uds_sid_str((uint8_t)i), s) &&
		    strcasecmp(s, uds_sid_str(0x00 /* unknown */))) {
			*sid = (uint8_t)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* An NRC by number or standard name ("uploadDownloadNotAccepted"); never 0x00. */
static int parse_nrc(const char *s, uint8_t *nrc)
{
	uint32_t v;

	if (!fota_parse_u32(s, 1, 0xFF, &v)) {
		*nrc = (uint8_t)v;
		return 0;
	}
	for (unsigned i = 1; i <= 0xFF; i++) {
		const char *name = uds_nrc_str((uint8_t)i);

		if (!strcasecmp(name, s) && strcmp(name, "ISOSAEReserved")) {
			*nrc = (uint8_t)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Split "A=B" into a and b (copied into buf). *b NULL if there is no '='. */
static int split(const char *s, int sep, char *buf, size_t cap, char **a, char **b)
{
	char *p;

	if (strlen(s) >= cap)
		return -EINVAL;
	strcpy(buf, s);
	*a = buf;
	p = strchr(buf, sep);
	if (p)
		*p++ = '\0';
	*b = p;
	return 0;
}

/* SERVICE[:N]: *nth 0 when absent. */
static int parse_service_nth(char *s, uint8_t *sid, unsigned *nth)
{
	char *colon = strchr(s, ':');
	uint32_t v = 0;

	if (colon) {
		*colon = '\0';
		if (fota_parse_u32(colon + 1, 1, UINT32_MAX, &v))
			return -EINVAL;
	}
	*nth = v;
	return parse_service(s, sid);
}

static int opt_fail(void *args, const char *arg, char *msg, size_t size)
{
	struct ecu_args *a = args;
	char buf[128], *lhs, *rhs;
	struct uds_server_faults *f = &a->faults;

	if (a->fail_set)
		return fota_opt_error(msg, size, "--fail given twice (one fault of each kind)");
	if (split(arg, '=', buf, sizeof(buf), &lhs, &rhs) || !rhs)
		return fota_opt_error(msg, size, "invalid --fail '%s' (expected SERVICE[:N]=NRC)",
				      arg);
	if (parse_service_nth(lhs, &f->nrc_sid, &f->nrc_nth))
		return fota_opt_error(msg, size,
				      "invalid --fail '%s': unknown service or bad N in '%s'", arg,
				      lhs);
	if (parse_nrc(rhs, &f->nrc) ||
	    f->nrc == UDS_NRC_REQUEST_CORRECTLY_RECEIVED_RESPONSE_PENDING)
		return fota_opt_error(msg, size,
				      "invalid --fail '%s': '%s' is not an NRC (0x01..0xff, "
				      "not 0x78: see --pending)",
				      arg, rhs);
	a->fail_set = true;
	return 0;
}

static int opt_pending(void *args, const char *arg, char *msg, size_t size)
{
	struct ecu_args *a = args;
	char buf[128], *lhs, *rhs;
	struct uds_server_faults *f = &a->faults;
	uint32_t n;

	if (a->pending_set)
		return fota_opt_error(msg, size, "--pending given twice (one fault of each kind)");
	if (split(arg, '=', buf, sizeof(buf), &lhs, &rhs))
		return fota_opt_error(msg, size, "invalid --pending '%s'", arg);
	if (!rhs) {
		rhs = lhs;
		lhs = NULL;
	}
	if (fota_parse_u32(rhs, 1, 1000, &n))
		return fota_opt_error(msg, size, "invalid --pending count '%s' (1..1000)", rhs);
	if (lhs && parse_service_nth(lhs, &f->pending_sid, &f->pending_nth))
		return fota_opt_error(msg, size,
				      "invalid --pending '%s': unknown service or bad N in '%s'",
				      arg, lhs);
	f->pending_count = n;
	a->pending_set = true;
	return 0;
}

static int opt_drop(void *args, const char *arg, char *msg, size_t size)
{
	struct ecu_args *a = args;
	char buf[128], *lhs, *rhs;
	struct uds_server_faults *f = &a->faults;
	uint32_t n;

	if (a->drop_set)
		return fota_opt_error(msg, size, "--drop-response given twice");
	if (split(arg, ':', buf, sizeof(buf), &lhs, &rhs))
		return fota_opt_error(msg, size, "invalid --drop-response '%s'", arg);
	if (!rhs) {
		rhs = lhs;
		lhs = NULL;
	}
	if (fota_parse_u32(rhs, 1, UINT32_MAX, &n) || (lhs && parse_service(lhs, &f->drop_sid)))
		return fota_opt_error(msg, size,
				      "invalid --drop-response '%s' (expected [SERVICE:]N, N >= 1)",
				      arg);
	f->drop_nth = n;
	a->drop_set = true;
	return 0;
}

static int opt_region(void *args, const char *arg, char *msg, size_t size)
{
	struct ecu_args *a = args;
	char buf[64], *lhs, *rhs;
	uint64_t start, len;

	if (a->nregions == CFG_REGIONS_MAX)
		return fota_opt_error(msg, size, "more than %d --region", CFG_REGIONS_MAX);
	if (split(arg, ':', buf, sizeof(buf), &lhs, &rhs) || !rhs ||
	    fota_parse_u64(lhs, 0, UINT32_MAX, &start) ||
	    fota_parse_u64(rhs, 1, (uint64_t)UINT32_MAX + 1 - start, &len) || len > UINT32_MAX)
		return fota_opt_error(msg, size,
				      "invalid region '%s' (expected START:SIZE, SIZE > 0, "
				      "ending at or below 4 GiB)",
				      arg);
	a->regions[a->nregions++] = (struct uds_region){ (uint32_t)start, (uint32_t)len };
	return 0;
}

/* A DID is always hex, as everyone writes them: F190 or 0xF190 (0x0001..0xFFFE). */
static int parse_did(const char *s, uint32_t *did)
{
	char *end;
	unsigned long v;

	if (!strncasecmp(s, "0x", 2))
		s += 2;
	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	v = strtoul(s, &end, 16);
	if (*end || v < 0x0001 || v > 0xFFFE)
		return -EINVAL;
	*did = (uint32_t)v;
	return 0;
}

static int add_did(struct ecu_args *a, const char *opt, const char *arg, bool writable, char *msg,
		   size_t size)
{
	char buf[256], *lhs, *rhs;
	uint32_t did;
	struct ecu_did d = { 0 };
	size_t i;

	if (split(arg, '=', buf, sizeof(buf), &lhs, &rhs) || !rhs || parse_did(lhs, &did))
		return fota_opt_error(msg, size,
				      "invalid %s '%s' (expected ID=VALUE, ID hex 0x0001..0xFFFE)",
				      opt, arg);
	if (did == UDS_DID_ACTIVE_DIAGNOSTIC_SESSION)
		return fota_opt_error(msg, size,
				      "%s 0xF186: the active session is answered "
				      "by the ECU itself",
				      opt);
	d.did = (uint16_t)did;
	d.writable = writable;
	if (!strncmp(rhs, "hex:", 4)) {
		if (fota_parse_hex_bytes(rhs + 4, d.data, sizeof(d.data), &d.len) || !d.len)
			return fota_opt_error(msg, size,
					      "invalid %s '%s': 1..%d hex bytes after hex:", opt,
					      arg, ECU_DID_LEN_MAX);
	} else {
		d.len = strlen(rhs);
		if (!d.len || d.len > ECU_DID_LEN_MAX)
			return fota_opt_error(msg, size, "invalid %s '%s': 1..%d characters", opt,
					      arg, ECU_DID_LEN_MAX);
		memcpy(d.data, rhs, d.len);
	}
	/* A later --did for the same identifier replaces the earlier one (and a default). */
	for (i = 0; i < a->ndids && a->dids[i].did != d.did; i++)
		;
	if (i == ECU_DID_MAX)
		return fota_opt_error(msg, size, "more than %d --did/--write-did", ECU_DID_MAX);
	a->dids[i] = d;
	if (i == a->ndids)
		a->ndids++;
	return 0;
}

static int opt_did(void *args, const char *arg, char *msg, size_t size)
{
	return add_did(args, "--did", arg, false, msg, size);
}

static int opt_write_did(void *args, const char *arg, char *msg, size_t size)
{
	return add_did(args, "--write-did", arg, true, msg, size);
}

/* Defaults for the identification DIDs the usual testers read (ISO 14229-1 Annex C.1). */
static void add_default_did(struct ecu_args *a, uint16_t did, const char *text)
{
	size_t i, n = strlen(text);

	for (i = 0; i < a->ndids; i++)
		if (a->dids[i].did == did)
			return; /* given by --did */
	if (a->ndids == ECU_DID_MAX || !n)
		return;
	if (n > ECU_DID_LEN_MAX)
		n = ECU_DID_LEN_MAX;
	a->dids[a->ndids].did = did;
	memcpy(a->dids[a->ndids].data, text, n);
	a->dids[a->ndids].len = n;
	a->ndids++;
}

static int opt_level(void *args, const char *arg, char *msg, size_t size)
{
	struct ecu_args *a = args;
	uint32_t v;

	if (fota_parse_u32(arg, 0, 0x7D, &v) || (v && !(v & 1)))
		return fota_opt_error(msg, size, "invalid --level '%s' (0, or odd 0x01..0x7d)",
				      arg);
	a->level = (int)v;
	return 0;
}

static int opt_switch(void *args, const char *arg, char *msg, size_t size)
{
	struct ecu_args *a = args;

	if (bus_frame_parse(&a->sw, arg) < 0 || (a->sw.flags & BUS_FRAME_RTR))
		return fota_opt_error(msg, size,
				      "invalid --bootloader-switch '%s' (a frame: ID#DATA, e.g. "
				      "700#0102)",
				      arg);
	a->has_switch = true;
	return 0;
}

/* The fault counters are unsigned in the server, stored as uint32_t here. */
_Static_assert(_Generic((unsigned *)0, uint32_t * : 1, default : 0), "unsigned is uint32_t");

static int opt_compression(void *args, const char *arg, char *msg, size_t size)
{
	struct ecu_args *a = args;

	if (fota_compress_method_parse(arg, &a->compression))
		return fota_opt_error(msg, size, "--compression takes lz4, deflate or none");
	a->has_compression = true;
	return 0;
}

static int opt_s3_restart(void *args, const char *arg, char *msg, size_t size)
{
	struct ecu_args *a = args;

	if (!strcmp(arg, "all") || !strcmp(arg, "session")) {
		a->s3_session_only = !strcmp(arg, "session");
		return 0;
	}
	return fota_opt_error(msg, size, "invalid --s3-restart '%s' (all or session)", arg);
}

#define ARG(field) offsetof(struct ecu_args, field)

static const struct fota_opt ecu_opts[] = {
	FOTA_OPT_BUS,
	FOTA_OPT_CONFIG,
	FOTA_OPT_STRING('e', "ecu", "NAME",
			"take ids, regions, key and timing from this ECU of the config",
			FOTA_OPT_ECU, ARG(ecu_name)),
	FOTA_OPT_TRACE,
	FOTA_OPT_CAN_ID(KEY_REQ_ID, "request-id", "CAN id the ECU listens on (default 0x7E0)",
			ARG(req)),
	FOTA_OPT_CAN_ID(KEY_RSP_ID, "response-id", "CAN id the ECU answers on (default 0x7E8)",
			ARG(rsp)),
	FOTA_OPT_FN(KEY_REGION, "region", "START:SIZE",
		    "programmable memory region; repeat for several (default 0x08000000:0x100000)",
		    FOTA_OPT_NUMBER, opt_region),
	FOTA_OPT_STRING(KEY_MEMORY, "memory", "FILE",
			"keep the flash in FILE (flat binary, created if absent)", FOTA_OPT_FILE,
			ARG(memory)),
	FOTA_OPT_STRING(KEY_KEY, "key", "SPEC",
			"seed/key algorithm: xor:HEX, cmd:PATH or lib:PATH[:SYMBOL]", 0,
			ARG(key_spec)),
	FOTA_OPT_FN(
		KEY_LEVEL, "level", "N",
		"SecurityAccess requestSeed level, odd 0x01..0x7d; 0: no security (default 0x01)",
		FOTA_OPT_NUMBER, opt_level),
	FOTA_OPT_U32(KEY_BLOCK_LEN, "block-length", "N",
		     "maxNumberOfBlockLength reported to RequestDownload (default 4095)",
		     ARG(block_len), 3, ISOTP_RX_MAX_LIMIT, NULL),
	FOTA_OPT_FN(KEY_COMPRESS, "compression", "lz4|deflate|none",
		    "also take compressed downloads of this method (default: the ECU's "
		    "compression, else none)",
		    0, opt_compression),
	FOTA_OPT_U32(KEY_P2, "p2", "MS",
		     "P2server_max reported by DiagnosticSessionControl (default 50)", ARG(p2_ms),
		     1, 0xFFFF, "ms"),
	FOTA_OPT_U32(KEY_P2_STAR, "p2-star", "MS", "P2*server_max reported (default 5000)",
		     ARG(p2_star_ms), 10, 655350, "ms"),
	FOTA_OPT_U32(KEY_S3, "s3", "MS", "S3server session timeout (default 5000)", ARG(s3_ms), 100,
		     3600000, "ms"),
	FOTA_OPT_FN(KEY_S3_RESTART, "s3-restart", "all|session",
		    "what restarts S3: every request (default, ISO 14229-2) or only 0x10 and 0x3E",
		    0, opt_s3_restart),
	FOTA_OPT_CAN_ID(KEY_FUNC_ID, "functional-id",
			"CAN id of functional requests (default 0x7DF, 29-bit 0x18DB33F1)",
			ARG(func)),
	FOTA_OPT_U32(KEY_FC_BS, "fc-block-size", "N",
		     "BlockSize of the ECU's flow control frames (default 0: one FC per PDU)",
		     ARG(fc_bs), 0, 255, NULL),
	FOTA_OPT_U32(KEY_FC_STMIN, "fc-stmin", "MS",
		     "STmin of the ECU's flow control frames, 0..127 (default 0)", ARG(fc_stmin), 0,
		     127, "ms"),
	FOTA_OPT_FN(KEY_BL_SWITCH, "bootloader-switch", "ID#DATA",
		    "start in the application; this frame switches to the bootloader", 0,
		    opt_switch),
	FOTA_OPT_FN(KEY_DID, "did", "ID=VALUE",
		    "data identifier ID (hex, e.g. F190) answered with VALUE (text, or hex:BYTES)",
		    0, opt_did),
	FOTA_OPT_FN(
		KEY_WRITE_DID, "write-did", "ID=VALUE",
		"like --did, and WriteDataByIdentifier takes as many bytes for it when unlocked "
		"in the programming session",
		0, opt_write_did),
	FOTA_OPT_U32(KEY_MAX_DIDS, "max-dids", "N",
		     "DIDs per ReadDataByIdentifier request, more get NRC 0x13 (default: any)",
		     ARG(max_dids), 1, 255, NULL),
	FOTA_OPT_STRING(KEY_READY_FILE, "ready-file", "FILE", "create FILE once the ECU listens",
			FOTA_OPT_FILE, ARG(ready_file)),
	FOTA_OPT_FN(KEY_FAIL, "fail", "SERVICE[:N]=NRC",
		    "fault: answer SERVICE (its N-th request only) with a negative response", 0,
		    opt_fail),
	FOTA_OPT_FN(KEY_PENDING, "pending", "[SERVICE[:N]=]COUNT",
		    "fault: COUNT responsePending (0x78) before each answer (or SERVICE's)", 0,
		    opt_pending),
	FOTA_OPT_FN(KEY_DROP, "drop-response", "[SERVICE:]N",
		    "fault: never send the N-th response (to SERVICE)", 0, opt_drop),
	FOTA_OPT_U32(KEY_DELAY, "delay", "MS", "fault: send every response MS milliseconds late",
		     ARG(faults.delay_ms), 0, 600000, "ms"),
	FOTA_OPT_U32(KEY_WRONG_BSC, "wrong-counter", "N",
		     "fault: lose the block counter after the N-th TransferData (then NRC 0x73)",
		     ARG(faults.bsc_skip_nth), 1, UINT32_MAX, NULL),
	FOTA_OPT_FLAG(KEY_NO_BSC, "no-counter-check",
		      "fault: accept any block counter, writing a repeated block again",
		      ARG(faults.accept_wrong_bsc)),
	FOTA_OPT_U32(KEY_RESET_XFER, "reset-during-transfer", "N",
		     "fault: reset without answering on the N-th TransferData",
		     ARG(faults.reset_nth_transfer), 1, UINT32_MAX, NULL),
	FOTA_OPT_FLAG(KEY_NO_FUNC, "no-functional",
		      "fault: ignore functional requests, answer only on the request id",
		      ARG(no_functional)),
	FOTA_OPT_VERBOSE,
	FOTA_OPT_QUIET,
	FOTA_OPT_END,
};

/* ---- configuration (-c/-e) ---- */

/*
 * Take the ECU's ids, regions, security and switch frame from the
 * configuration, where the command line did not already say. Returns an exit
 * status; fills the ISO-TP parameters.
 */
static int apply_config(struct ecu_args *a, struct fota_config *cfg, struct cfg_ecu *ecu,
			bool *have_cfg)
{
	const struct cfg_ecu *e;
	int rc;

	cfg_ecu_defaults(ecu);
	/* -e needs a configuration; without it one is read (if any) for its bus only. */
	rc = cmd_load_config(&a->ctx, cfg, a->ecu_name != NULL);
	if (rc)
		return rc;
	*have_cfg = true;
	if (!a->ecu_name)
		return FOTA_EXIT_OK;
	rc = cmd_find_ecu(cfg, a->ecu_name, &e);
	if (rc)
		return rc;
	*ecu = *e;
	if (!cmd_opt_given(&a->ctx, KEY_REQ_ID))
		a->req = (struct fota_can_id){ e->request_id, e->extended };
	if (!cmd_opt_given(&a->ctx, KEY_RSP_ID))
		a->rsp = (struct fota_can_id){ e->response_id, e->extended };
	if (!a->nregions) {
		for (size_t i = 0; i < e->nregions; i++)
			a->regions[i] =
				(struct uds_region){ e->regions[i].start, e->regions[i].size };
		a->nregions = e->nregions;
	}
	if (a->level < 0)
		a->level = e->has_security ? e->security_level : 0;
	if (!a->key_spec && e->has_security)
		a->key_spec = e->key_spec;
	if (!a->has_switch && e->has_bootloader_switch) {
		a->has_switch = true;
		a->sw = e->bootloader_switch;
	}
	if (!a->p2_ms)
		a->p2_ms = e->timing.p2_ms;
	if (!a->p2_star_ms)
		a->p2_star_ms = e->timing.p2_star_ms;
	if (!a->s3_ms)
		a->s3_ms = e->timing.s3_ms;
	if (e->model[0])
		add_default_did(a, UDS_DID_SYSTEM_NAME, e->model);
	if (e->brand[0])
		add_default_did(a, UDS_DID_SYSTEM_SUPPLIER_ID, e->brand);
	return FOTA_EXIT_OK;
}

/* ---- the loop member ---- */

/* "10 02", or "36 01 ... (4095 bytes)"; SecurityAccess seeds and keys are never shown. */
static void log_pdu(const char *what, const uint8_t *pdu, size_t len)
{
	char hex[3 * ECU_LOG_BYTES + 1] = "", tail[96] = "";
	size_t show = len < ECU_LOG_BYTES ? len : ECU_LOG_BYTES;
	uint8_t sid = pdu[0];
	bool security = sid == UDS_SID_SECURITY_ACCESS ||
			sid == UDS_SID_SECURITY_ACCESS + UDS_POSITIVE_RESPONSE_OFFSET;

	if (security && len > 2) {
		show = 2;
		snprintf(tail, sizeof(tail), " (%s, %zu bytes hidden)",
			 (pdu[1] & 0x7F) % 2 ? "seed" : "key", len - 2);
	} else if (show < len) {
		snprintf(tail, sizeof(tail), " ... (%zu bytes)", len);
	}
	for (size_t i = 0, n = 0; i < show; i++)
		n += (size_t)snprintf(hex + n, sizeof(hex) - n, i ? " %02X" : "%02X", pdu[i]);
	if (sid == UDS_SID_NEGATIVE_RESPONSE && len >= 3)
		fota_info("%s %s%s: %s: %s", what, hex, tail, uds_sid_str(pdu[1]),
			  uds_nrc_str(pdu[2]));
	else
		fota_info("%s %s%s: %s", what, hex, tail, uds_sid_str(sid));
}

static void ecu_save(struct ecu *e, bool always)
{
	int r;

	if (!uds_server_take_dirty(e->srv) && !always)
		return;
	if (!e->memory)
		return;
	r = uds_server_save(e->srv, e->memory);
	if (r) {
		fota_error_errno(r, "%s: cannot save the flash", e->memory);
		e->save_err = r;
		return;
	}
	e->saves++;
	if (e->verbose)
		fota_info("flash saved to %s", e->memory);
}

/* The switch frame: its id (and kind), and its data as the first bytes (padding allowed). */
static bool is_switch(const struct ecu *e, const struct bus_frame *f)
{
	return e->has_switch && f->id == e->sw.id &&
	       (f->flags & BUS_FRAME_EFF) == (e->sw.flags & BUS_FRAME_EFF) &&
	       !(f->flags & BUS_FRAME_RTR) && f->len >= e->sw.len &&
	       !memcmp(f->data, e->sw.data, e->sw.len);
}

/* ---- hooks of the ECU side (uds/ecu.h): logs and persistence ---- */

static void hook_rx_dropped(void *ctx, int r)
{
	struct ecu *e = ctx;

	if (e->verbose)
		fota_info("ISO-TP reception dropped: %s",
			  r == -ETIMEDOUT ? "N_Cr timeout" :
			  r == -EPROTO	  ? "wrong sequence number or new frame" :
			  r == -EMSGSIZE  ? "request too long (overflow)" :
					    "out of memory");
}

static void hook_request(void *ctx, const uint8_t *pdu, size_t len, fota_us now)
{
	struct ecu *e = ctx;

	e->resets = uds_server_resets(e->srv);
	if (e->verbose)
		log_pdu("request", pdu, len);
}

static void hook_handled(void *ctx, fota_us now)
{
	struct ecu *e = ctx;

	if (uds_server_resets(e->srv) != e->resets && e->verbose)
		fota_info("ECU reset (%s)", uds_server_in_bootloader(e->srv) ?
						    "in the bootloader" :
						    "application started");
	/* Persist before the answer goes out: an acknowledged write is on disk. */
	ecu_save(e, false);
}

static void hook_response(void *ctx, const uint8_t *pdu, size_t len)
{
	struct ecu *e = ctx;

	if (e->verbose)
		log_pdu("response", pdu, len);
}

static void hook_send_refused(void *ctx, int r, size_t len)
{
	fota_error_errno(r, "response of %zu bytes not sent", len);
}

static void hook_tx_failed(void *ctx, int r, size_t len)
{
	struct ecu *e = ctx;

	if (e->verbose)
		fota_info("response not delivered: %s", r == -ETIMEDOUT ?
								"no flow control (N_Bs timeout)" :
							r == -EMSGSIZE ? "tester overflow" :
									 "bad flow control");
}

/* ---- the loop member: the switch frame, then the ECU side ---- */

static void ecu_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct ecu *e = ctx;

	if (is_switch(e, f)) {
		/* The ECU restarts into its bootloader: anything in flight is lost. */
		uds_ecu_reset(&e->side);
		uds_server_enter_bootloader(e->srv, now);
		fota_info("bootloader switch frame received: in the bootloader");
		return;
	}
	uds_ecu_member_ops.input(&e->side, f, now);
}

static void ecu_tick(void *ctx, fota_us now)
{
	struct ecu *e = ctx;
	uint8_t session = uds_server_session(e->srv);

	uds_ecu_member_ops.tick(&e->side, now);
	if (e->verbose && session != uds_server_session(e->srv))
		fota_info("S3 timeout: back to the default session");
}

static int ecu_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct ecu *e = ctx;

	return uds_ecu_member_ops.output(&e->side, f, now);
}

static fota_us ecu_deadline(void *ctx)
{
	struct ecu *e = ctx;

	return uds_ecu_member_ops.deadline(&e->side);
}

static const struct loop_member_ops ecu_member_ops = {
	.input = ecu_input,
	.tick = ecu_tick,
	.output = ecu_output,
	.deadline = ecu_deadline,
};

static int key_adapter(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		       size_t cap, size_t *klen)
{
	return uds_key_compute(ctx, level, seed, n, key, cap, klen);
}

/* ---- setup ---- */

static int check_regions(const struct ecu_args *a)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (size_t i = 0; i < a->nregions; i++) {
		const struct uds_region *r = &a->regions[i];

		for (size_t j = 0; j < i; j++) {
			const struct uds_region *o = &a->regions[j];

			if ((uint64_t)r->start < (uint64_t)o->start + o->size &&
			    (uint64_t)o->start < (uint64_t)r->start + r->size)
				return fota_usage_error(&cmd_ecu,
							"regions 0x%08" PRIX32 ":0x%" PRIX32
							" and 0x%08" PRIX32 ":0x%" PRIX32
							" overlap",
							o->start, o->size, r->start, r->size);
		}
		if (r->start < lo)
			lo = r->start;
		if ((uint64_t)r->start + r->size > hi)
			hi = (uint64_t)r->start + r->size;
	}
	if (hi - lo > (1u << 30))
		return fota_usage_error(&cmd_ecu,
					"regions span %" PRIu64 " bytes, above the 1 GiB the "
					"memory model holds",
					hi - lo);
	return 0;
}

/* Load --memory, or create it erased. An exit status. */
static int open_memory(struct ecu *e)
{
	uint32_t base;
	size_t span;
	struct stat st;
	int r;

	if (!e->memory)
		return FOTA_EXIT_OK;
	uds_server_memory(e->srv, &base, &span);
	r = uds_server_load(e->srv, e->memory);
	if (r == -ENOENT) {
		r = uds_server_save(e->srv, e->memory);
		if (r) {
			fota_error_errno(r, "%s: cannot create the flash file", e->memory);
			return fota_exit_status(FOTA_FAIL_OUTPUT, r);
		}
		fota_info("%s: created, %zu bytes erased (0xFF)", e->memory, span);
		return FOTA_EXIT_OK;
	}
	if (r == -EBADMSG) {
		if (stat(e->memory, &st) == 0 && !S_ISREG(st.st_mode))
			fota_error("%s: not a regular file", e->memory);
		else
			fota_error("%s: %lld bytes, but the regions span %zu bytes "
				   "(0x%08" PRIX32 "-0x%08" PRIX32 ")",
				   e->memory, (long long)st.st_size, span, base,
				   (uint32_t)(base + span - 1));
		return fota_exit_status(FOTA_FAIL_INPUT, r);
	}
	if (r) {
		fota_error_errno(r, "%s", e->memory);
		return fota_exit_status(FOTA_FAIL_INPUT, r);
	}
	return FOTA_EXIT_OK;
}

static void fmt_id(char *buf, size_t cap, uint32_t id, bool eff)
{
	snprintf(buf, cap, eff ? "0x%08" PRIX32 : "0x%03" PRIX32, id);
}

static int touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int run_ecu(int argc, char **argv)
{
	static struct ecu_args a; /* large: keep it off the stack */
	struct fota_config cfg;
	struct cfg_ecu ce;
	struct cfg_key key = { 0 };
	struct uds_server_cfg sc = { 0 };
	struct isotp_cfg ic = { 0 };
	struct bus_opts bo = { 0 };
	struct uds_did dids[ECU_DID_MAX];
	struct ecu e = { 0 };
	struct bus *bus = NULL;
	struct loop l;
	bool have_cfg = false, loop_ok = false;
	uint32_t filter[3];
	size_t nfilter;
	char err[256], req[16], rsp[16], func[16];
	static const int sigs[] = { SIGTERM, SIGINT };
	int r, rc = FOTA_EXIT_OK;

	memset(&a, 0, sizeof(a));
	cmd_ctx_init(&a.ctx, &cmd_ecu);
	a.ctx.join = BUS_JOIN_MAKE; /* a long-running member: it makes unix:DIR */
	a.level = -1;
	cmd_parse_options(&a.ctx, &a, argc, argv);
	rc = apply_config(&a, &cfg, &ce, &have_cfg);
	if (rc)
		goto out;
	rc = FOTA_EXIT_USAGE;
	if (!cmd_opt_given(&a.ctx, KEY_REQ_ID) && !a.ecu_name)
		a.req.id = ECU_DEF_REQ_ID;
	if (!cmd_opt_given(&a.ctx, KEY_RSP_ID) && !a.ecu_name)
		a.rsp.id = ECU_DEF_RSP_ID;
	if (bus_filter_norm(a.req.id | (a.req.eff ? BUS_FILTER_EFF : 0)) ==
	    bus_filter_norm(a.rsp.id | (a.rsp.eff ? BUS_FILTER_EFF : 0))) {
		fota_usage_error(&cmd_ecu, "request and response ids are the same");
		goto out;
	}
	if (a.req.eff != a.rsp.eff) {
		fota_usage_error(&cmd_ecu, "request and response ids must both be 11-bit or "
					   "both 29-bit");
		goto out;
	}
	if (!cmd_opt_given(&a.ctx, KEY_FUNC_ID)) {
		ce.extended = a.req.eff;
		a.func = (struct fota_can_id){ cfg_ecu_functional_id(&ce), a.req.eff };
	} else if (a.func.eff != a.req.eff) {
		fota_usage_error(&cmd_ecu, "--functional-id must be %s like the request id",
				 a.req.eff ? "29-bit" : "11-bit");
		goto out;
	}
	if ((a.func.id == a.req.id || a.func.id == a.rsp.id) && a.func.eff == a.req.eff) {
		fota_usage_error(&cmd_ecu, "the functional id equals the request or response id");
		goto out;
	}
	if (!a.nregions)
		a.regions[a.nregions++] = (struct uds_region){ ECU_DEF_START, ECU_DEF_SIZE };
	if (check_regions(&a))
		goto out;
	if (a.level < 0)
		a.level = 0x01;
	if (!a.key_spec)
		a.key_spec = ECU_DEF_KEY;
	if (a.level && cfg_key_parse(a.key_spec, &key, err, sizeof(err))) {
		/* err never quotes the mask */
		fota_usage_error(&cmd_ecu, "invalid --key: %s", err);
		goto out;
	}
	add_default_did(&a, UDS_DID_SPARE_PART_NUMBER, "FOTA-SIM-0001");
	add_default_did(&a, UDS_DID_ECU_SERIAL_NUMBER, "SN000000000001");
	add_default_did(&a, UDS_DID_VIN, "WFOTA000000000001");
	add_default_did(&a, UDS_DID_SYSTEM_SUPPLIER_SW_VERSION, FOTA_VERSION);
	for (size_t i = 0; i < a.ndids; i++)
		dids[i] = (struct uds_did){ a.dids[i].did, a.dids[i].data, a.dids[i].len,
					    a.dids[i].writable };

	sc.regions = a.regions;
	sc.nregions = a.nregions;
	sc.max_block_len = a.block_len ? a.block_len : ECU_DEF_BLOCK;
	sc.p2_ms = a.p2_ms;
	sc.p2_star_ms = a.p2_star_ms;
	sc.s3_ms = a.s3_ms;
	sc.s3_session_only = a.s3_session_only;
	sc.security_level = (uint8_t)a.level;
	sc.compute_key = a.level ? key_adapter : NULL;
	sc.key_ctx = &key;
	sc.seed_of_seeds = (uint64_t)fota_now() ^ ((uint64_t)getpid() << 32);
	/* The configured method with its dataFormatIdentifier; another one from the command line with its default. */
	sc.compression = a.has_compression ? a.compression : ce.compression.method;
	sc.compression_dfi = sc.compression == ce.compression.method ?
				     ce.compression.dfi :
				     fota_compress_default_dfi(sc.compression);
	sc.erase_routine = ce.sequence.erase_routine;
	sc.check_routine = ce.sequence.check_routine;
	sc.require_bootloader = a.has_switch;
	sc.dids = dids;
	sc.ndids = a.ndids;
	sc.max_dids = a.max_dids;
	sc.faults = a.faults;
	r = uds_server_new(&e.srv, &sc);
	if (r) {
		fota_error_errno(r, "cannot set up the UDS server");
		rc = fota_exit_status(FOTA_FAIL_USAGE, r); /* settings that cannot work */
		goto out;
	}

	ic.tx_id = a.rsp.id;
	ic.rx_id = a.req.id;
	ic.id_flags = a.req.eff ? BUS_FRAME_EFF : 0;
	ic.fd = ce.isotp.fd;
	ic.tx_dl = ce.isotp.tx_dl;
	ic.pad = ce.isotp.padding;
	ic.bs = cmd_opt_given(&a.ctx, KEY_FC_BS) ? (uint8_t)a.fc_bs : ce.isotp.block_size;
	ic.stmin = cmd_opt_given(&a.ctx, KEY_FC_STMIN) ? (uint8_t)a.fc_stmin : ce.isotp.stmin;
	ic.n_bs_ms = ce.timing.n_bs_ms;
	ic.n_cr_ms = ce.timing.n_cr_ms;
	/* TransferData carries a whole block plus SID and counter in one PDU. */
	ic.rx_max = sc.max_block_len > 4095 ? sc.max_block_len : 4095;
	e.tp = isotp_new(&ic);
	if (!e.tp) {
		r = -errno;
		fota_error_errno(r, "cannot set up ISO-TP");
		rc = fota_exit_status(FOTA_FAIL_USAGE, r);
		goto out;
	}
	e.memory = a.memory;
	e.verbose = a.ctx.verbose > 0;
	e.has_switch = a.has_switch;
	e.sw = a.sw;
	uds_ecu_init(&e.side, e.srv, e.tp,
		     &(struct uds_ecu_hooks){ .request = hook_request,
					      .handled = hook_handled,
					      .response = hook_response,
					      .rx_dropped = hook_rx_dropped,
					      .tx_failed = hook_tx_failed,
					      .send_refused = hook_send_refused,
					      .ctx = &e });
	if (!a.no_functional)
		uds_ecu_set_functional(&e.side, a.func.id, a.func.eff);
	bo.fd = cfg.fd || ce.isotp.fd;
	bo.bitrate = cfg.bitrate;
	bo.data_bitrate = cfg.data_bitrate;
	rc = cmd_open_bus(&a.ctx, &cfg, &bo);
	if (rc)
		goto out;
	bus = a.ctx.bus;
	if (a.ctx.trace)
		setvbuf(a.ctx.trace, NULL, _IOLBF, 0); /* a long run: lines out as they come */
	rc = open_memory(&e);
	if (rc)
		goto out;

	filter[0] = bus_filter_norm(a.req.id | (a.req.eff ? BUS_FILTER_EFF : 0));
	nfilter = 1;
	if (!a.no_functional)
		filter[nfilter++] = bus_filter_norm(a.func.id | (a.func.eff ? BUS_FILTER_EFF : 0));
	if (a.has_switch)
		filter[nfilter++] = bus_filter_norm(
			a.sw.id | ((a.sw.flags & BUS_FRAME_EFF) ? BUS_FILTER_EFF : 0));
	r = bus_set_filter(bus, filter, nfilter);
	if (r) {
		fota_error_errno(r, "%s: cannot set the receive filter", bus->name);
		rc = fota_exit_status(FOTA_FAIL_RUN, r);
		goto out;
	}

	loop_init(&l, bus);
	loop_ok = true;
	r = loop_add(&l, &ecu_member_ops, &e);
	if (!r)
		r = loop_catch_signals(&l, sigs, FOTA_ARRAY_SIZE(sigs));
	if (r) {
		fota_error_errno(r, "cannot set up the event loop");
		rc = fota_exit_status(FOTA_FAIL_RUN, r);
		goto out;
	}
	fmt_id(req, sizeof(req), a.req.id, a.req.eff);
	fmt_id(rsp, sizeof(rsp), a.rsp.id, a.rsp.eff);
	if (a.no_functional)
		snprintf(func, sizeof(func), "ignored");
	else
		fmt_id(func, sizeof(func), a.func.id, a.func.eff);
	fota_info("listening on %s (request %s, response %s, functional %s)", bus->name, req, rsp,
		  func);
	if (a.ready_file) {
		r = touch(a.ready_file);
		if (r) {
			fota_error_errno(r, "%s", a.ready_file);
			rc = fota_exit_status(FOTA_FAIL_OUTPUT, r);
			goto out;
		}
	}

	r = loop_run(&l, FOTA_NEVER);
	if (r == -EINTR) {
		rc = FOTA_EXIT_OK;
		if (e.verbose)
			fota_info("%s: stopping", strsignal(l.signo));
	} else {
		char why[96];

		fota_error("%s: %s", bus->name, cmd_bus_strerror(bus, r, why, sizeof(why)));
		rc = fota_exit_status(FOTA_FAIL_RUN, r);
	}
	ecu_save(&e, true);
	if (e.save_err && rc == FOTA_EXIT_OK)
		rc = fota_exit_status(FOTA_FAIL_OUTPUT, e.save_err);
out:
	if (loop_ok)
		loop_release(&l);
	isotp_free(e.tp);
	uds_server_free(e.srv);
	if (have_cfg)
		cfg_release(&cfg);
	return fota_exit_worst(rc, cmd_ctx_release(&a.ctx));
}

const struct fota_cmd cmd_ecu = {
	.name = "ecu",
	.summary = "simulate an ECU bootloader (UDS over ISO-TP) on a CAN bus",
	.usage = ecu_usage,
	.opts = ecu_opts,
	.run = run_ecu,
	.help_tail = "SERVICE is a name (RequestDownload, TransferData, ...) or a SID (0x34);\n"
		     "NRC a number (0x70) or a name (uploadDownloadNotAccepted).\n"
		     "Stops on SIGTERM or SIGINT, saving --memory.\n",
};
