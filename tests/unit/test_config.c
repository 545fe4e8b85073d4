// SPDX-License-Identifier: MIT
/*
 * core/config.c: fota.yaml(5) loading. What a user depends on: every key of a
 * good file lands in the struct, defaults are the documented ones, and every
 * mistake is refused with file:line:col pointing at the offending node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/common.h"
#include "core/config.h"
#include "tests/unit/t.h"

static const char good[] = "bus: unix:/run/fota-bus\n"
			   "bitrate: 500000\n"
			   "tcu: { node_id: 0x27, state_dir: /var/lib/fota, "
			   "health_check_timeout_min: 10 }\n"
			   "ecus:\n"
			   "  - name: hydraulics\n"
			   "    brand: ACME\n"
			   "    model: HX-200\n"
			   "    request_id: 0x7E0\n"
			   "    response_id: 0x7E8\n"
			   "    bootloader_switch: { id: 0x700, data: \"01 02\", delay_ms: 500 }\n"
			   "    security: { level: 0x01, key: \"xor:A5A5A5A5\" }\n"
			   "    regions: [ { start: 0x08000000, size: 0x100000 } ]\n"
			   "  - name: brakes\n"
			   "    request_id: 0x18DA10F1\n"
			   "    response_id: 0x18DAF110\n"
			   "    regions:\n"
			   "      - { start: 0x20000, size: 0x1000 }\n"
			   "      - { start: 0x10000, size: 0x1000 }\n"
			   "    isotp: { padding: none, block_size: 8, stmin: 0xF5 }\n"
			   "    timing: { p2_ms: 100, p2_star_ms: 10000, s3_ms: 4000, "
			   "tester_present_ms: 1500, n_bs_ms: 500, n_cr_ms: 600 }\n"
			   "    sequence:\n"
			   "      pre_programming: true\n"
			   "      programming_session: 0x02\n"
			   "      erase: { routine: 0xFF01, scope: segment, record: none }\n"
			   "      address_and_length_format: 0x24\n"
			   "      data_format: 0x11\n"
			   "      block_length: 0x802\n"
			   "      transfer_retries: 5\n"
			   "      check: none\n"
			   "      reset: soft\n";

static int load(const char *text, struct fota_config *cfg, struct cfg_error *err)
{
	return cfg_load_string(text, strlen(text), "t.yaml", cfg, err);
}

/* Expect TEXT to fail at line:col with MSG somewhere in the message. */
static void expect_error(const char *text, unsigned line, unsigned col, const char *msg, int tl)
{
	struct fota_config cfg;
	struct cfg_error err;
	int rc = load(text, &cfg, &err);

	if (rc != -EBADMSG)
		t_fail(__FILE__, tl, "rc %d, expected -EBADMSG", rc);
	if (err.line != line || err.col != col)
		t_fail(__FILE__, tl, "error at %u:%u, expected %u:%u (%s)", err.line, err.col, line,
		       col, err.msg);
	if (!strstr(err.msg, msg))
		t_fail(__FILE__, tl, "message \"%s\" lacks \"%s\"", err.msg, msg);
	T_EQ_STR(err.file, "t.yaml");
	T_EQ(cfg.necus, 0);
	T_TRUE(cfg.ecus == NULL);
}
#define EXPECT_ERROR(text, line, col, msg) expect_error(text, line, col, msg, __LINE__)

/* A minimal valid ECU, prefixed to the key under test. */
#define ECU(extra)                                                                             \
	"ecus:\n  - name: e\n    request_id: 0x7E0\n    response_id: 0x7E8\n    regions: [ { " \
	"start: 0, size: 16 } ]\n" extra

static void test_config__good_file_round_trip(void)
{
	struct fota_config cfg;
	struct cfg_error err;
	const struct cfg_ecu *h, *b;

	T_OK(load(good, &cfg, &err));
	T_EQ_STR(cfg.bus, "unix:/run/fota-bus");
	T_EQ(cfg.bitrate, 500000);
	T_EQ(cfg.fd, false);
	T_EQ(cfg.tcu.node_id, 0x27);
	T_EQ_STR(cfg.tcu.state_dir, "/var/lib/fota");
	T_EQ(cfg.tcu.health_check_timeout_min, 10);
	T_EQ(cfg.necus, 2);

	h = cfg_find_ecu(&cfg, "hydraulics");
	T_TRUE(h == &cfg.ecus[0]);
	T_EQ_STR(h->brand, "ACME");
	T_EQ_STR(h->model, "HX-200");
	T_EQ(h->request_id, 0x7E0);
	T_EQ(h->response_id, 0x7E8);
	T_EQ(h->extended, false);
	T_TRUE(h->has_bootloader_switch);
	T_EQ(h->bootloader_switch.id, 0x700);
	T_EQ(h->bootloader_switch.flags, 0);
	T_EQ(h->bootloader_switch.len, 2);
	T_EQ_MEM(h->bootloader_switch.data, "\x01\x02", 2);
	T_EQ(h->bootloader_switch_delay_ms, 500);
	T_TRUE(h->has_security);
	T_EQ(h->security_level, 1);
	T_EQ(h->key.kind, CFG_KEY_XOR);
	T_EQ(h->key.mask_len, 4);
	T_EQ_MEM(h->key.mask, "\xA5\xA5\xA5\xA5", 4);
	T_EQ(h->nregions, 1);
	T_EQ(h->regions[0].start, 0x08000000);
	T_EQ(h->regions[0].size, 0x100000);

	b = cfg_find_ecu(&cfg, "brakes");
	T_TRUE(b == &cfg.ecus[1]);
	T_EQ(b->extended, true);
	T_EQ(b->request_id, 0x18DA10F1);
	T_EQ(b->response_id, 0x18DAF110);
	T_EQ(b->has_security, false);
	T_EQ(b->has_bootloader_switch, false);
	T_EQ_STR(b->brand, "");
	/* regions come back sorted by address */
	T_EQ(b->nregions, 2);
	T_EQ(b->regions[0].start, 0x10000);
	T_EQ(b->regions[1].start, 0x20000);
	T_EQ(b->isotp.padding, -1);
	T_EQ(b->isotp.block_size, 8);
	T_EQ(b->isotp.stmin, 0xF5);
	T_EQ(b->timing.p2_ms, 100);
	T_EQ(b->timing.p2_star_ms, 10000);
	T_EQ(b->timing.s3_ms, 4000);
	T_EQ(b->timing.tester_present_ms, 1500);
	T_EQ(b->timing.n_bs_ms, 500);
	T_EQ(b->timing.n_cr_ms, 600);
	T_EQ(b->sequence.pre_programming, true);
	T_EQ(b->sequence.erase, true);
	T_EQ(b->sequence.erase_routine, 0xFF01);
	T_EQ(b->sequence.erase_scope, CFG_ERASE_SEGMENT);
	T_EQ(b->sequence.erase_record, CFG_ERASE_RECORD_NONE);
	T_EQ(b->sequence.address_and_length_format, 0x24);
	T_EQ(b->sequence.data_format, 0x11);
	T_EQ(b->sequence.block_length, 0x802);
	T_EQ(b->sequence.transfer_retries, 5);
	T_EQ(b->sequence.check, false);
	T_EQ(b->sequence.reset, CFG_RESET_SOFT);

	T_TRUE(cfg_find_ecu(&cfg, "nope") == NULL);
	T_TRUE(cfg_ecu_range_ok(h, 0x08000000, 0x100000));
	T_TRUE(!cfg_ecu_range_ok(h, 0x08000000, 0x100001));
	T_TRUE(!cfg_ecu_range_ok(h, 0x07FFFFFF, 2));
	T_TRUE(!cfg_ecu_range_ok(b, 0x10FFF, 2)); /* straddles the end of a region */
	cfg_release(&cfg);
	T_EQ(cfg.necus, 0);
	T_TRUE(cfg.ecus == NULL);
}

static void test_config__defaults(void)
{
	struct fota_config cfg;
	struct cfg_error err;
	const struct cfg_ecu *e;

	T_OK(load(ECU(""), &cfg, &err));
	T_EQ_STR(cfg.bus, "");
	T_EQ(cfg.tcu.node_id, 0x27);
	T_EQ_STR(cfg.tcu.state_dir, "/var/lib/fota");
	T_EQ(cfg.tcu.health_check_timeout_min, 10);
	T_EQ(cfg.tcu.heartbeat_ms, 0);
	T_EQ(cfg.tcu.sdo_timeout_ms, 1000);
	T_EQ(cfg.tcu.sdo_retries, 2);
	T_EQ_U64(cfg.tcu.max_firmware_bytes, 268435456);
	e = &cfg.ecus[0];
	T_EQ(e->isotp.padding, 0xCC);
	T_EQ(e->isotp.block_size, 0);
	T_EQ(e->isotp.stmin, 0);
	T_EQ(e->isotp.fd, false);
	T_EQ(e->isotp.tx_dl, 8);
	T_EQ(e->timing.p2_ms, 50);
	T_EQ(e->timing.p2_star_ms, 5000);
	T_EQ(e->timing.s3_ms, 5000);
	T_EQ(e->timing.tester_present_ms, 2000);
	T_EQ(e->timing.n_bs_ms, 1000);
	T_EQ(e->timing.n_cr_ms, 1000);
	T_EQ(e->sequence.pre_programming, false);
	T_EQ(e->sequence.programming_session, 0x02);
	T_EQ(e->sequence.erase, true);
	T_EQ(e->sequence.erase_routine, 0xFF00);
	T_EQ(e->sequence.erase_scope, CFG_ERASE_REGION);
	T_EQ(e->sequence.erase_record, CFG_ERASE_RECORD_ADDRESS);
	T_EQ(e->sequence.address_and_length_format, 0x44);
	T_EQ(e->sequence.data_format, 0);
	T_EQ(e->sequence.block_length, 0);
	T_EQ(e->sequence.transfer_retries, 2);
	T_EQ(e->sequence.check, true);
	T_EQ(e->sequence.check_routine, 0x0202);
	T_EQ(e->sequence.check_crc, true);
	T_EQ(e->sequence.reset, CFG_RESET_HARD);
	cfg_release(&cfg);

	/* A file with only a bus is valid: status/approve need no ECU. */
	T_OK(load("bus: can0\n", &cfg, &err));
	T_EQ(cfg.necus, 0);
	cfg_release(&cfg);
}

static void test_config__ids_29bit(void)
{
	struct fota_config cfg;
	struct cfg_error err;

	/* extended: true forces 29-bit even for small ids */
	T_OK(load(ECU("    extended: true\n"), &cfg, &err));
	T_EQ(cfg.ecus[0].extended, true);
	cfg_release(&cfg);
	T_OK(load("ecus:\n  - name: e\n    request_id: 0x1FFFFFFF\n    response_id: 2016\n"
		  "    regions: [ { start: 0, size: 1 } ]\n"
		  "    bootloader_switch: { id: 0x18FF0000 }\n",
		  &cfg, &err));
	T_EQ(cfg.ecus[0].extended, true);
	T_EQ(cfg.ecus[0].response_id, 0x7E0);
	T_EQ(cfg.ecus[0].bootloader_switch.flags, BUS_FRAME_EFF);
	T_EQ(cfg.ecus[0].bootloader_switch.len, 0);
	cfg_release(&cfg);
	EXPECT_ERROR("ecus:\n  - name: e\n    request_id: 0x20000000\n", 3, 17, "out of range");
	EXPECT_ERROR("ecus:\n  - name: e\n    extended: false\n    request_id: 0x18DA10F1\n"
		     "    response_id: 0x7E8\n    regions: [ { start: 0, size: 1 } ]\n",
		     4, 17, "needs 29 bits");
}

static void test_config__unknown_key(void)
{
	EXPECT_ERROR("bus: can0\nbitrat: 500000\n", 2, 1, "unknown key 'bitrat'");
	EXPECT_ERROR("bus: can0\nbitrat: 500000\n", 2, 1, "did you mean 'bitrate'");
	EXPECT_ERROR("tcu:\n  node_id: 1\n  colour: blue\n", 3, 3, "unknown key 'colour'");
	EXPECT_ERROR(ECU("    sequence: { reset: hard, flavour: x }\n"), 6, 30, "unknown key");
}

static void test_config__bad_values(void)
{
	EXPECT_ERROR("bitrate: fast\n", 1, 10, "'fast' is not a number");
	EXPECT_ERROR("bitrate: 0x\n", 1, 10, "is not a number");
	EXPECT_ERROR("bitrate: -1\n", 1, 10, "is not a number");
	EXPECT_ERROR("bitrate: 99999999999\n", 1, 10, "out of range");
	EXPECT_ERROR("bitrate: \"500000\"\n", 1, 10, "quoted string");
	EXPECT_ERROR("tcu: { node_id: 128 }\n", 1, 17, "out of range 1..127");
	EXPECT_ERROR("tcu: { node_id: 0 }\n", 1, 17, "out of range");
	EXPECT_ERROR("fd: yes\n", 1, 5, "expected true or false");
	EXPECT_ERROR("tcu: [1, 2]\n", 1, 6, "expected a mapping");
	EXPECT_ERROR("ecus: { name: x }\n", 1, 7, "expected a list");
	EXPECT_ERROR("bus: [a]\n", 1, 6, "expected a string");
	EXPECT_ERROR("bus: \"\"\n", 1, 6, "empty value");
	EXPECT_ERROR("data_bitrate: 2000000\n", 1, 15, "needs fd: true");
	EXPECT_ERROR(ECU("    security: { level: 2, key: xor:00 }\n"), 6, 24, "even");
	EXPECT_ERROR(ECU("    security: { level: 1, key: \"rot13:x\" }\n"), 6, 32,
		     "unknown key algorithm");
	EXPECT_ERROR(ECU("    security: { key: xor:ABC }\n"), 6, 22, "xor mask");
	EXPECT_ERROR(ECU("    security: { level: 1 }\n"), 6, 15, "missing required key 'key'");
	EXPECT_ERROR(ECU("    bootloader_switch: { id: 0x700, data: \"0G\" }\n"), 6, 43,
		     "hex bytes");
	EXPECT_ERROR(ECU("    bootloader_switch: { id: 0x700, data: 010203040506070809 }\n"), 6, 43,
		     "more than 8");
	EXPECT_ERROR(ECU("    isotp: { stmin: 0x80 }\n"), 6, 21, "reserved");
	EXPECT_ERROR(ECU("    isotp: { tx_dl: 64 }\n"), 6, 21, "needs fd");
	EXPECT_ERROR("fd: true\n" ECU("    isotp: { fd: true, tx_dl: 13 }\n"), 7, 31,
		     "not a CAN FD length");
	EXPECT_ERROR(ECU("    isotp: { fd: true }\n"), 1, 1, "no fd: true");
	EXPECT_ERROR(ECU("    isotp: { padding: 256 }\n"), 6, 23, "out of range");
	EXPECT_ERROR(ECU("    timing: { s3_ms: 1000 }\n"), 6, 22, "below s3_ms");
	EXPECT_ERROR(ECU("    sequence: { address_and_length_format: 0x45 }\n"), 6, 44, "nibble");
	EXPECT_ERROR(ECU("    sequence: { block_length: 2 }\n"), 6, 31, "at least 3");
	EXPECT_ERROR(ECU("    sequence: { reset: warm }\n"), 6, 24, "expected hard, soft");
	EXPECT_ERROR(ECU("    sequence: { erase: { scope: sector } }\n"), 6, 33,
		     "region or segment");
	EXPECT_ERROR(ECU("    sequence: { check: { crc: md5 } }\n"), 6, 31, "crc32 or none");
	EXPECT_ERROR("ecus:\n  - name: \"a b\"\n", 2, 11, "only letters");
}

/* tcu: max_firmware_bytes is a 64-bit size: 1..2^40, decimal or 0x hex, errors in decimal. */
static void test_config__max_firmware_bytes(void)
{
	struct fota_config cfg;
	struct cfg_error err;
	char buf[512];

	T_OK(load("tcu: { max_firmware_bytes: 1 }\n", &cfg, &err));
	T_EQ_U64(cfg.tcu.max_firmware_bytes, 1);
	T_OK(load("tcu:\n  max_firmware_bytes: 1099511627776\n", &cfg, &err));
	T_EQ_U64(cfg.tcu.max_firmware_bytes, (uint64_t)1 << 40);
	T_OK(load("tcu: { max_firmware_bytes: 0x20000000 }\n", &cfg, &err));
	T_EQ_U64(cfg.tcu.max_firmware_bytes, 512u << 20);
	/* above 32 bits, where a uint32_t would have wrapped */
	T_OK(load("tcu: { max_firmware_bytes: 4294967297 }\n", &cfg, &err));
	T_EQ_U64(cfg.tcu.max_firmware_bytes, 4294967297ull);

	EXPECT_ERROR("tcu: { max_firmware_bytes: 0 }\n", 1, 28, "out of range 1..1099511627776");
	EXPECT_ERROR("tcu: { max_firmware_bytes: 1099511627777 }\n", 1, 28, "out of range");
	/* beyond 64 bits: a range error, not a wrapped value */
	EXPECT_ERROR("tcu: { max_firmware_bytes: 18446744073709551617 }\n", 1, 28, "out of range");
	EXPECT_ERROR("tcu: { max_firmware_bytes: 0x10000000000000000 }\n", 1, 28, "out of range");
	EXPECT_ERROR("tcu: { max_firmware_bytes: 256M }\n", 1, 28, "'256M' is not a number");
	EXPECT_ERROR("tcu: { max_firmware_bytes: -1 }\n", 1, 28, "is not a number");
	EXPECT_ERROR("tcu: { max_firmware_bytes: \"1024\" }\n", 1, 28, "quoted string");
	T_EQ(load("tcu:\n  max_firmware_bytes: 0\n", &cfg, &err), -EBADMSG);
	T_EQ_STR(cfg_error_str(&err, buf, sizeof(buf)),
		 "t.yaml:2:23: max_firmware_bytes: 0 out of range 1..1099511627776");
}

static void test_config__duplicates(void)
{
	EXPECT_ERROR("bus: can0\nbus: can1\n", 2, 1, "duplicate key 'bus'");
	EXPECT_ERROR(ECU("  - name: e\n    request_id: 0x7E1\n    response_id: 0x7E9\n"
			 "    regions: [ { start: 0, size: 16 } ]\n"),
		     6, 11, "duplicate ECU name 'e'");
	EXPECT_ERROR(ECU("  - name: f\n    request_id: 0x7E0\n    response_id: 0x7E9\n"
			 "    regions: [ { start: 0, size: 16 } ]\n"),
		     7, 17, "already used by ECU 'e'");
	EXPECT_ERROR("ecus:\n  - name: e\n    request_id: 0x7E0\n    response_id: 0x7E0\n"
		     "    regions: [ { start: 0, size: 1 } ]\n",
		     4, 18, "equals request_id");
}

static void test_config__missing_and_regions(void)
{
	EXPECT_ERROR("ecus:\n  - name: e\n    response_id: 0x7E8\n", 2, 5,
		     "missing required key 'request_id'");
	EXPECT_ERROR("ecus:\n  - name: e\n    request_id: 0x7E0\n    response_id: 0x7E8\n", 2, 5,
		     "missing required key 'regions'");
	EXPECT_ERROR("ecus:\n  - name: e\n    request_id: 1\n    response_id: 2\n    regions: []\n",
		     5, 14, "at least one region");
	EXPECT_ERROR("ecus:\n  - name: e\n    request_id: 1\n    response_id: 2\n    regions:\n"
		     "      - { start: 0x1000, size: 0x1000 }\n"
		     "      - { start: 0x1FFF, size: 1 }\n",
		     7, 9, "overlaps");
	EXPECT_ERROR("ecus:\n  - name: e\n    request_id: 1\n    response_id: 2\n    regions:\n"
		     "      - { start: 0xFFFFFFFF, size: 2 }\n",
		     6, 36, "ends above");
	EXPECT_ERROR("ecus:\n  - name: e\n    request_id: 1\n    response_id: 2\n    regions:\n"
		     "      - { start: 0, size: 0 }\n",
		     6, 27, "out of range");
}

static void test_config__syntax_and_documents(void)
{
	struct fota_config cfg;
	struct cfg_error err;
	char buf[512];

	EXPECT_ERROR("bus: can0\n  bitrate: 1\n", 2, 10, "YAML syntax");
	EXPECT_ERROR("bus: can0\n---\nbus: can1\n", 3, 1, "more than one YAML document");
	EXPECT_ERROR("just a string\n", 1, 1, "expected a mapping");
	T_EQ(load("", &cfg, &err), -EBADMSG);
	T_EQ_STR(err.msg, "empty document");
	T_EQ(err.line, 0);
	T_EQ_STR(cfg_error_str(&err, buf, sizeof(buf)), "t.yaml: empty document");
	T_EQ(load("bitrat: 1\n", &cfg, &err), -EBADMSG);
	T_EQ_STR(cfg_error_str(&err, buf, sizeof(buf)),
		 "t.yaml:1:1: unknown key 'bitrat' (did you mean 'bitrate'?)");
}

/* Nesting is bounded (CFG_DEPTH_MAX levels), in flow and in block style. */
static void test_config__nesting_depth(void)
{
	size_t n = 50000, len = 5 + 4 * n + n + 1, k = 0;
	char *text = malloc(len + 1);

	T_TRUE(text != NULL);
	if (!text)
		return;
	/* tcu: {a: {a: ... }} 250 KB: refused at the first mapping too deep */
	memcpy(text, "tcu: ", 5);
	k = 5;
	for (size_t i = 0; i < n; i++, k += 4)
		memcpy(text + k, "{a: ", 4);
	memset(text + k, '}', n);
	strcpy(text + k + n, "\n");
	EXPECT_ERROR(text, 1, 6 + 4 * (CFG_DEPTH_MAX - 1), "nesting depth limit");

	/* block style: level L is the mapping of line L, indented L - 1 */
	k = 0;
	for (unsigned l = 1; l <= CFG_DEPTH_MAX + 5; l++) {
		memset(text + k, ' ', l - 1);
		k += l - 1;
		memcpy(text + k, "a:\n", 3);
		k += 3;
	}
	text[k] = '\0';
	EXPECT_ERROR(text, CFG_DEPTH_MAX + 1, CFG_DEPTH_MAX + 1, "nesting depth limit");
	free(text);
}

static void test_config__file(void)
{
	struct fota_config cfg;
	struct cfg_error err;
	char path[] = "/tmp/fota-test-config-XXXXXX";
	int fd = mkstemp(path);

	T_TRUE(fd >= 0);
	T_EQ(write(fd, good, strlen(good)), (long long)strlen(good));
	close(fd);
	T_OK(cfg_load_file(path, &cfg, &err));
	T_EQ(cfg.necus, 2);
	T_EQ_STR(cfg.source, path);
	cfg_release(&cfg);
	unlink(path);

	T_EQ(cfg_load_file(path, &cfg, &err), -ENOENT);
	T_EQ_STR(err.file, path);
	T_EQ(err.line, 0);
	T_EQ(cfg_load_file("/tmp", &cfg, &err), -EISDIR);

	/* the shipped example is valid and describes the demo ECU */
	T_OK(cfg_load_file("examples/fota.yaml", &cfg, &err));
	T_EQ(cfg.necus, 1);
	T_EQ_STR(cfg.ecus[0].name, "hydraulics");
	T_EQ(cfg.ecus[0].bootloader_switch.id, 0x700);
	cfg_release(&cfg);
}

/* Shell completion of --ecu: names from -c/--config (or $FOTA_CONFIG), brand and model as help. */
static void complete(char *buf, size_t size, const char *pre, const char *cur, int argc,
		     char **argv)
{
	char path[] = "/tmp/fota-test-complete-XXXXXX";
	int fd = mkstemp(path), saved = dup(1);
	ssize_t n;

	fflush(stdout);
	dup2(fd, 1);
	cmd_complete_ecus(pre, cur, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
}

static void test_config__complete_ecus(void)
{
	char out[512], cfgpath[] = "/tmp/fota-test-cfg-XXXXXX";
	char *w1[] = { "fota", "flash", "-c", cfgpath, "--ecu", "" };
	char *w2[] = { "fota-flash", "--config=/nonexistent", "--ecu", "" };
	char *w3[] = { "fota-flash", "--ecu", "b" };
	int fd = mkstemp(cfgpath);

	T_EQ(write(fd, good, strlen(good)), (long long)strlen(good));
	close(fd);
	complete(out, sizeof(out), "", "", 6, w1);
	T_EQ_STR(out, "hydraulics\tACME HX-200\nbrakes\tECU\n");
	complete(out, sizeof(out), "", "h", 6, w1);
	T_EQ_STR(out, "hydraulics\tACME HX-200\n");
	/* --ecu=h: the whole word comes back, prefix and all */
	complete(out, sizeof(out), "--ecu=", "h", 6, w1);
	T_EQ_STR(out, "--ecu=hydraulics\tACME HX-200\n");
	complete(out, sizeof(out), "", "", 4, w2);
	T_EQ_STR(out, "");
	setenv("FOTA_CONFIG", cfgpath, 1);
	complete(out, sizeof(out), "", "b", 3, w3);
	T_EQ_STR(out, "brakes\tECU\n");
	unsetenv("FOTA_CONFIG");
	unlink(cfgpath);
}

/*
 * fota.yaml(5) EXAMPLES: the demo configuration plus the 29-bit ECU item
 * (appended to its ecus list) must load, so the page cannot drift from the
 * loader. Literal blocks are the lines between ".Bd -literal" and ".Ed".
 */
static void test_config__man_page_examples(void)
{
	FILE *fp = fopen("man/fota.yaml.5", "r");
	char line[256], text[4096] = "";
	int block = 0, in = 0;
	struct fota_config cfg;
	struct cfg_error err;
	char msg[512];

	T_TRUE(fp != NULL);
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		if (!strncmp(line, ".Sh EXAMPLES", 12))
			block = 1;
		else if (block && !strncmp(line, ".Bd -literal", 12))
			in = 1;
		else if (in && !strncmp(line, ".Ed", 3)) {
			in = 0;
			block++;
		} else if (in && block <= 2 && strlen(text) + strlen(line) < sizeof(text))
			strcat(text, line);
	}
	fclose(fp);
	T_TRUE(block == 5); /* four examples were read (the last: trust:) */
	if (load(text, &cfg, &err))
		t_fail(__FILE__, __LINE__, "%s", cfg_error_str(&err, msg, sizeof(msg)));
	T_EQ(cfg.necus, 2);
	if (cfg.necus == 2) {
		T_EQ(cfg.ecus[1].extended, true);
		T_EQ(cfg.ecus[1].key.kind, CFG_KEY_LIB);
		T_EQ(cfg.ecus[1].sequence.erase, false);
		T_EQ(cfg.ecus[1].sequence.reset, CFG_RESET_SOFT);
	}
	cfg_release(&cfg);
}

/* sequence.fingerprint: did and data required, 1..64 bytes, DID 0x0001..0xFFFE. */
static void test_config__fingerprint(void)
{
#define FP_HEAD                                                               \
	"ecus:\n  - name: e\n    request_id: 0x7E0\n    response_id: 0x7E8\n" \
	"    regions: [ { start: 0, size: 1 } ]\n    sequence:\n"
	struct fota_config cfg;
	struct cfg_error err;

	T_OK(load(FP_HEAD "      fingerprint: { did: 0xF15A, data: \"T1 2026\" }\n", &cfg, &err));
	T_EQ(cfg.ecus[0].sequence.fingerprint_did, 0xF15A);
	T_EQ_STR(cfg.ecus[0].sequence.fingerprint, "T1 2026");
	cfg_release(&cfg);
	T_OK(load(FP_HEAD "      reset: soft\n", &cfg, &err));
	T_EQ_STR(cfg.ecus[0].sequence.fingerprint, "");
	cfg_release(&cfg);
	EXPECT_ERROR(FP_HEAD "      fingerprint: { did: 0xF15A }\n", 7, 20, "data");
	EXPECT_ERROR(FP_HEAD "      fingerprint: { did: 0xFFFF, data: x }\n", 7, 27,
		     "out of range");
	EXPECT_ERROR(FP_HEAD "      fingerprint: { did: 1, data: \"\" }\n", 7, 36, "empty");
	EXPECT_ERROR(FP_HEAD
		     "      fingerprint: { did: 1, data: "
		     "01234567890123456789012345678901234567890123456789012345678901234 }\n",
		     7, 36, "longer than 64");
#undef FP_HEAD
}

/* compression: method required, dfi 0xN0 (default per method), level within the method's range. */
static void test_config__compression(void)
{
#define CZ_HEAD                                                               \
	"ecus:\n  - name: e\n    request_id: 0x7E0\n    response_id: 0x7E8\n" \
	"    regions: [ { start: 0, size: 1 } ]\n"
	struct fota_config cfg;
	struct cfg_error err;

	T_OK(load(CZ_HEAD, &cfg, &err));
	T_EQ(cfg.ecus[0].compression.method, COMPRESS_NONE);
	T_EQ(cfg.ecus[0].compression.level, -1);
	cfg_release(&cfg);
	T_OK(load(CZ_HEAD "    compression: { method: lz4 }\n", &cfg, &err));
	T_EQ(cfg.ecus[0].compression.method, COMPRESS_LZ4);
	T_EQ(cfg.ecus[0].compression.dfi, 0x10);
	T_EQ(cfg.ecus[0].compression.level, -1);
	cfg_release(&cfg);
	T_OK(load(CZ_HEAD "    compression: { method: deflate, dfi: 0xA0, level: 9 }\n", &cfg,
		  &err));
	T_EQ(cfg.ecus[0].compression.method, COMPRESS_DEFLATE);
	T_EQ(cfg.ecus[0].compression.dfi, 0xA0);
	T_EQ(cfg.ecus[0].compression.level, 9);
	cfg_release(&cfg);
	T_OK(load(CZ_HEAD "    compression: { method: none }\n", &cfg, &err));
	T_EQ(cfg.ecus[0].compression.method, COMPRESS_NONE);
	cfg_release(&cfg);
	EXPECT_ERROR(CZ_HEAD "    compression: { method: zstd }\n", 6, 28, "lz4, deflate or none");
	EXPECT_ERROR(CZ_HEAD "    compression: { dfi: 0x10 }\n", 6, 18,
		     "missing required key 'method'");
	EXPECT_ERROR(CZ_HEAD "    compression: { method: lz4, dfi: 0x11 }\n", 6, 38,
		     "expected 0xN0");
	EXPECT_ERROR(CZ_HEAD "    compression: { method: lz4, dfi: 0x00 }\n", 6, 38,
		     "expected 0xN0");
	EXPECT_ERROR(CZ_HEAD "    compression: { method: none, dfi: 0x10 }\n", 6, 39,
		     "method none");
	EXPECT_ERROR(CZ_HEAD "    compression: { method: deflate, level: 10 }\n", 6, 44,
		     "from 0 to 9");
	EXPECT_ERROR(CZ_HEAD "    compression: { method: lz4, level: 13 }\n", 6, 40,
		     "from 0 to 12");
	EXPECT_ERROR(CZ_HEAD "    sequence: { data_format: 0x01 }\n"
			     "    compression: { method: lz4 }\n",
		     7, 18, "both set the dataFormatIdentifier");
#undef CZ_HEAD
}

/* identify: a list of DIDs, no duplicates, at most CFG_IDENTIFY_MAX; identify_wait_ms. */
static void test_config__identify(void)
{
#define ID_HEAD                                                               \
	"ecus:\n  - name: e\n    request_id: 0x7E0\n    response_id: 0x7E8\n" \
	"    regions: [ { start: 0, size: 1 } ]\n"
	struct fota_config cfg;
	struct cfg_error err;

	T_OK(load(ID_HEAD, &cfg, &err));
	T_EQ(cfg.ecus[0].nidentify, 0);
	T_EQ(cfg.ecus[0].identify_wait_ms, 10000);
	cfg_release(&cfg);
	T_OK(load(ID_HEAD "    identify: [0xF189, 0xF18C]\n    identify_wait_ms: 2500\n", &cfg,
		  &err));
	T_EQ(cfg.ecus[0].nidentify, 2);
	T_EQ(cfg.ecus[0].identify[0], 0xF189);
	T_EQ(cfg.ecus[0].identify[1], 0xF18C);
	T_EQ(cfg.ecus[0].identify_wait_ms, 2500);
	cfg_release(&cfg);
	EXPECT_ERROR(ID_HEAD "    identify: 0xF189\n", 6, 15, "expected a list");
	EXPECT_ERROR(ID_HEAD "    identify: [0xF189, 0xF189]\n", 6, 24, "twice");
	EXPECT_ERROR(ID_HEAD "    identify: [0xFFFF]\n", 6, 16, "out of range");
	EXPECT_ERROR(ID_HEAD
		     "    identify: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, "
		     "17]\n",
		     6, 71, "more than 16");
#undef ID_HEAD
}

/* RFC 8032 §7.1 TEST 1 and TEST 2 public keys, and the key id of the first */
#define PUB1 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define PUB2 "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
#define KID1 "21fe31dfa154a261"

static void test_config__trust(void)
{
	struct fota_config cfg;
	struct cfg_error err;
	FILE *f;

	T_OK(load(ECU(""), &cfg, &err));
	T_EQ(cfg.trust.sig.nkeys, 0);
	T_EQ(cfg.trust.sig.require_signature, false);
	cfg_release(&cfg);

	/* require_signature defaults to true once a key is there; threshold to 1 */
	T_OK(load(ECU("trust:\n  keys:\n    - { name: platform, key: " PUB1 " }\n"
		      "    - key: " PUB2 "\n"),
		  &cfg, &err));
	T_EQ(cfg.trust.sig.nkeys, 2);
	T_EQ_STR(cfg.trust.sig.keys[0].id, KID1);
	T_EQ_STR(cfg.trust.sig.names[0], "platform");
	T_EQ(cfg.trust.sig.threshold, 1);
	T_TRUE(cfg.trust.sig.require_signature);
	T_EQ(cfg_trust_allowed(&cfg, "e"), ~0u);
	cfg_release(&cfg);

	/* per ECU, by name or id; a key file relative to the configuration's directory */
	f = fopen("t-trust.pub", "w");
	T_TRUE(f != NULL);
	fputs(PUB2 "\n", f);
	fclose(f);
	T_OK(cfg_load_string(ECU("trust:\n  threshold: 2\n  require_signature: false\n"
				 "  ecus: { e: [" KID1 ", release] }\n  keys:\n"
				 "    - { name: platform, key: " PUB1 " }\n"
				 "    - { name: release, file: t-trust.pub }\n"),
			     strlen(ECU("trust:\n  threshold: 2\n  require_signature: false\n"
					"  ecus: { e: [" KID1 ", release] }\n  keys:\n"
					"    - { name: platform, key: " PUB1 " }\n"
					"    - { name: release, file: t-trust.pub }\n")),
			     "./t.yaml", &cfg, &err));
	T_EQ(cfg.trust.sig.threshold, 2);
	T_TRUE(!cfg.trust.sig.require_signature);
	T_EQ(cfg_trust_allowed(&cfg, "e"), 3);
	T_EQ(cfg.trust.sig.keys[1].key[0], 0x3d);
	cfg_release(&cfg);
	unlink("t-trust.pub");

	EXPECT_ERROR(ECU("trust:\n  threshold: 1\n"), 7, 3, "missing required key 'keys'");
	EXPECT_ERROR(ECU("trust:\n  keys: []\n"), 7, 9, "at least one key");
	EXPECT_ERROR(ECU("trust:\n  keys: [ { key: 00 } ]\n"), 7, 18, "64 hex digits");
	EXPECT_ERROR(ECU("trust:\n  keys: [ { key: " PUB1 " }, { key: " PUB1 " } ]\n"), 7, 86,
		     "given twice");
	EXPECT_ERROR(ECU("trust:\n  threshold: 2\n  keys: [ { key: " PUB1 " } ]\n"), 7, 14,
		     "only 1 keys");
	EXPECT_ERROR(ECU("trust:\n  keys: [ { file: /nonexistent.pub } ]\n"), 7, 19,
		     "No such file");
	EXPECT_ERROR(ECU("trust:\n  keys: [ { file: f, key: " PUB1 " } ]\n"), 7, 11,
		     "one of file: and key:");
	EXPECT_ERROR(ECU("trust:\n  keys: [ { key: " PUB1 " } ]\n  ecus: { e: [ nobody ] }\n"), 8,
		     16, "no key named 'nobody'");
	EXPECT_ERROR(ECU("trust:\n  keys: [ { key: " PUB1 " } ]\n  ecus: { x: [ " KID1 " ] }\n"), 7,
		     3, "no ECU named 'x'");
	EXPECT_ERROR(ECU("trust:\n  threshold: 2\n  keys: [ { key: " PUB1 " }, { key: " PUB2
			 " } ]\n  ecus: { e: [ " KID1 " ] }\n"),
		     9, 14, "never meet the threshold 2");
}

/* platform: the MQTT link and the firmware download; off unless given. */
static void test_config__platform(void)
{
	static const char full[] =
		"platform:\n  mqtt:\n    url: mqtts://broker.example.com\n"
		"    client_id: tcu-0042\n    topic_prefix: acme/fleet\n"
		"    ca: pki/ca.pem\n    cert: /etc/fota/tcu.crt\n    key: tcu.key\n"
		"    keepalive: 30\n"
		"  download: { ca: ca2.pem, max_bytes: 0x100000, stall_timeout_s: 5, "
		"connect_timeout_s: 7 }\n";
	struct fota_config cfg;
	struct cfg_error err;

	T_OK(load("bus: unix:/b\n", &cfg, &err));
	T_EQ_STR(cfg.platform.mqtt.url, "");
	T_EQ_STR(cfg.platform.mqtt.topic_prefix, "fota");
	T_EQ(cfg.platform.mqtt.keepalive_s, 60);
	T_EQ(cfg.platform.download.max_bytes, 0);
	T_EQ(cfg.platform.download.stall_timeout_s, 30);
	T_EQ(cfg.platform.download.connect_timeout_s, 20);
	cfg_release(&cfg);

	T_OK(cfg_load_string(full, strlen(full), "/etc/fota/fota.yaml", &cfg, &err));
	T_EQ_STR(cfg.platform.mqtt.host, "broker.example.com");
	T_EQ(cfg.platform.mqtt.port, 8883);
	T_TRUE(cfg.platform.mqtt.tls);
	T_EQ_STR(cfg.platform.mqtt.client_id, "tcu-0042");
	T_EQ_STR(cfg.platform.mqtt.topic_prefix, "acme/fleet");
	/* files relative to the configuration file's directory */
	T_EQ_STR(cfg.platform.mqtt.ca, "/etc/fota/pki/ca.pem");
	T_EQ_STR(cfg.platform.mqtt.cert, "/etc/fota/tcu.crt");
	T_EQ_STR(cfg.platform.mqtt.key, "/etc/fota/tcu.key");
	T_EQ(cfg.platform.mqtt.keepalive_s, 30);
	T_EQ_STR(cfg.platform.download.ca, "/etc/fota/ca2.pem");
	T_EQ(cfg.platform.download.max_bytes, 0x100000);
	T_EQ(cfg.platform.download.stall_timeout_s, 5);
	T_EQ(cfg.platform.download.connect_timeout_s, 7);
	cfg_release(&cfg);

	T_OK(load("platform: { mqtt: { url: \"mqtt://[::1]:1884/\", client_id: a } }\n", &cfg,
		  &err));
	T_EQ_STR(cfg.platform.mqtt.host, "::1");
	T_EQ(cfg.platform.mqtt.port, 1884);
	T_TRUE(!cfg.platform.mqtt.tls);
	cfg_release(&cfg);

	EXPECT_ERROR("platform: { mqtt: { client_id: a } }\n", 1, 19, "missing required key 'url'");
	EXPECT_ERROR("platform: { mqtt: { url: mqtts://h } }\n", 1, 19,
		     "missing required key 'client_id'");
	EXPECT_ERROR("platform: { mqtt: { url: http://h, client_id: a } }\n", 1, 26,
		     "not mqtts://HOST[:PORT]");
	EXPECT_ERROR("platform: { mqtt: { url: \"mqtts://h:0\", client_id: a } }\n", 1, 26,
		     "port is not 1..65535");
	EXPECT_ERROR("platform: { mqtt: { url: \"mqtts://h:99999\", client_id: a } }\n", 1, 26,
		     "port is not 1..65535");
	EXPECT_ERROR("platform: { mqtt: { url: \"mqtts://u@h\", client_id: a } }\n", 1, 26,
		     "nothing may follow");
	EXPECT_ERROR("platform: { mqtt: { url: \"mqtts://\", client_id: a } }\n", 1, 26, "no host");
	EXPECT_ERROR("platform: { mqtt: { url: mqtts://h, client_id: a/b } }\n", 1, 48,
		     "client_id 'a/b'");
	EXPECT_ERROR("platform: { mqtt: { url: mqtts://h, client_id: .. } }\n", 1, 48,
		     "client_id '..'");
	EXPECT_ERROR("platform: { mqtt: { url: mqtts://h, client_id: a, topic_prefix: a/+ } }\n", 1,
		     65, "topic_prefix 'a/+'");
	EXPECT_ERROR("platform: { mqtt: { url: mqtts://h, client_id: a, topic_prefix: /a } }\n", 1,
		     65, "topic_prefix '/a'");
	EXPECT_ERROR("platform: { mqtt: { url: mqtts://h, client_id: a, cert: c } }\n", 1, 57,
		     "cert: and key: together");
	EXPECT_ERROR("platform: { mqtt: { url: mqtt://h, client_id: a, ca: c } }\n", 1, 54,
		     "need an mqtts:// url");
	EXPECT_ERROR("platform: { mqtt: { url: mqtts://h, client_id: a, keepalive: 1 } }\n", 1, 62,
		     "out of range");
	EXPECT_ERROR("platform: { mqtt: { url: mqtts://h, client_id: a, qos: 2 } }\n", 1, 51,
		     "qos");
	EXPECT_ERROR("platform: { download: { max_bytes: 0 } }\n", 1, 36, "out of range");
	EXPECT_ERROR("platform: { ftp: {} }\n", 1, 13, "ftp");
}

static const struct t_case cases[] = {
	T_CASE(config__platform),
	T_CASE(config__trust),
	T_CASE(config__good_file_round_trip),
	T_CASE(config__defaults),
	T_CASE(config__ids_29bit),
	T_CASE(config__unknown_key),
	T_CASE(config__bad_values),
	T_CASE(config__max_firmware_bytes),
	T_CASE(config__duplicates),
	T_CASE(config__missing_and_regions),
	T_CASE(config__syntax_and_documents),
	T_CASE(config__nesting_depth),
	T_CASE(config__file),
	T_CASE(config__complete_ecus),
	T_CASE(config__man_page_examples),
	T_CASE(config__fingerprint),
	T_CASE(config__identify),
	T_CASE(config__compression),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
