// SPDX-License-Identifier: MIT
/*
 * The files of `fota serve` (cmd/serve.h): the inbox listing in creation
 * order, package verification before an update is offered, the outbox
 * reports (json-c) and the atomic writer (write, fsync, rename, fsync dir).
 * Documented in man/fota-serve.1, FILES.
 */
#include <dirent.h>
#include <limits.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <time.h>
#include <openssl/evp.h>
#include "cmd/serve.h"
#include "core/file.h"
#include "core/log.h"
#include "core/err.h"
#include "core/sig.h"

#ifndef FOTA_BUILD_EPOCH
#define FOTA_BUILD_EPOCH 1764806400 /* 2025-12-04: a build without a date of its own */
#endif
#include "core/update.h"
#include "hex/image.h"
#include "hex/load.h"
#include "uds/uds.h"

int cmd_serve_entry_cmp(const void *a, const void *b)
{
	const struct cmd_serve_entry *x = a, *y = b;

	if (x->mtime_ns != y->mtime_ns)
		return x->mtime_ns < y->mtime_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool is_request_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && len > 5 && len < CMD_SERVE_NAME_MAX && !strcmp(n + len - 5, ".yaml");
}

int cmd_serve_inbox_list(const char *dir, struct cmd_serve_entry **out, size_t *n)
{
	struct cmd_serve_entry *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int dfd;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		if (!is_request_name(de->d_name))
			continue;
		/* gone meanwhile, or not a regular file: not a request */
		if (fstatat(dfd, de->d_name, &st, 0) || !S_ISREG(st.st_mode))
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		snprintf(v[cnt].name, sizeof(v[cnt].name), "%s", de->d_name);
		v[cnt].mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmd_serve_entry_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

int cmd_serve_sha256_file(const char *path, uint8_t out[32])
{
	EVP_MD_CTX *md;
	uint8_t buf[65536];
	unsigned int len = 0;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		err = -EIO;
		goto out;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (!EVP_DigestUpdate(md, buf, (size_t)r)) {
			err = -EIO;
			goto out;
		}
	}
	if (!EVP_DigestFinal_ex(md, out, &len) || len != 32)
		err = -EIO;
out:
	EVP_MD_CTX_free(md);
	close(fd);
	return err;
}

static void hex32(char out[65], const uint8_t d[32])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/*
 * Read a whole file that must be a regular file of at most max bytes: opened
 * non-blocking (a FIFO must not block the reader), checked with fstat, read
 * in chunks that look at *cancel. *buf is malloc'd (free it). 0, -EFTYPE-like
 * -EINVAL for "not a regular file", -EFBIG above max (also for a file that
 * grows while it is read), -ECANCELED, or -errno.
 */
static int read_bounded(const char *path, uint64_t max, const atomic_bool *cancel, char **buf,
			size_t *len)
{
	struct stat st;
	size_t n = 0, cap;
	ssize_t r;
	char *b;
	int fd, err = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max || (uint64_t)st.st_size > SIZE_MAX - 2) {
		err = -EFBIG;
		goto out;
	}
	cap = (size_t)st.st_size + 1; /* one more byte finds a file that grew */
	b = malloc(cap + 1);
	if (!b) {
		err = -ENOMEM;
		goto out;
	}
	while (n < cap) {
		if (cancel && atomic_load(cancel)) {
			err = -ECANCELED;
			break;
		}
		r = read(fd, b + n, cap - n < 1048576 ? cap - n : 1048576);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (!err && n > (size_t)st.st_size && n > max)
		err = -EFBIG;
	if (err) {
		free(b);
		goto out;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
out:
	close(fd);
	return err;
}

static int sha256_buf(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) && n == 32 ? 0 : -EIO;
}

/*
 * Read PATH once and parse its signed body. *text (malloc'd, free it) and
 * *env keep what the signature check needs: the same bytes.
 */
static int load_request(const char *path, struct cfg_request *req, char **text,
			struct sig_envelope *env, char *why, size_t whylen)
{
	struct cfg_error cerr;
	char ebuf[512], swhy[200];
	size_t tlen = 0;
	int r;

	*text = NULL;
	memset(req, 0, sizeof(*req));
	r = read_bounded(path, CMD_SERVE_REQUEST_MAX, NULL, text, &tlen);
	if (r) {
		snprintf(why, whylen, "%s: %s", path,
			 r == -EINVAL ? "not a regular file" :
			 r == -EFBIG  ? "request file larger than 64 KiB" :
					strerror(-r));
		return r == -EINVAL || r == -EFBIG ? -EBADMSG : r;
	}
	if (fota_sig_envelope_split(*text, tlen, env, swhy, sizeof(swhy))) {
		snprintf(why, whylen, "%s: malformed signature block: %s", path, swhy);
		cfg_request_peek_id(*text, tlen, req->id);
		return -EBADMSG;
	}
	r = cfg_load_request_string(*text, env->body_len, path, req, &cerr);
	if (r) {
		snprintf(why, whylen, "%s", cfg_error_str(&cerr, ebuf, sizeof(ebuf)));
		cfg_request_peek_id(*text, env->body_len, req->id);
	}
	return r;
}

int cmd_serve_load_request(const char *path, struct cfg_request *req, char *why, size_t whylen)
{
	struct sig_envelope env;
	char *text;
	int r = load_request(path, req, &text, &env, why, whylen);

	free(text);
	return r;
}

int64_t cmd_serve_clock_floor(void)
{
	const char *e = getenv("FOTA_CLOCK_FLOOR");
	int64_t floor = FOTA_BUILD_EPOCH, t;

	/* it can only raise the floor: an environment never makes a wrong clock look right */
	if (e && *e && !cfg_time_parse(e, &t) && t > floor)
		floor = t;
	return floor;
}

/* The trust policy of CFG over the signed body of the request in TEXT. */
static int check_signatures(const struct fota_config *cfg, struct cmd_serve_pkg *pkg,
			    const char *text, const struct sig_envelope *env, char *why,
			    size_t whylen)
{
	const struct sig_trust *t = &cfg->trust.sig;
	enum sig_result sr;

	/* no key configured: signatures are not looked at */
	if (!t->nkeys)
		return 0;
	if (!env->n && !t->require_signature)
		return 0;
	sr = fota_sig_check(t, cfg_trust_allowed(cfg, pkg->req.ecu), text, env->body_len, env, why,
			    whylen);
	if (sr != SIG_OK) {
		pkg->reject_code = fota_sig_result_code(sr);
		return -EBADMSG;
	}
	pkg->signed_ok = true;
	return 0;
}

static int refuse(struct cmd_serve_pkg *pkg, const char *code, char *why, size_t whylen,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int refuse(struct cmd_serve_pkg *pkg, const char *code, char *why, size_t whylen,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	pkg->reject_code = code;
	return -EBADMSG;
}

/* Freshness (expires:, not_before:) and rollback (version:) of a parsed request. */
static int check_policy(const struct fota_config *cfg, const struct cmd_serve_verify_opts *o,
			struct cmd_serve_pkg *pkg, char *why, size_t whylen)
{
	const struct cfg_request *rq = &pkg->req;
	int64_t now = o->now_wall ? o->now_wall : (int64_t)time(NULL);
	int64_t floor = o->clock_floor ? o->clock_floor : cmd_serve_clock_floor();
	char a[32], b[32], installed[CFG_VERSION_MAX];
	int err;

	if (pkg->signed_ok && (!rq->version[0] || !rq->expires))
		return refuse(pkg, CMD_SERVE_R_INCOMPLETE, why, whylen,
			      "incomplete: a signed request needs version: and expires:");
	if ((rq->expires || rq->not_before) && now < floor) {
		cfg_time_str(now, a, sizeof(a));
		cfg_time_str(floor, b, sizeof(b));
		return refuse(pkg, CMD_SERVE_R_CLOCK, why, whylen,
			      "clock not set: the wall clock reads %s, before %s (the build of "
			      "fota): expiry cannot be checked",
			      a, b);
	}
	if (rq->expires && now >= rq->expires) {
		cfg_time_str(rq->expires, a, sizeof(a));
		return refuse(pkg, CMD_SERVE_R_EXPIRED, why, whylen, "expired at %s", a);
	}
	if (rq->not_before && now < rq->not_before) {
		cfg_time_str(rq->not_before, a, sizeof(a));
		return refuse(pkg, CMD_SERVE_R_NOT_YET_VALID, why, whylen,
			      "not yet valid: not before %s", a);
	}
	if (!o->state_dir || !rq->version[0] || rq->allow_downgrade)
		return 0;
	err = cmd_serve_version_get(o->state_dir, rq->ecu, installed, sizeof(installed));
	/* a versions file that cannot be read must not switch the check off */
	if (err && err != -ENOENT)
		return refuse(pkg, CMD_SERVE_R_ROLLBACK, why, whylen,
			      "rollback not checkable: %s/%s: %s", o->state_dir, CMD_SERVE_VERSIONS,
			      err == -EBADMSG ? "a line is not ECU VERSION" : strerror(-err));
	if (!err && cfg_version_cmp(rq->version, installed) < 0)
		return refuse(pkg, CMD_SERVE_R_ROLLBACK, why, whylen,
			      "rollback: version %s is lower than %s, installed on ECU %s "
			      "(allow_downgrade: true not given)",
			      rq->version, installed, rq->ecu);
	return 0;
}

/* ---- installed versions ---- */

int cmd_serve_version_get(const char *state_dir, const char *ecu, char *out, size_t size)
{
	char path[CFG_PATH_MAX + 32], line[CFG_NAME_MAX + CFG_VERSION_MAX + 8];
	char name[CFG_NAME_MAX], ver[CFG_VERSION_MAX];
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", state_dir, CMD_SERVE_VERSIONS);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%63s %63s", name, ver) != 2 || !cfg_version_ok(ver)) {
			err = -EBADMSG;
			break;
		}
		if (!strcmp(name, ecu)) {
			snprintf(out, size, "%s", ver);
			err = 0;
		}
	}
	fclose(f);
	return err;
}

int cmd_serve_version_raise(const char *state_dir, const char *ecu, const char *version)
{
	char path[CFG_PATH_MAX + 32], line[CFG_NAME_MAX + CFG_VERSION_MAX + 8];
	char name[CFG_NAME_MAX], ver[CFG_VERSION_MAX];
	size_t cap = 4096, n = 0;
	bool done = false;
	char *text = malloc(cap);
	FILE *f;
	int err;

	if (!text)
		return -ENOMEM;
	n = (size_t)snprintf(text, cap,
			     "# fota serve: the highest version installed per ECU (rollback "
			     "protection); replaced atomically\n");
	snprintf(path, sizeof(path), "%s/%s", state_dir, CMD_SERVE_VERSIONS);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%63s %63s", name, ver) != 2 ||
		    !cfg_version_ok(ver))
			continue;
		if (!strcmp(name, ecu)) {
			done = true;
			if (cfg_version_cmp(version, ver) > 0)
				snprintf(ver, sizeof(ver), "%s", version);
		}
		if (n + strlen(name) + strlen(ver) + 3 > cap) {
			char *nt = realloc(text, cap * 2);

			if (!nt) {
				fclose(f);
				free(text);
				return -ENOMEM;
			}
			text = nt;
			cap *= 2;
		}
		n += (size_t)snprintf(text + n, cap - n, "%s %s\n", name, ver);
	}
	if (f)
		fclose(f);
	if (!done) {
		if (n + strlen(ecu) + strlen(version) + 3 > cap) {
			char *nt = realloc(text, cap * 2);

			if (!nt) {
				free(text);
				return -ENOMEM;
			}
			text = nt;
			cap *= 2;
		}
		n += (size_t)snprintf(text + n, cap - n, "%s %s\n", ecu, version);
	}
	err = fota_write_file_atomic(path, text, n);
	free(text);
	return err;
}

int cmd_serve_verify(const char *path, const struct fota_config *cfg,
		     const struct cmd_serve_verify_opts *o, struct cmd_serve_pkg *pkg, char *why,
		     size_t whylen)
{
	struct ihex_error herr;
	struct ihex_region reg[CFG_REGIONS_MAX];
	struct ihex_outside out;
	uint8_t sha[32];
	char got[65], *fw = NULL, copy[CFG_PATH_MAX + 64];
	const char *src;
	size_t flen = 0;
	int r;

	struct sig_envelope env;
	char *text;

	memset(pkg, 0, sizeof(*pkg));
	ihex_image_init(&pkg->img);
	r = load_request(path, &pkg->req, &text, &env, why, whylen);
	if (r) {
		if (r == -EBADMSG && strstr(why, "malformed signature block"))
			pkg->reject_code = fota_sig_result_code(SIG_MALFORMED);
		free(text);
		return r;
	}
	pkg->id_known = true;
	pkg->ecu = cfg_find_ecu(cfg, pkg->req.ecu);
	if (!pkg->ecu) {
		snprintf(why, whylen, "unknown ECU '%s' (not in the configuration %s)",
			 pkg->req.ecu, cfg->source);
		free(text);
		return -EBADMSG;
	}
	/* the signatures over the very bytes parsed, before the policy and any firmware byte */
	r = check_signatures(cfg, pkg, text, &env, why, whylen);
	free(text);
	if (!r)
		r = check_policy(cfg, o, pkg, why, whylen);
	if (r || o->request_only)
		return r;
	/* read once: hash, parse and copy the same bytes */
	src = o->source ? o->source : pkg->req.firmware;
	r = read_bounded(src, o->max_bytes, o->cancel, &fw, &flen);
	if (r) {
		if (r == -EINVAL)
			snprintf(why, whylen, "firmware %s: not a regular file", src);
		else if (r == -EFBIG)
			snprintf(why, whylen,
				 "firmware %s: larger than max_firmware_bytes (%" PRIu64 ")", src,
				 o->max_bytes);
		else
			snprintf(why, whylen, "firmware %s: %s", src, strerror(-r));
		return r == -EINVAL || r == -EFBIG ? -EBADMSG : r;
	}
	if (pkg->req.has_size && pkg->req.size != flen) {
		snprintf(why, whylen, "firmware %s: %zu bytes, the request says %" PRIu64, src,
			 flen, pkg->req.size);
		pkg->reject_code = CMD_SERVE_R_SIZE;
		r = -EBADMSG;
		goto fail;
	}
	r = sha256_buf(fw, flen, sha);
	if (r) {
		snprintf(why, whylen, "firmware %s: cannot compute SHA-256", src);
		goto fail;
	}
	if (memcmp(sha, pkg->req.sha256, sizeof(sha))) {
		hex32(got, sha);
		snprintf(why, whylen, "firmware %s: sha256 mismatch (request says %s, file has %s)",
			 src, pkg->req.sha256_hex, got);
		pkg->reject_code = CMD_SERVE_R_SHA256;
		r = -EBADMSG;
		goto fail;
	}
	r = img_parse(&pkg->img, fw, flen, IMG_FMT_AUTO, pkg->req.has_base, pkg->req.base, NULL,
		      &herr);
	if (r) {
		if (herr.line)
			snprintf(why, whylen, "firmware %s:%u: %s", src, herr.line, herr.msg);
		else
			snprintf(why, whylen, "firmware %s: %s", src, herr.msg);
		if (r == -EINVAL)
			r = -EBADMSG;
		goto fail;
	}
	r = -EBADMSG;
	if (!pkg->img.nseg) {
		snprintf(why, whylen, "firmware %s: no data records", src);
		goto fail;
	}
	for (size_t i = 0; i < pkg->ecu->nregions; i++) {
		reg[i].addr = pkg->ecu->regions[i].start;
		reg[i].len = pkg->ecu->regions[i].size;
	}
	if (ihex_image_check_regions(&pkg->img, reg, pkg->ecu->nregions, &out)) {
		snprintf(why, whylen,
			 "firmware %s: bytes 0x%08" PRIx32 "-0x%08" PRIx32
			 " lie outside the memory regions of ECU %s",
			 src, out.addr, (uint32_t)(out.addr + out.len - 1), pkg->ecu->name);
		goto fail;
	}
	if (o->copy_dir) {
		snprintf(copy, sizeof(copy), "%s/%s", o->copy_dir, pkg->req.id);
		r = fota_write_file_atomic(copy, fw, flen);
		if (r) {
			snprintf(why, whylen, "cannot keep a copy of the firmware as %s: %s", copy,
				 strerror(-r));
			goto fail;
		}
	}
	free(fw);
	pkg->bytes = ihex_image_size(&pkg->img);
	return 0;
fail:
	free(fw);
	ihex_release(&pkg->img);
	return r;
}

void cmd_serve_pkg_release(struct cmd_serve_pkg *pkg)
{
	ihex_release(&pkg->img);
	pkg->ecu = NULL;
	pkg->bytes = 0;
}

int cmd_serve_write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	return fota_write_file_atomic(path, data, len);
}

const char *cmd_serve_platform_status(uint8_t update_status, bool offered)
{
	switch (update_status) {
	case UPD_STATUS_FLASHING:
	case UPD_STATUS_VERIFYING:
		return CMD_SERVE_IN_PROGRESS;
	case UPD_STATUS_SUCCESS:
		return CMD_SERVE_SUCCESSFUL;
	case UPD_STATUS_FLASH_FAILED:
	case UPD_STATUS_VERIFY_FAILED:
	case UPD_STATUS_VERIFY_TIMEOUT:
		return CMD_SERVE_FAILED;
	case UPD_STATUS_CANCELLED:
		return CMD_SERVE_CANCELLED;
	}
	(void)offered;
	return CMD_SERVE_PENDING;
}

/* ---- reports ---- */

/*
 * JSON strings must be UTF-8 (RFC 8259 §8.1); file names need not be. Bytes
 * that are not part of a valid UTF-8 sequence are written as the text
 * "\xNN", so a report always parses and still names the file.
 */
static json_object *json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;
	json_object *j;
	char *t;

	t = malloc(4 * n + 1);
	if (!t)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t len = p[i] < 0x80	   ? 1 :
			     (p[i] & 0xE0) == 0xC0 ? 2 :
			     (p[i] & 0xF0) == 0xE0 ? 3 :
			     (p[i] & 0xF8) == 0xF0 ? 4 :
						     0;
		bool ok = len && i + len <= n;
		uint32_t cp = len == 1 ? p[i] : len ? p[i] & (0x7Fu >> len) : 0;

		for (size_t k = 1; ok && k < len; k++) {
			ok = (p[i + k] & 0xC0) == 0x80;
			cp = cp << 6 | (p[i + k] & 0x3Fu);
		}
		/* no overlong forms, no surrogates, nothing above U+10FFFF */
		if (ok && len > 1)
			ok = cp >= (len == 2 ? 0x80u :
				    len == 3 ? 0x800u :
					       0x10000u) &&
			     (cp < 0xD800 || cp > 0xDFFF) && cp <= 0x10FFFF;
		if (!ok) {
			o += (size_t)sprintf(t + o, "\\x%02x", p[i]);
			i++;
			continue;
		}
		memcpy(t + o, p + i, len);
		o += len;
		i += len;
	}
	t[o] = '\0';
	j = json_object_new_string(t);
	free(t);
	return j;
}

void cmd_serve_report_set_str(struct cmd_serve_report *r, const char *key, const char *val)
{
	json_object_object_add(r->o, key, val ? json_str(val) : NULL);
}

void cmd_serve_report_set_int(struct cmd_serve_report *r, const char *key, int64_t val)
{
	json_object_object_add(r->o, key, json_object_new_int64(val));
}

void cmd_serve_report_set_time(struct cmd_serve_report *r, const char *key, uint32_t t)
{
	json_object_object_add(r->o, key, t ? json_object_new_int64(t) : NULL);
}

bool cmd_serve_report_rejected(const struct cmd_serve_report *r)
{
	const char *st = cmd_serve_report_status(r);
	json_object *u;

	return st && !strcmp(st, CMD_SERVE_FAILED) &&
	       (!json_object_object_get_ex(r->o, "update_status", &u) || !u);
}

void cmd_serve_last_rejection_write(const char *state_dir, const char *id, const char *request_file,
				    const char *reason, uint32_t now_wall)
{
	json_object *o = json_object_new_object();
	const char *s;
	int err = -ENOMEM;

	if (!o)
		goto out;
	json_object_object_add(o, "id", id ? json_str(id) : NULL);
	json_object_object_add(o, "request_file", json_str(request_file));
	json_object_object_add(o, "reason", json_str(reason));
	json_object_object_add(o, "time", json_object_new_int64(now_wall));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s) {
		char line[4096];
		int n = snprintf(line, sizeof(line), "%s\n", s);

		err = n > 0 && (size_t)n < sizeof(line) ?
			      cmd_serve_write_atomic(state_dir, CMD_SERVE_LAST_REJECTION, line,
						     (size_t)n) :
			      -ENAMETOOLONG;
	}
out:
	if (err)
		fota_warn("%s/%s: %s", state_dir, CMD_SERVE_LAST_REJECTION, strerror(-err));
	if (o)
		json_object_put(o);
}

int cmd_serve_last_rejection_read(const char *state_dir, struct json_object **o)
{
	char path[4096];

	*o = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir, CMD_SERVE_LAST_REJECTION) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	if (access(path, F_OK))
		return -errno;
	*o = json_object_from_file(path);
	if (!*o || !json_object_is_type(*o, json_type_object)) {
		if (*o)
			json_object_put(*o);
		*o = NULL;
		return -EBADMSG;
	}
	return 0;
}

const char *cmd_serve_report_status(const struct cmd_serve_report *r)
{
	json_object *s;

	if (!r->o || !json_object_object_get_ex(r->o, "status", &s) ||
	    !json_object_is_type(s, json_type_string))
		return NULL;
	return json_object_get_string(s);
}

/*
 * outbox/<id>.json; a request whose id could not be read gets
 * outbox/rejected-<file name>.json instead, a name no UUID can have, so a
 * malformed file named after a finished update never replaces its report.
 */
static void set_file(struct cmd_serve_report *r, const char *id, bool rejected)
{
	size_t n = strlen(id);

	if (n > 5 && !strcmp(id + n - 5, ".yaml"))
		n -= 5;
	/* the atomic writer adds ".tmp" to the name */
	cmd_serve_file_name(r->file, sizeof(r->file), NAME_MAX - 4, rejected ? "rejected-" : "", id,
			    n, ".json");
}

void cmd_serve_file_name(char *out, size_t size, size_t max, const char *prefix, const char *base,
			 size_t baselen, const char *suffix)
{
	size_t fixed = strlen(prefix) + strlen(suffix), keep;
	uint8_t d[32];

	if (max > size - 1)
		max = size - 1;
	if (fixed + baselen <= max) {
		snprintf(out, size, "%s%.*s%s", prefix, (int)baselen, base, suffix);
		return;
	}
	keep = max - fixed - 17;
	if (keep > baselen)
		keep = baselen;
	if (sha256_buf(base, baselen, d))
		memset(d, 0, sizeof(d));
	snprintf(out, size, "%s%.*s-%02x%02x%02x%02x%02x%02x%02x%02x%s", prefix, (int)keep, base,
		 d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], suffix);
}

int cmd_serve_report_new(struct cmd_serve_report *r, const char *id, const char *request_file,
			 uint32_t now_wall)
{
	static const char *const null_keys[] = {
		"ecu",
		"firmware",
		"sha256",
		"image_bytes",
		"reason",
		"update_status",
		"update_status_text",
		"attempts",
		"update_available_time",
		"update_start_time",
		"update_end_time",
		"update_progress",
	};

	memset(r, 0, sizeof(*r));
	r->o = json_object_new_object();
	if (!r->o)
		return -ENOMEM;
	set_file(r, id ? id : request_file, !id);
	cmd_serve_report_set_str(r, "id", id);
	cmd_serve_report_set_str(r, "request_file", request_file);
	cmd_serve_report_set_str(r, "status", CMD_SERVE_PENDING);
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(null_keys); i++)
		json_object_object_add(r->o, null_keys[i], NULL);
	cmd_serve_report_set_time(r, "received_time", now_wall);
	json_object_object_add(r->o, "log", json_object_new_array());
	return 0;
}

int cmd_serve_report_load(struct cmd_serve_report *r, const char *outbox, const char *id)
{
	char path[4096];
	json_object *log;

	memset(r, 0, sizeof(*r));
	set_file(r, id, false);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", outbox, r->file) >= sizeof(path))
		return -ENAMETOOLONG;
	if (access(path, F_OK))
		return -errno;
	r->o = json_object_from_file(path);
	if (!r->o || !json_object_is_type(r->o, json_type_object)) {
		cmd_serve_report_release(r);
		return -EBADMSG;
	}
	if (!json_object_object_get_ex(r->o, "log", &log) ||
	    !json_object_is_type(log, json_type_array))
		json_object_object_add(r->o, "log", json_object_new_array());
	return 0;
}

void cmd_serve_report_release(struct cmd_serve_report *r)
{
	if (r->o)
		json_object_put(r->o);
	r->o = NULL;
}

void cmd_serve_report_log(struct cmd_serve_report *r, uint32_t now_wall, const char *event,
			  const char *step, int segment, uint8_t nrc, const char *message)
{
	json_object *log, *e = json_object_new_object();

	if (!e)
		return;
	json_object_object_add(e, "time", json_object_new_int64(now_wall));
	json_object_object_add(e, "event", json_object_new_string(event));
	if (step)
		json_object_object_add(e, "step", json_object_new_string(step));
	if (segment >= 0)
		json_object_object_add(e, "segment", json_object_new_int(segment));
	if (nrc) {
		json_object_object_add(e, "nrc", json_object_new_int(nrc));
		json_object_object_add(e, "nrc_name", json_object_new_string(uds_nrc_str(nrc)));
	}
	if (message)
		json_object_object_add(e, "message", json_str(message));
	if (!json_object_object_get_ex(r->o, "log", &log)) {
		log = json_object_new_array();
		json_object_object_add(r->o, "log", log);
	}
	json_object_array_add(log, e);
}

int cmd_serve_report_write(const struct cmd_serve_report *r, const char *outbox)
{
	const char *s;
	size_t len;
	char *buf;
	int err;

	s = json_object_to_json_string_ext(r->o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		return -ENOMEM;
	len = strlen(s);
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, s, len);
	buf[len] = '\n';
	err = cmd_serve_write_atomic(outbox, r->file, buf, len + 1);
	free(buf);
	return err;
}

/* rename() that fails with EEXIST instead of replacing; 9p lacks the flag. */
static int move_noreplace(const char *from, const char *to)
{
	struct stat st;

	if (!renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (!lstat(to, &st)) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

int cmd_serve_move_done(const char *inbox, const char *done, const char *name)
{
	char from[4096], to[4096], base[NAME_MAX + 1], sfx[16];
	int err;

	if ((size_t)snprintf(from, sizeof(from), "%s/%s", inbox, name) >= sizeof(from))
		return -ENAMETOOLONG;
	for (unsigned n = 0; n < 1000; n++) {
		if (n)
			snprintf(sfx, sizeof(sfx), ".%u", n);
		else
			sfx[0] = '\0';
		cmd_serve_file_name(base, sizeof(base), NAME_MAX, "", name, strlen(name), sfx);
		if ((size_t)snprintf(to, sizeof(to), "%s/%s", done, base) >= sizeof(to))
			return -ENAMETOOLONG;
		if (!move_noreplace(from, to)) {
			err = fota_fsync_dir(done);
			if (!err)
				err = fota_fsync_dir(inbox);
			return err;
		}
		if (errno == ENOENT)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int cmd_serve_clean_tmp(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		struct stat st;

		if (l <= 4 || strcmp(de->d_name + l - 4, ".tmp"))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (!unlinkat(dirfd(d), de->d_name, 0))
			n++;
	}
	closedir(d);
	return n;
}

int cmd_serve_open_state(struct serve_paths *p, int *lockfd)
{
	const char *dirs[] = { p->inbox, p->outbox, p->done, p->firmware };
	char path[sizeof(p->dir) + 8], pid[24] = "";
	ssize_t n;
	int fd, err;

	*lockfd = -1;
	snprintf(p->inbox, sizeof(p->inbox), "%s/inbox", p->dir);
	snprintf(p->outbox, sizeof(p->outbox), "%s/outbox", p->dir);
	snprintf(p->done, sizeof(p->done), "%s/done", p->dir);
	snprintf(p->firmware, sizeof(p->firmware), "%s/firmware", p->dir);
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(dirs); i++) {
		err = fota_mkdir_p(dirs[i], i == 3 ? 0700 : 0755);
		if (err) {
			fota_error_errno(err, "state directory %s", dirs[i]);
			return err;
		}
	}
	snprintf(path, sizeof(path), "%s/lock", p->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		err = -errno;
		fota_error_errno(err, "%s", path);
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = -errno;
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (err == -EWOULDBLOCK) {
			fota_error("%s: state directory locked by another fota serve (pid %s)",
				   p->dir, pid[0] ? pid : "unknown");
			return -EBUSY;
		}
		fota_error_errno(err, "%s", path);
		return err;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		fota_warn("%s: cannot write the PID: %s", path, strerror(errno));
	*lockfd = fd;
	cmd_serve_clean_tmp(p->dir);
	cmd_serve_clean_tmp(p->outbox);
	cmd_serve_clean_tmp(p->firmware);
	return 0;
}
