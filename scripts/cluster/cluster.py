#!/usr/bin/env python3
"""The two-instance drill's driver (Python 3.11, standard library only; scripts/cluster/README.md).
run.sh starts nginx in front of instances A and B; this file checks, through the proxy and on
each instance directly, that the pair behaves as one service. It reuses the fault drills' driver
(scripts/faults/driver.py) for HTTP and for preparing staff, residents and permits.

  cluster.py checks --state F --a URL --b URL --proxy URL --access-log F --outbox F
                    --verify-limit N --otp-limit M --recheck-ms R --rounds K --out F
  cluster.py wrk-script --state F --out F.lua     the wrk script of `POST /v1/verify`

Each check prints `PASS:` or `FAIL:`; `checks` exits 1 if one failed. No phone or ID number is
printed.
"""

import argparse
import json
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the repository's folders
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
import driver  # noqa: E402  (scripts/faults/driver.py)
from driver import call, expect, random_client, staff_token  # noqa: E402

# Client addresses for the checks through nginx: untrusted (only 127.0.0.1, where nginx connects
# from, is a trusted proxy), so the service keys each by the address nginx saw.
VERIFY_CLIENT, SPOOF_CLIENT, OTP_CLIENT = "127.0.0.11", "127.0.0.12", "127.0.0.13"

failures = []


def verdict(name, ok, detail=""):
    print(("PASS: " if ok else "FAIL: ") + name + (f" ({detail})" if detail else ""), flush=True)
    if not ok:
        failures.append(name)


def verified_requests(base):
    """`POST /v1/verify` requests this instance answered, from its /metrics."""
    a = call("GET", "/metrics", base=base)
    total = 0
    for line in a.body.decode().splitlines():
        if line.startswith("epermit_http_requests_total{") and 'route="/v1/verify"' in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def served_by(access_log, client):
    """Upstream address -> requests from `client`, from nginx's access log (`remote upstream …`)."""
    counts = {}
    with open(access_log) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0] == client:
                counts[parts[1]] = counts.get(parts[1], 0) + 1
    return counts


def first_credential(state):
    p = state["permits"][0]
    me = expect(call("GET", "/v1/permits/me", p["token"]), 200, "permit")
    return p, me["credential"]


def check_spread(args, school, qr):
    before = {n: verified_requests(u) for n, u in (("A", args.a), ("B", args.b))}
    n = 40
    ok = sum(call("POST", "/v1/verify", school, body={"qr": qr}, client=random_client(),
                  base=args.proxy).status == 200 for _ in range(n))
    after = {k: verified_requests(u) for k, u in (("A", args.a), ("B", args.b))}
    got = {k: after[k] - before[k] for k in after}
    verdict("nginx spreads requests over both instances (their /metrics)",
            ok == n and got["A"] + got["B"] == n and min(got.values()) >= n // 4,
            f"{n} verifications through nginx, {ok} answered 200: A served {got['A']}, "
            f"B served {got['B']}")


def check_limit(args, school, qr):
    n = args.verify_limit
    sent = n + 10
    answers = [call("POST", "/v1/verify", school, body={"qr": qr}, base=args.proxy,
                    source=VERIFY_CLIENT).status for _ in range(sent)]
    served = served_by(args.access_log, VERIFY_CLIENT)
    verdict(f"the per-IP verify limit ({n}/min) holds across the pair",
            answers.count(200) == n and answers.count(429) == sent - n
            and len(served) == 2 and answers[:n] == [200] * n,
            f"{sent} from {VERIFY_CLIENT}: {answers.count(200)} allowed, {answers.count(429)} x 429,"
            f" others {[s for s in answers if s not in (200, 429)]}; nginx sent them to "
            + ", ".join(f"{u}: {c}" for u, c in sorted(served.items())))
    # A client naming itself in X-Forwarded-For gains nothing: nginx appends the address it saw,
    # and the service takes the rightmost address that is not a trusted proxy.
    answers = [call("POST", "/v1/verify", school, body={"qr": qr}, base=args.proxy,
                    source=SPOOF_CLIENT, client=random_client()).status for _ in range(sent)]
    verdict("a client's own X-Forwarded-For does not escape the limit",
            answers.count(200) == n and answers.count(429) == sent - n,
            f"{sent} from {SPOOF_CLIENT}, each naming another address: "
            f"{answers.count(200)} allowed, {answers.count(429)} x 429")


def check_otp_limit(args):
    n = args.otp_limit
    sent = n + 4
    run = "%04d" % (os.getpid() % 10000)
    answers = [call("POST", "/v1/auth/otp", body={"phone": f"137{run}{i:04d}"}, base=args.proxy,
                    source=OTP_CLIENT).status for i in range(sent)]
    served = served_by(args.access_log, OTP_CLIENT)
    verdict(f"the per-IP login-code limit ({n}/min) holds across the pair",
            answers.count(202) == n and answers.count(429) == sent - n and len(served) == 2,
            f"{sent} codes asked for {sent} phones from {OTP_CLIENT}: {answers.count(202)} sent, "
            f"{answers.count(429)} x 429; nginx sent them to "
            + ", ".join(f"{u}: {c}" for u, c in sorted(served.items())))


def latest_code(outbox, phone):
    """The newest code for `phone` in the development outbox both instances append to."""
    with open(outbox) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return [m["code"] for m in lines if m["phone"] == phone][-1]


def wait_refused(base, path, token, bound_s):
    """Seconds until `path` answers 401 on `base` with `token` (None past `bound_s`)."""
    start = time.monotonic()
    while time.monotonic() - start < bound_s:
        if call("GET" if path != "/v1/verify" else "POST", path, token, base=base,
                body=None if path != "/v1/verify" else {"qr": "x"},
                client=random_client()).status == 401:
            return time.monotonic() - start
        time.sleep(0.01)
    return None


def check_sessions(args, qr):
    a, b = args.a, args.b
    # Staff: log in on A, use and rotate on B, replay on A.
    login = expect(call("POST", "/v1/auth/staff-login", body={
        "username": "school1", "password": driver.PASSWORD}, base=a), 200, "staff login on A")
    used = call("POST", "/v1/verify", login["access_token"], body={"qr": qr}, base=b,
                client=random_client())
    verdict("an access token issued by A works on B", used.status == 200, f"verify on B: {used.status}")
    rotated = call("POST", "/v1/auth/refresh", body={"refresh_token": login["refresh_token"]}, base=b)
    verdict("a refresh token issued by A rotates on B", rotated.status == 200, f"{rotated.status}")
    fresh = (rotated.json() or {}).get("refresh_token", "")
    replay = call("POST", "/v1/auth/refresh", body={"refresh_token": login["refresh_token"]}, base=a)
    after = call("POST", "/v1/auth/refresh", body={"refresh_token": fresh}, base=a)
    verdict("the token B rotated away is refused on A, and the replay ends the login there too",
            replay.status == 401 and after.status == 401,
            f"old token on A: {replay.status}; B's new token on A after the replay: {after.status}")

    # Wrong passwords from one address, alternately on A and B: the throttle (auth.
    # throttle_after_failures = 3 free failures) counts them together.
    ip = random_client()
    wrong = [call("POST", "/v1/auth/staff-login", body={"username": "school1",
                                                              "password": "not the password"},
                  base=(a, b)[i % 2], client=ip) for i in range(4)]
    codes = [w.status for w in wrong]
    verdict("wrong passwords on A and B are throttled together (3 free, the 4th 429)",
            codes == [401, 401, 401, 429]
            and "login_throttled" in str((wrong[3].json() or {}).get("type")),
            f"A, B, A, B: {codes}, the last {(wrong[3].json() or {}).get('type')}")

    # Resident: a login code sent by A, entered on B; the session read on A; logout everywhere
    # on B stops the access token on A within tokens.revocation_check_ms.
    phone = "136%04d0001" % (os.getpid() % 10000)
    ip = random_client()
    expect(call("POST", "/v1/auth/otp", body={"phone": phone}, base=a, client=ip), 202, "otp on A")
    tokens = expect(call("POST", "/v1/auth/login", body={"phone": phone,
                                                         "code": latest_code(args.outbox, phone)},
                         base=b, client=ip), 200, "login on B with A's code")
    me = call("GET", "/v1/me", tokens["access_token"], base=a)
    verdict("a login code sent by A logs in on B, and that session works on A", me.status == 200,
            f"GET /v1/me on A: {me.status}")
    call("GET", "/v1/me", tokens["access_token"], base=b)  # B remembers the epoch now
    out = call("POST", "/v1/auth/logout", tokens["access_token"],
               body={"refresh_token": tokens["refresh_token"], "everywhere": True}, base=a)
    took = wait_refused(b, "/v1/me", tokens["access_token"], 3.0)
    verdict(f"a logout everywhere on A stops the access token on B within "
            f"revocation_check_ms ({args.revocation_ms} ms)",
            out.status == 200 and took is not None and took * 1000 <= args.revocation_ms + 250,
            f"logout {out.status}; refused on B after "
            + (f"{took * 1000:.0f} ms" if took is not None else "more than 3 s"))

    # A disabled staff account: disabled through A, its token refused on B.
    admin = staff_token("admin1")
    login = expect(call("POST", "/v1/auth/staff-login", body={
        "username": "school2", "password": driver.PASSWORD}, base=b), 200, "school2 login on B")
    call("POST", "/v1/verify", login["access_token"], body={"qr": qr}, base=b, client=random_client())
    listed = expect(call("GET", "/v1/staff", admin, base=a), 200, "GET /v1/staff on A")
    sid = next(s["id"] for s in listed["staff"] if s["username"] == "school2")
    off = call("POST", f"/v1/staff/{sid}/disable", admin, base=a)
    took = wait_refused(b, "/v1/verify", login["access_token"], 3.0)
    again = call("POST", "/v1/auth/refresh", body={"refresh_token": login["refresh_token"]}, base=b)
    verdict("an account disabled through A is refused on B (token within revocation_check_ms, "
            "refresh at once)",
            off.status == 200 and took is not None and took * 1000 <= args.revocation_ms + 250
            and again.status == 401,
            f"disable {off.status}; token refused on B after "
            + (f"{took * 1000:.0f} ms" if took is not None else "more than 3 s")
            + f"; refresh on B {again.status}")


def check_suspension(args, school, state):
    """Suspend (then restore) through A; poll `POST /v1/verify` on B until it sees the change."""
    p, qr = first_credential(state)
    officer = staff_token(state["officers"][p["district"]])
    delays = []
    seen_on_a = []
    for _ in range(args.rounds):
        for action, want in (("suspend", "suspended"), ("restore", "valid")):
            # B has read the lists now (or less than verify_recheck_ms ago); the change comes
            # at a random moment of B's recheck interval, so the delays sample the interval.
            call("POST", "/v1/verify", school, body={"qr": qr}, base=args.b, client=random_client())
            time.sleep(random.uniform(0, args.recheck_ms / 1000))
            r = call("POST", f"/v1/permits/{p['number']}/{action}", officer,
                     body={"reason": "cluster drill"}, base=args.a)
            committed = time.monotonic()
            if r.status != 200:
                verdict(f"{action} through A", False, f"{r.status} {r.body[:200]!r}")
                return
            on_a = call("POST", "/v1/verify", school, body={"qr": qr}, base=args.a,
                        client=random_client()).json() or {}
            seen_on_a.append(on_a.get("verdict") == want)
            while True:
                v = call("POST", "/v1/verify", school, body={"qr": qr}, base=args.b,
                         client=random_client()).json() or {}
                if v.get("verdict") == want:
                    delays.append((time.monotonic() - committed) * 1000)
                    break
                if time.monotonic() - committed > 5:
                    delays.append(float("inf"))
                    break
                time.sleep(0.005)
    bound = args.recheck_ms + 250
    verdict("a suspension or restore through A is seen at once on A", all(seen_on_a),
            f"{sum(seen_on_a)}/{len(seen_on_a)}")
    shown = ", ".join(f"{d:.0f}" for d in delays)
    verdict(f"... and on B within verify_recheck_ms ({args.recheck_ms} ms, +250 ms to poll and "
            f"read)", max(delays) <= bound,
            f"{len(delays)} changes, delay on B (ms after A's answer): {shown}; "
            f"min {min(delays):.0f}, median {sorted(delays)[len(delays) // 2]:.0f}, "
            f"max {max(delays):.0f}")
    with open(args.out, "w") as f:
        json.dump({"suspension_delays_ms": delays}, f)


def checks(args):
    with open(args.state) as f:
        state = json.load(f)
    school = staff_token("school1")
    _, qr = first_credential(state)
    check_spread(args, school, qr)
    check_limit(args, school, qr)
    check_otp_limit(args)
    check_sessions(args, qr)
    check_suspension(args, school, state)
    if failures:
        print(f"FAIL: {len(failures)} check(s) failed", flush=True)
        sys.exit(1)


def wrk_script(args):
    with open(args.state) as f:
        state = json.load(f)
    token = staff_token("school1")
    _, qr = first_credential(state)
    body = json.dumps({"qr": qr})
    with open(args.out, "w") as f:
        f.write('wrk.method = "POST"\n'
                f"wrk.body = {json.dumps(body)}\n"
                'wrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.headers["Authorization"] = "Bearer {token}"\n')


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("checks")
    for name in ("state", "a", "b", "proxy", "access-log", "outbox", "out"):
        a.add_argument("--" + name, required=True)
    a.add_argument("--verify-limit", type=int, required=True)
    a.add_argument("--otp-limit", type=int, required=True)
    a.add_argument("--recheck-ms", type=int, required=True)
    a.add_argument("--revocation-ms", type=int, required=True)
    a.add_argument("--rounds", type=int, default=3)
    a = sub.add_parser("wrk-script")
    a.add_argument("--state", required=True)
    a.add_argument("--out", required=True)
    args = p.parse_args()
    {"checks": checks, "wrk-script": wrk_script}[args.cmd](args)


if __name__ == "__main__":
    main()
