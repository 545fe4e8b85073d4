// SPDX-License-Identifier: MIT
/* Firmware download over https with resume (core/download.h). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/download.h"
#include "core/file.h"

/* One HTTP request: what the callbacks need and what they found. */
struct attempt {
	struct fota_download *d;
	CURL *c;
	int fd;
	uint64_t have, unsynced;
	bool checked; /* the response's status and Content-Length were looked at */
	bool too_big;
	int werr; /* -errno of a failed write to the .part */
};

enum step {
	S_DONE,
	S_RETRY,
	S_STOP
};

int fota_download_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

const char *fota_download_code(enum fota_dl_result r)
{
	switch (r) {
	case FOTA_DL_OK:
		return "ok";
	case FOTA_DL_CANCELLED:
		return "cancelled";
	case FOTA_DL_TOO_BIG:
		return "download_too_big";
	case FOTA_DL_SHA256:
		return "sha256_mismatch";
	case FOTA_DL_TLS:
		return "tls";
	case FOTA_DL_LOCAL:
		return "download_local";
	case FOTA_DL_FAILED:
	default:
		return "download_failed";
	}
}

uint64_t fota_download_have(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

static bool cancelled(const struct fota_download *d)
{
	return d->cancel && atomic_load(d->cancel);
}

/* Start the .part again from byte 0 (a server that ignored Range, or a .part too long). */
static int part_reset(struct attempt *a)
{
	if (ftruncate(a->fd, 0) < 0 || lseek(a->fd, 0, SEEK_SET) < 0)
		return -errno;
	a->have = 0;
	return 0;
}

/* The first body bytes: is this the range we asked for, and can it fit? */
static bool first_bytes(struct attempt *a)
{
	curl_off_t cl = -1;
	long code = 0;

	a->checked = true;
	curl_easy_getinfo(a->c, CURLINFO_RESPONSE_CODE, &code);
	if (a->have && code == 200) {
		/* the whole file again (RFC 9110 §14.2 lets a server ignore Range) */
		a->werr = part_reset(a);
		if (a->werr)
			return false;
	}
	curl_easy_getinfo(a->c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	if (cl >= 0 && a->have + (uint64_t)cl > a->d->size) {
		a->too_big = true;
		return false;
	}
	return true;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct attempt *a = arg;
	size_t n = sz * nm;
	int err;

	if (!a->checked && !first_bytes(a))
		return 0;
	if (n > a->d->size - a->have) {
		a->too_big = true; /* more than size: even if Content-Length said otherwise */
		return 0;
	}
	err = fota_write_full(a->fd, p, n);
	if (err) {
		a->werr = err;
		return 0;
	}
	a->have += n;
	a->unsynced += n;
	/* a power cut loses at most this much of what was fetched */
	if (a->unsynced >= FOTA_DL_SYNC_BYTES) {
		fdatasync(a->fd);
		a->unsynced = 0;
		if (a->d->progress)
			a->d->progress(a->d->ctx, a->have, a->d->size);
	}
	return n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct attempt *a = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return cancelled(a->d) ? 1 : 0;
}

static CURL *easy_new(struct attempt *a, char *errbuf, char *range, size_t rsize)
{
	const struct fota_download *d = a->d;
	CURL *c = curl_easy_init();

	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, d->url);
	/* https only, also after a redirect: never plain text, never file:// */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)FOTA_DL_REDIRS);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (d->ca && d->ca[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, d->ca);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(d->connect_s ? d->connect_s : 20));
	/* a stall: less than 1 byte/s for stall_s seconds */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)(d->stall_s ? d->stall_s : 30));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* a worker thread: no SIGALRM */
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, a);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "fota");
	if (a->have) {
		snprintf(range, rsize, "%" PRIu64 "-", a->have);
		curl_easy_setopt(c, CURLOPT_RANGE, range);
	}
	return c;
}

static bool tls_error(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
	       rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_ISSUER_ERROR ||
	       rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CRL_BADFILE;
}

/* What an attempt's outcome means: done, worth another attempt, or the end (*res). */
static enum step judge(struct attempt *a, CURLcode rc, const char *errbuf, enum fota_dl_result *res,
		       char *why, size_t whylen)
{
	const struct fota_download *d = a->d;
	long code = 0;

	curl_easy_getinfo(a->c, CURLINFO_RESPONSE_CODE, &code);
	*res = FOTA_DL_FAILED;
	if (a->too_big) {
		*res = FOTA_DL_TOO_BIG;
		snprintf(why, whylen, "%s: the server offers more than size: %" PRIu64 " bytes",
			 d->url, d->size);
		return S_STOP;
	}
	if (a->werr) {
		*res = FOTA_DL_LOCAL;
		snprintf(why, whylen, "%s: %s", d->part, strerror(-a->werr));
		return S_STOP;
	}
	if (rc == CURLE_ABORTED_BY_CALLBACK && cancelled(d)) {
		*res = FOTA_DL_CANCELLED;
		snprintf(why, whylen, "%s: cancelled at %" PRIu64 " bytes", d->url, a->have);
		return S_STOP;
	}
	if (rc == CURLE_OK)
		return a->have == d->size ? S_DONE : S_RETRY;
	if (tls_error(rc)) {
		*res = FOTA_DL_TLS;
		snprintf(why, whylen, "%s: TLS: %s", d->url,
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return S_STOP;
	}
	snprintf(why, whylen, "%s: %s", d->url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	if (rc == CURLE_HTTP_RETURNED_ERROR) {
		if (code == 416) {
			/* our range is past the file: it changed under us, start over */
			a->werr = part_reset(a);
			return a->werr ? S_STOP : S_RETRY;
		}
		/* 5xx, Request Timeout, Too Many Requests: the server may recover */
		return code >= 500 || code == 408 || code == 429 ? S_RETRY : S_STOP;
	}
	if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_TOO_MANY_REDIRECTS ||
	    rc == CURLE_URL_MALFORMAT || rc == CURLE_FILESIZE_EXCEEDED)
		return S_STOP;
	return S_RETRY; /* refused, reset, stalled, truncated, DNS: transient */
}

/*
 * curl_easy_perform, but through a multi handle polled at most 100 ms at a
 * time: a transfer that waits for bytes (a stalled server) would look at
 * its progress callback only about once a second, too late for a shutdown.
 */
static CURLcode perform(CURL *c, const struct fota_download *d)
{
	CURLcode rc = CURLE_FAILED_INIT;
	CURLM *m = curl_multi_init();
	CURLMsg *msg;
	int running = 1, left;

	if (!m)
		return rc;
	if (curl_multi_add_handle(m, c) != CURLM_OK) {
		curl_multi_cleanup(m);
		return rc;
	}
	for (;;) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (!running) {
			while ((msg = curl_multi_info_read(m, &left)))
				if (msg->msg == CURLMSG_DONE)
					rc = msg->data.result;
			break;
		}
		if (cancelled(d)) {
			rc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_poll(m, NULL, 0, 100, NULL) != CURLM_OK)
			break;
	}
	curl_multi_remove_handle(m, c);
	curl_multi_cleanup(m);
	return rc;
}

static enum step attempt(struct fota_download *d, int fd, enum fota_dl_result *res, char *why,
			 size_t whylen)
{
	char errbuf[CURL_ERROR_SIZE] = "", range[32];
	struct attempt a = { .d = d, .fd = fd };
	struct stat st;
	enum step s;
	CURLcode rc;

	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_END) < 0) {
		*res = FOTA_DL_LOCAL;
		snprintf(why, whylen, "%s: %s", d->part, strerror(errno));
		return S_STOP;
	}
	a.have = (uint64_t)st.st_size;
	if (a.have > d->size && part_reset(&a) == 0)
		a.have = 0;
	if (!d->attempts)
		d->resumed_at = a.have;
	if (a.have == d->size)
		return S_DONE;
	a.c = easy_new(&a, errbuf, range, sizeof(range));
	if (!a.c) {
		*res = FOTA_DL_LOCAL;
		snprintf(why, whylen, "libcurl: cannot start a transfer");
		return S_STOP;
	}
	d->attempts++;
	rc = perform(a.c, d);
	s = judge(&a, rc, errbuf, res, why, whylen);
	if (s == S_RETRY && rc == CURLE_OK)
		snprintf(why, whylen, "%s: the server sent %" PRIu64 " of %" PRIu64 " bytes",
			 d->url, a.have, d->size);
	curl_easy_cleanup(a.c);
	fdatasync(fd);
	if (d->progress)
		d->progress(d->ctx, a.have, d->size);
	return s;
}

static int sha256_fd(int fd, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[65536];
	unsigned len = 0;
	ssize_t n;
	int err = 0;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) || lseek(fd, 0, SEEK_SET) < 0) {
		EVP_MD_CTX_free(ctx);
		return -EIO;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
			break;
	if (n < 0)
		err = -errno;
	else if (n > 0 || !EVP_DigestFinal_ex(ctx, out, &len) || len != 32)
		err = -EIO;
	EVP_MD_CTX_free(ctx);
	return err;
}

static void fsync_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	fota_fsync_dir(dir[0] ? dir : "/");
}

/* All size: bytes are in the .part: the whole file (resumed bytes too) must hash right. */
static enum fota_dl_result finish(struct fota_download *d, int fd, char *why, size_t whylen)
{
	uint8_t got[32];
	int err = sha256_fd(fd, got);

	if (err) {
		snprintf(why, whylen, "%s: cannot compute SHA-256: %s", d->part, strerror(-err));
		return FOTA_DL_LOCAL;
	}
	if (memcmp(got, d->sha256, 32)) {
		snprintf(why, whylen, "%s: sha256 mismatch after %" PRIu64 " bytes", d->url,
			 d->size);
		return FOTA_DL_SHA256;
	}
	if (fsync(fd) < 0 || rename(d->part, d->dest) < 0) {
		snprintf(why, whylen, "%s: %s", d->dest, strerror(errno));
		return FOTA_DL_LOCAL;
	}
	fsync_parent(d->dest);
	fsync_parent(d->part);
	return FOTA_DL_OK;
}

/* Sleep S seconds in slices, false at once when cancelled. */
static bool backoff(const struct fota_download *d, unsigned s)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	for (unsigned i = 0; i < s * 20; i++) {
		if (cancelled(d))
			return false;
		nanosleep(&ts, NULL);
	}
	return !cancelled(d);
}

enum fota_dl_result fota_download_run(struct fota_download *d, char *why, size_t whylen)
{
	enum fota_dl_result res = FOTA_DL_FAILED;
	unsigned streak = 0, wait = FOTA_DL_BACKOFF_S;
	enum step s;
	int fd;

	why[0] = '\0';
	d->attempts = 0;
	d->resumed_at = 0;
	if (d->max_bytes && d->size > d->max_bytes) {
		snprintf(why, whylen, "%s: size: %" PRIu64 " bytes is above the limit of %" PRIu64,
			 d->url, d->size, d->max_bytes);
		unlink(d->part);
		return FOTA_DL_TOO_BIG;
	}
	fd = open(d->part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", d->part, strerror(errno));
		return FOTA_DL_LOCAL;
	}
	for (;;) {
		uint64_t before = fota_download_have(d->part);

		s = attempt(d, fd, &res, why, whylen);
		if (s != S_RETRY)
			break;
		/* attempts that fetch something do not count: a flaky line still finishes */
		if (fota_download_have(d->part) > before) {
			streak = 0;
			wait = FOTA_DL_BACKOFF_S;
		}
		if (++streak >= FOTA_DL_ATTEMPTS) {
			size_t l = strlen(why);

			snprintf(why + l, whylen - l, " (%u attempts)", d->attempts);
			res = FOTA_DL_FAILED;
			break;
		}
		if (!backoff(d, wait)) {
			res = FOTA_DL_CANCELLED;
			snprintf(why, whylen, "%s: cancelled", d->url);
			break;
		}
		wait = wait * 2 > FOTA_DL_BACKOFF_MAX ? FOTA_DL_BACKOFF_MAX : wait * 2;
	}
	if (s == S_DONE)
		res = finish(d, fd, why, whylen);
	close(fd);
	/* a cancelled download resumes at the next start; any other end leaves nothing */
	if (res != FOTA_DL_OK && res != FOTA_DL_CANCELLED) {
		unlink(d->part);
		fsync_parent(d->part);
	}
	return res;
}
