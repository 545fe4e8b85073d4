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

struct req_raw {
	char id[64];
	char ecu[CFG_NAME_MAX];
	char firmware[CFG_PATH_MAX];
	char sha256[80];
	struct cfg_expect expect[CFG_EXPECT_MAX];
	size_t nexpect;
	uint32_t base;
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
	CFG_FIELD_NUM("firmware", CFG_F_STR, struct req_raw, firmware, 0, 0,
		      CFG_REQUIRED | CFG_NONEMPTY),
	CFG_FIELD_NUM("sha256", CFG_F_STR, struct req_raw, sha256, 0, 0,
		      CFG_REQUIRED | CFG_NONEMPTY),
	CFG_FIELD_FN("expect", req_expect, 0),
	CFG_FIELD_U32("base", struct req_raw, base, 0, UINT32_MAX),
};

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
