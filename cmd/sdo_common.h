// SPDX-License-Identifier: MIT
/*
 * The HMI/OEM side of the TCU (fota status, approve, reject, health): one SDO
 * transfer at a time to object 0x5FF3 of the TCU node (CiA 301 §7.2.4.3, the
 * sdo_client engine run in a core/loop.h loop), with the SDO timeout and the
 * retries of the command line or the configuration, and the results turned
 * into one sentence and an exit status (fota(1) EXIT STATUS). The pure
 * helpers below (state names, value texts, timestamps) are unit-tested in
 * tests/unit/test_hmi.c.
 */
#ifndef FOTA_CMD_SDO_COMMON_H
#define FOTA_CMD_SDO_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cmd/common.h"
#include "core/config.h"
#include "sdo/client.h"

#define CMD_SDO_RETRIES_DEFAULT 2u

/* Options shared by the four commands (same letters, names and help); values in cmd_ctx. */
#define CMD_SDO_KEY_RETRIES FOTA_OPT_LONG(60)
#define CMD_SDO_OPT_TIMEOUT                                                                 \
	{                                                                                   \
		.key = 't', .long_name = "sdo-timeout", .arg = "MS",                        \
		.help = "wait MS milliseconds for each SDO answer (default: config, 1000)", \
		.flags = FOTA_OPT_NUMBER | FOTA_OPT_CTX, .type = FOTA_OPT_T_U32,            \
		.off = offsetof(struct cmd_ctx, sdo_timeout_ms), .min = 1,                  \
		.max = CFG_SDO_TIMEOUT_MS_MAX, .unit = "ms"                                 \
	}
#define CMD_SDO_OPT_RETRIES                                                              \
	{                                                                                \
		.key = CMD_SDO_KEY_RETRIES, .long_name = "retries", .arg = "N",          \
		.help = "send an unanswered SDO request again up to N times (default: "  \
			"config, 2)",                                                    \
		.flags = FOTA_OPT_NUMBER | FOTA_OPT_CTX, .type = FOTA_OPT_T_U32,         \
		.off = offsetof(struct cmd_ctx, sdo_retries), .max = CFG_SDO_RETRIES_MAX \
	}

/* One TCU session: bus, node, timing; last transfer's detail. */
struct cmd_sdo {
	struct cmd_ctx ctx;	      /* options, bus and trace */
	uint8_t node;		      /* TCU node-ID 1..127 */
	uint32_t timeout_ms;	      /* per SDO answer */
	unsigned retries;	      /* repeats after a timeout */
	struct sdo_result res;	      /* detail of the last transfer */
	unsigned attempts;	      /* requests sent for the last transfer (1 + retries used) */
	char state_dir[CFG_PATH_MAX]; /* the configuration's tcu.state_dir (default one without) */
};

/*
 * Wait for duration while reading (and dropping) what the bus brings, so a
 * polling client never lets its receive queue fill up: on unix: a full queue
 * slows every other member, on SocketCAN it would hand us stale answers.
 * Returns 0, or the bus error.
 */
int cmd_sdo_idle(struct cmd_sdo *s, fota_us duration);

/* Set up for cmd (options not parsed yet: cmd_parse_options(&s->ctx, ...)). */
void cmd_sdo_init(struct cmd_sdo *s, const struct fota_cmd *cmd);

/*
 * Load the configuration (if any), settle node, timeout and retries
 * (command line > configuration > default), open the bus with a receive
 * filter for the node's SDO responses, start the trace. Reports its own
 * errors; returns an exit status (0 = ready).
 */
int cmd_sdo_open(struct cmd_sdo *s);

/* Close the bus and the trace (also after a failed open). */
int cmd_sdo_close(struct cmd_sdo *s); /* cmd_ctx_release(): 0 or 1 (trace incomplete) */

/*
 * Read (upload) 0x5FF3:sub into buf (cap bytes); *len = bytes received.
 * Write (download) len bytes to 0x5FF3:sub (expedited for 1..4 bytes, size
 * indicated). An unanswered request is sent again up to s->retries times.
 * Return 0 or the sdo_client_result() error (-ETIMEDOUT, -EBUSY,
 * -EREMOTEIO, -EPROTO, -EMSGSIZE) or a bus error; detail in s->res. Silent.
 */
int cmd_sdo_upload(struct cmd_sdo *s, uint8_t sub, void *buf, size_t cap, size_t *len);
int cmd_sdo_download(struct cmd_sdo *s, uint8_t sub, const void *data, size_t len);

/*
 * Read an unsigned object of the table (1, 2 or 4 bytes, little-endian).
 * An answer of another length is -EPROTO. Silent.
 */
int cmd_sdo_read_uint(struct cmd_sdo *s, uint8_t sub, uint32_t *v);

/*
 * Write an unsigned value as the object's type (fota_od_objects[] size):
 * e.g. apply_update 0x01 goes out as 2F F3 5F 40 01 00 00 00.
 */
int cmd_sdo_write_uint(struct cmd_sdo *s, uint8_t sub, uint32_t v);

/*
 * Report a failed transfer of 0x5FF3:sub ("reading" or "writing") as one
 * line on stderr and return its exit status: timeout => "BUS: node 0xNN: no
 * answer within T ms" (4); abort => object, abort name and code (1; 5 for
 * the state aborts 0x08000021/0x08000022); malformed answer => 1.
 */
int cmd_sdo_report(struct cmd_sdo *s, const char *verb, uint8_t sub, int err);

/*
 * A verdict write (approve, reject, health ok|fail): write value to sub. On
 * abort 0x08000022 the TCU's state is read to explain, and the sentence and
 * exit status 5 follow. If an earlier attempt went unanswered and the state
 * now shows that it was taken (expect_status), that counts as success.
 * With --json, the result object is printed on stdout.
 */
struct cmd_sdo_verdict {
	uint8_t sub;	       /* FOTA_SUB_APPLY_UPDATE or FOTA_SUB_ECU_HEALTH_CHECK */
	uint8_t value;	       /* UPD_APPLY_* / UPD_HEALTH_* */
	uint8_t expect_status; /* update_status once the TCU took the value */
	const char *done;      /* "update approved" (stderr, unless -q) */
	const char *refused;   /* "no update is available to approve" */
};
int cmd_sdo_verdict(struct cmd_sdo *s, const struct cmd_sdo_verdict *v);

/* ---- pure helpers (no I/O) ---- */

/*
 * States `fota status --wait=STATE` accepts: the update_status values by
 * name or number (idle 0x00, flashing 0x01, waiting 0x10, success 0x40,
 * flashing-failed 0x50, verification-failed 0x51, verification-timeout 0x52,
 * cancelled 0x60) and "available" (update_available = 0x01, which has no
 * update_status value of its own).
 */
#define CMD_WAIT_AVAILABLE 0x100 /* pseudo state: an update is offered */
/* Parse STATE: 0 and *state (status byte or CMD_WAIT_AVAILABLE), or -EINVAL. */
int cmd_wait_state_parse(const char *s, int *state);
/* The short name of a state ("waiting"), or NULL. */
const char *cmd_wait_state_name(int state);
/* The i-th state name STATE may be, NULL after the last (completion). */
const char *cmd_wait_state_at(size_t i);

/*
 * Exit status of `fota status --wait` for a final update_status: 0x40 => 0,
 * 0x50/0x51/0x52 => 1, 0x60 => 5; undefined values => 1.
 */
int cmd_status_exit(uint8_t status);

/*
 * A 0x5FF3 object's value as `fota status` prints it (valid as a YAML plain
 * scalar): the raw value, then its meaning where it has one:
 * "0x10 waiting for OEM health verification", "0x01 update available",
 * "1700000000 2023-11-14T22:13:20Z", "0 never", "0x701", "37%",
 * "10 minutes", "0 disabled (wait forever)", plain decimal otherwise.
 * Returns buf.
 */
const char *cmd_sdo_value_text(uint8_t sub, uint32_t v, char *buf, size_t size);

/* UNIX seconds as ISO 8601 UTC ("2023-11-14T22:13:20Z"); returns buf. */
const char *cmd_iso8601(uint32_t t, char *buf, size_t size);

/*
 * A string from the wire as a YAML scalar: plain when it looks like a UUID
 * (36 hex digits and dashes), else double-quoted with \" \\ and \xNN
 * escapes. Returns buf (cut short, still quoted, if size is too small).
 */
const char *cmd_yaml_scalar(const char *s, size_t len, char *buf, size_t size);

/*
 * The whole of a command that writes one value and reports the verdict
 * (approve, reject): parse its options (all of them common), open the bus,
 * cmd_sdo_verdict(v). Returns the exit status.
 */
int cmd_sdo_run_write(const struct fota_cmd *cmd, const struct cmd_sdo_verdict *v, int argc,
		      char **argv);

#endif
