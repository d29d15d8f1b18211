"""Crash over HTTP (issue 3): clients pay with Idempotency-Keys while `bursar serve` is kill -9ed
again and again. After each restart every payment answered 200 is present exactly once, retrying
every request with its key moves no money twice, and at the end the ledger checks out
(`bursar verify`) and the read model agrees with the engine's balances."""

import os
import random
import subprocess
import threading
import time
import unittest
import uuid

from harness import BINARY, Server, register_and_login

ROUNDS = int(os.environ.get("BURSAR_TEST_HTTP_CRASH_ROUNDS", "6"))
CLIENTS = 8
START_BALANCE = 10_000_000


class CrashOverHttpTest(unittest.TestCase):
    def test_kill_nine_while_paying(self):
        seed = int(os.environ.get("BURSAR_TEST_CRASH_SEED", str(int(time.time()))))
        print(f"crash over HTTP: seed {seed}, {ROUNDS} rounds")
        rng = random.Random(seed)
        server = Server().start()
        try:
            user, token = register_and_login(server.client(), "payer@example.com")
            admin = server.admin()
            shop = admin.post("/v1/merchants", {"name": "Shop", "tier": "business"}).json["merchant_id"]
            # The load passes a business merchant's daily 500 000: its limits are raised.
            r = admin.request("PUT", f"/v1/merchants/{shop}/limits",
                              {"daily": 10**12, "monthly": 10**12})
            self.assertEqual(r.status, 200, r)
            r = admin.post(f"/v1/wallets/{user}/topup", {"amount_minor": START_BALANCE})
            self.assertEqual(r.status, 200, r)
            sent = {}       # key -> amount
            answered = {}   # key -> response body of a 200
            lock = threading.Lock()
            for round_number in range(ROUNDS):
                stop = threading.Event()

                def pay(client_number):
                    client = server.client(token)
                    local = random.Random(seed * 100 + round_number * 10 + client_number)
                    while not stop.is_set():
                        key = str(uuid.UUID(int=local.getrandbits(128)))
                        amount = local.randint(1, 500)
                        with lock:
                            sent[key] = amount
                        try:
                            r = client.post("/v1/payments", {"user_id": user, "merchant_id": shop,
                                                             "amount_minor": amount},
                                            headers={"Idempotency-Key": key})
                        except OSError:
                            return  # the server died
                        if r.status == 200:
                            with lock:
                                answered[key] = r.body

                threads = [threading.Thread(target=pay, args=(n,)) for n in range(CLIENTS)]
                for t in threads:
                    t.start()
                time.sleep(rng.uniform(0.2, 0.8))
                server.kill()
                stop.set()
                for t in threads:
                    t.join()
                server.start()
                print(f"round {round_number}: {len(sent)} requests sent, {len(answered)} answered 200")

            # Every request again with its key: answered ones replay their first body; the others
            # are applied now if they were lost, or replayed if they had been applied.
            client = server.client(token)
            for key, amount in sent.items():
                r = client.post("/v1/payments", {"user_id": user, "merchant_id": shop, "amount_minor": amount},
                                headers={"Idempotency-Key": key})
                self.assertEqual(r.status, 200, r)
                if key in answered:
                    self.assertEqual(r.headers.get("idempotent-replayed"), "true", key)
                    self.assertEqual(r.body, answered[key], key)
            # Each key moved its amount exactly once.
            wallet = client.get(f"/v1/wallets/{user}").json["balances"][0]["balance_minor"]
            self.assertEqual(wallet, START_BALANCE - sum(sent.values()))
            # The read model holds exactly one payment per key, with the same amounts.
            items, cursor = [], None
            while True:
                r = client.get("/v1/ledger/transactions?size=100" + (f"&cursor={cursor}" if cursor else ""))
                self.assertEqual(r.status, 200, r)
                items += r.json["items"]
                cursor = r.json["nextCursor"]
                if cursor is None:
                    break
            payments = [i for i in items if i["type"] == "PAY"]
            self.assertEqual(len(payments), len(sent))
            self.assertEqual(sum(p["amount_minor"] for p in payments), sum(sent.values()))
            self.assertEqual(server.stop(), 0)
            verify = subprocess.run([BINARY, "verify", server.data_dir], capture_output=True, text=True)
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
            self.assertIn("verify: ok", verify.stdout)
        finally:
            server.cleanup()


class CrashWithHoldsAndRefundsTest(unittest.TestCase):
    """Pre-authorizations, captures, cancels and refunds with Idempotency-Keys while `bursar serve`
    is kill -9ed: after the rounds every answered request is present once (its retry replays its
    first answer), the frozen amount is the open pre-authorizations' remaining sum, captured plus
    released is the amount of every closed one, the wallet moved by captures less refunds exactly,
    and `bursar verify` agrees."""

    def test_kill_nine_while_holding_capturing_and_refunding(self):
        seed = int(os.environ.get("BURSAR_TEST_CRASH_SEED", str(int(time.time()))))
        rounds = max(2, ROUNDS // 2)
        print(f"crash with holds and refunds: seed {seed}, {rounds} rounds")
        rng = random.Random(seed)
        server = Server().start()
        try:
            user, token = register_and_login(server.client(), "holder@example.com")
            admin = server.admin()
            r = admin.post("/v1/merchants", {"name": "Hotel", "tier": "enterprise"})
            hotel, key = r.json["merchant_id"], r.json["api_key"]
            r = admin.request("PUT", f"/v1/merchants/{hotel}/limits",
                              {"daily": 10**12, "monthly": 10**12})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(admin.post(f"/v1/wallets/{user}/topup",
                                        {"amount_minor": START_BALANCE}).status, 200)
            sent = []       # (who, path, body, key) in the order each chain sent them
            answered = {}   # key -> (status, body) of an answer below 500
            lock = threading.Lock()

            def send(client, who, path, body, local):
                request_key = str(uuid.UUID(int=local.getrandbits(128)))
                with lock:
                    sent.append((who, path, body, request_key))
                r = client.post(path, body, headers={"Idempotency-Key": request_key})
                if r.status < 500:
                    with lock:
                        answered[request_key] = (r.status, r.body)
                return r

            for round_number in range(rounds):
                stop = threading.Event()

                def chains(client_number):
                    payer = server.client(token)
                    merchant = server.client(key)
                    local = random.Random(seed * 100 + round_number * 10 + client_number)
                    try:
                        while not stop.is_set():
                            amount = local.randint(100, 5_000)
                            r = send(payer, "user", "/v1/preauths",
                                     {"user_id": user, "merchant_id": hotel, "amount_minor": amount},
                                     local)
                            if r.status != 201:
                                continue
                            hold = r.json["preauth_id"]
                            if local.random() < 0.3:
                                send(merchant, "merchant", f"/v1/preauths/{hold}/cancel", {}, local)
                                continue
                            first = local.randint(1, amount)
                            r = send(merchant, "merchant", f"/v1/preauths/{hold}/capture",
                                     {"amount_minor": first}, local)
                            if r.status != 200:
                                continue
                            txn = r.json["capture"]["txn_id"]
                            if first < amount:
                                send(merchant, "merchant", f"/v1/preauths/{hold}/capture",
                                     {"final": True} if local.random() < 0.5 else {}, local)
                            send(merchant, "merchant", f"/v1/payments/{txn}/refunds",
                                 {"amount_minor": local.randint(1, first)}, local)
                    except OSError:
                        return  # the server died

                threads = [threading.Thread(target=chains, args=(n,)) for n in range(4)]
                for t in threads:
                    t.start()
                time.sleep(rng.uniform(0.2, 0.8))
                server.kill()
                stop.set()
                for t in threads:
                    t.join()
                server.start()
                print(f"round {round_number}: {len(sent)} requests sent, {len(answered)} answered")

            # Every request again, in the order sent: an answered one replays its first answer; a
            # lost one is applied now (its chain's earlier steps were answered, so durable).
            clients = {"user": server.client(token), "merchant": server.client(key)}
            for who, path, body, request_key in sent:
                r = clients[who].post(path, body, headers={"Idempotency-Key": request_key})
                self.assertLess(r.status, 500, r)
                if request_key in answered:
                    status, first_body = answered[request_key]
                    if status < 400 or status in (402, 403, 404, 409):
                        self.assertEqual((r.status, r.body), (status, first_body), (path, body))
            # The holds as the server has them.
            holds, cursor = [], None
            payer = clients["user"]
            while True:
                r = payer.get("/v1/preauths?size=100" + (f"&cursor={cursor}" if cursor else ""))
                self.assertEqual(r.status, 200, r)
                holds += r.json["items"]
                cursor = r.json["nextCursor"]
                if cursor is None:
                    break
            captured = refunded = remaining = 0
            captures = []
            for hold in holds:
                if hold["status"] in ("authorized", "partially_captured"):
                    remaining += hold["remaining_minor"]
                    self.assertEqual(hold["released_minor"], 0, hold)
                else:
                    self.assertEqual(hold["captured_minor"] + hold["released_minor"],
                                     hold["amount_minor"], hold)
                captured += hold["captured_minor"]
                captures += hold["captures"]
            self.assertEqual(len(captures), len(set(captures)))
            for txn in captures:
                r = payer.get(f"/v1/payments/{txn}")
                self.assertEqual(r.status, 200, r)
                refunded += r.json["amount_refunded_minor"]
                self.assertLessEqual(len(r.json["refunds"]), 1, r)  # one refund per capture sent
            wallet = payer.get(f"/v1/wallets/{user}").json["balances"][0]
            self.assertEqual(wallet["frozen_minor"], remaining)
            self.assertEqual(wallet["balance_minor"], START_BALANCE - captured + refunded)
            self.assertEqual(server.stop(), 0)
            verify = subprocess.run([BINARY, "verify", server.data_dir], capture_output=True, text=True)
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
            self.assertIn("verify: ok", verify.stdout)
        finally:
            server.cleanup()


class GracefulShutdownTest(unittest.TestCase):
    def test_sigterm_finishes_in_flight_requests(self):
        server = Server().start()
        try:
            user, token = register_and_login(server.client(), "payer@example.com")
            admin = server.admin()
            shop = admin.post("/v1/merchants", {"name": "Shop"}).json["merchant_id"]
            self.assertEqual(admin.post(f"/v1/wallets/{user}/topup", {"amount_minor": 1_000_000}).status, 200)
            answered, other = {}, []
            lock = threading.Lock()

            def pay(n):
                client = server.client(token)
                for i in range(100_000):
                    key = f"graceful-{n}-{i}"
                    try:
                        r = client.post("/v1/payments", {"user_id": user, "merchant_id": shop, "amount_minor": 1},
                                        headers={"Idempotency-Key": key})
                    except OSError:
                        return  # the server stopped accepting: fine
                    with lock:
                        if r.status == 200:
                            answered[key] = r.body
                        else:
                            other.append(r)

            threads = [threading.Thread(target=pay, args=(n,)) for n in range(8)]
            for t in threads:
                t.start()
            time.sleep(0.5)
            self.assertEqual(server.stop(), 0, server.read_log())
            for t in threads:
                t.join()
            self.assertGreater(len(answered), 0)
            # Nothing but payments and, at the very end, refusals of new work.
            for r in other:
                self.assertIn(r.status, (503,), r)
            self.assertIn("stopped at journal sequence", server.read_log())
            server.start()
            client = server.client(token)
            for key, body in answered.items():
                r = client.post("/v1/payments", {"user_id": user, "merchant_id": shop, "amount_minor": 1},
                                headers={"Idempotency-Key": key})
                self.assertEqual((r.status, r.headers.get("idempotent-replayed"), r.body), (200, "true", body))
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
