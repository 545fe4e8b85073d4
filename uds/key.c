// SPDX-License-Identifier: MIT
/*
 * Seed -> key for SecurityAccess (ISO 14229-1 §10.4): the xor bench
 * algorithm, an external command (posix_spawn, no shell, killed on timeout)
 * and a vendor shared library with the GenerateKeyEx entry point. See
 * uds/key.h for the contract. Keys and seeds never reach a message.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core/hexstr.h"
#include "core/time.h"
#include "uds/key.h"

extern char **environ;

#define KEY_CMD_OUT_MAX 4096 /* more output than this from a key command is an error */

static int fail(char *err, size_t errsize, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errsize, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errsize) {
		va_start(ap, fmt);
		vsnprintf(err, errsize, fmt, ap);
		va_end(ap);
	}
	return rc;
}

bool uds_seed_is_zero(const uint8_t *seed, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (seed[i])
			return false;
	return true;
}

static void wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

static int key_xor(const struct cfg_key *key, const uint8_t *seed, size_t seed_len, uint8_t *out,
		   size_t cap, size_t *out_len, char *err, size_t errsize)
{
	if (seed_len > cap)
		return fail(err, errsize, -EMSGSIZE, "key of %zu bytes does not fit in %zu",
			    seed_len, cap);
	for (size_t i = 0; i < seed_len; i++)
		out[i] = seed[i] ^ key->mask[i % key->mask_len];
	*out_len = seed_len;
	return 0;
}

/* Wait for pid until deadline (then SIGKILL its process group). Returns the wait status or -ETIMEDOUT. */
static int reap(pid_t pid, fota_us deadline)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -ECHILD;
		if (fota_now() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

static int spawn_cmd(const struct cfg_key *key, char *const argv[], int out_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int rc;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGCHLD);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	/* Own process group, so a timeout kills what the command started too. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(pid, key->path, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

static int key_cmd(const struct cfg_key *key, unsigned level, const uint8_t *seed, size_t seed_len,
		   uint8_t *out, size_t cap, size_t *out_len, char *err, size_t errsize)
{
	char seedhex[2 * UDS_KEY_MAX + 1], lvl[16], buf[KEY_CMD_OUT_MAX];
	char *argv[] = { (char *)key->path, seedhex, lvl, NULL };
	uint8_t tmp[UDS_KEY_MAX];
	size_t n = 0, klen = 0;
	fota_us deadline;
	int p[2], rc, status;
	bool too_much = false;
	pid_t pid;

	for (size_t i = 0; i < seed_len; i++)
		snprintf(seedhex + 2 * i, 3, "%02X", seed[i]);
	snprintf(lvl, sizeof(lvl), "%u", level);
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(err, errsize, -errno, "cmd: pipe: %s", strerror(errno));
	rc = spawn_cmd(key, argv, p[1], &pid);
	close(p[1]);
	wipe(seedhex, sizeof(seedhex));
	if (rc) {
		close(p[0]);
		return fail(err, errsize, rc, "cmd: %s: %s", key->path, strerror(-rc));
	}
	deadline = fota_now() + FOTA_MS(key->timeout_ms);
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		fota_us now = fota_now();
		ssize_t r;

		if (now >= deadline)
			break;
		rc = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			break;
		r = read(p[0], buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || n == sizeof(buf)) {
			too_much = r > 0 || n == sizeof(buf);
			break;
		}
		n += (size_t)r;
	}
	close(p[0]);
	status = reap(pid, too_much ? 0 : deadline);
	if (status == -ETIMEDOUT && !too_much) {
		wipe(buf, sizeof(buf));
		return fail(err, errsize, -ETIMEDOUT, "cmd: %s: no key within %u ms (killed)",
			    key->path, key->timeout_ms);
	}
	rc = 0;
	if (too_much)
		rc = fail(err, errsize, -EPROTO, "cmd: %s: more than %d bytes of output", key->path,
			  KEY_CMD_OUT_MAX);
	else if (status < 0)
		rc = fail(err, errsize, -EPROTO, "cmd: %s: lost the child process", key->path);
	else if (WIFSIGNALED(status))
		rc = fail(err, errsize, -EPROTO, "cmd: %s: killed by signal %d", key->path,
			  WTERMSIG(status));
	else if (WEXITSTATUS(status))
		rc = fail(err, errsize, -EPROTO, "cmd: %s: exit status %d", key->path,
			  WEXITSTATUS(status));
	else if (fota_hex_bytes(buf, n, CFG_KEY_HEX_SEPS, tmp, sizeof(tmp), &klen) || !klen)
		rc = fail(err, errsize, -EPROTO, "cmd: %s: output is not a hex key", key->path);
	else if (klen > cap)
		rc = fail(err, errsize, -EMSGSIZE, "cmd: %s: key of %zu bytes does not fit in %zu",
			  key->path, klen, cap);
	if (!rc) {
		memcpy(out, tmp, klen);
		*out_len = klen;
	}
	wipe(buf, sizeof(buf));
	wipe(tmp, sizeof(tmp));
	return rc;
}

static int key_lib(const struct cfg_key *key, unsigned level, const uint8_t *seed, size_t seed_len,
		   uint8_t *out, size_t cap, size_t *out_len, char *err, size_t errsize)
{
	uint8_t tmp[UDS_KEY_MAX];
	unsigned int actual = 0;
	uds_generate_key_ex_fn fn;
	void *h;
	int rc;

	if (strchr(key->path, '/') && access(key->path, R_OK) < 0)
		return fail(err, errsize, -errno, "lib: %s: %s", key->path, strerror(errno));
	h = dlopen(key->path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return fail(err, errsize, -ELIBBAD, "lib: %s", dlerror());
	/* POSIX blesses this conversion for dlsym results. */
	*(void **)&fn = dlsym(h, key->symbol);
	if (!fn) {
		rc = fail(err, errsize, -ELIBBAD, "lib: %s: no symbol %s", key->path, key->symbol);
		dlclose(h);
		return rc;
	}
	rc = fn(seed, (unsigned int)seed_len, level, key->variant, tmp, sizeof(tmp), &actual);
	if (rc)
		rc = fail(err, errsize, -EPROTO, "lib: %s: %s returned %d", key->path, key->symbol,
			  rc);
	else if (!actual || actual > sizeof(tmp))
		rc = fail(err, errsize, -EPROTO, "lib: %s: %s returned a key of %u bytes",
			  key->path, key->symbol, actual);
	else if (actual > cap)
		rc = fail(err, errsize, -EMSGSIZE, "lib: key of %u bytes does not fit in %zu",
			  actual, cap);
	if (!rc) {
		memcpy(out, tmp, actual);
		*out_len = actual;
	}
	wipe(tmp, sizeof(tmp));
	dlclose(h);
	return rc;
}

int uds_key_compute_detail(const struct cfg_key *key, unsigned level, const uint8_t *seed,
			   size_t seed_len, uint8_t *out, size_t cap, size_t *out_len, char *err,
			   size_t errsize)
{
	if (err && errsize)
		err[0] = '\0';
	if (!seed_len || seed_len > UDS_KEY_MAX)
		return fail(err, errsize, -EINVAL, "seed of %zu bytes (1..%d)", seed_len,
			    UDS_KEY_MAX);
	switch (key->kind) {
	case CFG_KEY_XOR:
		return key_xor(key, seed, seed_len, out, cap, out_len, err, errsize);
	case CFG_KEY_CMD:
		return key_cmd(key, level, seed, seed_len, out, cap, out_len, err, errsize);
	case CFG_KEY_LIB:
		return key_lib(key, level, seed, seed_len, out, cap, out_len, err, errsize);
	}
	return fail(err, errsize, -EINVAL, "no key algorithm");
}

int uds_key_compute(const struct cfg_key *key, unsigned level, const uint8_t *seed, size_t seed_len,
		    uint8_t *out, size_t cap, size_t *out_len)
{
	return uds_key_compute_detail(key, level, seed, seed_len, out, cap, out_len, NULL, 0);
}
