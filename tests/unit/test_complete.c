// SPDX-License-Identifier: MIT
/*
 * Unit tests of bus completion (cmd_complete_buses(), cmd/common.h) against a
 * made-up /sys/class/net: only interfaces of type 280 (ARPHRD_CAN) are
 * offered, then unix:, and after unix: a directory is asked for. The machine
 * that runs make check has no CAN interface, so t0040 cannot see this part.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cmd/common.h"
#include "tests/unit/t.h"

static char net[64];

static void add_iface(const char *name, const char *type)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", net, name);
	T_OK(mkdir(path, 0755));
	if (!type)
		return;
	snprintf(path, sizeof(path), "%s/%s/type", net, name);
	fp = fopen(path, "w");
	T_TRUE(fp != NULL);
	if (fp) {
		fputs(type, fp);
		fclose(fp);
	}
}

static void make_net(void)
{
	strcpy(net, "/tmp/fota-unit-net.XXXXXX");
	T_TRUE(mkdtemp(net) != NULL);
	add_iface("can0", "280\n");
	add_iface("vcan1", "280\n");
	add_iface("eth0", "1\n");
	add_iface("lo", "772\n");
	add_iface("cannot", NULL); /* no type file */
	add_iface("can9x", "2800\n");
}

static void remove_net(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", net);
	T_OK(system(cmd));
}

/* What cmd_complete_buses() prints, lines sorted. */
static char *buses(const char *dir, const char *pre, const char *cur)
{
	static char out[1024];
	char file[] = "/tmp/fota-unit-out.XXXXXX", cmd[160];
	int fd = mkstemp(file), saved;
	FILE *fp;
	size_t n;

	T_TRUE(fd >= 0);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	cmd_complete_buses(dir, pre, cur);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	snprintf(cmd, sizeof(cmd), "sort -o '%s' '%s'", file, file);
	T_OK(system(cmd));
	fp = fopen(file, "r");
	n = fp ? fread(out, 1, sizeof(out) - 1, fp) : 0;
	out[n] = '\0';
	if (fp)
		fclose(fp);
	unlink(file);
	return out;
}

static void test_complete__can_interfaces_then_unix(void)
{
	make_net();
	T_EQ_STR(buses(net, "", ""), "can0\tCAN interface\n"
				     "unix:\tvirtual bus in a directory\n"
				     "vcan1\tCAN interface\n");
	T_EQ_STR(buses(net, "", "v"), "vcan1\tCAN interface\n");
	T_EQ_STR(buses(net, "", "u"), "unix:\tvirtual bus in a directory\n");
	T_EQ_STR(buses(net, "--bus=", "c"), "--bus=can0\tCAN interface\n");
	T_EQ_STR(buses(net, "", "x"), "");
	remove_net();
}

static void test_complete__a_directory_after_unix(void)
{
	T_EQ_STR(buses("/nonexistent", "", "unix:"), ":dirs\tunix:\n");
	T_EQ_STR(buses("/nonexistent", "--bus=", "unix:/tmp/b"), ":dirs\t--bus=unix:\n");
	/* No /sys/class/net (a container): unix: all the same. */
	T_EQ_STR(buses("/nonexistent", "", ""), "unix:\tvirtual bus in a directory\n");
}

static const struct t_case cases[] = {
	T_CASE(complete__can_interfaces_then_unix),
	T_CASE(complete__a_directory_after_unix),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
