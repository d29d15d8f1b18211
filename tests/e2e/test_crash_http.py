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
