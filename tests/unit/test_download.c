// SPDX-License-Identifier: MIT
/*
 * core/download.c without a network: what a .part file left by an earlier
 * run turns into. A complete and right .part is renamed without a single
 * request; a complete and wrong one is removed (sha256_mismatch); a size:
 * above the limit is refused before anything is opened, and a stale .part
 * goes with it. The URL points at a port nothing listens on, so any request
 * made would fail the test with download_failed instead.
 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/download.h"
#include "tests/unit/t.h"

#define NOWHERE "https://127.0.0.1:1/fw.hex"

static char dir[64], part[128], dest[128];

static void setup(const char *content)
{
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/fota-dl-XXXXXX");
	T_TRUE(mkdtemp(dir) != NULL);
	snprintf(part, sizeof(part), "%s/x.part", dir);
	snprintf(dest, sizeof(dest), "%s/x", dir);
	if (content) {
		f = fopen(part, "w");
		T_TRUE(f != NULL);
		fputs(content, f);
		fclose(f);
	}
}

static void teardown(void)
{
	unlink(part);
	unlink(dest);
	rmdir(dir);
}

static void dl_init(struct fota_download *d, const char *content_for_hash, uint64_t size)
{
	unsigned len = 32;

	memset(d, 0, sizeof(*d));
	d->url = NOWHERE;
	d->part = part;
	d->dest = dest;
	d->size = size;
	d->connect_s = 1;
	d->stall_s = 1;
	EVP_Digest(content_for_hash, strlen(content_for_hash), d->sha256, &len, EVP_sha256(), NULL);
}

static void test_download__complete_part_is_only_verified(void)
{
	struct fota_download d;
	char why[256];

	setup("hello firmware\n");
	dl_init(&d, "hello firmware\n", 15);
	T_EQ(fota_download_run(&d, why, sizeof(why)), FOTA_DL_OK);
	T_EQ(d.attempts, 0u);
	T_EQ(d.resumed_at, 15u);
	T_TRUE(access(part, F_OK) != 0);
	T_EQ(fota_download_have(dest), 15u);
	teardown();
}

static void test_download__complete_wrong_part_is_removed(void)
{
	struct fota_download d;
	char why[256];

	setup("hello FIRMWARE\n");
	dl_init(&d, "hello firmware\n", 15);
	T_EQ(fota_download_run(&d, why, sizeof(why)), FOTA_DL_SHA256);
	T_EQ_STR(fota_download_code(FOTA_DL_SHA256), "sha256_mismatch");
	T_TRUE(strstr(why, "sha256 mismatch") != NULL);
	T_TRUE(access(part, F_OK) != 0);
	T_TRUE(access(dest, F_OK) != 0);
	teardown();
}

static void test_download__too_big_before_any_request(void)
{
	struct fota_download d;
	char why[256];

	setup("stale");
	dl_init(&d, "x", 2000);
	d.max_bytes = 1000;
	T_EQ(fota_download_run(&d, why, sizeof(why)), FOTA_DL_TOO_BIG);
	T_EQ_STR(fota_download_code(FOTA_DL_TOO_BIG), "download_too_big");
	T_EQ(d.attempts, 0u);
	T_TRUE(strstr(why, "above the limit of 1000") != NULL);
	T_TRUE(access(part, F_OK) != 0);
	teardown();
}

/* nothing listens: transient, retried, then failed with the .part gone; a cancel ends it early */
static void test_download__refused_is_retried_then_cancelled(void)
{
	struct fota_download d;
	atomic_bool cancel = true;
	char why[256];

	setup("abc");
	dl_init(&d, "abcdef", 6);
	d.cancel = &cancel;
	T_EQ(fota_download_run(&d, why, sizeof(why)), FOTA_DL_CANCELLED);
	T_EQ(fota_download_have(part), 3u); /* kept for the next start */
	teardown();
}

static const struct t_case cases[] = {
	T_CASE(download__complete_part_is_only_verified),
	T_CASE(download__complete_wrong_part_is_removed),
	T_CASE(download__too_big_before_any_request),
	T_CASE(download__refused_is_retried_then_cancelled),
};

int main(void)
{
	fota_download_global_init();
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
