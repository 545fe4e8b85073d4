#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/soak.py: the power-cut campaign of `fota serve` (make soak, t3040).

Full update cycles on a unix: bus, each cut once by SIGKILL at an instant
drawn uniformly over the cycle: `fota ecu` (keeps running, keeps its memory
in a file) and `fota serve` (state directory); a request with a fresh UUID
and a small generated HEX image is renamed into inbox/; the operator
approves once it is offered, the OEM says "health ok" once it waits for
verification; the cycle ends at a final update_status. At the drawn instant
serve is killed, then restarted, and the cycle is driven to its end as a user
would: approve again if it is still offered, send the verdict if it waits for
one; 0x50 "TCU restarted during flashing" is the documented end of a flash
cut short (man/fota-serve.1, Persistence).

After every restart and at the end of every cycle the documented promises
are checked, each failure counted under a name (VIOLATIONS below) and printed
with the seed and the iteration that reproduce it:
    tests/soak.py --seed S --iteration I [--cycle-ms D] [--repeat R]
(the same cut instant again; a window of a few milliseconds, such as one
between two file writes, may take a few repeats to hit). Everything an
iteration draws (image, request id, the operator's delays, the
kill instant as a fraction of the cycle) comes from Random("S:I"); only the
cycle's length in milliseconds depends on the machine: it is measured by two
cycles without a kill at start, printed, and can be given with --cycle-ms.

Exit 0 only with no violation; 1 with violations; 2 on a usage or setup error.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

DEFINED = (0x00, 0x01, 0x10, 0x40, 0x50, 0x51, 0x52, 0x60)  # update_status values
FINAL_MIN = 0x40
PLATFORM = {0x40: "successful", 0x50: "failed", 0x51: "failed", 0x52: "failed",
            0x60: "cancelled"}  # report "status" of each final update_status
RESTART_REASON = re.compile(r"TCU restarted during (flashing|the bootloader transition)")

# core/update.h, upd_save(): every key exactly once; numbers decimal or 0x hex.
STATE_KEYS = ("format", "update_available", "update_request_id", "update_attempts_counter",
              "update_available_time", "ecu_can_id", "update_status", "update_start_time",
              "update_end_time", "ecu_health_check_timeout", "verify_start_time",
              "health_deadline")
# the persistent 0x5FF3 objects, as fota status --json names them
PERSISTENT = ("update_available", "update_request_id", "update_attempts_counter",
              "update_available_time", "ecu_can_id", "update_status", "update_start_time",
              "update_end_time", "ecu_health_check_timeout")

VIOLATIONS = (
    ("restart_refused", "serve did not start again, or did not answer SDO within 5 s"),
    ("serve_died", "serve exited unkilled, or not with 0 on the final SIGTERM"),
    ("state_unparseable", "STATE_DIR/state left by the kill does not parse"),
    ("status_undefined", "update_status is not a defined value"),
    ("counter_decreased", "update_attempts_counter went down"),
    ("counter_double", "update_attempts_counter rose by more than one for one request"),
    ("counter_missed", "a request ended without update_attempts_counter rising by one"),
    ("rollback", "after the restart the state is behind what SDO showed before the kill"),
    ("offer_lost", "an offered update is no longer offered after the restart"),
    ("flash_interrupt", "a flash cut by the kill did not end 0x50 with a report saying so"),
    ("verify_lost", "an update waiting for verification did not wait any more"),
    ("final_lost", "a final status did not survive the restart"),
    ("report", "a request did not end with one final report matching update_status"),
    ("report_duplicate", "a request has more than one report, or an unknown report appeared"),
    ("request_left", "a finished request is still in inbox/ or not in done/ once"),
    ("tmp_left", "a temporary file is left in STATE_DIR after serve has been up a while"),
    ("firmware_left", "the private firmware copy STATE_DIR/firmware/ID outlived the update"),
    ("state_mismatch", "at rest, STATE_DIR/state differs from the objects SDO reads"),
    ("ecu_memory", "update successful (0x40) but the ECU memory does not hold the image"),
    ("flash_failed", "an update ended 0x50 for a reason other than the restart"),
    ("stuck", "a cycle did not reach a final status within the time limit"),
)
PHASES = ("queued", "offered", "bootloader", "flashing", "verifying", "final")

NODE = 0x27
REGION = 0x08000000
# P2 1 s (the ECU announces it, the TCU waits that long): the simulated ECU
# syncs its memory file before it answers an erase, and on a loaded machine
# that outlasts the default 50 ms; this campaign is about serve's files, and
# a P2 timeout would end an update 0x50 for a reason that is not the cut.
CONFIG = """tcu:
  node_id: 0x27
  health_check_timeout_min: 1
ecus:
  - name: hydraulics
    request_id: 0x7E0
    response_id: 0x7E8
    bootloader_switch: { id: 0x700, data: "01 02", delay_ms: 20 }
    security: { level: 0x01, key: "xor:A5A5A5A5" }
    timing: { p2_ms: 1000 }
    regions:
      - { start: 0x08000000, size: 0x10000 }
"""
# files that serve puts right in its own time after a restart (a worker thread),
# *.tmp it removes at start: "after serve has been up a moment"
SETTLE_S = 2
CYCLE_LIMIT_S = 30  # a cycle not final by then is stuck


class Abort(Exception):
    """The campaign cannot go on (serve refuses to start twice, a helper is gone)."""


def parse_state(text):
    """STATE_DIR/state as a dict (numbers as int); ValueError('line N: why') if it is bad."""
    seen = {}
    lines = text.split("\n")
    if lines[-1] != "":
        raise ValueError("last line has no newline")
    for n, line in enumerate(lines[:-1], 1):
        if line == "" or line.startswith("#"):
            continue
        key, eq, val = line.partition("=")
        if not eq:
            raise ValueError(f"line {n}: no '='")
        if key not in STATE_KEYS:
            raise ValueError(f"line {n}: unknown key {key!r}")
        if key in seen:
            raise ValueError(f"line {n}: {key} twice")
        if key == "update_request_id":
            if len(val) > 36 or not all(0x21 <= ord(c) <= 0x7E for c in val):
                raise ValueError(f"line {n}: bad update_request_id {val!r}")
            seen[key] = val
        elif not re.fullmatch(r"0[xX][0-9a-fA-F]+|[0-9]+", val):
            raise ValueError(f"line {n}: {key}={val!r} is not a number")
        else:
            seen[key] = int(val, 0)
    missing = [k for k in STATE_KEYS if k not in seen]
    if missing:
        raise ValueError("missing " + ", ".join(missing))
    if seen["format"] != 1:
        raise ValueError(f"format={seen['format']}")
    return seen


def ihex(data):
    """Intel HEX of data (at most 64 KiB) at REGION, 32 bytes a record."""
    def record(addr, rtype, payload):
        rec = bytes([len(payload), addr >> 8, addr & 0xFF, rtype]) + payload
        return ":" + rec.hex().upper() + "%02X" % (-sum(rec) & 0xFF)

    out = [record(0, 4, (REGION >> 16).to_bytes(2, "big"))]  # extended linear address
    out += [record(off, 0, data[off:off + 32]) for off in range(0, len(data), 32)]
    out.append(record(0, 1, b""))
    return "\n".join(out) + "\n"


def settle(pred):
    """pred() once it holds, polling for SETTLE_S; its last value otherwise."""
    end = time.monotonic() + SETTLE_S
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(0.01)


def rank(st, req_id):
    """
    How far the update req_id has come in the objects st (the state file, or
    fota status --json): 0 not offered, 1 offered, 2 flashing (or bootloader),
    3 waiting for verification, 4 final. fota status reads the objects one SDO
    transfer at a time, in sub-index order, so a read across the offer can
    show update_available 0 (before) with the new id and the previous final
    status (after); an offer clears update_end_time and a final state sets it,
    which tells the two apart.
    """
    if not st or st["update_request_id"] != req_id:
        return 0
    if st["update_available"]:
        return 1
    code = st["update_status"]
    if code >= FINAL_MIN:
        return 4 if st["update_end_time"] else 0
    return {0x01: 2, 0x10: 3}.get(code, 0)


class Campaign:
    def __init__(self, args):
        self.a = args
        self.fota = args.fota
        self.dir = args.workdir
        self.st = os.path.join(self.dir, "st")
        self.bus = "unix:" + os.path.join(self.dir, "bus")
        self.violations = {k: 0 for k, _ in VIOLATIONS}
        self.kills = {p: 0 for p in PHASES}
        self.in_state_write = 0
        self.in_report_write = 0
        self.outcomes = {}
        self.iterations = 0
        self.restarts = 0
        self.serve = None
        self.started = []  # every process started, stopped at the end whatever happened
        self.serve_log_off = 0
        self.ecu = None
        self.lock = threading.Lock()
        self.killed = threading.Event()
        self.snap = None
        self.max_counter = 0
        self.requests = []  # every request id dropped, in order
        self.known_reports = set()  # outbox file names accounted for
        self.cycle_kinds = set()  # kinds counted in this cycle: each counts once a cycle
        self.tmp_reported = set()  # leftovers are counted once, not at every later cycle
        self.copies_reported = set()
        self.it = None  # iteration label for messages
        self.bad_its = []  # iterations with a violation
        self.ready = False  # setup done: a summary means something
        self.cycle_s = 0.0  # the span the kill instant is drawn over

    # ---- processes ----

    def run(self, *argv, timeout=10):
        return subprocess.run([self.fota, *argv], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, text=True)

    def status(self, sdo_ms=500, retries=2):
        """fota status --json as a dict, or None without an answer."""
        try:
            r = self.run("status", "-b", self.bus, "-n", str(NODE), "--json", "-t", str(sdo_ms),
                         "--retries", str(retries))
        except subprocess.TimeoutExpired:
            return None
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def sdo_write(self, *argv):
        try:
            self.run(*argv, "-b", self.bus, "-n", str(NODE), "-q", "-t", "200", "--retries", "1")
        except subprocess.TimeoutExpired:
            pass

    def start_ecu(self):
        ready = os.path.join(self.dir, "ecu.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        with open(os.path.join(self.dir, "ecu.log"), "ab") as log:
            self.ecu = subprocess.Popen(
                [self.fota, "ecu", "-c", os.path.join(self.dir, "fota.yaml"), "-e", "hydraulics",
                 "-b", self.bus, "--memory", os.path.join(self.dir, "mem.bin"),
                 "--ready-file", ready], stdout=subprocess.DEVNULL, stderr=log)
        self.started.append(self.ecu)
        for _ in range(500):
            if os.path.exists(ready):
                return
            if self.ecu.poll() is not None:
                break
            time.sleep(0.01)
        raise Abort("fota ecu did not start (see ecu.log)")

    def start_serve(self):
        """Start serve; True once it answers SDO, False if it exits or stays silent 5 s."""
        log = os.path.join(self.dir, "serve.log")
        self.serve_log_off = os.path.getsize(log) if os.path.exists(log) else 0
        env = dict(os.environ, FOTA_TIME_SCALE=str(self.a.time_scale))
        with open(log, "ab") as f:
            p = subprocess.Popen(
                [self.fota, "serve", "-c", os.path.join(self.dir, "fota.yaml"), "-b", self.bus,
                 "--state-dir", self.st], stdout=subprocess.DEVNULL, stderr=f, env=env)
        self.started.append(p)
        with self.lock:
            self.serve = p
        end = time.monotonic() + 5
        up = f"node 0x{NODE:02x} on "  # logged once the bus is open and the state loaded
        while time.monotonic() < end:
            if p.poll() is not None:
                return False
            if up in self.serve_log():
                return self.status() is not None
            time.sleep(0.002)
        return False

    def serve_log(self):
        with open(os.path.join(self.dir, "serve.log"), "rb") as f:
            f.seek(self.serve_log_off)
            return f.read().decode("utf-8", "replace")

    def stop_all(self):
        for p in self.started:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    # ---- files ----

    def tmp_files(self):
        found = []
        for root, _, files in os.walk(self.st):
            found += [os.path.join(root, f) for f in files if f.endswith(".tmp")]
        return sorted(found)

    def read_state(self):
        """(text, dict or None, error or None); text None if there is no state file."""
        try:
            with open(os.path.join(self.st, "state")) as f:
                text = f.read()
        except FileNotFoundError:
            return None, None, None
        try:
            return text, parse_state(text), None
        except ValueError as e:
            return text, None, str(e)

    def report(self, req_id):
        try:
            with open(os.path.join(self.st, "outbox", req_id + ".json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    # ---- verdicts ----

    def violation(self, kind, msg):
        """Count kind once per cycle (a broken promise is seen at every poll); print each."""
        if kind not in self.cycle_kinds:
            self.violations[kind] += 1
            self.cycle_kinds.add(kind)
        if self.it not in self.bad_its:
            self.bad_its.append(self.it)
        print(f"soak: VIOLATION {kind}: seed {self.a.seed} iteration {self.it}: {msg}",
              file=sys.stderr, flush=True)

    def check_defined(self, where, st):
        if st["update_status"] not in DEFINED:
            self.violation("status_undefined",
                           f"{where}: update_status 0x{st['update_status']:02x}")

    def check_counter(self, where, st, counter0):
        c = st["update_attempts_counter"]
        if c < self.max_counter:
            self.violation("counter_decreased", f"{where}: {c} after {self.max_counter}")
        if c > counter0 + 1:
            self.violation("counter_double", f"{where}: {c}, was {counter0} before this request")
        self.max_counter = max(self.max_counter, c)

    # ---- the kill ----

    def kill(self):
        """Timer thread: SIGKILL serve, reap it, and look at what it left behind."""
        with self.lock:
            p = self.serve
            if p is None or p.poll() is not None:
                return
            p.send_signal(signal.SIGKILL)
            p.wait()
            self.snap = {
                "time": time.monotonic(),
                "state": self.read_state(),
                "tmp": self.tmp_files(),
                "log": self.serve_log(),
            }
            self.killed.set()  # under the lock: the main loop must not take -9 for a crash

    def after_kill(self, cyc):
        """The checks of one restart; cyc is the cycle's bookkeeping."""
        snap = self.snap
        self.killed.clear()
        self.restarts += 1
        req_id = cyc["id"]
        text, pre, err = snap["state"]

        # where the kill hit, by what the state file says (what persisted)
        if err:
            self.violation("state_unparseable", f"{err}; file:\n{text}")
        r = rank(pre, req_id)
        if r == 0:
            phase = "queued"
        elif r == 1:
            phase = "offered"
        elif r == 2:
            phase = "flashing" if f"update {req_id}: programming ECU" in snap["log"] \
                else "bootloader"
        elif r == 3:
            phase = "verifying"
        else:
            phase = "final"
        self.kills[phase] += 1
        new_tmp = [t for t in snap["tmp"] if t not in self.tmp_reported]
        if any(os.path.basename(t) == "state.tmp" for t in new_tmp):
            self.in_state_write += 1
        if any("/outbox/" in t for t in new_tmp):
            self.in_report_write += 1
        if text is None and self.requests[:-1]:
            self.violation("state_unparseable", "STATE_DIR/state is gone")
        if pre:
            self.check_defined("state file after the kill", pre)
        # what SDO showed before the kill must have been persisted
        if r < cyc["seen_rank"]:
            self.violation("rollback", f"SDO showed rank {cyc['seen_rank']} for {req_id}, "
                           f"the state file left by the kill has {r}:\n{text}")
        if self.a.verbose:
            at = 1000 * (snap["time"] - cyc["t0"])
            where = phase + "".join(", " + os.path.relpath(t, self.st) for t in new_tmp)
            print(f"soak: iteration {self.it}: killed at {at:.0f} ms ({where})", file=sys.stderr)

        ok = self.start_serve()
        if not ok:
            self.violation("restart_refused", "serve log:\n" + self.serve_log()[-2000:])
            with self.lock:
                if self.serve.poll() is None:
                    self.serve.kill()
                    self.serve.wait()
            if not self.start_serve():
                raise Abort("serve refused to start twice in a row")
        post = self.status()
        if post is None:
            self.violation("restart_refused", "serve stopped answering right after its start")
            return
        self.check_defined("after the restart", post)
        self.check_counter("after the restart", post, cyc["counter0"])

        # the restart rules of man/fota-serve.1, Persistence, from what persisted
        if pre is None:
            return
        pid, pstat = pre["update_request_id"], pre["update_status"]
        if pre["update_available"]:
            if post["update_request_id"] != pid or post["update_available"] != 1:
                self.violation("offer_lost", f"{pid} was offered; after the restart: "
                               f"{post['update_request_id']} available {post['update_available']} "
                               f"status 0x{post['update_status']:02x}")
        elif pstat == 0x01:
            rep = self.report(pid)
            why = (rep or {}).get("reason") or ""
            if post["update_request_id"] != pid or post["update_status"] != 0x50:
                self.violation("flash_interrupt", f"{pid} was flashing; after the restart "
                               f"{post['update_request_id']} status 0x{post['update_status']:02x}")
            elif not rep or rep.get("status") != "failed" or not RESTART_REASON.search(why):
                self.violation("flash_interrupt", f"{pid}: report status "
                               f"{(rep or {}).get('status')!r}, reason {why!r}")
            else:
                cyc["restart_ended"] = True
        elif pstat == 0x10:
            if post["update_request_id"] != pid or post["update_status"] not in (0x10, 0x52):
                self.violation("verify_lost", f"{pid} was waiting for verification; after the "
                               f"restart status 0x{post['update_status']:02x}")
        elif post["update_status"] != pstat or post["update_request_id"] not in (pid, req_id):
            # idle or final: kept, also when our request is offered meanwhile (an offer
            # leaves update_status as it is)
            self.violation("final_lost", f"state file had {pid!r} 0x{pstat:02x}; after the restart "
                           f"{post['update_request_id']!r} 0x{post['update_status']:02x}")
        if cyc["final_seen"] and not (post["update_request_id"] == req_id and
                                      post["update_status"] == cyc["final_seen"]):
            self.violation("final_lost", f"SDO showed {req_id} final 0x{cyc['final_seen']:02x} "
                           f"before the kill; after the restart {post['update_request_id']} "
                           f"0x{post['update_status']:02x}")

    # ---- one cycle ----

    def cycle(self, label, rng, kill_frac, rerun=0):
        """
        One update; kill_frac None: no kill (calibration). A rerun of an
        iteration (--repeat) draws the same, but the request needs an id of its
        own: serve runs an id once. Returns the cycle's duration in s.
        """
        self.it = label
        self.cycle_kinds = set()
        size = rng.randrange(4096, 16385)
        data = rng.randbytes(size)
        req_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if rerun:
            rid = random.Random(f"{self.a.seed}:{label}:{rerun}").getrandbits(128)
            req_id = str(uuid.UUID(int=rid, version=4))
        think_approve = rng.uniform(0, 0.1)
        think_health = rng.uniform(0, 0.1)
        before = self.status()
        if before is None:
            raise Abort("serve does not answer at the start of a cycle")
        cyc = {"id": req_id, "counter0": before["update_attempts_counter"], "seen_rank": 0,
               "final_seen": 0, "restart_ended": False}
        fw = os.path.join(self.dir, "fw", req_id + ".hex")
        with open(fw, "w") as f:
            f.write(ihex(data))
        sha = subprocess.run(["sha256sum", fw], stdout=subprocess.PIPE, text=True,
                             check=True).stdout.split()[0]
        tmp = os.path.join(self.dir, "req.tmp")
        with open(tmp, "w") as f:
            f.write(f"id: {req_id}\necu: hydraulics\nfirmware: {fw}\nsha256: {sha}\n")

        timer = None
        cyc["t0"] = t0 = time.monotonic()
        if kill_frac is not None:
            timer = threading.Timer(kill_frac * self.cycle_s, self.kill)
            timer.start()
        os.rename(tmp, os.path.join(self.st, "inbox", req_id + ".yaml"))
        self.requests.append(req_id)
        approved = health = False
        final = None
        while time.monotonic() - t0 < CYCLE_LIMIT_S:
            if self.killed.is_set():
                self.after_kill(cyc)
                continue
            with self.lock:
                died = None if self.killed.is_set() else self.serve.poll()
            if died is not None:
                self.violation("serve_died",
                               f"exit status {died}; log:\n" + self.serve_log()[-2000:])
                if not self.start_serve():
                    raise Abort("serve died and does not start again")
                continue
            st = self.status(sdo_ms=100, retries=0)  # silence (the kill) is polled again
            if st is None or self.killed.is_set():
                continue
            self.check_defined("SDO", st)
            self.check_counter("SDO", st, cyc["counter0"])
            cyc["seen_rank"] = max(cyc["seen_rank"], rank(st, req_id))
            if st["update_request_id"] == req_id:
                if st["update_available"]:
                    if not approved:
                        time.sleep(think_approve)
                        approved = True
                    self.sdo_write("approve")
                    continue
                if st["update_status"] == 0x10:
                    if not health:
                        time.sleep(think_health)
                        health = True
                    self.sdo_write("health", "ok")
                    continue
                if rank(st, req_id) == 4:
                    final = st
                    cyc["final_seen"] = st["update_status"]
                    break
            time.sleep(0.005)
        duration = time.monotonic() - t0
        if final is None:
            self.violation("stuck", f"{req_id} not final after {CYCLE_LIMIT_S} s; serve log:\n"
                           + self.serve_log()[-3000:])
            raise Abort("a cycle is stuck")
        # the kill not reached yet: it hits the final state (or the idle TCU)
        if timer:
            timer.join()
            if self.killed.is_set():
                self.after_kill(cyc)
                final = self.status()
                if final is None:
                    raise Abort("serve does not answer after the restart")
        self.end_checks(cyc, final, data)
        os.unlink(fw)
        return duration

    def end_checks(self, cyc, st, data):
        req_id = cyc["id"]
        code = st["update_status"]
        if code == 0x50:
            key = "0x50 (restart)" if cyc["restart_ended"] else "0x50"
        else:
            key = f"0x{code:02x}"
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        c = st["update_attempts_counter"]
        if c == cyc["counter0"]:
            self.violation("counter_missed", f"{req_id} ended with the counter still at {c}")
        self.check_counter("end of cycle", st, cyc["counter0"])

        settle(lambda: (self.report(req_id) or {}).get("status") == PLATFORM.get(code))
        rep = self.report(req_id)
        if not rep:
            self.violation("report", f"{req_id}: no readable outbox/{req_id}.json")
        elif (rep.get("id") != req_id or rep.get("update_status") != code or
              rep.get("status") != PLATFORM.get(code)):
            self.violation("report", f"{req_id} ended 0x{code:02x}; report id {rep.get('id')!r}"
                           f" status {rep.get('status')!r}"
                           f" update_status {rep.get('update_status')!r}")
        elif code == 0x50 and not cyc["restart_ended"]:
            self.violation("flash_failed", f"{req_id}: {rep.get('reason')!r}")
        self.known_reports.add(req_id + ".json")
        extra = [r for r in os.listdir(os.path.join(self.st, "outbox"))
                 if r not in self.known_reports and not r.endswith(".tmp")]
        if extra:
            self.violation("report_duplicate", "unexpected reports: " + " ".join(extra))
            self.known_reports.update(extra)
        name = req_id + ".yaml"

        def misplaced():  # None once the request is in done/, once, and not in inbox/
            done = [f for f in os.listdir(os.path.join(self.st, "done"))
                    if re.fullmatch(re.escape(name) + r"(\.[0-9]+)?", f)]
            left = os.path.exists(os.path.join(self.st, "inbox", name))
            return (left, done) if left or len(done) != 1 else None

        settle(lambda: misplaced() is None)
        bad = misplaced()
        if bad:
            self.violation("request_left", f"{name}: in inbox/: {bad[0]}, in done/: {bad[1]}")
        if code == 0x40:
            with open(os.path.join(self.dir, "mem.bin"), "rb") as f:
                if f.read(len(data)) != data:
                    self.violation("ecu_memory", f"{req_id}: mem.bin differs from the image")

        # at rest: no temporary file, no firmware copy ("removed when the update
        # reaches a final state"), and the state file is what SDO reads
        def stale_tmp():
            return [t for t in self.tmp_files() if t not in self.tmp_reported]

        def copies():
            fwdir = os.path.join(self.st, "firmware")
            return [f for f in os.listdir(fwdir) if not f.endswith(".tmp") and
                    f not in self.copies_reported] if os.path.isdir(fwdir) else []

        settle(lambda: not stale_tmp() and not copies())
        tmps = stale_tmp()
        if tmps:
            self.violation("tmp_left", " ".join(os.path.relpath(t, self.st) for t in tmps))
            self.tmp_reported.update(tmps)
        left = copies()
        if left:
            self.violation("firmware_left", "firmware/: " + " ".join(sorted(left)))
            self.copies_reported.update(left)
        _, pst, err = self.read_state()
        now = self.status()
        if err or not pst:
            self.violation("state_unparseable", f"at rest: {err or 'no state file'}")
        elif now:
            diff = [k for k in PERSISTENT if pst[k] != now[k]]
            if diff:
                self.violation("state_mismatch", ", ".join(f"{k}: file {pst[k]!r} SDO {now[k]!r}"
                                                            for k in diff))

    # ---- the campaign ----

    def setup(self):
        os.makedirs(os.path.join(self.dir, "fw"), exist_ok=True)
        with open(os.path.join(self.dir, "fota.yaml"), "w") as f:
            f.write(CONFIG)
        self.start_ecu()
        if not self.start_serve():
            raise Abort("serve does not start: see " + os.path.join(self.dir, "serve.log"))
        self.ready = True

    def campaign(self):
        a = self.a
        self.setup()
        if a.cycle_ms:
            self.cycle_s = a.cycle_ms / 1000
        else:
            d = [self.cycle("calibration 1", random.Random(f"{a.seed}:cal1"), None),
                 self.cycle("calibration 2", random.Random(f"{a.seed}:cal2"), None)]
            self.cycle_s = sum(d) / len(d)
        print(f"soak: seed {a.seed}, cycle {1000 * self.cycle_s:.0f} ms"
              f"{' (given)' if a.cycle_ms else ' (measured)'}, workdir {self.dir}", flush=True)
        first, last = (a.iteration, a.iteration) if a.iteration else (1, a.iterations)
        for i, rerun in [(i, r) for i in range(first, last + 1) for r in range(a.repeat)]:
            rng = random.Random(f"{a.seed}:{i}")
            self.cycle(i, rng, rng.random(), rerun)
            self.iterations += 1
            if i % 100 == 0 and i != last:
                print(f"soak: {i}/{last} iterations, {sum(self.violations.values())} violations",
                      flush=True)
        # the end of the campaign: SIGTERM, exit 0 with the state saved (fota-serve(1));
        # under ASan this is also where LeakSanitizer speaks
        self.it = "end"
        with self.lock:
            p = self.serve
        p.terminate()
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            rc = "none within 10 s"
        if rc != 0:
            self.violation("serve_died", f"SIGTERM: exit status {rc}; log:\n"
                           + self.serve_log()[-3000:])
        if self.read_state()[2]:
            self.violation("state_unparseable", "after SIGTERM: " + self.read_state()[2])

    def summary(self, elapsed):
        a = self.a
        total = sum(self.violations.values())
        print(f"soak: seed {a.seed}: {self.iterations} iterations, {self.restarts} restarts "
              f"in {elapsed:.1f} s (cycle {1000 * self.cycle_s:.0f} ms)")
        print("kills by phase (what the state file said):")
        for p in PHASES:
            print(f"  {p:<24} {self.kills[p]}")
        print(f"  {'inside a state write':<24} {self.in_state_write}  (state.tmp present)")
        print(f"  {'inside a report write':<24} {self.in_report_write}  (outbox/*.tmp present)")
        print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())))
        print("violations:")
        for k, what in VIOLATIONS:
            print(f"  {k:<18} {self.violations[k]:>5}  {what}")
        print(f"  {'total':<18} {total:>5}")
        if self.bad_its:
            print("iterations with violations: " + ", ".join(str(i) for i in self.bad_its)
                  + f"; one alone: tests/soak.py --seed {a.seed} --cycle-ms "
                  f"{1000 * self.cycle_s:.0f} --iteration I")
        return total


def main():
    ap = argparse.ArgumentParser(description="power-cut campaign of fota serve")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-n", "--iterations", type=int, default=1000)
    ap.add_argument("--iteration", type=int, help="run only this iteration (to reproduce it)")
    ap.add_argument("--repeat", type=int, default=1, help="run each iteration this many times")
    ap.add_argument("--cycle-ms", type=float, help="cycle length the kill instant is drawn over "
                    "(default: measured)")
    ap.add_argument("--time-scale", type=int, default=20,
                    help="FOTA_TIME_SCALE of serve: the 1-minute health timeout lasts 60/N s")
    ap.add_argument("--fota", default=shutil.which("fota") or "fota", help="the fota binary")
    ap.add_argument("--workdir", help="scratch directory (default: a new one, removed when all "
                    "went well)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if a.iterations < 1 or a.repeat < 1 or (a.iteration is not None and a.iteration < 1):
        ap.error("iterations and repeats count from 1")
    keep = bool(a.workdir)
    if a.workdir:
        os.makedirs(a.workdir, exist_ok=True)
    else:
        a.workdir = tempfile.mkdtemp(prefix="fota-soak.")
    c = Campaign(a)
    t0 = time.monotonic()
    rc = 0
    try:
        c.campaign()
    except Abort as e:
        print(f"soak: seed {a.seed} iteration {c.it}: stopped: {e}", file=sys.stderr)
        rc = 1
    except KeyboardInterrupt:
        rc = 130
    finally:
        c.stop_all()
    if not c.ready:
        return 2
    if c.summary(time.monotonic() - t0) or rc:
        rc = rc or 1
        keep = True
    if keep:
        print(f"soak: files kept in {a.workdir}")
    else:
        shutil.rmtree(a.workdir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
