#!/usr/bin/env python3
"""The fault drills' driver (Python 3.11, standard library only): prepares a throwaway service's
data, drives load against it, and checks the invariants afterwards. The bash scripts beside it
start and break the processes; this file only speaks HTTP, runs `epermit` subcommands and reads
the database (sqlite3, or `psql` for PostgreSQL).

  driver.py prepare --state F --applications N --permits K   staff, residents, applications
  driver.py load    --state F [--kill-pid P --kill-after M]  20 concurrent approvals + endorsements
                                                            and suspensions (kill -9 P after M
                                                            approvals, with requests in flight)
  driver.py check   --state F                               the invariants (exit 1 if one fails)
  driver.py probe   --state F --seconds S --out F           verify + /readyz + writes, timestamped
  driver.py report  --samples F --events F --kind redis|postgres   PASS/FAIL of a probe run

Settings come from the environment the bash scripts export: EPERMIT_BIN, FAULT_BASE (the
service's URL), DATABASE_URL (absent: SQLite in EPERMIT_DATA_DIR). No phone or ID number is
ever printed.
"""

import argparse
import concurrent.futures as cf
import datetime as dt
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

PASSWORD = "fault drill password 2026"
DISTRICTS = ["330702", "330703"]
PDF = b"%PDF-1.7\n%%EOF\n"


def say(*parts):
    print("[driver]", *parts, flush=True)


# ---------------------------------------------------------------- HTTP


class Answer:
    def __init__(self, status, body, ms):
        self.status, self.body, self.ms = status, body, ms

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


def call(method, path, token=None, body=None, form=None, timeout=15, client=None, base=None,
         source=None):
    """One request on a fresh connection; status 0 = no answer (refused, reset, timed out).
    `client`: the address a trusted proxy names in X-Forwarded-For (the rate limits' key).
    `base`: the URL to call (default FAULT_BASE); `source`: the local address to connect from."""
    url = urllib.parse.urlsplit(base or os.environ["FAULT_BASE"])
    headers = {"x-forwarded-for": client} if client else {}
    data = None
    if token:
        headers["authorization"] = "Bearer " + token
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    if form is not None:
        data, headers["content-type"] = multipart(form)
    start = time.monotonic()
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout,
                                          source_address=(source, 0) if source else None)
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        status, payload = r.status, r.read()
        conn.close()
    except (OSError, http.client.HTTPException):
        status, payload = 0, b""
    return Answer(status, payload, (time.monotonic() - start) * 1000)


def random_client():
    """An address in 10.0.0.0/8, for X-Forwarded-For (lib.sh trusts the local proxy)."""
    return "10.%d.%d.%d" % (random.randrange(256), random.randrange(256), random.randrange(256))


def multipart(fields):
    boundary = "faultdrill%016x" % random.getrandbits(64)
    out = b""
    for name, value in fields.items():
        out += b"--" + boundary.encode() + b"\r\n"
        if isinstance(value, tuple):
            filename, ctype, content = value
            out += (
                f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n"
            ).encode() + content + b"\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += b"--" + boundary.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + boundary


def expect(answer, status, what):
    if answer.status != status:
        sys.exit(f"[driver] {what}: expected {status}, got {answer.status} {answer.body[:300]!r}")
    return answer.json()


def wait_up(seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if call("GET", "/healthz", timeout=2).status == 200:
            return
        time.sleep(0.1)
    sys.exit("[driver] the service did not answer /healthz")


# ---------------------------------------------------------------- the CLI and the database


def epermit(*args, stdin=None):
    r = subprocess.run(
        [os.environ["EPERMIT_BIN"], *args], input=stdin, capture_output=True, text=True
    )
    return r.returncode, r.stdout, r.stderr


class Db:
    """Read-only SQL on the service's database (SQLite file or PostgreSQL through psql)."""

    def __init__(self):
        self.url = os.environ.get("DATABASE_URL")

    def rows(self, sql):
        if self.url:
            r = subprocess.run(
                ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", self.url, "-c", sql],
                capture_output=True, text=True, check=True,
            )
            return [line.split("\t") for line in r.stdout.splitlines() if line]
        path = os.path.join(os.environ["EPERMIT_DATA_DIR"], "epermit.db")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as c:
            return [[("" if v is None else v.hex() if isinstance(v, bytes) else str(v)) for v in row]
                    for row in c.execute(sql)]

    def execute(self, sql):
        if self.url:
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self.url, "-c", sql],
                           check=True, capture_output=True)
        else:
            path = os.path.join(os.environ["EPERMIT_DATA_DIR"], "epermit.db")
            with sqlite3.connect(path, timeout=30) as c:
                c.execute(sql)

    def hex_bits(self, column):
        return f"encode({column}, 'hex')" if self.url else f"hex({column})"


def name(i):
    """A valid name (2–32 letters) for resident i: 张 and two characters."""
    chars = "一二三四五六七八九十百千万东南西北中春夏秋冬金木水火土"
    return "张" + chars[i // len(chars) % len(chars)] + chars[i % len(chars)]


def id_number(first17):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights))
    return first17 + "10X98765432"[total % 11]


# ---------------------------------------------------------------- prepare


def staff_token(username):
    a = call("POST", "/v1/auth/staff-login", body={"username": username, "password": PASSWORD})
    return expect(a, 200, f"staff login {username}")["access_token"]


def prepare(args):
    wait_up()
    db = Db()
    run = "%05d" % (os.getpid() % 100000)
    state = {"officers": {}, "applications": [], "permits": []}
    for d in DISTRICTS:
        code, _, err = epermit("staff", "add", "--username", f"officer{d}", "--role", "officer",
                               "--district", d, stdin=PASSWORD + "\n")
        if code:
            sys.exit(f"[driver] staff add: {err}")
        state["officers"][d] = f"officer{d}"
    code, _, err = epermit("staff", "add", "--username", "school1", "--role", "verifier",
                           "--org-kind", "school", stdin=PASSWORD + "\n")
    if code:
        sys.exit(f"[driver] staff add: {err}")
    tokens = {d: staff_token(u) for d, u in state["officers"].items()}

    n = args.applications + args.permits
    start = (dt.date.today() - dt.timedelta(days=400)).isoformat()
    people = []
    lines = ["id_number,name,district,address,start,end"]
    for i in range(n):
        district = DISTRICTS[i % len(DISTRICTS)]
        person = {"phone": f"139{run}{i:03d}", "id": id_number(f"{district}1990{run[-4:]}{i:03d}"),
                  "district": district}
        people.append(person)
        lines.append(f"{person['id']},{name(i)},{district},城北街道{name(i)}社区,{start},")
    csv = os.path.join(os.environ["EPERMIT_DATA_DIR"], "fault-legacy.csv")
    with open(csv, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    code, out, err = epermit("import", "residences", csv)
    if code:
        sys.exit(f"[driver] import: {err}")

    def one(i):
        p = people[i]
        code, out, err = epermit("token", "--resident", p["phone"])
        if code:
            raise RuntimeError(f"token: {err}")
        token = json.loads(out)["access_token"]
        me = expect(call("GET", "/v1/me", token), 200, "me")
        officer = tokens[p["district"]]
        expect(call("POST", f"/v1/residents/{me['id']}/id-number", officer,
                    body={"name": name(i), "id_number": p["id"]}), 200, "assign at counter")
        app = expect(call("POST", "/v1/applications", token,
                          form={"basis": "employment", "district": p["district"],
                                "evidence": ("contract.pdf", "application/pdf", PDF)}),
                     201, "apply")
        return {"id": app["id"], "district": p["district"], "token": token}

    with cf.ThreadPoolExecutor(4) as pool:
        made = list(pool.map(one, range(n)))
    # The first K are approved now, and their permits backdated 355 days so that an endorsement
    # is in its window during the load.
    for a in made[args.applications:]:
        permit = expect(call("POST", f"/v1/applications/{a['id']}/approve", tokens[a["district"]],
                             body={}), 201, "approve (prepare)")
        state["permits"].append({"number": permit["number"], "district": a["district"],
                                 "token": a["token"]})
    if state["permits"]:
        numbers = ",".join(f"'{p['number']}'" for p in state["permits"])
        day = (dt.date.today() - dt.timedelta(days=355)).isoformat()
        db.execute(f"UPDATE permits SET issued_on = '{day}' WHERE number IN ({numbers})")
    state["applications"] = made[: args.applications]
    with open(args.state, "w") as f:
        json.dump(state, f)
    say(f"prepared {len(state['applications'])} applications to approve and "
        f"{len(state['permits'])} permits to endorse and suspend, in {len(DISTRICTS)} districts")


# ---------------------------------------------------------------- load


def load(args):
    wait_up()
    with open(args.state) as f:
        state = json.load(f)
    tokens = {d: staff_token(u) for d, u in state["officers"].items()}
    db = Db()
    decided = {row[0] for row in db.rows("SELECT id FROM applications WHERE status <> 'submitted'")}
    todo = [a for a in state["applications"] if str(a["id"]) not in decided]
    counts = {}
    lock = threading.Lock()
    approved = [0]
    killed = threading.Event()

    def count(kind, status):
        with lock:
            counts[f"{kind} {status}"] = counts.get(f"{kind} {status}", 0) + 1

    def approve(a):
        r = call("POST", f"/v1/applications/{a['id']}/approve", tokens[a["district"]], body={})
        count("approve", r.status)
        if r.status == 201:
            with lock:
                approved[0] += 1
                due = args.kill_pid and approved[0] == args.kill_after and not killed.is_set()
            if due:
                os.kill(args.kill_pid, signal.SIGKILL)
                killed.set()
                say(f"kill -9 {args.kill_pid} after {args.kill_after} approvals, requests in flight")

    def suspend_restore(p):
        token = tokens[p["district"]]
        for action in ("suspend", "restore"):
            r = call("POST", f"/v1/permits/{p['number']}/{action}", token,
                     body={"reason": "fault drill"})
            count(action, r.status)
            if r.status == 0:
                return

    def endorse(p):
        r = call("POST", "/v1/permits/me/endorsements", p["token"], body={})
        count("endorse", r.status)

    work = [(approve, a) for a in todo]
    for p in state["permits"]:
        work += [(endorse, p), (suspend_restore, p)]
    random.shuffle(work)
    start = time.monotonic()
    with cf.ThreadPoolExecutor(20) as pool:
        list(pool.map(lambda w: w[0](w[1]), work))
    say(f"load: {len(work)} tasks in {time.monotonic() - start:.1f}s:",
        ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    bad = {k: v for k, v in counts.items() if k.split()[1].startswith("5")}
    if bad:
        say("FAIL: server errors", bad)
        sys.exit(1)


# ---------------------------------------------------------------- check


def check(args):
    wait_up()
    with open(args.state) as f:
        state = json.load(f)
    db = Db()
    failures = []

    def invariant(name, ok, detail=""):
        say(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail else ""))
        if not ok:
            failures.append(name)

    wanted = {str(a["id"]) for a in state["applications"]}
    status = dict(db.rows("SELECT id, status FROM applications"))
    invariant("every prepared application is approved",
              all(status.get(i) == "approved" for i in wanted),
              f"{sum(status.get(i) == 'approved' for i in wanted)}/{len(wanted)}")
    bad = db.rows("SELECT a.id, count(p.id) FROM applications a LEFT JOIN permits p "
                  "ON p.application_id = a.id WHERE a.status = 'approved' "
                  "GROUP BY a.id HAVING count(p.id) <> 1")
    orphans = db.rows("SELECT p.number FROM permits p JOIN applications a "
                      "ON a.id = p.application_id WHERE a.status <> 'approved'")
    invariant("each approved application has exactly one permit", not bad and not orphans,
              f"{len(bad)} wrong, {len(orphans)} permits of unapproved applications")

    numbers = [r[0] for r in db.rows("SELECT number FROM permits")]
    invariant("permit numbers are unique", len(numbers) == len(set(numbers)), f"{len(numbers)}")
    by_year = {}
    for n in numbers:
        district, year, seq = n.split("-")
        by_year.setdefault((district, int(year)), []).append(int(seq))
    sequences = {(r[0], int(r[1])): int(r[2])
                 for r in db.rows("SELECT district, year, next FROM permit_sequences")}
    for (district, year), seqs in sorted(by_year.items()):
        gap_free = sorted(seqs) == list(range(1, len(seqs) + 1))
        counter = sequences.get((district, year)) == len(seqs) + 1
        invariant(f"numbers of {district}/{year} run 1..{len(seqs)} without a gap",
                  gap_free and counter, f"counter next={sequences.get((district, year))}")

    # Every signed version's entry in its shard: the newest = the permit's status, older = 3.
    shards = {int(r[0]): bytes.fromhex(r[1])
              for r in db.rows(f"SELECT id, {db.hex_bits('bits')} FROM status_shards")}
    want_bits = {"active": 0, "revoked": 1, "suspended": 2}
    versions = db.rows("SELECT p.id, p.status, v.id, v.shard, v.idx FROM permits p "
                       "JOIN credential_versions v ON v.permit_id = p.id ORDER BY p.id, v.id")
    newest = {}
    for pid, _, vid, _, _ in versions:
        newest[pid] = max(newest.get(pid, 0), int(vid))
    wrong = 0
    for pid, pstatus, vid, shard, idx in versions:
        bits = (shards[int(shard)][int(idx) // 4] >> ((int(idx) % 4) * 2)) & 3
        if bits != (want_bits[pstatus] if int(vid) == newest[pid] else 3):
            wrong += 1
    no_version = len(numbers) - len(newest)
    invariant("every credential version's status entry equals its row (newest) or superseded",
              wrong == 0 and no_version == 0,
              f"{len(versions)} versions of {len(newest)} permits; {wrong} wrong, "
              f"{no_version} permits without a version")

    # Each shard counts the entries taken in it, in the transaction that took them.
    used = {int(r[0]): int(r[1]) for r in db.rows("SELECT id, used FROM status_shards")}
    taken = {}
    for _, _, _, shard, _ in versions:
        taken[int(shard)] = taken.get(int(shard), 0) + 1
    miscounted = sorted(s for s in used if used[s] != taken.get(s, 0))
    invariant("every shard's count of entries taken (status_shards.used) is its versions'",
              not miscounted,
              ", ".join(f"shard {s}: used {used[s]}, {taken.get(s, 0)} versions"
                        for s in miscounted) or f"{len(used)} shards")

    # The same through the service: each permit's current credential verified as a school does.
    school = staff_token("school1")
    verdicts = {"active": "valid", "suspended": "suspended", "revoked": "revoked"}
    mismatched = 0
    rows = db.rows("SELECT number, status, credential FROM permits")
    for number, pstatus, credential in rows:
        r = call("POST", "/v1/verify", school, body={"qr": credential}, client=random_client())
        verdict = (r.json() or {}).get("verdict")
        if r.status != 200 or verdict != verdicts[pstatus]:
            mismatched += 1
            say(f"  {number}: row {pstatus}, POST /v1/verify {r.status} {verdict}")
    invariant("POST /v1/verify of every permit gives its row's status", mismatched == 0,
              f"{len(rows)} verified")

    code, out, err = epermit("audit", "verify")
    try:
        summary = json.loads(out)
        detail = (f"{summary.get('entries')} entries, {summary.get('checkpoints_in_database')} "
                  f"checkpoints, problems {summary.get('problems', [])}")
    except ValueError:
        detail = (out + err).strip()[:300]
    invariant("epermit audit verify: intact", code == 0, detail)
    if failures:
        say(f"FAIL: {len(failures)} invariant(s) broken")
        sys.exit(1)
    say("invariants hold")


# ---------------------------------------------------------------- probe and report


def probe(args):
    """Verifications from 4 threads (about --rate a second), /readyz every 100 ms and (with --writes) GET /v1/permits/me
    and approvals, each sample `[t, kind, status, ms, detail]` (t in seconds on the wall clock)."""
    wait_up()
    with open(args.state) as f:
        state = json.load(f)
    school = staff_token("school1")
    tokens = {d: staff_token(u) for d, u in state["officers"].items()}
    credentials = []
    for p in state["permits"]:
        me = expect(call("GET", "/v1/permits/me", p["token"]), 200, "permit")
        credentials.append(me["credential"])
    samples = []
    lock = threading.Lock()
    stop = time.time() + args.seconds

    def record(kind, a, detail=""):
        with lock:
            samples.append([time.time(), kind, a.status, round(a.ms, 2), detail])

    def verifier():
        # Each request from its own address, so the per-IP limit does not throttle the load;
        # paced at --rate per second over the 4 threads (a steady load, not saturation).
        pause = 4 / args.rate
        while time.time() < stop:
            time.sleep(random.uniform(0, 2 * pause))
            a = call("POST", "/v1/verify", school, body={"qr": random.choice(credentials)},
                     timeout=10, client=random_client())
            record("verify", a, (a.json() or {}).get("verdict", "") if a.status == 200 else "")

    def limiter():
        # Every 2 s a fresh address sends limit + 5 verifications, 5 at a time (so that a burst
        # fits in a short outage on a slow machine): exactly `limit` may pass.
        while time.time() < stop - 2:
            client, start = random_client(), time.time()
            with cf.ThreadPoolExecutor(5) as pool:
                answers = list(pool.map(
                    lambda _: call("POST", "/v1/verify", school, body={"qr": credentials[0]},
                                   timeout=10, client=client).status,
                    range(args.limit + 5)))
            allowed = answers.count(200)
            with lock:
                samples.append([start, "limit", 200, round((time.time() - start) * 1000), allowed])
            time.sleep(2)

    def ready():
        while time.time() < stop:
            a = call("GET", "/readyz", timeout=10)
            record("readyz", a, (a.json() or {}).get("status", "") if a.status else "")
            time.sleep(0.1)

    def writer():
        pending = list(state["applications"])
        while time.time() < stop:
            p = random.choice(state["permits"])
            record("read", call("GET", "/v1/permits/me", p["token"], timeout=10))
            if pending:
                a = pending[0]
                r = call("POST", f"/v1/applications/{a['id']}/approve", tokens[a["district"]],
                         body={}, timeout=10)
                record("approve", r)
                if r.status in (201, 409):
                    pending.pop(0)
            time.sleep(0.05)

    threads = [threading.Thread(target=verifier) for _ in range(4)] + [threading.Thread(target=ready)]
    if args.limit:
        threads.append(threading.Thread(target=limiter))
    if args.writes:
        threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(args.out, "w") as f:
        json.dump(samples, f)
    say(f"probe: {len(samples)} requests in {args.seconds}s")


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def report(args):
    """Reads the probe's samples and the bash script's events (`t name` lines: `down`/`up` pairs,
    e.g. `redis-killed`, `redis-back`) and decides."""
    with open(args.samples) as f:
        samples = json.load(f)
    events = []
    with open(args.events) as f:
        for line in f:
            t, name = line.split()
            events.append((float(t), name))
    failures = []

    def verdict(name, ok, detail):
        say(("ok   " if ok else "FAIL ") + name + ": " + detail)
        if not ok:
            failures.append(name)

    t0 = samples[0][0] if samples else 0
    outages = [(events[i][0], events[i + 1][0], events[i][1]) for i in range(0, len(events) - 1, 2)]
    normal = [s[3] for s in samples if s[1] == "verify" and s[2] == 200
              and not any(a <= s[0] <= b + 15 for a, b, _ in outages)]
    say(f"{len(samples)} requests; normal verify p50 {pct(normal, .5):.1f} ms, p99 {pct(normal, .99):.1f} ms")
    # /readyz with every dependency up, outside the outages: the baseline of a busy machine.
    ready_normal = [s[3] for s in samples if s[1] == "readyz" and s[4] == "ready"
                    and not any(a <= s[0] <= b + 15 for a, b, _ in outages)]
    say(f"normal /readyz p90 {pct(ready_normal, .9):.1f} ms, max {max(ready_normal, default=0):.0f} ms")
    for down, up, name in outages:
        during = [s for s in samples if down <= s[0] <= up]
        verify = [s for s in during if s[1] == "verify"]
        ready = [s for s in during if s[1] == "readyz"]
        after = [s for s in samples if s[0] > up]
        label = f"{name} at {down - t0:.1f}s for {up - down:.1f}s"
        if args.kind == "redis":
            failed = [s for s in verify if s[2] != 200 or s[4] != "valid"]
            p50 = pct([s[3] for s in verify], .5)
            verdict(f"{label}: verify keeps answering", not failed and len(verify) > 0,
                    f"{len(verify)} verifications, {len(failed)} not valid, p50 {p50:.1f} ms, "
                    f"p99 {pct([s[3] for s in verify], .99):.1f} ms, max {max([s[3] for s in verify], default=0):.0f} ms")
            verdict(f"{label}: verify p50 within 2x of normal (+2 ms)",
                    p50 <= 2 * pct(normal, .5) + 2, f"{p50:.1f} vs {pct(normal, .5):.1f} ms")
            degraded = [s for s in ready if s[4] == "degraded"]
            first = degraded[0][0] - down if degraded else float("inf")
            verdict(f"{label}: /readyz says degraded quickly", first <= 3.0,
                    f"after {first:.2f}s; /readyz max {max([s[3] for s in ready], default=0):.0f} ms "
                    f"(p50 {pct([s[3] for s in ready], .5):.1f} ms) while out")
            # p90, not the max, against 100 ms: on a shared machine one probe in a few dozen can
            # lose the CPU; no probe may wait anything like a Redis timeout (500 ms). On a machine
            # so busy that /readyz is slower than that with Redis up: 3x its p90, 2x its max (the
            # outage moves work from Redis to this process: uncached verifications).
            late = [s[3] for s in ready if s[0] > degraded[0][0]] if degraded else []
            p90_bound = max(100, 3 * pct(ready_normal, .9))
            max_bound = max(500, 2 * max(ready_normal, default=0))
            verdict(f"{label}: /readyz answers within 100 ms (p90, max 500 ms; or 3x/2x normal) once degraded",
                    late != [] and pct(late, .9) <= p90_bound and max(late) <= max_bound,
                    f"p90 {pct(late, .9):.0f} ms (bound {p90_bound:.0f}), max {max(late, default=0):.0f} ms "
                    f"(bound {max_bound:.0f}) over {len(late)} probes")
        else:
            errors = [s for s in during if s[1] != "readyz" and s[2] not in (200, 201, 409, 503)]
            refused = [s for s in during if s[2] == 503]
            slow = max([s[3] for s in refused], default=0)
            verdict(f"{label}: 503 (never a 500 or no answer) while the database is down",
                    not errors and refused != [],
                    f"{len(during)} requests, {len(refused)} × 503 (slowest {slow:.0f} ms), "
                    f"{len(errors)} others: {sorted({s[1] + ' ' + str(s[2]) for s in errors})}")
            verdict(f"{label}: each 503 comes fast (≤ 1.5 s)", slow <= 1500, f"slowest {slow:.0f} ms")
        back = [s for s in after if s[1] == "readyz" and s[2] == 200 and s[4] == "ready"]
        recovered = back[0][0] - up if back else float("inf")
        verdict(f"{label}: recovers without a restart (/readyz ready)", recovered <= 12,
                f"ready {recovered:.2f}s after it returned")
        if args.kind == "postgres":
            ok_after = [s for s in after if s[1] in ("read", "approve") and s[2] in (200, 201)]
            first = ok_after[0][0] - up if ok_after else float("inf")
            verdict(f"{label}: database work succeeds again", first <= 15,
                    f"first success {first:.2f}s after it returned")
    if args.limit:
        bursts = [s for s in samples if s[1] == "limit"]
        before = [s[4] for s in bursts if s[0] + s[3] / 1000 < events[0][0]]
        inside = [s[4] for s in bursts for down, up, _ in outages
                  if down + 1 <= s[0] and s[0] + s[3] / 1000 <= up]
        verdict(f"the per-IP limit ({args.limit}/min) holds with Redis up",
                before != [] and all(n == args.limit for n in before), f"allowed per burst: {before}")
        verdict(f"the per-IP limit holds per instance while Redis is out",
                inside != [] and all(n == args.limit for n in inside), f"allowed per burst: {inside}")
    tail = [s for s in samples if s[1] == "verify" and s[0] > events[-1][0] + 15]
    if tail:
        verdict("verify after recovery", all(s[2] == 200 for s in tail), f"{len(tail)} requests")
    if failures:
        say(f"FAIL: {len(failures)} check(s)")
        sys.exit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("prepare")
    a.add_argument("--state", required=True)
    a.add_argument("--applications", type=int, default=40)
    a.add_argument("--permits", type=int, default=6)
    a = sub.add_parser("load")
    a.add_argument("--state", required=True)
    a.add_argument("--kill-pid", type=int, default=0)
    a.add_argument("--kill-after", type=int, default=5)
    a = sub.add_parser("check")
    a.add_argument("--state", required=True)
    a = sub.add_parser("probe")
    a.add_argument("--state", required=True)
    a.add_argument("--seconds", type=float, default=30)
    a.add_argument("--out", required=True)
    a.add_argument("--writes", action="store_true")
    a.add_argument("--limit", type=int, default=0, help="the per-IP verify limit to check")
    a.add_argument("--rate", type=float, default=100, help="verifications per second, about")
    a = sub.add_parser("report")
    a.add_argument("--samples", required=True)
    a.add_argument("--events", required=True)
    a.add_argument("--kind", choices=["redis", "postgres"], required=True)
    a.add_argument("--limit", type=int, default=0)
    args = p.parse_args()
    {"prepare": prepare, "load": load, "check": check, "probe": probe, "report": report}[args.cmd](args)


if __name__ == "__main__":
    main()
