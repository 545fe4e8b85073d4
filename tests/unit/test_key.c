// SPDX-License-Identifier: MIT
/*
 * uds/key.c: the seed -> key algorithms a user configures. xor over seeds of
 * any length; cmd: with a small script written at test time (arguments, exit
 * status, garbage output, timeout that kills the command's children too);
 * lib: with tests/fixtures/keylib.c built as $(O)/tests/keylib.so (found next
 * to this binary, or through $FOTA_TEST_KEYLIB).
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tests/unit/t.h"
#include "uds/key.h"

static char dir[64];

static void setup_dir(void)
{
	if (dir[0])
		return;
	strcpy(dir, "/tmp/fota-test-key-XXXXXX");
	if (!mkdtemp(dir))
		t_fail(__FILE__, __LINE__, "mkdtemp failed");
}

/* Write an executable script DIR/NAME with BODY; returns its path (static buffer per call site). */
static void script(char *path, size_t size, const char *name, const char *body, mode_t mode)
{
	FILE *fp;

	setup_dir();
	snprintf(path, size, "%s/%s", dir, name);
	fp = fopen(path, "w");
	T_TRUE(fp != NULL);
	if (!fp)
		return;
	fprintf(fp, "#!/bin/sh\n%s", body);
	fclose(fp);
	chmod(path, mode);
}

static int parse(const char *spec, struct cfg_key *key)
{
	char err[160];

	return cfg_key_parse(spec, key, err, sizeof(err));
}

static void test_key__parse(void)
{
	struct cfg_key k;
	char err[160];

	T_OK(parse("xor:A5a5", &k));
	T_EQ(k.kind, CFG_KEY_XOR);
	T_EQ(k.mask_len, 2);
	T_EQ_MEM(k.mask, "\xA5\xA5", 2);
	T_OK(parse("xor:01 02:03", &k));
	T_EQ(k.mask_len, 3);
	T_OK(parse("cmd:/usr/lib/acme/seedkey", &k));
	T_EQ(k.kind, CFG_KEY_CMD);
	T_EQ_STR(k.path, "/usr/lib/acme/seedkey");
	T_EQ(k.timeout_ms, CFG_KEY_TIMEOUT_MS_DEF);
	T_OK(parse("lib:/opt/acme/sk.so", &k));
	T_EQ(k.kind, CFG_KEY_LIB);
	T_EQ_STR(k.path, "/opt/acme/sk.so");
	T_EQ_STR(k.symbol, "GenerateKeyEx");
	T_OK(parse("lib:/opt/acme/sk.so:Level3_Key", &k));
	T_EQ_STR(k.path, "/opt/acme/sk.so");
	T_EQ_STR(k.symbol, "Level3_Key");
	/* a colon inside the path is not a symbol separator */
	T_OK(parse("lib:/opt/a:b/sk.so", &k));
	T_EQ_STR(k.path, "/opt/a:b/sk.so");
	T_EQ_STR(k.symbol, "GenerateKeyEx");

	T_EQ(parse("xor:", &k), -EINVAL);
	T_EQ(parse("xor:ABC", &k), -EINVAL);
	T_EQ(parse("xor:0G", &k), -EINVAL);
	T_EQ(parse("cmd:", &k), -EINVAL);
	T_EQ(parse("lib:", &k), -EINVAL);
	T_EQ(parse("lib::Sym", &k), -EINVAL);
	T_EQ(parse("lib:/x.so:", &k), -EINVAL);
	T_EQ(parse("rot13:x", &k), -EINVAL);
	T_EQ(parse("", &k), -EINVAL);
	T_EQ(cfg_key_parse(NULL, &k, NULL, 0), -EINVAL);

	/* the mask is a secret: an error never quotes it */
	T_EQ(cfg_key_parse("xor:C0FFEE1", &k, err, sizeof(err)), -EINVAL);
	T_TRUE(strstr(err, "C0FFEE") == NULL);
	T_TRUE(err[0] != '\0');
}

static void test_key__parse_long_mask(void)
{
	char spec[4 + 2 * (CFG_KEY_MASK_MAX + 1) + 1] = "xor:";
	struct cfg_key k;

	for (int i = 0; i < CFG_KEY_MASK_MAX; i++)
		strcat(spec, "5A");
	T_OK(parse(spec, &k));
	T_EQ(k.mask_len, CFG_KEY_MASK_MAX);
	strcat(spec, "5A");
	T_EQ(parse(spec, &k), -EINVAL);
}

static void test_key__xor(void)
{
	static const uint8_t seed[5] = { 0x11, 0x22, 0x33, 0x44, 0x55 };
	uint8_t out[UDS_KEY_MAX], big[UDS_KEY_MAX + 1];
	struct cfg_key k;
	size_t n = 0;

	T_OK(parse("xor:A5A5A5A5", &k));
	T_OK(uds_key_compute(&k, 1, seed, 4, out, sizeof(out), &n));
	T_EQ(n, 4);
	T_EQ_MEM(out, "\xB4\x87\x96\xE1", 4);
	/* the mask repeats over a longer seed */
	T_OK(parse("xor:FF00", &k));
	T_OK(uds_key_compute(&k, 1, seed, 5, out, sizeof(out), &n));
	T_EQ(n, 5);
	T_EQ_MEM(out, "\xEE\x22\xCC\x44\xAA", 5);
	/* seeds of any length up to UDS_KEY_MAX */
	memset(big, 0x0F, sizeof(big));
	T_OK(uds_key_compute(&k, 1, big, UDS_KEY_MAX, out, sizeof(out), &n));
	T_EQ(n, UDS_KEY_MAX);
	T_EQ(out[UDS_KEY_MAX - 2], 0xF0);
	T_EQ(out[UDS_KEY_MAX - 1], 0x0F);
	T_EQ(uds_key_compute(&k, 1, big, UDS_KEY_MAX + 1, out, sizeof(out), &n), -EINVAL);
	T_EQ(uds_key_compute(&k, 1, seed, 0, out, sizeof(out), &n), -EINVAL);
	T_EQ(uds_key_compute(&k, 1, seed, 5, out, 4, &n), -EMSGSIZE);
}

static void test_key__seed_is_zero(void)
{
	static const uint8_t z[3], nz[3] = { 0, 0, 1 };

	T_TRUE(uds_seed_is_zero(z, 3));
	T_TRUE(!uds_seed_is_zero(nz, 3));
	T_TRUE(!uds_seed_is_zero(z, 0));
}

static const uint8_t seed4[4] = { 0x11, 0x22, 0x33, 0x44 };

static int run_cmd(const char *path, unsigned level, unsigned timeout_ms, uint8_t *out, size_t cap,
		   size_t *n, char *err, size_t errsize)
{
	char spec[512];
	struct cfg_key k;

	snprintf(spec, sizeof(spec), "cmd:%s", path);
	T_OK(parse(spec, &k));
	if (timeout_ms)
		k.timeout_ms = timeout_ms;
	return uds_key_compute_detail(&k, level, seed4, sizeof(seed4), out, cap, n, err, errsize);
}

static void test_key__cmd(void)
{
	char path[256], err[160], line[64] = "";
	uint8_t out[16];
	size_t n = 0;
	FILE *fp;

	/* argv: SEEDHEX LEVEL (decimal); stdin is empty; key as hex on stdout */
	script(path, sizeof(path), "good.sh",
	       "read x && exit 9\n"
	       "echo \"$1 $2 $#\" >\"$(dirname \"$0\")/args\"\n"
	       "[ \"$1\" = 11223344 ] && [ \"$2\" = 3 ] || exit 4\n"
	       "echo 'de ad BE EF'\n",
	       0755);
	T_OK(run_cmd(path, 3, 0, out, sizeof(out), &n, err, sizeof(err)));
	T_EQ(n, 4);
	T_EQ_MEM(out, "\xDE\xAD\xBE\xEF", 4);
	snprintf(path + strlen(path) - strlen("good.sh"), 8, "args");
	fp = fopen(path, "r");
	T_TRUE(fp && fgets(line, sizeof(line), fp));
	if (fp)
		fclose(fp);
	T_EQ_STR(line, "11223344 3 2\n");

	/* non-zero exit is an error, with the status in the detail */
	script(path, sizeof(path), "good.sh", "exit 4\n", 0755);
	T_EQ(run_cmd(path, 1, 0, out, sizeof(out), &n, err, sizeof(err)), -EPROTO);
	T_TRUE(strstr(err, "exit status 4") != NULL);

	script(path, sizeof(path), "garbage.sh", "echo 'key: 1234'\n", 0755);
	T_EQ(run_cmd(path, 1, 0, out, sizeof(out), &n, err, sizeof(err)), -EPROTO);
	script(path, sizeof(path), "empty.sh", "true\n", 0755);
	T_EQ(run_cmd(path, 1, 0, out, sizeof(out), &n, err, sizeof(err)), -EPROTO);
	script(path, sizeof(path), "long.sh", "echo 00112233445566778899AABBCCDDEEFF00\n", 0755);
	T_EQ(run_cmd(path, 1, 0, out, sizeof(out), &n, err, sizeof(err)), -EMSGSIZE);
	script(path, sizeof(path), "signal.sh", "kill -9 $$\n", 0755);
	T_EQ(run_cmd(path, 1, 0, out, sizeof(out), &n, err, sizeof(err)), -EPROTO);
	T_TRUE(strstr(err, "signal 9") != NULL);

	script(path, sizeof(path), "noexec.sh", "echo 00\n", 0644);
	T_EQ(run_cmd(path, 1, 0, out, sizeof(out), &n, err, sizeof(err)), -EACCES);
	T_EQ(run_cmd("/nonexistent/fota-key", 1, 0, out, sizeof(out), &n, err, sizeof(err)),
	     -ENOENT);
	T_TRUE(strstr(err, "/nonexistent/fota-key") != NULL);
}

/* Is PID gone or a zombie (killed, waiting for its new parent to reap it)? */
static bool dead(long pid)
{
	char p[64], buf[256] = "";
	FILE *fp;

	snprintf(p, sizeof(p), "/proc/%ld/stat", pid);
	fp = fopen(p, "r");
	if (!fp)
		return true;
	if (!fgets(buf, sizeof(buf), fp))
		buf[0] = '\0';
	fclose(fp);
	return strstr(buf, ") Z ") != NULL || strstr(buf, ") X ") != NULL;
}

static void test_key__cmd_timeout_kills_children(void)
{
	char path[256], pidfile[256], err[160];
	uint8_t out[16];
	size_t n = 0;
	long pid = 0;
	FILE *fp;

	setup_dir();
	snprintf(pidfile, sizeof(pidfile), "%s/sleep.pid", dir);
	script(path, sizeof(path), "hang.sh",
	       "sleep 30 &\necho $! >\"$(dirname \"$0\")/sleep.pid\"\nwait\n", 0755);
	T_EQ(run_cmd(path, 1, 300, out, sizeof(out), &n, err, sizeof(err)), -ETIMEDOUT);
	T_TRUE(strstr(err, "300 ms") != NULL);
	fp = fopen(pidfile, "r");
	T_TRUE(fp && fscanf(fp, "%ld", &pid) == 1);
	if (fp)
		fclose(fp);
	T_TRUE(pid > 0);
	/* SIGKILL went to the whole process group; give the kernel a moment to deliver it */
	for (int i = 0; pid > 0 && i < 200 && !dead(pid); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
	T_TRUE(pid > 0 && dead(pid));
}

static void keylib_path(char *buf, size_t size)
{
	const char *env = getenv("FOTA_TEST_KEYLIB");
	char exe[PATH_MAX];
	ssize_t r;

	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return;
	}
	/* $(O)/tests/unit/test_key -> $(O)/tests/keylib.so */
	r = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[r > 0 ? r : 0] = '\0';
	if (strrchr(exe, '/'))
		*strrchr(exe, '/') = '\0';
	snprintf(buf, size, "%.*s/../keylib.so", (int)(size > 20 ? size - 20 : 0), exe);
}

static int run_lib(const char *suffix, unsigned level, const uint8_t *seed, size_t len,
		   uint8_t *out, size_t cap, size_t *n, char *err)
{
	char lib[PATH_MAX], spec[PATH_MAX + 64];
	struct cfg_key k;

	keylib_path(lib, sizeof(lib));
	snprintf(spec, sizeof(spec), "lib:%s%s", lib, suffix);
	T_OK(parse(spec, &k));
	return uds_key_compute_detail(&k, level, seed, len, out, cap, n, err, 160);
}

static void test_key__lib(void)
{
	uint8_t out[UDS_KEY_MAX], big[200];
	char err[160];
	struct cfg_key k;
	size_t n = 0;

	/* GenerateKeyEx: key[i] = ~seed[n-1-i] + level + strlen(variant "") */
	T_OK(run_lib("", 1, seed4, 4, out, sizeof(out), &n, err));
	T_EQ(n, 4);
	T_EQ_MEM(out, "\xBC\xCD\xDE\xEF", 4);
	T_OK(run_lib(":GenerateKeyEx", 5, seed4, 4, out, sizeof(out), &n, err));
	T_EQ_MEM(out, "\xC0\xD1\xE2\xF3", 4);
	memset(big, 0xFF, sizeof(big));
	T_OK(run_lib("", 1, big, sizeof(big), out, sizeof(out), &n, err));
	T_EQ(n, sizeof(big));
	T_EQ(out[199], 1);

	T_OK(run_lib(":AltKey", 3, seed4, 4, out, sizeof(out), &n, err));
	T_EQ(n, 2);
	T_EQ_MEM(out, "\x5A\x03", 2);
	T_EQ(run_lib(":AltKey", 3, seed4, 4, out, 1, &n, err), -EMSGSIZE);
	T_EQ(run_lib(":FailKey", 1, seed4, 4, out, sizeof(out), &n, err), -EPROTO);
	T_TRUE(strstr(err, "returned 3") != NULL);
	T_EQ(run_lib(":BigKey", 1, seed4, 4, out, sizeof(out), &n, err), -EPROTO);
	T_EQ(run_lib(":NoSuchSymbol", 1, seed4, 4, out, sizeof(out), &n, err), -ELIBBAD);

	T_OK(parse("lib:/nonexistent/sk.so", &k));
	T_EQ(uds_key_compute(&k, 1, seed4, 4, out, sizeof(out), &n), -ENOENT);
	/* a file that is no shared object */
	T_OK(parse("lib:/etc/passwd", &k));
	T_EQ(uds_key_compute(&k, 1, seed4, 4, out, sizeof(out), &n), -ELIBBAD);
}

static void cleanup(void)
{
	char cmd[128];

	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			t_fail(__FILE__, __LINE__, "cleanup of %s failed", dir);
	}
}

static void test_key__cleanup(void)
{
	cleanup();
}

static const struct t_case cases[] = {
	T_CASE(key__parse), T_CASE(key__parse_long_mask),
	T_CASE(key__xor),   T_CASE(key__seed_is_zero),
	T_CASE(key__cmd),   T_CASE(key__cmd_timeout_kills_children),
	T_CASE(key__lib),   T_CASE(key__cleanup),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
