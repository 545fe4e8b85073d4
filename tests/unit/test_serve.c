// SPDX-License-Identifier: MIT
/*
 * Unit tests of the pieces of `fota serve` (cmd/serve.h): inbox order
 * (modification time, then name), package verification reasons, the
 * platform status mapping and the report writer (keys, atomic file, read
 * back).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cmd/serve.h"
#include "core/update.h"
#include "tests/unit/t.h"

static char tmpdir[256];

static void mk_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fota-test-serve.XXXXXX");
	if (!mkdtemp(tmpdir))
		abort();
}

static void rm_tmp(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		t_fail(__FILE__, __LINE__, "cannot remove %s", tmpdir);
}

static void put(const char *name, const char *text, time_t mtime)
{
	char p[512];
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	if (mtime)
		utimensat(AT_FDCWD, p, ts, 0);
}

static void test_serve__inbox_order_mtime_then_name(void)
{
	struct cmd_serve_entry *v;
	size_t n;

	mk_tmp();
	put("c.yaml", "", 1000);
	put("a.yaml", "", 2000);
	put("b.yaml", "", 1000);
	put(".hidden.yaml", "", 10);
	put("x.cancel", "", 10);
	put("notes.txt", "", 10);
	put(".yaml", "", 10);
	T_OK(cmd_serve_inbox_list(tmpdir, &v, &n));
	T_EQ(n, 3);
	if (n == 3) {
		T_EQ_STR(v[0].name, "b.yaml");
		T_EQ_STR(v[1].name, "c.yaml");
		T_EQ_STR(v[2].name, "a.yaml");
	}
	free(v);
	rm_tmp();
	T_ERR(cmd_serve_inbox_list("/nonexistent/fota", &v, &n), -ENOENT);
}

static const char cfg_text[] = "ecus:\n"
			       "  - name: hydraulics\n"
			       "    request_id: 0x7E0\n"
			       "    response_id: 0x7E8\n"
			       "    regions:\n"
			       "      - { start: 0x08000000, size: 0x100 }\n";

/* 16 bytes at 0x08000000 */
static const char hex_ok[] = ":020000040800F2\n"
			     ":10000000000102030405060708090A0B0C0D0E0F78\n"
			     ":00000001FF\n";
/* the same 16 bytes at 0x08000100: outside the region */
static const char hex_out[] = ":020000040800F2\n"
			      ":10010000000102030405060708090A0B0C0D0E0F77\n"
			      ":00000001FF\n";

#define REQ_ID "1b4e28ba-2fa1-41d2-883f-0016d3cca427"

static void write_req(const char *name, const char *ecu, const char *fw, const char *sha)
{
	char text[512];

	snprintf(text, sizeof(text), "id: " REQ_ID "\necu: %s\nfirmware: %s\nsha256: %s\n", ecu, fw,
		 sha);
	put(name, text, 0);
}

static void sha_of(const char *name, char out[65])
{
	char p[512];
	uint8_t d[32];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	T_OK(cmd_serve_sha256_file(p, d));
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static struct cmd_serve_verify_opts vopts = { .max_bytes = 1u << 20 };

static int verify(const struct fota_config *cfg, const char *req, char *why, size_t n)
{
	struct cmd_serve_pkg pkg;
	char p[512];
	int r;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, req);
	r = cmd_serve_verify(p, cfg, &vopts, &pkg, why, n);
	if (!r) {
		T_EQ(pkg.bytes, 16);
		T_EQ_STR(pkg.ecu->name, "hydraulics");
		cmd_serve_pkg_release(&pkg);
	}
	return r;
}

static void test_serve__verify_reasons(void)
{
	struct fota_config cfg;
	struct cfg_error err;
	char sha[65], sha_out[65], why[768];

	mk_tmp();
	T_OK(cfg_load_string(cfg_text, sizeof(cfg_text) - 1, "fota.yaml", &cfg, &err));
	put("fw.hex", hex_ok, 0);
	put("out.hex", hex_out, 0);
	put("bad.hex", ":10000000ZZ\n", 0);
	sha_of("fw.hex", sha);
	sha_of("out.hex", sha_out);

	write_req("ok.yaml", "hydraulics", "fw.hex", sha);
	T_OK(verify(&cfg, "ok.yaml", why, sizeof(why)));

	write_req("ecu.yaml", "brakes", "fw.hex", sha);
	T_ERR(verify(&cfg, "ecu.yaml", why, sizeof(why)), -EBADMSG);
	T_TRUE(strstr(why, "unknown ECU 'brakes'") != NULL);

	write_req("sha.yaml", "hydraulics", "fw.hex", sha_out);
	T_ERR(verify(&cfg, "sha.yaml", why, sizeof(why)), -EBADMSG);
	T_TRUE(strstr(why, "sha256 mismatch") != NULL);

	write_req("missing.yaml", "hydraulics", "nope.hex", sha);
	T_ERR(verify(&cfg, "missing.yaml", why, sizeof(why)), -ENOENT);
	T_TRUE(strstr(why, "nope.hex") != NULL);

	sha_of("bad.hex", sha);
	write_req("hex.yaml", "hydraulics", "bad.hex", sha);
	T_ERR(verify(&cfg, "hex.yaml", why, sizeof(why)), -EBADMSG);
	T_TRUE(strstr(why, "bad.hex:1:") != NULL);

	write_req("out.yaml", "hydraulics", "out.hex", sha_out);
	T_ERR(verify(&cfg, "out.yaml", why, sizeof(why)), -EBADMSG);
	T_TRUE(strstr(why, "0x08000100-0x0800010f lie outside") != NULL);

	/* the same 16 bytes as an S-record file, told by content */
	put("fw.s37",
	    "S00600004844521B\nS31508000000000102030405060708090A0B0C0D0E0F6A\n"
	    "S70508000000F2\n",
	    0);
	sha_of("fw.s37", sha);
	write_req("srec.yaml", "hydraulics", "fw.s37", sha);
	T_OK(verify(&cfg, "srec.yaml", why, sizeof(why)));

	/* a raw binary with base:, and the same binary placed outside the region */
	put("fw.bin", "ABCDEFGHIJKLMNOP", 0);
	sha_of("fw.bin", sha);
	{
		char text[512];

		snprintf(text, sizeof(text),
			 "id: " REQ_ID "\necu: hydraulics\nfirmware: fw.bin\nsha256: %s\n"
			 "base: 0x08000000\n",
			 sha);
		put("bin.yaml", text, 0);
		T_OK(verify(&cfg, "bin.yaml", why, sizeof(why)));
		snprintf(text, sizeof(text),
			 "id: " REQ_ID "\necu: hydraulics\nfirmware: fw.bin\nsha256: %s\n"
			 "base: 0x08000100\n",
			 sha);
		put("bin-out.yaml", text, 0);
		T_ERR(verify(&cfg, "bin-out.yaml", why, sizeof(why)), -EBADMSG);
		T_TRUE(strstr(why, "0x08000100-0x0800010f lie outside") != NULL);
	}
	/* without base: a binary is no known format */
	write_req("nobase.yaml", "hydraulics", "fw.bin", sha);
	T_ERR(verify(&cfg, "nobase.yaml", why, sizeof(why)), -EBADMSG);
	T_TRUE(strstr(why, "unknown image format") != NULL);

	/* not a regular file: a FIFO would block a plain open() for good */
	{
		char fifo[512];

		snprintf(fifo, sizeof(fifo), "%s/fifo.hex", tmpdir);
		T_OK(mkfifo(fifo, 0600));
		write_req("fifo.yaml", "hydraulics", "fifo.hex", sha);
		T_ERR(verify(&cfg, "fifo.yaml", why, sizeof(why)), -EBADMSG);
		T_TRUE(strstr(why, "fifo.hex: not a regular file") != NULL);
		write_req("zero.yaml", "hydraulics", "/dev/zero", sha);
		T_ERR(verify(&cfg, "zero.yaml", why, sizeof(why)), -EBADMSG);
		T_TRUE(strstr(why, "/dev/zero: not a regular file") != NULL);
	}

	/* larger than max_firmware_bytes */
	vopts.max_bytes = 10;
	T_ERR(verify(&cfg, "ok.yaml", why, sizeof(why)), -EBADMSG);
	T_TRUE(strstr(why, "larger than max_firmware_bytes (10)") != NULL);
	vopts.max_bytes = 1u << 20;

	/* the verified bytes are kept as COPY_DIR/<id>, and can be verified from there */
	{
		char copy[512], fw[512];
		struct cmd_serve_pkg pkg;

		vopts.copy_dir = tmpdir;
		T_OK(verify(&cfg, "ok.yaml", why, sizeof(why)));
		vopts.copy_dir = NULL;
		snprintf(copy, sizeof(copy), "%s/" REQ_ID, tmpdir);
		snprintf(fw, sizeof(fw), "%s/fw.hex", tmpdir);
		T_OK(unlink(fw)); /* the original has gone */
		vopts.source = copy;
		snprintf(fw, sizeof(fw), "%s/ok.yaml", tmpdir);
		T_OK(cmd_serve_verify(fw, &cfg, &vopts, &pkg, why, sizeof(why)));
		T_EQ(pkg.bytes, 16);
		cmd_serve_pkg_release(&pkg);
		vopts.source = NULL;
		unlink(copy);
	}

	put("syntax.yaml", "id: [\n", 0);
	T_ERR(verify(&cfg, "syntax.yaml", why, sizeof(why)), -EBADMSG);
	T_TRUE(strstr(why, "syntax.yaml:") != NULL);

	cfg_release(&cfg);
	rm_tmp();
}

static void test_serve__platform_status(void)
{
	T_EQ_STR(cmd_serve_platform_status(UPD_STATUS_IDLE, true), "pending");
	T_EQ_STR(cmd_serve_platform_status(UPD_STATUS_FLASHING, true), "in progress");
	T_EQ_STR(cmd_serve_platform_status(UPD_STATUS_VERIFYING, true), "in progress");
	T_EQ_STR(cmd_serve_platform_status(UPD_STATUS_SUCCESS, true), "successful");
	T_EQ_STR(cmd_serve_platform_status(UPD_STATUS_FLASH_FAILED, true), "failed");
	T_EQ_STR(cmd_serve_platform_status(UPD_STATUS_VERIFY_FAILED, true), "failed");
	T_EQ_STR(cmd_serve_platform_status(UPD_STATUS_VERIFY_TIMEOUT, true), "failed");
	T_EQ_STR(cmd_serve_platform_status(UPD_STATUS_CANCELLED, true), "cancelled");
}

static void test_serve__report_roundtrip(void)
{
	static const char *const keys[] = {
		"id",
		"request_file",
		"ecu",
		"firmware",
		"sha256",
		"image_bytes",
		"status",
		"reason",
		"update_status",
		"update_status_text",
		"attempts",
		"received_time",
		"update_available_time",
		"update_start_time",
		"update_end_time",
		"update_progress",
		"log",
	};
	struct cmd_serve_report r, back;
	json_object *v, *log, *e;
	char p[512];
	struct stat st;

	mk_tmp();
	T_OK(cmd_serve_report_new(&r, "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "r.yaml",
				  1700000000));
	T_EQ_STR(r.file, "1b4e28ba-2fa1-41d2-883f-0016d3cca427.json");
	cmd_serve_report_set_int(&r, "update_status", 0x50);
	cmd_serve_report_set_time(&r, "update_end_time", 0);
	cmd_serve_report_log(&r, 1700000001, "step_failed", "RequestDownload", 0, 0x70, "refused");
	T_OK(cmd_serve_report_write(&r, tmpdir));
	cmd_serve_report_release(&r);

	snprintf(p, sizeof(p), "%s/.1b4e28ba-2fa1-41d2-883f-0016d3cca427.json.tmp", tmpdir);
	T_TRUE(stat(p, &st) != 0); /* no temporary file left */
	T_OK(cmd_serve_report_load(&back, tmpdir, "1b4e28ba-2fa1-41d2-883f-0016d3cca427"));
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(keys); i++)
		T_TRUE(json_object_object_get_ex(back.o, keys[i], NULL));
	T_EQ(json_object_object_length(back.o), FOTA_ARRAY_SIZE(keys));
	T_EQ_STR(cmd_serve_report_status(&back), "pending");
	T_TRUE(json_object_object_get_ex(back.o, "update_status", &v));
	T_EQ(json_object_get_int(v), 0x50);
	T_TRUE(json_object_object_get_ex(back.o, "update_end_time", &v));
	T_TRUE(v == NULL); /* JSON null */
	T_TRUE(json_object_object_get_ex(back.o, "log", &log));
	T_EQ(json_object_array_length(log), 1);
	e = json_object_array_get_idx(log, 0);
	T_TRUE(json_object_object_get_ex(e, "nrc_name", &v));
	T_EQ_STR(json_object_get_string(v), "uploadDownloadNotAccepted");
	T_TRUE(json_object_object_get_ex(e, "nrc", &v));
	T_EQ(json_object_get_int(v), 0x70);
	T_TRUE(json_object_object_get_ex(e, "segment", &v));
	cmd_serve_report_release(&back);

	/* a request that did not parse: under its file name, apart from real ids */
	T_OK(cmd_serve_report_new(&r, NULL, "broken.yaml", 1700000000));
	T_EQ_STR(r.file, "rejected-broken.json");
	cmd_serve_report_release(&r);

	put("junk.json", "[1, 2", 0);
	T_ERR(cmd_serve_report_load(&back, tmpdir, "junk"), -EBADMSG);
	T_ERR(cmd_serve_report_load(&back, tmpdir, "absent"), -ENOENT);
	rm_tmp();
}

/* File names of 255 bytes and names that are not UTF-8 still give a report that is written and parses. */
static void test_serve__report_of_hostile_file_names(void)
{
	struct cmd_serve_report r;
	char name[256], path[1024];
	json_object *o, *v;

	mk_tmp();
	memset(name, 'b', 250);
	strcpy(name + 250, ".yaml");
	T_OK(cmd_serve_report_new(&r, NULL, name, 1700000000u));
	T_EQ(strlen(r.file), 251); /* 255 - 4: room for the writer's .tmp */
	T_EQ(strncmp(r.file, "rejected-bbbb", 13), 0);
	T_OK(cmd_serve_report_write(&r, tmpdir));
	cmd_serve_report_release(&r);

	T_OK(cmd_serve_report_new(&r, NULL, "bad\377name\300\200.yaml", 1700000000u));
	T_OK(cmd_serve_report_write(&r, tmpdir));
	snprintf(path, sizeof(path), "%s/%s", tmpdir, r.file);
	o = json_object_from_file(path);
	T_TRUE(o != NULL);
	T_TRUE(json_object_object_get_ex(o, "request_file", &v));
	/* the invalid bytes (an overlong form among them) as text, the rest kept */
	T_EQ_STR(json_object_get_string(v), "bad\\xffname\\xc0\\x80.yaml");
	json_object_put(o);
	cmd_serve_report_release(&r);

	/* two long names that differ only at the end stay two files */
	{
		char a[256], b[256], fa[300], fb[300];

		memset(a, 'x', 254);
		a[254] = '\0';
		strcpy(b, a);
		b[253] = 'y';
		cmd_serve_file_name(fa, sizeof(fa), 251, "", a, 254, ".json");
		cmd_serve_file_name(fb, sizeof(fb), 251, "", b, 254, ".json");
		T_EQ(strlen(fa), 251);
		T_TRUE(strcmp(fa, fb) != 0);
	}
	rm_tmp();
}

static void test_serve__write_atomic_replaces(void)
{
	char p[512], buf[16] = { 0 };
	FILE *f;

	mk_tmp();
	T_OK(cmd_serve_write_atomic(tmpdir, "x", "first", 5));
	T_OK(cmd_serve_write_atomic(tmpdir, "x", "second", 6));
	snprintf(p, sizeof(p), "%s/x", tmpdir);
	f = fopen(p, "r");
	T_TRUE(f != NULL);
	if (f) {
		T_EQ(fread(buf, 1, sizeof(buf) - 1, f), 6);
		fclose(f);
	}
	T_EQ_STR(buf, "second");
	T_ERR(cmd_serve_write_atomic("/nonexistent/fota", "x", "a", 1), -ENOENT);
	rm_tmp();
}

/* STATE_DIR/versions: only ever raised, other ECUs kept, a bad file named as such */
static void test_serve__installed_versions(void)
{
	char v[CFG_VERSION_MAX], path[300];
	FILE *f;

	mk_tmp();
	T_ERR(cmd_serve_version_get(tmpdir, "hx", v, sizeof(v)), -ENOENT);
	T_OK(cmd_serve_version_raise(tmpdir, "hx", "2.9"));
	T_OK(cmd_serve_version_raise(tmpdir, "brake", "7"));
	T_OK(cmd_serve_version_raise(tmpdir, "hx", "2.10"));
	T_OK(cmd_serve_version_get(tmpdir, "hx", v, sizeof(v)));
	T_EQ_STR(v, "2.10");
	/* a downgrade that was allowed does not lower the floor */
	T_OK(cmd_serve_version_raise(tmpdir, "hx", "1.0"));
	T_OK(cmd_serve_version_get(tmpdir, "hx", v, sizeof(v)));
	T_EQ_STR(v, "2.10");
	T_OK(cmd_serve_version_get(tmpdir, "brake", v, sizeof(v)));
	T_EQ_STR(v, "7");
	T_ERR(cmd_serve_version_get(tmpdir, "nosuch", v, sizeof(v)), -ENOENT);
	snprintf(path, sizeof(path), "%s/" CMD_SERVE_VERSIONS, tmpdir);
	f = fopen(path, "a");
	T_TRUE(f != NULL);
	fputs("hx garbage\n", f);
	fclose(f);
	T_ERR(cmd_serve_version_get(tmpdir, "hx", v, sizeof(v)), -EBADMSG);
	rm_tmp();
}

static const struct t_case cases[] = {
	T_CASE(serve__installed_versions),    T_CASE(serve__inbox_order_mtime_then_name),
	T_CASE(serve__verify_reasons),	      T_CASE(serve__platform_status),
	T_CASE(serve__report_roundtrip),      T_CASE(serve__report_of_hostile_file_names),
	T_CASE(serve__write_atomic_replaces),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
