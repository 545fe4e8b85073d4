// SPDX-License-Identifier: MIT
/*
 * fota.yaml(5) loader: libyaml's document API, then a strict table-driven
 * walk into struct fota_config (core/config.h). Every error names the file
 * and the 1-based line:column of the node at fault. The UDS defaults below
 * follow ISO 14229-2 (P2 50 ms, P2* 5000 ms, S3 5000 ms) and ISO 15765-2
 * (N_Bs/N_Cr 1000 ms).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/cfg_yaml.h"
#include "core/config.h"
#include "core/err.h"
#include "core/mqtt.h"

#define CFG_ECUS_MAX 256

/* ---- generic strict YAML walk (core/cfg_yaml.h) -------------------------- */

static void set_err(struct cfg_error *err, const char *name, unsigned line, unsigned col,
		    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void set_err(struct cfg_error *err, const char *name, unsigned line, unsigned col,
		    const char *fmt, va_list ap)
{
	if (!err)
		return;
	snprintf(err->file, sizeof(err->file), "%s", name ? name : "");
	err->line = line;
	err->col = col;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

static int fail_at(struct cfg_error *err, const char *name, unsigned line, unsigned col, int rc,
		   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail_at(struct cfg_error *err, const char *name, unsigned line, unsigned col, int rc,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_err(err, name, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

int cfg_fail(struct cfg_doc *d, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;
	unsigned line = node ? (unsigned)node->start_mark.line + 1 : 0;
	unsigned col = node ? (unsigned)node->start_mark.column + 1 : 0;

	va_start(ap, fmt);
	set_err(d->err, d->name, line, col, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

int cfg_read_text(const char *path, char **text, size_t *len, struct cfg_error *err)
{
	struct stat st;
	size_t n = 0, cap = 4096;
	char *buf;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_at(err, path, 0, 0, -errno, "%s", strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return fail_at(err, path, 0, 0, -EISDIR, "%s", strerror(EISDIR));
	}
	buf = malloc(cap + 1);
	while (buf) {
		ssize_t r;

		if (n == cap) {
			char *nb;

			if (cap >= CFG_MAX_BYTES) {
				rc = fail_at(err, path, 0, 0, -EFBIG, "larger than %u bytes",
					     CFG_MAX_BYTES);
				break;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fail_at(err, path, 0, 0, -errno, "%s", strerror(errno));
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!buf)
		return fail_at(err, path, 0, 0, -ENOMEM, "%s", strerror(ENOMEM));
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int syntax_error(const yaml_parser_t *p, struct cfg_error *err, const char *name)
{
	if (p->error == YAML_MEMORY_ERROR)
		return fail_at(err, name, 0, 0, -ENOMEM, "%s", strerror(ENOMEM));
	return fail_at(err, name, (unsigned)p->problem_mark.line + 1,
		       (unsigned)p->problem_mark.column + 1, -EBADMSG, "YAML syntax: %s%s%s",
		       p->problem ? p->problem : "error", p->context ? " " : "",
		       p->context ? p->context : "");
}

/*
 * Walk TEXT's events and refuse nesting beyond CFG_DEPTH_MAX at the first
 * mapping or list too deep. libyaml's scanner costs time quadratic in the
 * depth (every token looks at each open level), and its loader builds the
 * whole tree before we see any of it: this pass stops at level
 * CFG_DEPTH_MAX + 1, so a hostile file costs no more than a deep-enough one.
 */
static int check_depth(const char *text, size_t len, const char *name, struct cfg_error *err)
{
	yaml_parser_t p;
	unsigned depth = 0;
	int rc = 0;

	if (!yaml_parser_initialize(&p))
		return fail_at(err, name, 0, 0, -ENOMEM, "%s", strerror(ENOMEM));
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		yaml_event_t ev;
		yaml_event_type_t type;

		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax_error(&p, err, name);
			break;
		}
		type = ev.type;
		if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT) {
			if (++depth > CFG_DEPTH_MAX)
				rc = fail_at(err, name, (unsigned)ev.start_mark.line + 1,
					     (unsigned)ev.start_mark.column + 1, -EBADMSG,
					     "nested deeper than %d levels (the nesting depth "
					     "limit)",
					     CFG_DEPTH_MAX);
		} else if (type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT) {
			depth--;
		}
		yaml_event_delete(&ev);
		if (rc || type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

int cfg_doc_open(struct cfg_doc *d, const char *text, size_t len, const char *name,
		 struct cfg_error *err)
{
	yaml_document_t extra;
	yaml_node_t *root;
	int rc;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->err = err;
	rc = check_depth(text, len, name, err);
	if (rc)
		return rc;
	if (!yaml_parser_initialize(&d->parser))
		return fail_at(err, name, 0, 0, -ENOMEM, "%s", strerror(ENOMEM));
	d->parser_ok = true;
	yaml_parser_set_input_string(&d->parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&d->parser, &d->doc))
		goto syntax;
	d->doc_ok = true;
	root = yaml_document_get_root_node(&d->doc);
	if (!root)
		return fail_at(err, name, 0, 0, -EBADMSG, "empty document");
	if (!yaml_parser_load(&d->parser, &extra))
		goto syntax;
	root = yaml_document_get_root_node(&extra);
	rc = root ? cfg_fail(d, root, "more than one YAML document") : 0;
	yaml_document_delete(&extra);
	return rc;
syntax:
	return syntax_error(&d->parser, err, name);
}

void cfg_doc_close(struct cfg_doc *d)
{
	if (d->doc_ok)
		yaml_document_delete(&d->doc);
	if (d->parser_ok)
		yaml_parser_delete(&d->parser);
	d->doc_ok = d->parser_ok = false;
}

yaml_node_t *cfg_doc_root(struct cfg_doc *d)
{
	return yaml_document_get_root_node(&d->doc);
}

yaml_node_t *cfg_doc_node(struct cfg_doc *d, int index)
{
	return yaml_document_get_node(&d->doc, index);
}

static const char *scalar(const yaml_node_t *v)
{
	return (const char *)v->data.scalar.value;
}

bool cfg_is_word(const yaml_node_t *v, const char *word)
{
	return v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       !strcmp(scalar(v), word);
}

static bool plain(const yaml_node_t *v)
{
	return v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const char *node_kind(const yaml_node_t *v)
{
	if (v->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (v->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (!plain(v))
		return "a quoted string";
	return "a scalar";
}

/* A plain scalar in decimal or 0x hex, within [min, max]; HEX_RANGE: the range in hex in errors. */
static int get_number(struct cfg_doc *d, yaml_node_t *v, uint64_t min, uint64_t max, bool hex_range,
		      uint64_t *out)
{
	const char *s, *p;
	uint64_t val = 0;
	unsigned base = 10;

	if (!plain(v))
		return cfg_fail(d, v, "expected a number (decimal or 0x hex), got %s",
				node_kind(v));
	s = scalar(v);
	p = s;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		goto bad;
	for (; *p; p++) {
		int dv = fota_hexval((unsigned char)*p);

		if (dv < 0 || (unsigned)dv >= base)
			goto bad;
		if (val > (UINT64_MAX - (unsigned)dv) / base)
			goto range;
		val = val * base + (unsigned)dv;
	}
	if (val < min || val > max)
		goto range;
	*out = val;
	return 0;
bad:
	return cfg_fail(d, v, "'%.40s' is not a number (decimal or 0x hex)", s);
range:
	if (hex_range)
		return cfg_fail(d, v, "%.40s out of range 0x%" PRIX64 "..0x%" PRIX64, s, min, max);
	return cfg_fail(d, v, "%.40s out of range %" PRIu64 "..%" PRIu64, s, min, max);
}

int cfg_get_u32(struct cfg_doc *d, yaml_node_t *v, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t val;
	int rc = get_number(d, v, min, max, max > 0xffff, &val);

	if (!rc)
		*out = (uint32_t)val;
	return rc;
}

int cfg_get_u64(struct cfg_doc *d, yaml_node_t *v, uint64_t min, uint64_t max, uint64_t *out)
{
	return get_number(d, v, min, max, false, out);
}

int cfg_get_bool(struct cfg_doc *d, yaml_node_t *v, bool *out)
{
	if (cfg_is_word(v, "true")) {
		*out = true;
		return 0;
	}
	if (cfg_is_word(v, "false")) {
		*out = false;
		return 0;
	}
	if (v->type == YAML_SCALAR_NODE)
		return cfg_fail(d, v, "expected true or false, got '%.40s'", scalar(v));
	return cfg_fail(d, v, "expected true or false, got %s", node_kind(v));
}

int cfg_get_str(struct cfg_doc *d, yaml_node_t *v, char *buf, size_t size, bool nonempty)
{
	size_t n;

	if (v->type != YAML_SCALAR_NODE)
		return cfg_fail(d, v, "expected a string, got %s", node_kind(v));
	n = v->data.scalar.length;
	if (memchr(scalar(v), '\0', n))
		return cfg_fail(d, v, "string contains a NUL character");
	if (n >= size)
		return cfg_fail(d, v, "string longer than %zu characters", size - 1);
	if (nonempty && !n)
		return cfg_fail(d, v, "empty value");
	memcpy(buf, scalar(v), n);
	buf[n] = '\0';
	return 0;
}

/* Levenshtein distance, capped: for the "did you mean" hint. */
static unsigned distance(const char *a, const char *b)
{
	unsigned row[40], la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la >= 39 || lb >= 39)
		return 99;
	for (unsigned j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned prev = row[0];

		row[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned cur = row[j];
			unsigned best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

static int unknown_key(struct cfg_doc *d, yaml_node_t *k, const struct cfg_field *fields, size_t n)
{
	const char *best = NULL;
	unsigned bestd = 3;

	for (size_t i = 0; i < n; i++) {
		unsigned dist = distance(scalar(k), fields[i].key);

		if (dist < bestd) {
			bestd = dist;
			best = fields[i].key;
		}
	}
	if (best)
		return cfg_fail(d, k, "unknown key '%.40s' (did you mean '%s'?)", scalar(k), best);
	return cfg_fail(d, k, "unknown key '%.40s'", scalar(k));
}

static int store_value(struct cfg_doc *d, const struct cfg_field *f, yaml_node_t *v, void *obj);

/*
 * Store one value. A scalar's error names its key ("node_id: 300 out of
 * range 1..127"): file:line:col points at the value, the key says which
 * one it is to someone reading the message alone. Mappings and lists
 * (CFG_F_FN) name their keys themselves.
 */
static int store(struct cfg_doc *d, const struct cfg_field *f, yaml_node_t *v, void *obj)
{
	char msg[sizeof(d->err->msg)];
	int rc = store_value(d, f, v, obj);

	if (rc != -EBADMSG || f->type == CFG_F_FN || !d->err)
		return rc;
	if (snprintf(msg, sizeof(msg), "%s: %s", f->key, d->err->msg) > 0)
		memcpy(d->err->msg, msg, sizeof(msg)); /* cut at the end if need be */
	return rc;
}

static int store_value(struct cfg_doc *d, const struct cfg_field *f, yaml_node_t *v, void *obj)
{
	char *p = (char *)obj + f->off;
	uint32_t u;
	bool b;
	int rc;

	switch (f->type) {
	case CFG_F_U64:
		return cfg_get_u64(d, v, f->min, f->max, (uint64_t *)p);
	case CFG_F_U8:
	case CFG_F_U16:
	case CFG_F_U32:
		rc = cfg_get_u32(d, v, (uint32_t)f->min, (uint32_t)f->max, &u);
		if (rc)
			return rc;
		if (f->type == CFG_F_U8)
			*(uint8_t *)p = (uint8_t)u;
		else if (f->type == CFG_F_U16)
			*(uint16_t *)p = (uint16_t)u;
		else
			*(uint32_t *)p = u;
		return 0;
	case CFG_F_BOOL:
		rc = cfg_get_bool(d, v, &b);
		if (!rc)
			*(bool *)p = b;
		return rc;
	case CFG_F_STR:
		return cfg_get_str(d, v, p, f->size, f->flags & CFG_NONEMPTY);
	case CFG_F_FN:
		return f->fn(d, v, obj);
	}
	return -EINVAL;
}

int cfg_walk(struct cfg_doc *d, yaml_node_t *map, const struct cfg_field *fields, size_t n,
	     void *obj, yaml_node_t **seen, const char *what)
{
	yaml_node_t *local[CFG_FIELDS_MAX];
	yaml_node_pair_t *pair;

	if (n > CFG_FIELDS_MAX)
		return -EINVAL;
	if (!seen)
		seen = local;
	for (size_t i = 0; i < n; i++)
		seen[i] = NULL;
	if (map->type != YAML_MAPPING_NODE)
		return cfg_fail(d, map, "%s: expected a mapping (key: value), got %s", what,
				node_kind(map));
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = cfg_doc_node(d, pair->key);
		yaml_node_t *v = cfg_doc_node(d, pair->value);
		size_t i;
		int rc;

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return cfg_fail(d, k, "%s: keys must be plain words", what);
		for (i = 0; i < n; i++)
			if (!strcmp(fields[i].key, scalar(k)))
				break;
		if (i == n)
			return unknown_key(d, k, fields, n);
		if (seen[i])
			return cfg_fail(d, k, "duplicate key '%s'", fields[i].key);
		seen[i] = v;
		rc = store(d, &fields[i], v, obj);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < n; i++)
		if ((fields[i].flags & CFG_REQUIRED) && !seen[i])
			return cfg_fail(d, map, "%s: missing required key '%s'", what,
					fields[i].key);
	return 0;
}

/* ---- the fota.yaml schema ---------------------------------------------- */

void cfg_ecu_defaults(struct cfg_ecu *e)
{
	memset(e, 0, sizeof(*e));
	e->security_level = 0x01;
	e->identify_wait_ms = 10000;
	e->isotp.padding = 0xCC;
	e->isotp.tx_dl = 8;
	e->timing = (struct cfg_timing){
		.p2_ms = 50,
		.p2_star_ms = 5000,
		.s3_ms = 5000,
		.tester_present_ms = 2000,
		.n_bs_ms = 1000,
		.n_cr_ms = 1000,
	};
	e->sequence = (struct cfg_sequence){
		.pre_programming = false,
		.programming_session = 0x02,
		.erase = true,
		.erase_routine = 0xFF00,
		.erase_scope = CFG_ERASE_REGION,
		.erase_record = CFG_ERASE_RECORD_ADDRESS,
		.address_and_length_format = 0x44,
		.data_format = 0x00,
		.block_length = 0,
		.transfer_retries = 2,
		.check = true,
		.check_routine = 0x0202,
		.check_crc = true,
		.reset = CFG_RESET_HARD,
	};
	e->compression = (struct cfg_compression){ .method = COMPRESS_NONE, .level = -1 };
}

void cfg_init(struct fota_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->tcu.node_id = CFG_NODE_ID_DEFAULT;
	strcpy(cfg->tcu.state_dir, "/var/lib/fota");
	cfg->tcu.health_check_timeout_min = 10;
	cfg->tcu.sdo_timeout_ms = 1000;
	cfg->tcu.sdo_retries = 2;
	cfg->tcu.max_firmware_bytes = CFG_FIRMWARE_BYTES_DEFAULT;
	strcpy(cfg->platform.mqtt.topic_prefix, "fota");
	cfg->platform.mqtt.keepalive_s = CFG_MQTT_KEEPALIVE_DEF;
	cfg->platform.download.stall_timeout_s = CFG_DOWNLOAD_STALL_S_DEF;
	cfg->platform.download.connect_timeout_s = CFG_DOWNLOAD_CONN_S_DEF;
}

/* bootloader_switch: { id, extended, fd, data, delay_ms } */
struct bsw {
	uint32_t id;
	bool extended, fd;
	char data[200];
	uint32_t delay_ms;
};

static const struct cfg_field bsw_fields[] = {
	CFG_FIELD_NUM("id", CFG_F_U32, struct bsw, id, 0, BUS_EFF_MASK, CFG_REQUIRED),
	CFG_FIELD_BOOL("extended", struct bsw, extended),
	CFG_FIELD_BOOL("fd", struct bsw, fd),
	CFG_FIELD_STR("data", struct bsw, data, 0),
	CFG_FIELD_U32("delay_ms", struct bsw, delay_ms, 0, 3600000),
};

static int ecu_bootloader_switch(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_ecu *e = obj;
	struct bsw b = { 0 };
	yaml_node_t *seen[FOTA_ARRAY_SIZE(bsw_fields)];
	size_t len = 0;
	int rc;

	rc = cfg_walk(d, v, bsw_fields, FOTA_ARRAY_SIZE(bsw_fields), &b, seen, "bootloader_switch");
	if (rc)
		return rc;
	if (b.id > BUS_SFF_MASK && seen[1] && !b.extended)
		return cfg_fail(d, seen[0], "id 0x%" PRIX32 " needs 29 bits but extended is false",
				b.id);
	rc = fota_hex_bytes(b.data, strlen(b.data), " :", e->bootloader_switch.data, b.fd ? 64 : 8,
			    &len);
	if (rc == -EMSGSIZE)
		return cfg_fail(d, seen[3], "more than %d data bytes", b.fd ? 64 : 8);
	if (rc)
		return cfg_fail(d, seen[3], "data: expected hex bytes (\"01 02\")");
	if (b.fd && bus_frame_fd_len(len) != len)
		return cfg_fail(d, seen[3], "%zu bytes is not a CAN FD frame length", len);
	e->has_bootloader_switch = true;
	e->bootloader_switch.id = b.id;
	e->bootloader_switch.flags =
		(b.id > BUS_SFF_MASK || b.extended ? BUS_FRAME_EFF : 0) | (b.fd ? BUS_FRAME_FD : 0);
	e->bootloader_switch.len = (uint8_t)len;
	e->bootloader_switch_delay_ms = b.delay_ms;
	return 0;
}

static int key_fail(char *err, size_t errsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int key_fail(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (err && errsize) {
		va_start(ap, fmt);
		vsnprintf(err, errsize, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_identifier(const char *s)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

const char *cfg_key_kind_name(enum cfg_key_kind kind)
{
	switch (kind) {
	case CFG_KEY_XOR:
		return "xor";
	case CFG_KEY_CMD:
		return "cmd";
	case CFG_KEY_LIB:
		return "lib";
	}
	return "?";
}

int cfg_key_parse(const char *spec, struct cfg_key *key, char *err, size_t errsize)
{
	const char *arg;

	memset(key, 0, sizeof(*key));
	key->timeout_ms = CFG_KEY_TIMEOUT_MS_DEF;
	if (!spec)
		return key_fail(err, errsize, "empty key spec");
	if (!strncmp(spec, "xor:", 4)) {
		int rc;

		key->kind = CFG_KEY_XOR;
		arg = spec + 4;
		rc = fota_hex_bytes(arg, strlen(arg), CFG_KEY_HEX_SEPS, key->mask,
				    sizeof(key->mask), &key->mask_len);
		if (rc == -EMSGSIZE)
			return key_fail(err, errsize, "xor mask longer than %d bytes",
					CFG_KEY_MASK_MAX);
		if (rc)
			return key_fail(err, errsize,
					"xor mask: expected hex bytes (xor:A5A5A5A5)");
		if (!key->mask_len)
			return key_fail(err, errsize, "xor mask is empty");
		return 0;
	}
	if (!strncmp(spec, "cmd:", 4)) {
		key->kind = CFG_KEY_CMD;
		arg = spec + 4;
		if (!*arg)
			return key_fail(err, errsize, "cmd: needs a program path");
		if (strlen(arg) >= sizeof(key->path))
			return key_fail(err, errsize, "cmd: path too long");
		strcpy(key->path, arg);
		return 0;
	}
	if (!strncmp(spec, "lib:", 4)) {
		const char *colon;
		size_t plen;

		key->kind = CFG_KEY_LIB;
		arg = spec + 4;
		colon = strrchr(arg, ':');
		/* The last ":NAME" is a symbol only if NAME is a C identifier. */
		if (colon && !colon[1])
			return key_fail(err, errsize, "lib: empty symbol name after ':'");
		if (colon && is_identifier(colon + 1)) {
			if (strlen(colon + 1) >= sizeof(key->symbol))
				return key_fail(err, errsize, "lib: symbol name too long");
			strcpy(key->symbol, colon + 1);
			plen = (size_t)(colon - arg);
		} else {
			strcpy(key->symbol, "GenerateKeyEx");
			plen = strlen(arg);
		}
		if (!plen)
			return key_fail(err, errsize, "lib: needs a library path");
		if (plen >= sizeof(key->path))
			return key_fail(err, errsize, "lib: path too long");
		memcpy(key->path, arg, plen);
		key->path[plen] = '\0';
		return 0;
	}
	return key_fail(err, errsize,
			"unknown key algorithm (expected xor:HEX, cmd:PATH or lib:PATH[:SYMBOL])");
}

/* security: { level, key, timeout_ms, variant } */
struct sec {
	uint8_t level;
	char key[CFG_KEY_PATH_MAX + 8];
	uint32_t timeout_ms;
	char variant[64];
};

static const struct cfg_field sec_fields[] = {
	CFG_FIELD_U8("level", struct sec, level, 0x01, 0x7D),
	CFG_FIELD_STR("key", struct sec, key, CFG_REQUIRED | CFG_NONEMPTY),
	CFG_FIELD_U32("timeout_ms", struct sec, timeout_ms, 1, 600000),
	CFG_FIELD_STR("variant", struct sec, variant, 0),
};

static int ecu_security(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_ecu *e = obj;
	struct sec s = { .level = 0x01, .timeout_ms = CFG_KEY_TIMEOUT_MS_DEF };
	yaml_node_t *seen[FOTA_ARRAY_SIZE(sec_fields)];
	char why[120];
	int rc;

	rc = cfg_walk(d, v, sec_fields, FOTA_ARRAY_SIZE(sec_fields), &s, seen, "security");
	if (rc)
		return rc;
	/* ISO 14229-1 §10.4.5.2: requestSeed sub-functions are odd; even ones send the key. */
	if (!(s.level & 1))
		return cfg_fail(d, seen[0],
				"level 0x%02X is even: give the requestSeed (odd) value", s.level);
	if (cfg_key_parse(s.key, &e->key, why, sizeof(why)))
		return cfg_fail(d, seen[1], "key: %s", why);
	e->key.timeout_ms = s.timeout_ms;
	snprintf(e->key.variant, sizeof(e->key.variant), "%s", s.variant);
	strcpy(e->key_spec, s.key);
	e->security_level = s.level;
	e->has_security = true;
	return 0;
}

static const struct cfg_field region_fields[] = {
	CFG_FIELD_NUM("start", CFG_F_U32, struct cfg_region, start, 0, UINT32_MAX, CFG_REQUIRED),
	CFG_FIELD_NUM("size", CFG_F_U32, struct cfg_region, size, 1, UINT32_MAX, CFG_REQUIRED),
};

static int ecu_identify(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_ecu *e = obj;
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return cfg_fail(d, v, "identify: expected a list of DIDs, got %s", node_kind(v));
	e->nidentify = 0;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = cfg_doc_node(d, *it);
		uint32_t did;
		int rc = cfg_get_u32(d, n, 0x0001, 0xFFFE, &did);

		if (rc)
			return rc;
		for (size_t i = 0; i < e->nidentify; i++)
			if (e->identify[i] == did)
				return cfg_fail(d, n, "identify: DID 0x%04" PRIX32 " twice", did);
		if (e->nidentify == CFG_IDENTIFY_MAX)
			return cfg_fail(d, n, "identify: more than %d DIDs", CFG_IDENTIFY_MAX);
		e->identify[e->nidentify++] = (uint16_t)did;
	}
	return 0;
}

static int ecu_regions(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_ecu *e = obj;
	yaml_node_t *nodes[CFG_REGIONS_MAX];
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return cfg_fail(d, v, "regions: expected a list, got %s", node_kind(v));
	e->nregions = 0;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *r = cfg_doc_node(d, *it);
		struct cfg_region reg = { 0 };
		yaml_node_t *seen[2];
		size_t i;
		int rc;

		if (e->nregions == CFG_REGIONS_MAX)
			return cfg_fail(d, r, "more than %d regions", CFG_REGIONS_MAX);
		rc = cfg_walk(d, r, region_fields, 2, &reg, seen, "region");
		if (rc)
			return rc;
		if ((uint64_t)reg.start + reg.size > 0x100000000ull)
			return cfg_fail(d, seen[1],
					"region 0x%08" PRIX32 "+0x%" PRIX32
					" ends above 0xFFFFFFFF",
					reg.start, reg.size);
		/* insertion sort by start; overlaps are errors at the later node */
		for (i = e->nregions; i > 0 && e->regions[i - 1].start > reg.start; i--) {
			e->regions[i] = e->regions[i - 1];
			nodes[i] = nodes[i - 1];
		}
		e->regions[i] = reg;
		nodes[i] = r;
		e->nregions++;
		for (size_t j = 1; j < e->nregions; j++) {
			const struct cfg_region *a = &e->regions[j - 1], *b = &e->regions[j];

			if ((uint64_t)a->start + a->size > b->start)
				return cfg_fail(d, r, "region overlaps region at 0x%08" PRIX32,
						nodes[j - 1] == r ? b->start : a->start);
		}
	}
	if (!e->nregions)
		return cfg_fail(d, v, "regions: at least one region is needed");
	return 0;
}

static int isotp_padding(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_isotp *t = obj;
	uint32_t u;
	int rc;

	if (cfg_is_word(v, "none")) {
		t->padding = -1;
		return 0;
	}
	rc = cfg_get_u32(d, v, 0, 0xFF, &u);
	if (!rc)
		t->padding = (int)u;
	return rc;
}

static const struct cfg_field isotp_fields[] = {
	CFG_FIELD_FN("padding", isotp_padding, 0),
	CFG_FIELD_U8("block_size", struct cfg_isotp, block_size, 0, 0xFF),
	CFG_FIELD_U8("stmin", struct cfg_isotp, stmin, 0, 0xFF),
	CFG_FIELD_BOOL("fd", struct cfg_isotp, fd),
	CFG_FIELD_U8("tx_dl", struct cfg_isotp, tx_dl, 8, 64),
};

static int ecu_isotp(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_ecu *e = obj;
	yaml_node_t *seen[FOTA_ARRAY_SIZE(isotp_fields)];
	int rc;

	rc = cfg_walk(d, v, isotp_fields, FOTA_ARRAY_SIZE(isotp_fields), &e->isotp, seen, "isotp");
	if (rc)
		return rc;
	/* ISO 15765-2 Table 20: 0x80-0xF0 and 0xFA-0xFF are reserved. */
	if (e->isotp.stmin > 0x7F && (e->isotp.stmin < 0xF1 || e->isotp.stmin > 0xF9))
		return cfg_fail(d, seen[2],
				"stmin 0x%02X is reserved (0x00-0x7F ms, 0xF1-0xF9 "
				"100-900 us)",
				e->isotp.stmin);
	if (!seen[4])
		e->isotp.tx_dl = e->isotp.fd ? 64 : 8;
	if (!e->isotp.fd && e->isotp.tx_dl != 8)
		return cfg_fail(d, seen[4], "tx_dl other than 8 needs fd: true");
	if (bus_frame_fd_len(e->isotp.tx_dl) != e->isotp.tx_dl)
		return cfg_fail(d, seen[4],
				"tx_dl %u is not a CAN FD length (8, 12, 16, 20, 24, "
				"32, 48, 64)",
				e->isotp.tx_dl);
	return 0;
}

static const struct cfg_field timing_fields[] = {
	CFG_FIELD_U32("p2_ms", struct cfg_timing, p2_ms, 1, 60000),
	CFG_FIELD_U32("p2_star_ms", struct cfg_timing, p2_star_ms, 1, 600000),
	CFG_FIELD_U32("s3_ms", struct cfg_timing, s3_ms, 100, 600000),
	CFG_FIELD_U32("tester_present_ms", struct cfg_timing, tester_present_ms, 0, 600000),
	CFG_FIELD_U32("n_bs_ms", struct cfg_timing, n_bs_ms, 1, 60000),
	CFG_FIELD_U32("n_cr_ms", struct cfg_timing, n_cr_ms, 1, 60000),
};

static int ecu_timing(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_ecu *e = obj;
	yaml_node_t *seen[FOTA_ARRAY_SIZE(timing_fields)];
	int rc;

	rc = cfg_walk(d, v, timing_fields, FOTA_ARRAY_SIZE(timing_fields), &e->timing, seen,
		      "timing");
	if (rc)
		return rc;
	if (e->timing.tester_present_ms >= e->timing.s3_ms)
		return cfg_fail(d, seen[3] ? seen[3] : seen[2],
				"tester_present_ms (%" PRIu32 ") must be below s3_ms (%" PRIu32
				") to keep the session open",
				e->timing.tester_present_ms, e->timing.s3_ms);
	return 0;
}

static int erase_scope(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_sequence *s = obj;

	if (cfg_is_word(v, "region"))
		s->erase_scope = CFG_ERASE_REGION;
	else if (cfg_is_word(v, "segment"))
		s->erase_scope = CFG_ERASE_SEGMENT;
	else
		return cfg_fail(d, v, "scope: expected region or segment");
	return 0;
}

static int erase_record(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_sequence *s = obj;

	if (cfg_is_word(v, "address_and_length"))
		s->erase_record = CFG_ERASE_RECORD_ADDRESS;
	else if (cfg_is_word(v, "none"))
		s->erase_record = CFG_ERASE_RECORD_NONE;
	else
		return cfg_fail(d, v, "record: expected address_and_length or none");
	return 0;
}

static const struct cfg_field erase_fields[] = {
	CFG_FIELD_U16("routine", struct cfg_sequence, erase_routine, 0, 0xFFFF),
	CFG_FIELD_FN("scope", erase_scope, 0),
	CFG_FIELD_FN("record", erase_record, 0),
};

static int seq_erase(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_sequence *s = obj;

	if (cfg_is_word(v, "none")) {
		s->erase = false;
		return 0;
	}
	s->erase = true;
	return cfg_walk(d, v, erase_fields, FOTA_ARRAY_SIZE(erase_fields), s, NULL, "erase");
}

static int check_crc(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_sequence *s = obj;

	if (cfg_is_word(v, "crc32"))
		s->check_crc = true;
	else if (cfg_is_word(v, "none"))
		s->check_crc = false;
	else
		return cfg_fail(d, v, "crc: expected crc32 or none");
	return 0;
}

static const struct cfg_field check_fields[] = {
	CFG_FIELD_U16("routine", struct cfg_sequence, check_routine, 0, 0xFFFF),
	CFG_FIELD_FN("crc", check_crc, 0),
};

static int seq_check(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_sequence *s = obj;

	if (cfg_is_word(v, "none")) {
		s->check = false;
		return 0;
	}
	s->check = true;
	return cfg_walk(d, v, check_fields, FOTA_ARRAY_SIZE(check_fields), s, NULL, "check");
}

static int seq_alfid(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_sequence *s = obj;
	uint32_t u;
	int rc = cfg_get_u32(d, v, 0, 0xFF, &u);

	if (rc)
		return rc;
	/* ISO 14229-1 §7.3.4 (ALFID): high nibble = length bytes, low = address bytes. */
	if ((u >> 4) < 1 || (u >> 4) > 4 || (u & 0xF) < 1 || (u & 0xF) > 4)
		return cfg_fail(d, v,
				"address_and_length_format 0x%02" PRIX32
				": each nibble must be 1..4 bytes",
				u);
	s->address_and_length_format = (uint8_t)u;
	return 0;
}

static int seq_block_length(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_sequence *s = obj;
	uint32_t u;
	int rc = cfg_get_u32(d, v, 0, UINT32_MAX, &u);

	if (rc)
		return rc;
	/* maxNumberOfBlockLength counts the SID and the block sequence counter. */
	if (u && u < 3)
		return cfg_fail(d, v, "block_length %" PRIu32 ": 0 (the ECU's) or at least 3", u);
	s->block_length = u;
	return 0;
}

static int seq_reset(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_sequence *s = obj;

	if (cfg_is_word(v, "hard"))
		s->reset = CFG_RESET_HARD;
	else if (cfg_is_word(v, "soft"))
		s->reset = CFG_RESET_SOFT;
	else if (cfg_is_word(v, "key_off_on"))
		s->reset = CFG_RESET_KEY_OFF_ON;
	else if (cfg_is_word(v, "none"))
		s->reset = CFG_RESET_NONE;
	else
		return cfg_fail(d, v, "reset: expected hard, soft, key_off_on or none");
	return 0;
}

static const struct cfg_field fingerprint_fields[] = {
	CFG_FIELD_NUM("did", CFG_F_U16, struct cfg_sequence, fingerprint_did, 0x0001, 0xFFFE,
		      CFG_REQUIRED),
	CFG_FIELD_STR("data", struct cfg_sequence, fingerprint, CFG_REQUIRED | CFG_NONEMPTY),
};

static int seq_fingerprint(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	return cfg_walk(d, v, fingerprint_fields, FOTA_ARRAY_SIZE(fingerprint_fields), obj, NULL,
			"fingerprint");
}

static const struct cfg_field seq_fields[] = {
	CFG_FIELD_BOOL("pre_programming", struct cfg_sequence, pre_programming),
	CFG_FIELD_U8("programming_session", struct cfg_sequence, programming_session, 0x01, 0x7F),
	CFG_FIELD_FN("erase", seq_erase, 0),
	CFG_FIELD_FN("address_and_length_format", seq_alfid, 0),
	CFG_FIELD_U8("data_format", struct cfg_sequence, data_format, 0, 0xFF),
	CFG_FIELD_FN("block_length", seq_block_length, 0),
	CFG_FIELD_U8("transfer_retries", struct cfg_sequence, transfer_retries, 0, 10),
	CFG_FIELD_FN("check", seq_check, 0),
	CFG_FIELD_FN("reset", seq_reset, 0),
	CFG_FIELD_FN("fingerprint", seq_fingerprint, 0),
};

static int ecu_sequence(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_ecu *e = obj;

	return cfg_walk(d, v, seq_fields, FOTA_ARRAY_SIZE(seq_fields), &e->sequence, NULL,
			"sequence");
}

static int ecu_name(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_ecu *e = obj;
	int rc = cfg_get_str(d, v, e->name, sizeof(e->name), true);

	if (rc)
		return rc;
	for (const char *p = e->name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return cfg_fail(d, v, "name '%s': only letters, digits, '_', '.', '-'",
					e->name);
	return 0;
}

static const char *const tp_words[] = {
	[CFG_TP_FUNCTIONAL] = "functional",
	[CFG_TP_PHYSICAL] = "physical",
	[CFG_TP_IDLE] = "idle",
	[CFG_TP_OFF] = "off",
};

int cfg_tester_present_parse(const char *s, enum cfg_tester_present *m)
{
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(tp_words); i++)
		if (!strcmp(s, tp_words[i])) {
			*m = (enum cfg_tester_present)i;
			return 0;
		}
	return -EINVAL;
}

const char *cfg_tester_present_str(enum cfg_tester_present m)
{
	return (size_t)m < FOTA_ARRAY_SIZE(tp_words) ? tp_words[m] : "?";
}

uint32_t cfg_ecu_functional_id(const struct cfg_ecu *e)
{
	if (e->has_functional_id)
		return e->functional_id;
	return e->extended ? CFG_FUNCTIONAL_ID_29 : CFG_FUNCTIONAL_ID_11;
}

static int ecu_tester_present(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_ecu *e = obj;

	for (size_t i = 0; i < FOTA_ARRAY_SIZE(tp_words); i++)
		if (cfg_is_word(v, tp_words[i])) {
			e->tester_present = (enum cfg_tester_present)i;
			return 0;
		}
	return cfg_fail(d, v, "tester_present: expected functional, physical, idle or off");
}

static int ecu_functional_id(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_ecu *e = obj;
	int rc = cfg_get_u32(d, v, 0, BUS_EFF_MASK, &e->functional_id);

	if (!rc)
		e->has_functional_id = true;
	return rc;
}

/* compression: { method: lz4|deflate|none, dfi: 0xN0, level: N } */
struct comp {
	char method[16];
	uint8_t dfi;
	uint8_t level;
};

static const struct cfg_field comp_fields[] = {
	CFG_FIELD_STR("method", struct comp, method, CFG_REQUIRED | CFG_NONEMPTY),
	CFG_FIELD_U8("dfi", struct comp, dfi, 0, 0xFF),
	CFG_FIELD_U8("level", struct comp, level, 0, 0xFF),
};

static int ecu_compression(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_ecu *e = obj;
	yaml_node_t *seen[FOTA_ARRAY_SIZE(comp_fields)];
	struct comp c = { 0 };
	enum fota_compress_method m;
	int rc;

	rc = cfg_walk(d, v, comp_fields, FOTA_ARRAY_SIZE(comp_fields), &c, seen, "compression");
	if (rc)
		return rc;
	if (fota_compress_method_parse(c.method, &m))
		return cfg_fail(d, seen[0], "method: expected lz4, deflate or none");
	e->compression.method = m;
	e->compression.dfi = seen[1] ? c.dfi : fota_compress_default_dfi(m);
	e->compression.level = seen[2] ? c.level : -1;
	if (m == COMPRESS_NONE) {
		if (seen[1] && c.dfi)
			return cfg_fail(d, seen[1],
					"dfi 0x%02X with method none (no compression "
					"is 0x00)",
					c.dfi);
		if (seen[2])
			return cfg_fail(d, seen[2], "level with method none");
		return 0;
	}
	/* ISO 14229-1 §14.2.2.2: high nibble compressionMethod, low nibble encryptingMethod. */
	if (!(e->compression.dfi & 0xF0) || (e->compression.dfi & 0x0F))
		return cfg_fail(d, seen[1],
				"dfi 0x%02X: expected 0xN0 (a compressionMethod N of 1..F, no "
				"encryption)",
				e->compression.dfi);
	if (seen[2] && c.level > fota_compress_max_level(m))
		return cfg_fail(d, seen[2], "level %u: %s goes from 0 to %d", c.level,
				fota_compress_method_str(m), fota_compress_max_level(m));
	return 0;
}

static const struct cfg_field ecu_fields[] = {
	CFG_FIELD_FN("name", ecu_name, CFG_REQUIRED),
	CFG_FIELD_STR("brand", struct cfg_ecu, brand, 0),
	CFG_FIELD_STR("model", struct cfg_ecu, model, 0),
	CFG_FIELD_NUM("request_id", CFG_F_U32, struct cfg_ecu, request_id, 0, BUS_EFF_MASK,
		      CFG_REQUIRED),
	CFG_FIELD_NUM("response_id", CFG_F_U32, struct cfg_ecu, response_id, 0, BUS_EFF_MASK,
		      CFG_REQUIRED),
	CFG_FIELD_BOOL("extended", struct cfg_ecu, extended),
	CFG_FIELD_FN("functional_id", ecu_functional_id, 0),
	CFG_FIELD_FN("tester_present", ecu_tester_present, 0),
	CFG_FIELD_FN("bootloader_switch", ecu_bootloader_switch, 0),
	CFG_FIELD_FN("security", ecu_security, 0),
	CFG_FIELD_FN("regions", ecu_regions, CFG_REQUIRED),
	CFG_FIELD_FN("isotp", ecu_isotp, 0),
	CFG_FIELD_FN("timing", ecu_timing, 0),
	CFG_FIELD_FN("sequence", ecu_sequence, 0),
	CFG_FIELD_FN("identify", ecu_identify, 0),
	CFG_FIELD_U32("identify_wait_ms", struct cfg_ecu, identify_wait_ms, 1, 600000),
	CFG_FIELD_FN("compression", ecu_compression, 0), /* ECU_F_COMPRESSION */
};

enum {
	ECU_F_NAME,
	ECU_F_BRAND,
	ECU_F_MODEL,
	ECU_F_REQ,
	ECU_F_RESP,
	ECU_F_EXT,
	ECU_F_FUNC,
	ECU_F_COMPRESSION = 16,
};

static int load_ecu(struct cfg_doc *d, yaml_node_t *v, struct fota_config *cfg)
{
	struct cfg_ecu *e = &cfg->ecus[cfg->necus];
	yaml_node_t *seen[FOTA_ARRAY_SIZE(ecu_fields)];
	bool big;
	int rc;

	cfg_ecu_defaults(e);
	rc = cfg_walk(d, v, ecu_fields, FOTA_ARRAY_SIZE(ecu_fields), e, seen, "ECU");
	if (rc)
		return rc;
	big = e->request_id > BUS_SFF_MASK || e->response_id > BUS_SFF_MASK;
	if (big && seen[ECU_F_EXT] && !e->extended)
		return cfg_fail(d, seen[e->request_id > BUS_SFF_MASK ? ECU_F_REQ : ECU_F_RESP],
				"id needs 29 bits but extended is false");
	e->extended = e->extended || big;
	if (e->request_id == e->response_id)
		return cfg_fail(d, seen[ECU_F_RESP], "response_id equals request_id");
	if (e->compression.method != COMPRESS_NONE && e->sequence.data_format)
		return cfg_fail(d, seen[ECU_F_COMPRESSION],
				"compression and sequence: data_format 0x%02X both set the "
				"dataFormatIdentifier (compression: dfi sets it)",
				e->sequence.data_format);
	if (e->has_functional_id && e->functional_id > BUS_SFF_MASK && !e->extended)
		return cfg_fail(d, seen[ECU_F_FUNC],
				"functional_id needs 29 bits but the ECU's ids are 11-bit");
	if (cfg_ecu_functional_id(e) == e->request_id || cfg_ecu_functional_id(e) == e->response_id)
		return cfg_fail(d, seen[ECU_F_FUNC] ? seen[ECU_F_FUNC] : seen[ECU_F_REQ],
				"functional_id 0x%" PRIX32 " equals the request or response id",
				cfg_ecu_functional_id(e));
	for (size_t i = 0; i < cfg->necus; i++) {
		const struct cfg_ecu *o = &cfg->ecus[i];

		if (!strcmp(o->name, e->name))
			return cfg_fail(d, seen[ECU_F_NAME], "duplicate ECU name '%s'", e->name);
		if (o->request_id == e->request_id && o->extended == e->extended)
			return cfg_fail(d, seen[ECU_F_REQ],
					"request_id 0x%" PRIX32 " already used by ECU '%s'",
					e->request_id, o->name);
	}
	cfg->necus++;
	return 0;
}

static int top_ecus(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct fota_config *cfg = obj;
	yaml_node_item_t *it;
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE)
		return cfg_fail(d, v, "ecus: expected a list, got %s", node_kind(v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n > CFG_ECUS_MAX)
		return cfg_fail(d, v, "more than %d ECUs", CFG_ECUS_MAX);
	if (!n)
		return 0;
	cfg->ecus = calloc(n, sizeof(*cfg->ecus));
	if (!cfg->ecus)
		return -ENOMEM;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		int rc = load_ecu(d, cfg_doc_node(d, *it), cfg);

		if (rc)
			return rc;
	}
	return 0;
}

static const struct cfg_field tcu_fields[] = {
	CFG_FIELD_U8("node_id", struct cfg_tcu, node_id, 1, 127),
	CFG_FIELD_STR("state_dir", struct cfg_tcu, state_dir, CFG_NONEMPTY),
	CFG_FIELD_U16("health_check_timeout_min", struct cfg_tcu, health_check_timeout_min, 0,
		      0xFFFF),
	CFG_FIELD_U16("heartbeat_ms", struct cfg_tcu, heartbeat_ms, 0, 0xFFFF),
	CFG_FIELD_U32("sdo_timeout_ms", struct cfg_tcu, sdo_timeout_ms, 1, CFG_SDO_TIMEOUT_MS_MAX),
	CFG_FIELD_U8("sdo_retries", struct cfg_tcu, sdo_retries, 0, CFG_SDO_RETRIES_MAX),
	CFG_FIELD_U64("max_firmware_bytes", struct cfg_tcu, max_firmware_bytes, 1,
		      CFG_FIRMWARE_BYTES_MAX),
};

static int top_tcu(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct fota_config *cfg = obj;

	return cfg_walk(d, v, tcu_fields, FOTA_ARRAY_SIZE(tcu_fields), &cfg->tcu, NULL, "tcu");
}

/* ---- trust: ---- */

struct trust_key_raw {
	char name[64];
	char file[CFG_PATH_MAX];
	char key[1024];
};

static const struct cfg_field trust_key_fields[] = {
	CFG_FIELD_STR("name", struct trust_key_raw, name, CFG_NONEMPTY),
	CFG_FIELD_STR("file", struct trust_key_raw, file, CFG_NONEMPTY),
	CFG_FIELD_STR("key", struct trust_key_raw, key, CFG_NONEMPTY),
};

struct trust_raw {
	struct fota_config *cfg;
	uint32_t threshold;
	bool require;
	yaml_node_t *ecus;
};

/* A key file named relative to the configuration file's directory. */
static void config_relative(const struct cfg_doc *d, const char *file, char *out, size_t size)
{
	const char *slash = d->name ? strrchr(d->name, '/') : NULL;

	if (file[0] == '/' || !slash)
		snprintf(out, size, "%s", file);
	else
		snprintf(out, size, "%.*s/%s", (int)(slash - d->name), d->name, file);
}

static int trust_key(struct cfg_doc *d, yaml_node_t *v, struct cfg_trust *t)
{
	yaml_node_t *seen[FOTA_ARRAY_SIZE(trust_key_fields)];
	struct trust_key_raw raw = { 0 };
	struct sig_pub *k = &t->sig.keys[t->sig.nkeys];
	char path[CFG_PATH_MAX + 256], why[160];
	int rc;

	if (t->sig.nkeys == SIG_KEYS_MAX)
		return cfg_fail(d, v, "trust: more than %d keys", SIG_KEYS_MAX);
	rc = cfg_walk(d, v, trust_key_fields, FOTA_ARRAY_SIZE(trust_key_fields), &raw, seen,
		      "trust key");
	if (rc)
		return rc;
	if (!seen[1] == !seen[2])
		return cfg_fail(d, v, "trust key: give one of file: and key:");
	if (seen[1]) {
		config_relative(d, raw.file, path, sizeof(path));
		rc = fota_sig_load_public(path, k, why, sizeof(why));
		if (rc)
			return cfg_fail(d, seen[1], "key file %.200s: %s", path, why);
	} else if (fota_sig_parse_public(raw.key, strlen(raw.key), k, why, sizeof(why))) {
		return cfg_fail(d, seen[2], "key: %s", why);
	}
	for (size_t i = 0; i < t->sig.nkeys; i++) {
		if (!strcmp(t->sig.keys[i].id, k->id))
			return cfg_fail(d, v, "trust: key %s given twice", k->id);
		if (raw.name[0] && !strcmp(t->sig.names[i], raw.name))
			return cfg_fail(d, seen[0], "trust: key name '%s' given twice", raw.name);
	}
	if (raw.name[0] && strlen(raw.name) == SIG_KEYID_LEN)
		return cfg_fail(d, seen[0],
				"trust: a key name of %d characters looks like a key id",
				SIG_KEYID_LEN);
	snprintf(t->sig.names[t->sig.nkeys], sizeof(t->sig.names[0]), "%s", raw.name);
	t->sig.nkeys++;
	return 0;
}

static int trust_keys(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct trust_raw *tr = obj;
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return cfg_fail(d, v, "keys: expected a list, got %s", node_kind(v));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		int rc = trust_key(d, cfg_doc_node(d, *it), &tr->cfg->trust);

		if (rc)
			return rc;
	}
	return 0;
}

static int trust_ecus_keep(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct trust_raw *tr = obj;

	/* read after keys:, which may come later in the mapping */
	if (v->type != YAML_MAPPING_NODE)
		return cfg_fail(d, v, "ecus: expected a mapping of ECU names to key lists, got %s",
				node_kind(v));
	tr->ecus = v;
	return 0;
}

/* A key of the trust by name or by id, or -1. */
static int trust_find(const struct cfg_trust *t, const char *s)
{
	for (size_t i = 0; i < t->sig.nkeys; i++)
		if (!strcmp(t->sig.keys[i].id, s) ||
		    (t->sig.names[i][0] && !strcmp(t->sig.names[i], s)))
			return (int)i;
	return -1;
}

static int trust_ecus(struct cfg_doc *d, yaml_node_t *v, struct cfg_trust *t)
{
	yaml_node_pair_t *pair;

	for (pair = v->data.mapping.pairs.start; pair < v->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = cfg_doc_node(d, pair->key), *l = cfg_doc_node(d, pair->value);
		struct cfg_trust_ecu *e = &t->ecus[t->necus];
		yaml_node_item_t *it;
		int rc;

		if (!k || !l || k->type != YAML_SCALAR_NODE)
			return cfg_fail(d, k ? k : v, "trust: ecus: keys must be ECU names");
		if (t->necus == CFG_TRUST_ECUS_MAX)
			return cfg_fail(d, k, "trust: ecus: more than %d ECUs", CFG_TRUST_ECUS_MAX);
		rc = cfg_get_str(d, k, e->ecu, sizeof(e->ecu), true);
		if (rc)
			return rc;
		for (size_t i = 0; i < t->necus; i++)
			if (!strcmp(t->ecus[i].ecu, e->ecu))
				return cfg_fail(d, k, "trust: ecus: ECU '%s' twice", e->ecu);
		if (l->type != YAML_SEQUENCE_NODE ||
		    l->data.sequence.items.top == l->data.sequence.items.start)
			return cfg_fail(d, l,
					"trust: ecus: %s: expected a list of key names or ids",
					e->ecu);
		e->allowed = 0;
		for (it = l->data.sequence.items.start; it < l->data.sequence.items.top; it++) {
			yaml_node_t *n = cfg_doc_node(d, *it);
			char name[64];
			int i;

			if (!n)
				return cfg_fail(d, l, "trust: ecus: bad list");
			rc = cfg_get_str(d, n, name, sizeof(name), true);
			if (rc)
				return rc;
			i = trust_find(t, name);
			if (i < 0)
				return cfg_fail(d, n, "trust: ecus: %s: no key named '%s' in keys:",
						e->ecu, name);
			e->allowed |= 1u << i;
		}
		if ((unsigned)__builtin_popcount(e->allowed) < t->sig.threshold)
			return cfg_fail(d, l,
					"trust: ecus: %s: %d keys can never meet the threshold %u",
					e->ecu, __builtin_popcount(e->allowed), t->sig.threshold);
		t->necus++;
	}
	return 0;
}

static const struct cfg_field trust_fields[] = {
	CFG_FIELD_FN("keys", trust_keys, CFG_REQUIRED),
	CFG_FIELD_U32("threshold", struct trust_raw, threshold, 1, SIG_KEYS_MAX),
	CFG_FIELD_BOOL("require_signature", struct trust_raw, require),
	CFG_FIELD_FN("ecus", trust_ecus_keep, 0),
};

static int top_trust(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	yaml_node_t *seen[FOTA_ARRAY_SIZE(trust_fields)];
	struct fota_config *cfg = obj;
	struct cfg_trust *t = &cfg->trust;
	struct trust_raw raw = { .cfg = cfg, .threshold = 1, .require = true };
	int rc;

	rc = cfg_walk(d, v, trust_fields, FOTA_ARRAY_SIZE(trust_fields), &raw, seen, "trust");
	if (rc)
		return rc;
	if (!t->sig.nkeys)
		return cfg_fail(d, seen[0], "trust: keys: at least one key");
	if (raw.threshold > t->sig.nkeys)
		return cfg_fail(d, seen[1], "trust: threshold %u, but only %zu keys", raw.threshold,
				t->sig.nkeys);
	t->sig.threshold = raw.threshold;
	t->sig.require_signature = raw.require;
	return raw.ecus ? trust_ecus(d, raw.ecus, t) : 0;
}

uint32_t cfg_trust_allowed(const struct fota_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->trust.necus; i++)
		if (!strcmp(cfg->trust.ecus[i].ecu, name))
			return cfg->trust.ecus[i].allowed;
	return ~0u;
}

/* ---- platform: ---- */

/* A name that is one MQTT topic level and a file name: [A-Za-z0-9_.-]+, not . or .. */
bool cfg_is_tcu_id(const char *s)
{
	if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static const struct cfg_field mqtt_fields[] = {
	CFG_FIELD_NUM("url", CFG_F_STR, struct cfg_mqtt, url, 0, 0, CFG_NONEMPTY | CFG_REQUIRED),
	CFG_FIELD_NUM("client_id", CFG_F_STR, struct cfg_mqtt, client_id, 0, 0,
		      CFG_NONEMPTY | CFG_REQUIRED),
	CFG_FIELD_STR("topic_prefix", struct cfg_mqtt, topic_prefix, CFG_NONEMPTY),
	CFG_FIELD_STR("ca", struct cfg_mqtt, ca, CFG_NONEMPTY),
	CFG_FIELD_STR("cert", struct cfg_mqtt, cert, CFG_NONEMPTY),
	CFG_FIELD_STR("key", struct cfg_mqtt, key, CFG_NONEMPTY),
	CFG_FIELD_U16("keepalive", struct cfg_mqtt, keepalive_s, 5, 0xFFFF),
};

enum {
	MQTT_F_URL,
	MQTT_F_CLIENT_ID,
	MQTT_F_PREFIX,
	MQTT_F_CA,
	MQTT_F_CERT,
	MQTT_F_KEY
};

/* mqtts://HOST[:PORT] or mqtt://HOST[:PORT] (core/mqtt.h). */
static int mqtt_url(struct cfg_doc *d, yaml_node_t *v, struct cfg_mqtt *m)
{
	struct fota_mqtt_url u;
	const char *why;

	if (fota_mqtt_parse_url(m->url, &u, &why))
		return cfg_fail(d, v, "mqtt url: '%s': %s", m->url, why);
	_Static_assert(sizeof(m->host) >= sizeof(u.host), "host fits");
	memcpy(m->host, u.host, sizeof(u.host));
	m->port = u.port;
	m->tls = u.tls;
	return 0;
}

static int top_mqtt(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_mqtt *m = obj;
	yaml_node_t *seen[FOTA_ARRAY_SIZE(mqtt_fields)];
	char path[CFG_PATH_MAX];
	const char *s;
	size_t n;
	int rc;

	rc = cfg_walk(d, v, mqtt_fields, FOTA_ARRAY_SIZE(mqtt_fields), m, seen, "mqtt");
	if (rc)
		return rc;
	rc = mqtt_url(d, seen[MQTT_F_URL], m);
	if (rc)
		return rc;
	if (!cfg_is_tcu_id(m->client_id))
		return cfg_fail(d, seen[MQTT_F_CLIENT_ID],
				"mqtt client_id '%s': use letters, digits, '_', '.', '-' (it is "
				"part of every topic)",
				m->client_id);
	s = m->topic_prefix;
	n = strlen(s);
	if (strpbrk(s, "+#") || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") || s[0] == '$')
		return cfg_fail(d, seen[MQTT_F_PREFIX] ? seen[MQTT_F_PREFIX] : v,
				"mqtt topic_prefix '%s': no '+', '#', leading '$', empty level or "
				"leading/trailing '/'",
				s);
	if (!seen[MQTT_F_CERT] != !seen[MQTT_F_KEY])
		return cfg_fail(d, seen[MQTT_F_CERT] ? seen[MQTT_F_CERT] : seen[MQTT_F_KEY],
				"mqtt: give cert: and key: together");
	if (!m->tls && (seen[MQTT_F_CA] || seen[MQTT_F_CERT]))
		return cfg_fail(d, seen[MQTT_F_CA] ? seen[MQTT_F_CA] : seen[MQTT_F_CERT],
				"mqtt: ca:, cert: and key: need an mqtts:// url");
	char *files[] = { m->ca, m->cert, m->key };

	for (size_t i = 0; i < FOTA_ARRAY_SIZE(files); i++) {
		if (!*files[i])
			continue;
		config_relative(d, files[i], path, sizeof(path));
		snprintf(files[i], CFG_PATH_MAX, "%s", path);
	}
	return 0;
}

static const struct cfg_field download_fields[] = {
	CFG_FIELD_STR("ca", struct cfg_download, ca, CFG_NONEMPTY),
	CFG_FIELD_U64("max_bytes", struct cfg_download, max_bytes, 1, CFG_FIRMWARE_BYTES_MAX),
	CFG_FIELD_U32("stall_timeout_s", struct cfg_download, stall_timeout_s, 1, 3600),
	CFG_FIELD_U32("connect_timeout_s", struct cfg_download, connect_timeout_s, 1, 3600),
};

static int top_download(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct cfg_download *dl = obj;
	char path[CFG_PATH_MAX];
	int rc;

	rc = cfg_walk(d, v, download_fields, FOTA_ARRAY_SIZE(download_fields), dl, NULL,
		      "download");
	if (rc || !dl->ca[0])
		return rc;
	config_relative(d, dl->ca, path, sizeof(path));
	snprintf(dl->ca, sizeof(dl->ca), "%s", path);
	return 0;
}

static int platform_mqtt(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	return top_mqtt(d, v, &((struct cfg_platform *)obj)->mqtt);
}

static int platform_download(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	return top_download(d, v, &((struct cfg_platform *)obj)->download);
}

static const struct cfg_field platform_fields[] = {
	CFG_FIELD_FN("mqtt", platform_mqtt, 0),
	CFG_FIELD_FN("download", platform_download, 0),
};

static int top_platform(struct cfg_doc *d, yaml_node_t *v, void *obj)
{
	struct fota_config *cfg = obj;

	return cfg_walk(d, v, platform_fields, FOTA_ARRAY_SIZE(platform_fields), &cfg->platform,
			NULL, "platform");
}

static const struct cfg_field top_fields[] = {
	CFG_FIELD_STR("bus", struct fota_config, bus, CFG_NONEMPTY),
	CFG_FIELD_U32("bitrate", struct fota_config, bitrate, 1, 20000000),
	CFG_FIELD_U32("data_bitrate", struct fota_config, data_bitrate, 1, 20000000),
	CFG_FIELD_BOOL("fd", struct fota_config, fd),
	CFG_FIELD_FN("tcu", top_tcu, 0),
	CFG_FIELD_FN("ecus", top_ecus, 0),
	CFG_FIELD_FN("trust", top_trust, 0),
	CFG_FIELD_FN("platform", top_platform, 0),
};

enum {
	TOP_F_BUS,
	TOP_F_BITRATE,
	TOP_F_DBITRATE,
	TOP_F_FD,
	TOP_F_TCU,
	TOP_F_ECUS,
	TOP_F_TRUST,
	TOP_F_PLATFORM
};

static int load_doc(struct cfg_doc *d, struct fota_config *cfg)
{
	yaml_node_t *seen[FOTA_ARRAY_SIZE(top_fields)];
	yaml_node_t *root = cfg_doc_root(d);
	int rc;

	rc = cfg_walk(d, root, top_fields, FOTA_ARRAY_SIZE(top_fields), cfg, seen, "configuration");
	if (rc)
		return rc;
	if (seen[TOP_F_DBITRATE] && !cfg->fd)
		return cfg_fail(d, seen[TOP_F_DBITRATE], "data_bitrate needs fd: true");
	for (size_t i = 0; i < cfg->trust.necus; i++)
		if (!cfg_find_ecu(cfg, cfg->trust.ecus[i].ecu))
			return cfg_fail(
				d, seen[TOP_F_TRUST],
				"trust: ecus: no ECU named '%s' in ecus:", cfg->trust.ecus[i].ecu);
	for (size_t i = 0; i < cfg->necus; i++)
		if (cfg->ecus[i].isotp.fd && !cfg->fd)
			return cfg_fail(d, root,
					"ECU '%s' uses isotp fd: true but the bus has "
					"no fd: true",
					cfg->ecus[i].name);
	for (size_t i = 0; i < cfg->necus; i++)
		if ((cfg->ecus[i].bootloader_switch.flags & BUS_FRAME_FD) && !cfg->fd)
			return cfg_fail(d, root,
					"ECU '%s': bootloader_switch fd: true but the "
					"bus has no fd: true",
					cfg->ecus[i].name);
	return 0;
}

int cfg_load_string(const char *text, size_t len, const char *name, struct fota_config *cfg,
		    struct cfg_error *err)
{
	struct cfg_doc d;
	int rc;

	cfg_init(cfg);
	if (err)
		memset(err, 0, sizeof(*err));
	snprintf(cfg->source, sizeof(cfg->source), "%s", name ? name : "");
	rc = cfg_doc_open(&d, text, len, name, err);
	if (!rc)
		rc = load_doc(&d, cfg);
	if (rc == -ENOMEM && err && !err->msg[0])
		fail_at(err, name, 0, 0, rc, "%s", strerror(ENOMEM));
	cfg_doc_close(&d);
	if (rc)
		cfg_release(cfg);
	return rc;
}

int cfg_load_file(const char *path, struct fota_config *cfg, struct cfg_error *err)
{
	char *text;
	size_t len;
	int rc;

	cfg_init(cfg);
	if (err)
		memset(err, 0, sizeof(*err));
	rc = cfg_read_text(path, &text, &len, err);
	if (rc)
		return rc;
	rc = cfg_load_string(text, len, path, cfg, err);
	free(text);
	return rc;
}

const struct cfg_ecu *cfg_find_ecu(const struct fota_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->necus; i++)
		if (!strcmp(cfg->ecus[i].name, name))
			return &cfg->ecus[i];
	return NULL;
}

void cfg_release(struct fota_config *cfg)
{
	free(cfg->ecus);
	cfg_init(cfg);
}

const char *cfg_error_str(const struct cfg_error *err, char *buf, size_t size)
{
	if (err->line)
		snprintf(buf, size, "%s:%u:%u: %s", err->file, err->line, err->col, err->msg);
	else
		snprintf(buf, size, "%s: %s", err->file, err->msg);
	return buf;
}

bool cfg_ecu_range_ok(const struct cfg_ecu *ecu, uint32_t start, uint64_t len)
{
	for (size_t i = 0; i < ecu->nregions; i++) {
		const struct cfg_region *r = &ecu->regions[i];

		if (start >= r->start && (uint64_t)start + len <= (uint64_t)r->start + r->size)
			return true;
	}
	return false;
}
