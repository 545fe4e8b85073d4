// SPDX-License-Identifier: MIT
/*
 * Update request files (core/request.h): id (RFC 4122 §4.4 UUID version 4),
 * ecu, firmware, sha256, loaded with the strict walk of core/cfg_yaml.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "core/cfg_yaml.h"
#include "core/err.h"
#include "core/hexstr.h"
#include "core/request.h"

bool cfg_uuid_v4_ok(const char *s)
{
	if (strlen(s) != CFG_UUID_LEN)
		return false;
	for (int i = 0; i < CFG_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (fota_hexval((unsigned char)s[i]) < 0) {
			return false;
		}
	}
	/* RFC 4122 §4.1.3 version nibble, §4.1.1 variant bits 10xx. */
	return s[14] == '4' && strchr("89abAB", s[19]);
}

bool cfg_url_https_ok(const char *s, char *why, size_t whylen)
{
	const char *host = s + 8, *p;
	char dummy[1];

	if (!why) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	if (strncasecmp(s, "https://", 8)) {
		snprintf(why, whylen, "only https:// URLs are downloaded");
		return false;
	}
	if (strlen(s) >= CFG_FW_URL_MAX) {
		snprintf(why, whylen, "longer than %d characters", CFG_FW_URL_MAX - 1);
		return false;
	}
	for (p = s; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			snprintf(why, whylen, "character %zu is not visible ASCII",
				 (size_t)(p - s) + 1);
			return false;
		}
	}
	/* userinfo@ would put a password in a request file and in every log line */
	if (!*host || strchr("/?#:@", *host) || memchr(host, '@', strcspn(host, "/?#"))) {
		snprintf(why, whylen, "no host (or a user name in it)");
		return false;
	}
	return true;
}

bool cfg_version_ok(const char *s)
{
	unsigned parts = 0, digits = 0;

	for (;; s++) {
		if (*s >= '0' && *s <= '9') {
			if (++digits > 9)
				return false;
			continue;
		}
		if (!digits || ++parts > 8)
			return false;
		if (!*s)
			return true;
		if (*s != '.')
			return false;
		digits = 0;
	}
}

/* The next number of a version at *s (0 past its end), *s moved past it and its dot. */
static unsigned long version_part(const char **s)
{
	unsigned long v = 0;

	while (**s >= '0' && **s <= '9')
		v = v * 10 + (unsigned long)(*(*s)++ - '0');
	if (**s == '.')
		(*s)++;
	return v;
}

int cfg_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		unsigned long x = version_part(&a), y = version_part(&b);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

int cfg_time_parse(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0;
	time_t t;

	if (strlen(s) != 20 ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 20)
		return -EINVAL;
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 &&
		    !isdigit((unsigned char)s[i]))
			return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises 31 April to 1 May: such a date is not a date */
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -EINVAL;
	*out = (int64_t)t;
	return 0;
}

void cfg_time_str(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "@%lld", (long long)t);
}

struct req_raw {
	char id[64];
	char ecu[CFG_NAME_MAX];
	char firmware[CFG_PATH_MAX];
	char firmware_url[CFG_FW_URL_MAX + 1];
	char sha256[80];
	struct cfg_expect expect[CFG_EXPECT_MAX];
	size_t nexpect;
	uint32_t base;
	uint64_t size;
	char version[CFG_VERSION_MAX];
	char expires[32], not_before[32];
	bool allow_downgrade;
};

/* expect: a mapping of DIDs (hex: F189 or 0xF189) to the values expected after the update. */
static int req_expect(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct req_raw *raw = obj;
	yaml_node_pair_t *pair;

	if (v->type != YAML_MAPPING_NODE)
		return cfg_fail(d, v, "expect: expected a mapping of DIDs to values");
	for (pair = v->data.mapping.pairs.start; pair < v->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = cfg_doc_node(d, pair->key);
		yaml_node_t *val = cfg_doc_node(d, pair->value);
		struct cfg_expect *x = &raw->expect[raw->nexpect];
		const char *s;
		char *end = NULL;
		unsigned long did;
		int rc;

		if (!k || !val || k->type != YAML_SCALAR_NODE)
			return cfg_fail(d, k ? k : v, "expect: keys must be DIDs");
		s = (const char *)k->data.scalar.value;
		if (!strncasecmp(s, "0x", 2))
			s += 2;
		did = fota_hexval((unsigned char)*s) >= 0 ? strtoul(s, &end, 16) : 0;
		if (!did || *end || did > 0xFFFE)
			return cfg_fail(d, k, "expect: '%.20s' is not a DID (hex, 0x0001..0xFFFE)",
					(const char *)k->data.scalar.value);
		for (size_t i = 0; i < raw->nexpect; i++)
			if (raw->expect[i].did == did)
				return cfg_fail(d, k, "expect: DID %04lX twice", did);
		if (raw->nexpect == CFG_EXPECT_MAX)
			return cfg_fail(d, k, "expect: more than %d DIDs", CFG_EXPECT_MAX);
		rc = cfg_get_str(d, val, x->value, sizeof(x->value), true);
		if (rc)
			return rc;
		x->did = (uint16_t)did;
		raw->nexpect++;
	}
	return 0;
}

static const struct cfg_field req_fields[] = {
	CFG_FIELD_NUM("id", CFG_F_STR, struct req_raw, id, 0, 0, CFG_REQUIRED | CFG_NONEMPTY),
	CFG_FIELD_NUM("ecu", CFG_F_STR, struct req_raw, ecu, 0, 0, CFG_REQUIRED | CFG_NONEMPTY),
	CFG_FIELD_STR("firmware", struct req_raw, firmware, CFG_NONEMPTY),
	CFG_FIELD_NUM("sha256", CFG_F_STR, struct req_raw, sha256, 0, 0,
		      CFG_REQUIRED | CFG_NONEMPTY),
	CFG_FIELD_FN("expect", req_expect, 0),
	CFG_FIELD_U32("base", struct req_raw, base, 0, UINT32_MAX),
	CFG_FIELD_U64("size", struct req_raw, size, 0, UINT64_MAX),
	CFG_FIELD_STR("version", struct req_raw, version, CFG_NONEMPTY),
	CFG_FIELD_STR("expires", struct req_raw, expires, CFG_NONEMPTY),
	CFG_FIELD_STR("not_before", struct req_raw, not_before, CFG_NONEMPTY),
	CFG_FIELD_BOOL("allow_downgrade", struct req_raw, allow_downgrade),
	CFG_FIELD_STR("firmware_url", struct req_raw, firmware_url, CFG_NONEMPTY),
};

enum {
	REQ_F_SIZE = 6,
	REQ_F_VERSION,
	REQ_F_EXPIRES,
	REQ_F_NOT_BEFORE,
	REQ_F_ALLOW_DOWNGRADE,
	REQ_F_URL
};

static int req_time(struct cfg_doc *d, yaml_node_t *v, const char *key, const char *s, int64_t *out)
{
	if (!v)
		return 0;
	if (cfg_time_parse(s, out))
		return cfg_fail(d, v, "%s: '%.40s' is not a UTC time like 2026-12-31T23:59:59Z",
				key, s);
	return 0;
}

/*
 * firmware_url: instead of firmware:. size: is required with it, so that
 * serve refuses a too large file before its first byte.
 */
static int url(struct cfg_doc *d, yaml_node_t **seen, const struct req_raw *raw,
	       struct cfg_request *req)
{
	char why[128];

	if (!seen[REQ_F_URL])
		return cfg_fail(d, cfg_doc_root(d),
				"request: firmware or firmware_url is required");
	if (seen[2])
		return cfg_fail(d, seen[2], "firmware: not together with firmware_url");
	if (!cfg_url_https_ok(raw->firmware_url, why, sizeof(why)))
		return cfg_fail(d, seen[REQ_F_URL], "firmware_url: %s", why);
	if (!seen[REQ_F_SIZE])
		return cfg_fail(d, seen[REQ_F_URL], "firmware_url: size: is required with it");
	strcpy(req->firmware_url, raw->firmware_url);
	return 0;
}

static int load(struct cfg_doc *d, const char *name, struct cfg_request *req)
{
	yaml_node_t *seen[FOTA_ARRAY_SIZE(req_fields)];
	struct req_raw raw = { 0 };
	const char *slash;
	size_t n;
	int rc;

	rc = cfg_walk(d, cfg_doc_root(d), req_fields, FOTA_ARRAY_SIZE(req_fields), &raw, seen,
		      "request");
	if (rc)
		return rc;
	if (!cfg_uuid_v4_ok(raw.id))
		return cfg_fail(d, seen[0], "id '%.40s' is not a UUID version 4", raw.id);
	for (int i = 0; i < CFG_UUID_LEN; i++)
		req->id[i] = (char)tolower((unsigned char)raw.id[i]);
	req->id[CFG_UUID_LEN] = '\0';
	strcpy(req->ecu, raw.ecu);
	memcpy(req->expect, raw.expect, sizeof(req->expect));
	req->nexpect = raw.nexpect;
	req->has_base = seen[5] != NULL;
	req->base = raw.base;
	req->has_size = seen[REQ_F_SIZE] != NULL;
	req->size = raw.size;
	req->allow_downgrade = raw.allow_downgrade;
	if (seen[REQ_F_VERSION] && !cfg_version_ok(raw.version))
		return cfg_fail(d, seen[REQ_F_VERSION],
				"version: '%.40s' is not numbers separated by dots (like 2.1.0)",
				raw.version);
	strcpy(req->version, raw.version);
	rc = req_time(d, seen[REQ_F_EXPIRES], "expires", raw.expires, &req->expires);
	if (!rc)
		rc = req_time(d, seen[REQ_F_NOT_BEFORE], "not_before", raw.not_before,
			      &req->not_before);
	if (rc)
		return rc;
	if (req->expires && req->not_before && req->not_before >= req->expires)
		return cfg_fail(d, seen[REQ_F_NOT_BEFORE], "not_before: not before expires");
	if (strlen(raw.sha256) != 64)
		return cfg_fail(d, seen[3], "sha256: expected 64 hex digits, got %zu characters",
				strlen(raw.sha256));
	if (fota_hex_bytes(raw.sha256, 64, "", req->sha256, sizeof(req->sha256), &n)) {
		const char *bad = raw.sha256;

		while (fota_hexval((unsigned char)*bad) >= 0)
			bad++;
		return cfg_fail(d, seen[3], "sha256: '%c' is not a hex digit", *bad);
	}
	for (int i = 0; i < 64; i++)
		req->sha256_hex[i] = (char)tolower((unsigned char)raw.sha256[i]);
	req->sha256_hex[64] = '\0';
	if (seen[REQ_F_URL] || !seen[2])
		return url(d, seen, &raw, req);
	/* A relative firmware path is relative to the request file, not to our cwd. */
	slash = name ? strrchr(name, '/') : NULL;
	if (raw.firmware[0] == '/' || !slash) {
		strcpy(req->firmware, raw.firmware);
	} else if ((size_t)(slash - name) + 1 + strlen(raw.firmware) >= sizeof(req->firmware)) {
		return cfg_fail(d, seen[2], "firmware path too long");
	} else {
		size_t dl = (size_t)(slash - name);

		memcpy(req->firmware, name, dl);
		req->firmware[dl] = '/';
		strcpy(req->firmware + dl + 1, raw.firmware);
	}
	return 0;
}

int cfg_load_request_string(const char *text, size_t len, const char *name, struct cfg_request *req,
			    struct cfg_error *err)
{
	struct cfg_doc d;
	int rc;

	memset(req, 0, sizeof(*req));
	if (err)
		memset(err, 0, sizeof(*err));
	rc = cfg_doc_open(&d, text, len, name, err);
	if (!rc)
		rc = load(&d, name, req);
	cfg_doc_close(&d);
	if (rc)
		memset(req, 0, sizeof(*req));
	return rc;
}

bool cfg_request_peek_id(const char *text, size_t len, char id[CFG_UUID_LEN + 1])
{
	yaml_node_pair_t *pair;
	struct cfg_doc d;
	yaml_node_t *root;
	const char *found = NULL;
	bool ok = false;

	id[0] = '\0';
	if (cfg_doc_open(&d, text, len, NULL, NULL))
		goto out;
	root = cfg_doc_root(&d);
	if (!root || root->type != YAML_MAPPING_NODE)
		goto out;
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = cfg_doc_node(&d, pair->key);
		yaml_node_t *v = cfg_doc_node(&d, pair->value);

		if (!k || k->type != YAML_SCALAR_NODE ||
		    strcmp((const char *)k->data.scalar.value, "id"))
			continue;
		if (found || !v || v->type != YAML_SCALAR_NODE)
			goto out; /* two ids, or not a string: no id */
		found = (const char *)v->data.scalar.value;
	}
	if (!found || !cfg_uuid_v4_ok(found))
		goto out;
	for (int i = 0; i < CFG_UUID_LEN; i++)
		id[i] = (char)tolower((unsigned char)found[i]);
	id[CFG_UUID_LEN] = '\0';
	ok = true;
out:
	cfg_doc_close(&d);
	return ok;
}

int cfg_load_request(const char *path, struct cfg_request *req, struct cfg_error *err)
{
	char *text;
	size_t len;
	int rc;

	memset(req, 0, sizeof(*req));
	if (err)
		memset(err, 0, sizeof(*err));
	rc = cfg_read_text(path, &text, &len, err);
	if (rc)
		return rc;
	rc = cfg_load_request_string(text, len, path, req, err);
	free(text);
	return rc;
}
