#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""ptykeys: type keys into an interactive shell on a pseudo-terminal and
report the command line the shell's line editor holds afterwards.

    ptykeys.py [--timeout SEC] -- SHELL ARGS...  <script

The first line of the script is typed as is and must make the shell print
"\\037READY\\036" (source a setup file that binds a key, see below). Every
further line holds keys with Python escapes (\\t for TAB) and is typed,
followed by C-x C-p. The setup binds C-x C-p to print "\\037" LINE "\\036",
LINE being the editor's buffer, and to empty the buffer. For each script
line ptykeys prints one line: the buffer, a TAB, then what the terminal
showed meanwhile (listings), control characters removed and spaces squeezed.

Exit status 0, 1 when the shell gave no answer within the timeout.
"""
import codecs
import os
import pty
import re
import select
import sys
import time


def main():
    args = sys.argv[1:]
    timeout = 10.0
    if len(args) >= 2 and args[0] == "--timeout":
        timeout = float(args[1])
        args = args[2:]
    if not args or args[0] != "--" or len(args) < 2:
        sys.stderr.write("usage: ptykeys.py [--timeout SEC] -- SHELL ARGS... <script\n")
        return 2
    argv = args[1:]
    lines = sys.stdin.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return 2

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    buf = b""

    def read_marker():
        nonlocal buf
        end = time.monotonic() + timeout
        while True:
            m = re.search(rb"\x1f([^\x1e\x1f]*)\x1e", buf)
            if m:
                before, text = buf[: m.start()], m.group(1)
                buf = buf[m.end():]
                return before, text
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    return None
                buf += data

    def clean(b):
        s = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b.", b" ", b)
        s = re.sub(rb"[\x00-\x1f\x7f]+", b" ", s)
        return re.sub(rb" +", b" ", s).strip().decode("utf-8", "replace")

    status = 0
    os.write(fd, lines[0].encode() + b"\n")
    got = read_marker()
    if got is None or got[1] != b"READY":
        sys.stderr.write("ptykeys: the shell did not get ready: %r\n" % buf[-500:])
        status = 1
    else:
        for line in lines[1:]:
            keys = codecs.decode(line, "unicode_escape").encode("latin-1")
            os.write(fd, keys + b"\x18\x10")
            got = read_marker()
            if got is None:
                sys.stderr.write("ptykeys: no answer to %r: %r\n" % (line, buf[-500:]))
                status = 1
                break
            sys.stdout.write("%s\t%s\n" % (got[1].decode("utf-8", "replace"), clean(got[0])))
            sys.stdout.flush()
    try:
        os.kill(pid, 9)
    except OSError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)
    return status


if __name__ == "__main__":
    sys.exit(main())
