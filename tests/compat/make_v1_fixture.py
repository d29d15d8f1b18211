#!/usr/bin/env python3
"""Writes tests/compat/v1/: a data directory written by the journal-v1 binary (commit cd46059),
and manifest.json: what it must still answer after every upgrade. With FIXTURE=v2 and
WRITTEN_BY=a58a017 it wrote tests/compat/v2/ the same way with that journal-v2 binary (merchants
section version 2, a refund: the refunds section), and a refund with a key.

Kept to show how the fixtures were made; it is not run by the tests (a fixture must stay what
its old binary wrote). Usage, with a binary built from the commit:

    BURSAR_TEST_BINARY=/path/to/old/bursar python3 tests/compat/make_v1_fixture.py
    FIXTURE=v2 WRITTEN_BY=a58a017 BURSAR_TEST_BINARY=/path/to/bursar-a58a017 \
        python3 tests/compat/make_v1_fixture.py

The session: users (one renamed), logins, a logout, merchants of two tiers, top-ups, payments
and transfers with and without Idempotency-Keys, answered requests that failed (insufficient
funds, unknown merchant) with keys, an idempotent replay, and enough records that a snapshot
(every 25 records) is followed by more records. Every answer to a request with a key is written
to the manifest with its request, so a test can send the same request again and expect the
same answer; so are the wallets' balances at the end.
"""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.environ.get("FIXTURE", "v1")
WRITTEN_BY = os.environ.get("WRITTEN_BY", "cd46059")
TARGET = os.path.join(HERE, FIXTURE)


def main():
    shutil.rmtree(TARGET, ignore_errors=True)
    os.makedirs(TARGET)
    data_dir = os.path.join(TARGET, "data")
    server = harness.Server(
        data_dir=data_dir,
        env={"BURSAR_JOURNAL_PREALLOCATE": "false", "BURSAR_SNAPSHOT_INTERVAL_RECORDS": "25"},
    ).start()
    admin = server.admin()
    keyed = []

    def send(client, method, path, body, key=None):
        headers = {"Idempotency-Key": key} if key else None
        raw = json.dumps(body, separators=(",", ":")) if body is not None else None
        r = client.request(method, path, raw=raw, headers=headers)
        if key:
            keyed.append({"key": key, "token": client.token, "method": method, "path": path,
                          "body": raw or "", "status": r.status, "response": r.body})
        return r

    users = {}
    for name in ["alice", "bob", "carol", "dave"]:
        c = server.client()
        r = send(c, "POST", "/v1/users/register",
                 {"email": f"{name}@example.com", "password": "correct horse battery",
                  "name": name.title()}, key=f"reg-{name}")
        assert r.status == 201, r
        user_id = r.json["user_id"]
        r = c.post("/v1/users/login", {"email": f"{name}@example.com",
                                        "password": "correct horse battery"})
        assert r.status == 200, r
        users[name] = (user_id, r.json["token"])
    clients = {name: server.client(token) for name, (_, token) in users.items()}
    uid = {name: user_id for name, (user_id, _) in users.items()}

    r = send(clients["dave"], "PUT", f"/v1/users/{uid['dave']}", {"name": "David"}, key="rename")
    assert r.status == 200, r
    r = send(admin, "POST", "/v1/merchants", {"name": "Coffee Shop", "tier": "starter"},
             key="m-coffee")
    assert r.status == 201, r
    coffee = r.json["merchant_id"]
    r = send(admin, "POST", "/v1/merchants", {"name": "Book Store", "tier": "enterprise"})
    assert r.status == 201, r
    books = r.json["merchant_id"]

    for name, amount in [("alice", 100000), ("bob", 50000), ("carol", 20000)]:
        r = send(clients[name], "POST", f"/v1/wallets/{uid[name]}/topup",
                 {"amount_minor": amount}, key=f"top-{name}")
        assert r.status == 200, r
    r = send(admin, "POST", f"/v1/wallets/{uid['alice']}/topup",
             {"amount_minor": 5000, "currency": "USD"})
    assert r.status == 200, r

    for i in range(12):
        payer = ["alice", "bob", "carol"][i % 3]
        merchant = coffee if i % 2 == 0 else books
        r = send(clients[payer], "POST", "/v1/payments",
                 {"user_id": uid[payer], "merchant_id": merchant, "amount_minor": 1234 + 111 * i},
                 key=f"pay-{i}")
        assert r.status == 200, r
    # Replays of the same keys: answered again, nothing moved.
    r = send(clients["alice"], "POST", "/v1/payments",
             {"user_id": uid["alice"], "merchant_id": coffee, "amount_minor": 1234}, key="pay-0")
    assert r.status == 200 and r.headers.get("idempotent-replayed") == "true", r
    r = send(clients["alice"], "POST", "/v1/payments",
             {"user_id": uid["alice"], "merchant_id": coffee, "amount_minor": 999,
              "currency": "USD"}, key="pay-usd")
    assert r.status == 200, r

    for i in range(8):
        sender, recipient = [("alice", "bob"), ("bob", "carol"), ("carol", "dave"),
                             ("alice", "dave")][i % 4]
        r = send(clients[sender], "POST", "/v1/transfers",
                 {"from_user_id": uid[sender], "to_user_id": uid[recipient],
                  "amount_minor": 500 + 10 * i}, key=f"xfer-{i}" if i % 2 == 0 else None)
        assert r.status == 200, r

    if FIXTURE != "v1":
        # A refund (journal v2 onwards), by the admin, of the first payment: stored for its key.
        first = next(k for k in keyed if k["key"] == "pay-0")
        payment = json.loads(first["response"])["txn_id"]
        r = send(admin, "POST", f"/v1/payments/{payment}/refunds",
                 {"amount_minor": 234, "reason": "requested_by_customer"}, key="refund-0")
        assert r.status == 200, r

    # Failures whose answers are stored for their keys.
    r = send(clients["dave"], "POST", "/v1/payments",
             {"user_id": uid["dave"], "merchant_id": coffee, "amount_minor": 10 ** 9},
             key="fail-funds")
    assert r.status == 402, r
    r = send(clients["bob"], "POST", "/v1/payments",
             {"user_id": uid["bob"], "merchant_id": "mch_99", "amount_minor": 100},
             key="fail-merchant")
    assert r.status == 404, r
    r = send(clients["bob"], "POST", "/v1/transfers",
             {"from_user_id": uid["bob"], "to_user_id": "usr_77", "amount_minor": 100},
             key="fail-recipient")
    assert r.status == 404, r

    r = clients["carol"].post("/v1/users/logout")
    assert r.status == 200, r
    # More records after the last snapshot.
    for i in range(7):
        r = send(clients["bob"], "POST", "/v1/payments",
                 {"user_id": uid["bob"], "merchant_id": books, "amount_minor": 700 + i},
                 key=f"tail-{i}")
        assert r.status == 200, r

    wallets = {}
    for name in uid:
        r = admin.get(f"/v1/wallets/{uid[name]}")
        assert r.status == 200, r
        wallets[uid[name]] = r.json["balances"]
    assert server.stop() == 0
    server.log.close()
    os.remove(server.log.name)
    with open(os.path.join(TARGET, "manifest.json"), "w") as f:
        json.dump({"written_by": WRITTEN_BY, "users": uid, "merchants": {"coffee": coffee,
                   "books": books}, "wallets": wallets, "keyed": keyed}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
