// SPDX-License-Identifier: MIT
/*
 * core/request.c: update request files dropped into serve's inbox. A good
 * request resolves its firmware next to itself; a bad one (not a UUID v4, a
 * malformed digest, an unknown or missing key) is refused with line:col.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/request.h"
#include "tests/unit/t.h"

#define UUID "3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a90"
#define SHA  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int load(const char *name, const char *text, struct cfg_request *req, struct cfg_error *err)
{
	return cfg_load_request_string(text, strlen(text), name, req, err);
}

static void expect_error(const char *text, unsigned line, unsigned col, const char *msg, int tl)
{
	struct cfg_request req;
	struct cfg_error err;
	int rc = load("in/r.yaml", text, &req, &err);

	if (rc != -EBADMSG)
		t_fail(__FILE__, tl, "rc %d, expected -EBADMSG", rc);
	if (err.line != line || err.col != col)
		t_fail(__FILE__, tl, "error at %u:%u, expected %u:%u (%s)", err.line, err.col, line,
		       col, err.msg);
	if (!strstr(err.msg, msg))
		t_fail(__FILE__, tl, "message \"%s\" lacks \"%s\"", err.msg, msg);
	T_EQ_STR(err.file, "in/r.yaml");
	T_EQ_STR(req.id, "");
}
#define EXPECT_ERROR(text, line, col, msg) expect_error(text, line, col, msg, __LINE__)

static void test_request__good(void)
{
	struct cfg_request req;
	struct cfg_error err;

	T_OK(load("/srv/fota/inbox/r1.yaml",
		  "id: 3F2B8C1E-9A4D-4E7F-8B21-0C5D6E7F8A90\necu: hydraulics\n"
		  "firmware: fw/hx-2.1.hex\nsha256: E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934"
		  "CA495991B7852B855\n",
		  &req, &err));
	T_EQ_STR(req.id, UUID);
	T_EQ_STR(req.ecu, "hydraulics");
	T_EQ_STR(req.firmware, "/srv/fota/inbox/fw/hx-2.1.hex");
	T_EQ_STR(req.sha256_hex, SHA);
	T_EQ_MEM(req.sha256, "\xe3\xb0\xc4\x42", 4);
	T_EQ(req.sha256[31], 0x55);

	/* absolute firmware paths stay; a request name without a directory keeps it relative */
	T_OK(load("/srv/in/r.yaml",
		  "id: " UUID "\necu: e\nfirmware: /opt/fw.hex\nsha256: " SHA "\n", &req, &err));
	T_EQ_STR(req.firmware, "/opt/fw.hex");
	T_OK(load("r.yaml", "id: " UUID "\necu: e\nfirmware: fw.hex\nsha256: " SHA "\n", &req,
		  &err));
	T_EQ_STR(req.firmware, "fw.hex");
	T_OK(load("/r.yaml", "{ id: " UUID ", ecu: e, firmware: fw.hex, sha256: " SHA " }\n", &req,
		  &err));
	T_EQ_STR(req.firmware, "/fw.hex");
}

static void test_request__uuid(void)
{
	T_TRUE(cfg_uuid_v4_ok(UUID));
	T_TRUE(cfg_uuid_v4_ok("00000000-0000-4000-b000-000000000000"));
	T_TRUE(!cfg_uuid_v4_ok("3f2b8c1e-9a4d-1e7f-8b21-0c5d6e7f8a90"));  /* version 1 */
	T_TRUE(!cfg_uuid_v4_ok("3f2b8c1e-9a4d-4e7f-cb21-0c5d6e7f8a90"));  /* variant 110x */
	T_TRUE(!cfg_uuid_v4_ok("3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a9"));	  /* 35 chars */
	T_TRUE(!cfg_uuid_v4_ok("3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a900")); /* 37 chars */
	T_TRUE(!cfg_uuid_v4_ok("3f2b8c1e9a4d-4e7f-8b21-0c5d6e7f8a90-"));  /* hyphens moved */
	T_TRUE(!cfg_uuid_v4_ok("3f2b8c1g-9a4d-4e7f-8b21-0c5d6e7f8a90"));  /* not hex */
	T_TRUE(!cfg_uuid_v4_ok(""));
}

static void test_request__errors(void)
{
	EXPECT_ERROR("id: 3f2b8c1e-9a4d-1e7f-8b21-0c5d6e7f8a90\necu: e\nfirmware: f\nsha256: " SHA
		     "\n",
		     1, 5, "not a UUID version 4");
	EXPECT_ERROR("id: " UUID "\necu: e\nfirmware: f\nsha256: abc\n", 4, 9,
		     "expected 64 hex digits");
	EXPECT_ERROR("id: " UUID "\necu: e\nfirmware: f\nsha256: "
		     "x3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
		     4, 9, "'x' is not a hex digit");
	EXPECT_ERROR("id: " UUID "\necu: e\nfirmware: f\nsha265: " SHA "\n", 4, 1,
		     "unknown key 'sha265' (did you mean 'sha256'?)");
	EXPECT_ERROR("id: " UUID "\necu: e\nsha256: " SHA "\n", 1, 1,
		     "firmware or firmware_url is required");
	EXPECT_ERROR("id: " UUID "\nid: " UUID "\n", 2, 1, "duplicate key 'id'");
	EXPECT_ERROR("id: " UUID "\necu: \"\"\nfirmware: f\nsha256: " SHA "\n", 2, 6,
		     "empty value");
	EXPECT_ERROR("id: " UUID "\necu: [e]\n", 2, 6, "expected a string");
	EXPECT_ERROR("- id\n", 1, 1, "expected a mapping");
	EXPECT_ERROR("id: : :\n", 1, 5, "YAML syntax");
}

/*
 * A request nested 100,000 levels deep (200 KB) cost libyaml 40 s of CPU,
 * quadratic in the depth, while serve was deaf. It is refused at the first
 * level beyond CFG_DEPTH_MAX, at that bracket's position.
 */
static void test_request__nesting_depth(void)
{
	size_t n = 100000, len = 4 + 2 * n + 1;
	char *text = malloc(len + 1);

	T_TRUE(text != NULL);
	if (!text)
		return;
	memcpy(text, "id: ", 4);
	memset(text + 4, '[', n);
	memset(text + 4 + n, ']', n);
	strcpy(text + 4 + 2 * n, "\n");
	/* the mapping is level 1, so the CFG_DEPTH_MAX-th '[' is the first one too deep */
	expect_error(text, 1, 4 + CFG_DEPTH_MAX, "nesting depth limit", __LINE__);

	/* exactly CFG_DEPTH_MAX levels parse; the schema then refuses the list */
	n = CFG_DEPTH_MAX - 1;
	memset(text + 4, '[', n);
	memset(text + 4 + n, ']', n);
	strcpy(text + 4 + 2 * n, "\n");
	EXPECT_ERROR(text, 1, 5, "expected a string, got a list");
	free(text);
}

static void test_request__file(void)
{
	char dir[] = "/tmp/fota-test-req-XXXXXX", path[128], expect[128];
	struct cfg_request req;
	struct cfg_error err;
	FILE *fp;

	T_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/r.yaml", dir);
	fp = fopen(path, "w");
	T_TRUE(fp != NULL);
	if (!fp)
		return;
	fprintf(fp, "id: %s\necu: hydraulics\nfirmware: hx.hex\nsha256: %s\n", UUID, SHA);
	fclose(fp);
	T_OK(cfg_load_request(path, &req, &err));
	snprintf(expect, sizeof(expect), "%s/hx.hex", dir);
	T_EQ_STR(req.firmware, expect);
	unlink(path);
	T_EQ(cfg_load_request(path, &req, &err), -ENOENT);
	T_EQ_STR(err.file, path);
	rmdir(dir);

	T_OK(cfg_load_request("examples/request.yaml", &req, &err));
	T_EQ_STR(req.ecu, "hydraulics");
	T_EQ_STR(req.firmware, "examples/app.hex");
}

/* expect: DIDs in hex to the values the ECU must report after the update. */
static void test_request__expect(void)
{
#define REQ "id: " UUID "\necu: e\nfirmware: f\nsha256: " SHA "\n"
	struct cfg_request req;
	struct cfg_error err;

	T_OK(load("r.yaml", REQ, &req, &err));
	T_EQ(req.nexpect, 0);
	T_OK(load("r.yaml", REQ "expect: { F189: \"2.1.0\", 0xf18c: hex:0102 }\n", &req, &err));
	T_EQ(req.nexpect, 2);
	T_EQ(req.expect[0].did, 0xF189);
	T_EQ_STR(req.expect[0].value, "2.1.0");
	T_EQ(req.expect[1].did, 0xF18C);
	T_EQ_STR(req.expect[1].value, "hex:0102");
	EXPECT_ERROR(REQ "expect: F189\n", 5, 9, "expected a mapping");
	EXPECT_ERROR(REQ "expect: { G189: x }\n", 5, 11, "is not a DID");
	EXPECT_ERROR(REQ "expect: { FFFF: x }\n", 5, 11, "is not a DID");
	EXPECT_ERROR(REQ "expect: { F189: x, 0xF189: y }\n", 5, 20, "twice");
	EXPECT_ERROR(REQ "expect: { F189: \"\" }\n", 5, 17, "empty");
#undef REQ
}

static void test_request__base(void)
{
	struct cfg_request req;
	struct cfg_error err;

	T_OK(load("in/r.yaml", "id: " UUID "\necu: e\nfirmware: fw.hex\nsha256: " SHA "\n", &req,
		  &err));
	T_EQ(req.has_base, 0);
	T_OK(load("in/r.yaml",
		  "id: " UUID "\necu: e\nfirmware: fw.bin\nsha256: " SHA "\nbase: 0x08000000\n",
		  &req, &err));
	T_TRUE(req.has_base);
	T_EQ(req.base, 0x08000000);
	EXPECT_ERROR("id: " UUID "\necu: e\nfirmware: fw.bin\nsha256: " SHA "\nbase: 0x100000000\n",
		     5, 7, "out of range");
}

/* The id of a request that does not load, for its report's name. */
static void test_request__peek_id(void)
{
	static const char bad_key[] = "id: 1B4E28BA-2FA1-41D2-883F-0016D3CCA427\ncolour: red\n";
	static const char two_ids[] = "id: 1b4e28ba-2fa1-41d2-883f-0016d3cca427\n"
				      "id: 1b4e28ba-2fa1-41d2-883f-0016d3cca428\n";
	static const char not_v4[] = "id: 1b4e28ba-2fa1-11d2-883f-0016d3cca427\n";
	static const char nested[] = "x: { id: 1b4e28ba-2fa1-41d2-883f-0016d3cca427 }\n";
	static const char broken[] = "id: 1b4e28ba-2fa1-41d2-883f-0016d3cca427\nx: [\n";
	char id[CFG_UUID_LEN + 1];

	T_TRUE(cfg_request_peek_id(bad_key, sizeof(bad_key) - 1, id));
	T_EQ_STR(id, "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
	T_TRUE(!cfg_request_peek_id(two_ids, sizeof(two_ids) - 1, id));
	T_EQ_STR(id, "");
	T_TRUE(!cfg_request_peek_id(not_v4, sizeof(not_v4) - 1, id));
	T_TRUE(!cfg_request_peek_id(nested, sizeof(nested) - 1, id));
	T_TRUE(!cfg_request_peek_id(broken, sizeof(broken) - 1, id)); /* not YAML: no id */
	T_TRUE(!cfg_request_peek_id("", 0, id));
}

#define REQ0 "id: " UUID "\necu: e\nfirmware: f.hex\nsha256: " SHA "\n"

static void test_request__trust_keys(void)
{
	struct cfg_request req;
	struct cfg_error err;

	T_OK(load("r.yaml",
		  REQ0 "size: 1234\nversion: 2.10.0\nexpires: 2026-12-31T23:59:59Z\n"
		       "not_before: 2026-12-01T00:00:00Z\nallow_downgrade: true\n",
		  &req, &err));
	T_TRUE(req.has_size);
	T_EQ(req.size, 1234);
	T_EQ_STR(req.version, "2.10.0");
	T_EQ(req.expires, 1798761599);
	T_EQ(req.not_before, 1796083200);
	T_TRUE(req.allow_downgrade);
	T_OK(load("r.yaml", REQ0, &req, &err));
	T_TRUE(!req.has_size && !req.version[0] && !req.expires && !req.not_before &&
	       !req.allow_downgrade);
	EXPECT_ERROR(REQ0 "version: 2.x\n", 5, 10, "not numbers separated by dots");
	EXPECT_ERROR(REQ0 "version: 1..2\n", 5, 10, "not numbers");
	EXPECT_ERROR(REQ0 "expires: 2026-02-30T00:00:00Z\n", 5, 10, "not a UTC time");
	EXPECT_ERROR(REQ0 "expires: 2026-12-31T00:00:00+01:00\n", 5, 10, "not a UTC time");
	EXPECT_ERROR(REQ0 "expires: 2026-12-01T00:00:00Z\nnot_before: 2026-12-02T00:00:00Z\n", 6,
		     13, "not before expires");
}

static void test_request__version_cmp(void)
{
	T_TRUE(cfg_version_ok("7") && cfg_version_ok("2.1.0") && cfg_version_ok("1.2.3.4.5.6.7.8"));
	T_TRUE(!cfg_version_ok("") && !cfg_version_ok("1.") && !cfg_version_ok(".1") &&
	       !cfg_version_ok("1.2.3.4.5.6.7.8.9") && !cfg_version_ok("1234567890") &&
	       !cfg_version_ok("v1") && !cfg_version_ok("-1"));
	T_EQ(cfg_version_cmp("2.1", "2.1.0"), 0);
	T_TRUE(cfg_version_cmp("2.9", "2.10") < 0);
	T_TRUE(cfg_version_cmp("10", "9.99") > 0);
	T_TRUE(cfg_version_cmp("2.1.0", "2.1.0.1") < 0);
	T_TRUE(cfg_version_cmp("007", "7") == 0);
}

/* firmware_url: https only, a host, visible ASCII; exclusive with firmware:, size: required */
static void test_request__url(void)
{
	struct cfg_request req;
	struct cfg_error err;
	char why[128], big[CFG_FW_URL_MAX + 16];

	T_TRUE(cfg_url_https_ok("https://fw.example.com/hx-2.1.hex", why, sizeof(why)));
	T_TRUE(cfg_url_https_ok("HTTPS://127.0.0.1:8443/a?b=c", NULL, 0));
	T_TRUE(!cfg_url_https_ok("http://fw.example.com/a.hex", why, sizeof(why)));
	T_TRUE(strstr(why, "only https://") != NULL);
	T_TRUE(!cfg_url_https_ok("ftp://h/a", NULL, 0));
	T_TRUE(!cfg_url_https_ok("file:///etc/passwd", NULL, 0));
	T_TRUE(!cfg_url_https_ok("https://", NULL, 0));
	T_TRUE(!cfg_url_https_ok("https:///a", NULL, 0));
	T_TRUE(!cfg_url_https_ok("https://user:pw@h/a", NULL, 0));
	T_TRUE(!cfg_url_https_ok("https://h/a b", NULL, 0));
	T_TRUE(!cfg_url_https_ok("https://h/a\r\nX: y", NULL, 0));
	T_TRUE(!cfg_url_https_ok("https://h/\xc3\xa4", NULL, 0));
	memset(big, 'a', sizeof(big));
	memcpy(big, "https://h/", 10);
	big[CFG_FW_URL_MAX] = '\0';
	T_TRUE(!cfg_url_https_ok(big, why, sizeof(why)));
	big[CFG_FW_URL_MAX - 1] = '\0';
	T_TRUE(cfg_url_https_ok(big, why, sizeof(why)));

	T_OK(load("/srv/in/r.yaml",
		  "id: " UUID "\necu: e\nfirmware_url: https://h/fw.hex\nsize: 12\nsha256: " SHA
		  "\n",
		  &req, &err));
	T_EQ_STR(req.firmware_url, "https://h/fw.hex");
	T_EQ_STR(req.firmware, "");
	T_TRUE(req.has_size && req.size == 12);
	EXPECT_ERROR("id: " UUID "\necu: e\nfirmware_url: http://h/fw.hex\nsize: 1\nsha256: " SHA
		     "\n",
		     3, 15, "firmware_url: only https://");
	EXPECT_ERROR("id: " UUID "\necu: e\nfirmware_url: https://h/fw.hex\nsha256: " SHA "\n", 3,
		     15, "size: is required");
	EXPECT_ERROR("id: " UUID "\necu: e\nfirmware: f.hex\nfirmware_url: https://h/f\nsize: 1\n"
		     "sha256: " SHA "\n",
		     3, 11, "not together with firmware_url");
}

static const struct t_case cases[] = {
	T_CASE(request__url),		T_CASE(request__trust_keys), T_CASE(request__version_cmp),
	T_CASE(request__good),		T_CASE(request__uuid),	     T_CASE(request__errors),
	T_CASE(request__nesting_depth), T_CASE(request__file),	     T_CASE(request__expect),
	T_CASE(request__base),		T_CASE(request__peek_id),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
