"""End-to-end tests of the HTTP API against the real `bursar serve` (issue 3)."""

import subprocess
import threading
import time
import unittest
import uuid

from harness import Server, register_and_login


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.admin = cls.server.admin()
        anonymous = cls.server.client()
        cls.alice, alice_token = register_and_login(anonymous, "alice@example.com")
        cls.bob, bob_token = register_and_login(anonymous, "bob@example.com")
        cls.alice_client = cls.server.client(alice_token)
        cls.bob_client = cls.server.client(bob_token)
        r = cls.admin.post("/v1/merchants", {"name": "Coffee", "tier": "starter"})
        assert r.status == 201, r
        cls.shop, cls.shop_key = r.json["merchant_id"], r.json["api_key"]
        # A starter's single payment is at most 10 000 (JPY): this shop's limit is raised.
        r = cls.admin.request("PUT", f"/v1/merchants/{cls.shop}/limits", {"single_payment": 1_000_000})
        assert r.status == 200, r
        r = cls.admin.post("/v1/merchants", {"name": "Books", "tier": "premium"})
        cls.other_shop, cls.other_key = r.json["merchant_id"], r.json["api_key"]
        r = cls.alice_client.post(f"/v1/wallets/{cls.alice}/topup", {"amount_minor": 100_000})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def balance(self, user, client):
        r = client.get(f"/v1/wallets/{user}")
        self.assertEqual(r.status, 200, r)
        return {b["currency"]: b for b in r.json["balances"]}

    # Users and sessions

    def test_register_validation(self):
        c = self.server.client()
        for body, param in [({"email": "x", "password": "longenough", "name": "n"}, "email"),
                            ({"email": "a@b.co", "password": "short", "name": "n"}, "password"),
                            ({"email": "a@b.co", "password": "longenough"}, "name"),
                            ({"email": "a@b.co", "password": "longenough", "name": "n", "x": 1}, "x"),
                            ({"email": 5, "password": "longenough", "name": "n"}, "email")]:
            r = c.post("/v1/users/register", body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertEqual(r.error_code(), "INVALID_REQUEST")
            self.assertEqual(r.json["error"]["param"], param)
        r = c.request("POST", "/v1/users/register", raw="{not json")
        self.assertEqual((r.status, r.error_code()), (400, "INVALID_REQUEST"))
        r = c.post("/v1/users/register", {"email": "alice@example.com", "password": "longenough", "name": "n"})
        self.assertEqual((r.status, r.error_code()), (409, "EMAIL_ALREADY_REGISTERED"))

    def test_login_logout_and_profile(self):
        c = self.server.client()
        user, token = register_and_login(c, "carol@example.com", "carol-password", "Carol")
        r = c.post("/v1/users/login", {"email": "carol@example.com", "password": "wrong-password"})
        self.assertEqual((r.status, r.error_code()), (401, "UNAUTHENTICATED"))
        r = c.post("/v1/users/login", {"email": "nobody@example.com", "password": "wrong-password"})
        self.assertEqual(r.status, 401)
        r = c.get(f"/v1/users/{user}", token=token)
        self.assertEqual((r.status, r.json["name"], r.json["email"]), (200, "Carol", "carol@example.com"))
        r = c.request("PUT", f"/v1/users/{user}", {"name": "Caroline"}, token=token)
        self.assertEqual((r.status, r.json["name"]), (200, "Caroline"))
        r = c.request("PUT", f"/v1/users/{self.alice}", {"name": "Mallory"}, token=token)
        self.assertEqual((r.status, r.error_code()), (403, "FORBIDDEN"))
        r = c.post("/v1/users/logout", token=token)
        self.assertEqual(r.status, 200)
        r = c.get(f"/v1/users/{user}", token=token)
        self.assertEqual((r.status, r.error_code()), (401, "UNAUTHENTICATED"))

    def test_unauthenticated_and_forbidden(self):
        anonymous = self.server.client()
        self.assertEqual(anonymous.get(f"/v1/wallets/{self.alice}").status, 401)
        self.assertEqual(anonymous.get(f"/v1/wallets/{self.alice}", token="ses_forged").status, 401)
        self.assertEqual(self.bob_client.get(f"/v1/wallets/{self.alice}").status, 403)
        r = self.bob_client.post(f"/v1/wallets/{self.alice}/topup", {"amount_minor": 5})
        self.assertEqual(r.status, 403)
        r = self.alice_client.post("/v1/merchants", {"name": "Mine"})
        self.assertEqual((r.status, r.error_code()), (403, "FORBIDDEN"))
        r = self.server.client(self.shop_key).post("/v1/merchants", {"name": "Mine"})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.alice_client.get("/v1/users/usr_abc").status, 400)

    # Money

    def test_topup_payment_fee_and_read_back(self):
        before = self.balance(self.alice, self.alice_client)["JPY"]["balance_minor"]
        r = self.alice_client.post("/v1/payments", {"user_id": self.alice, "merchant_id": self.shop,
                                                    "amount_minor": 12_345})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "succeeded")
        # Starter tier: 0.8 % of 12 345 = 98.76 -> 99 (half up).
        self.assertEqual(r.json["fee_minor"], 99)
        txn = r.json["txn_id"]
        after = self.balance(self.alice, self.alice_client)["JPY"]["balance_minor"]
        self.assertEqual(before - after, 12_345)
        read = self.alice_client.get(f"/v1/payments/{txn}")
        self.assertEqual((read.status, read.json["net_minor"], read.json["fee_minor"]), (200, 12_246, 99))
        # The merchant sees it, another merchant and another user do not.
        self.assertEqual(self.server.client(self.shop_key).get(f"/v1/payments/{txn}").status, 200)
        self.assertEqual(self.server.client(self.other_key).get(f"/v1/payments/{txn}").status, 404)
        self.assertEqual(self.bob_client.get(f"/v1/payments/{txn}").status, 404)
        self.assertEqual(self.admin.get(f"/v1/payments/{txn}").status, 200)

    def test_premium_fee_and_rounding(self):
        r = self.alice_client.post("/v1/payments", {"user_id": self.alice, "merchant_id": self.other_shop,
                                                    "amount_minor": 500})
        self.assertEqual((r.status, r.json["fee_minor"]), (200, 2))  # 0.3 % of 500 = 1.5 -> 2

    def test_payment_errors_move_nothing(self):
        before = self.balance(self.alice, self.alice_client)["JPY"]["balance_minor"]
        cases = [({"user_id": self.alice, "merchant_id": self.shop, "amount_minor": before + 1}, 402, "INSUFFICIENT_FUNDS"),
                 ({"user_id": self.alice, "merchant_id": self.shop, "amount_minor": 10**12}, 403, "RISK_LIMIT_EXCEEDED"),
                 ({"user_id": self.alice, "merchant_id": self.shop, "amount_minor": 0}, 400, "INVALID_REQUEST"),
                 ({"user_id": self.alice, "merchant_id": self.shop, "amount_minor": -5}, 400, "INVALID_REQUEST"),
                 ({"user_id": self.alice, "merchant_id": self.shop, "amount_minor": 1.5}, 400, "INVALID_REQUEST"),
                 ({"user_id": self.alice, "merchant_id": self.shop, "amount_minor": 5, "currency": "XXX"}, 400, "INVALID_REQUEST"),
                 ({"user_id": self.alice, "merchant_id": "mch_999", "amount_minor": 5}, 404, "NOT_FOUND"),
                 ({"user_id": self.alice, "merchant_id": "shop", "amount_minor": 5}, 400, "INVALID_REQUEST"),
                 ({"user_id": self.bob, "merchant_id": self.shop, "amount_minor": 5}, 403, "FORBIDDEN")]
        for body, status, code in cases:
            r = self.alice_client.post("/v1/payments", body)
            self.assertEqual((r.status, r.error_code()), (status, code), (body, r))
        self.assertEqual(self.balance(self.alice, self.alice_client)["JPY"]["balance_minor"], before)

    def test_payments_read_in_a_batch(self):
        paid = []
        for amount in (111, 222):
            r = self.alice_client.post("/v1/payments", {"user_id": self.alice,
                                                        "merchant_id": self.shop,
                                                        "amount_minor": amount})
            self.assertEqual(r.status, 200, r)
            paid.append(r.json["txn_id"])
        ids = ",".join([paid[1], "txn_999999", paid[0]])
        r = self.alice_client.get(f"/v1/payments?ids={ids}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([p["txn_id"] for p in r.json["items"]], [paid[1], paid[0]])
        self.assertEqual(r.json["not_found"], ["txn_999999"])
        # Bob sees neither: both are listed as not found, as if they did not exist.
        r = self.bob_client.get(f"/v1/payments?ids={paid[0]},{paid[1]}")
        self.assertEqual((r.json["items"], r.json["not_found"]), ([], paid), r)
        # The payee merchant sees them; the other merchant does not.
        shop = self.server.client(self.shop_key)
        self.assertEqual(len(shop.get(f"/v1/payments?ids={ids}").json["items"]), 2)
        other = self.server.client(self.other_key)
        self.assertEqual(other.get(f"/v1/payments?ids={ids}").json["items"], [])
        # Bounds: at most 100 ids, each an id; and credentials first.
        many = ",".join(f"txn_{i}" for i in range(1, 102))
        r = self.alice_client.get(f"/v1/payments?ids={many}")
        self.assertEqual((r.status, r.json["error"]["param"]), (400, "ids"), r)
        self.assertIn("100", r.json["error"]["message"])
        r = self.alice_client.get("/v1/payments?ids=txn_1,nope")
        self.assertEqual((r.status, r.json["error"]["param"]), (400, "ids"), r)
        self.assertEqual(self.server.client().get(f"/v1/payments?ids={many}").status, 401)

    def test_wallet_history_and_balances_at_a_time(self):
        client = self.server.client()
        carl, token = register_and_login(client, "carl.history@example.com")
        carl_client = self.server.client(token)
        moves = [("topup", 10_000), ("pay", 2_500), ("topup", 700), ("transfer", 1_200)]
        for kind, amount in moves:
            if kind == "topup":
                r = carl_client.post(f"/v1/wallets/{carl}/topup", {"amount_minor": amount})
            elif kind == "pay":
                r = carl_client.post("/v1/payments", {"user_id": carl, "merchant_id": self.shop,
                                                      "amount_minor": amount})
            else:
                r = carl_client.post("/v1/transfers", {"from_user_id": carl,
                                                       "to_user_id": self.bob,
                                                       "amount_minor": amount})
            self.assertEqual(r.status, 200, r)
        r = carl_client.get(f"/v1/wallets/{carl}/history?size=3")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(i["type"], i["change_minor"], i["balance_after_minor"])
                          for i in r.json["items"]],
                         [("TRANSFER", -1200, 7000), ("TOPUP", 700, 8200), ("PAY", -2500, 7500)])
        r = carl_client.get(f"/v1/wallets/{carl}/history?cursor={r.json['nextCursor']}")
        self.assertEqual([(i["type"], i["balance_after_minor"]) for i in r.json["items"]],
                         [("TOPUP", 10000)])
        self.assertIsNone(r.json["nextCursor"])
        # The recipient's history shows the transfer coming in.
        r = self.bob_client.get(f"/v1/wallets/{self.bob}/history")
        received = [i for i in r.json["items"] if i["user_id"] == carl]
        self.assertEqual([(i["type"], i["change_minor"]) for i in received], [("TRANSFER", 1200)])
        # Balances at a time: before anything, and now (the wallet as it is).
        self.assertEqual(carl_client.get(f"/v1/wallets/{carl}?at=1").json["balances"], [])
        now = int(time.time()) + 1
        r = carl_client.get(f"/v1/wallets/{carl}?at={now}")
        self.assertEqual(r.json["balances"], [{"currency": "JPY", "balance_minor": 7000}], r)
        self.assertEqual(self.balance(carl, carl_client)["JPY"]["balance_minor"], 7000)
        # Only the user and the admin; at must be a number.
        self.assertEqual(self.bob_client.get(f"/v1/wallets/{carl}/history").status, 403)
        self.assertEqual(self.bob_client.get(f"/v1/wallets/{carl}?at={now}").status, 403)
        r = carl_client.get(f"/v1/wallets/{carl}?at=yesterday")
        self.assertEqual((r.status, r.json["error"]["param"]), (400, "at"), r)
        self.assertEqual(self.server.client().get(f"/v1/wallets/{carl}/history").status, 401)

    def test_changing_a_merchant_tier(self):
        r = self.admin.post("/v1/merchants", {"name": "Growing", "tier": "starter"})
        self.assertEqual(r.status, 201, r)
        shop, key = r.json["merchant_id"], r.json["api_key"]
        pay = {"user_id": self.alice, "merchant_id": shop, "amount_minor": 10_000}
        self.assertEqual(self.alice_client.post("/v1/payments", pay).json["fee_minor"], 80)
        r = self.admin.request("PUT", f"/v1/merchants/{shop}/tier",
                               {"tier": "enterprise", "reason": "volume grew"})
        self.assertEqual((r.status, r.json["tier"]), (200, "enterprise"), r)
        self.assertEqual(self.alice_client.post("/v1/payments", pay).json["fee_minor"], 45)
        r = self.server.client(key).get(f"/v1/merchants/{shop}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["tier"], r.json["limits"]),
                         ("enterprise", {"daily": 2_000_000, "monthly": 6_000_000,
                                         "single_payment": 200_000}))
        self.assertEqual([(h["from"], h["to"], h["reason"], h["actor"])
                          for h in r.json["tier_history"]],
                         [("starter", "enterprise", "volume grew", "admin")])
        # The same tier again, a merchant changing its own tier, another merchant reading it.
        r = self.admin.request("PUT", f"/v1/merchants/{shop}/tier",
                               {"tier": "enterprise", "reason": "again"})
        self.assertEqual((r.status, r.error_code()), (409, "INVALID_STATE"), r)
        r = self.server.client(key).request("PUT", f"/v1/merchants/{shop}/tier",
                                            {"tier": "premium", "reason": "please"})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.server.client(self.other_key).get(f"/v1/merchants/{shop}").status,
                         403)
        # `me`: the merchant of the API key; nobody else has one.
        r = self.server.client(key).get("/v1/merchants/me")
        self.assertEqual((r.status, r.json["merchant_id"], r.json["tier"]), (200, shop, "enterprise"))
        self.assertEqual(self.admin.get("/v1/merchants/me").status, 404)
        self.assertEqual(self.alice_client.get("/v1/merchants/me").status, 404)
        self.assertEqual(self.server.client().get("/v1/merchants/me").status, 401)
        r = self.admin.request("PUT", "/v1/merchants/mch_999/tier",
                               {"tier": "premium", "reason": "x"})
        self.assertEqual(r.status, 404, r)
        r = self.admin.request("PUT", f"/v1/merchants/{shop}/tier", {"tier": "gold",
                                                                     "reason": "x"})
        self.assertEqual((r.status, r.json["error"]["param"]), (400, "tier"), r)

    def test_a_starter_merchant_is_paid_in_its_own_currency_only(self):
        erin, token = register_and_login(self.server.client(), "erin.currency@example.com")
        erin_client = self.server.client(token)
        for currency in ("JPY", "USD"):
            r = erin_client.post(f"/v1/wallets/{erin}/topup", {"amount_minor": 5_000, "currency": currency})
            self.assertEqual(r.status, 200, r)
        self.assertEqual(r.status, 200, r)
        r = self.admin.post("/v1/merchants", {"name": "Local", "tier": "starter"})
        self.assertEqual(r.status, 201, r)
        local = r.json["merchant_id"]
        self.assertEqual(self.admin.get(f"/v1/merchants/{local}").json["currency"], "JPY")
        r = self.admin.post("/v1/merchants", {"name": "Abroad", "tier": "business", "currency": "USD"})
        self.assertEqual(r.status, 201, r)
        abroad = r.json["merchant_id"]
        self.assertEqual(self.admin.get(f"/v1/merchants/{abroad}").json["currency"], "USD")
        usd = self.balance(erin, erin_client)["USD"]["balance_minor"]
        r = erin_client.post("/v1/payments", {"user_id": erin, "merchant_id": local,
                                                    "amount_minor": 100, "currency": "USD"})
        self.assertEqual((r.status, r.error_code(), r.json["error"]["param"]),
                         (403, "TIER_NOT_PERMITTED", "currency"), r)
        self.assertEqual(self.balance(erin, erin_client)["USD"]["balance_minor"], usd)
        r = erin_client.post("/v1/payments", {"user_id": erin, "merchant_id": local,
                                                    "amount_minor": 100})
        self.assertEqual(r.status, 200, r)
        # A multi-currency tier takes any: the business merchant is paid in JPY and USD.
        for currency in ("JPY", "USD"):
            r = erin_client.post("/v1/payments", {"user_id": erin, "merchant_id": abroad,
                                                        "amount_minor": 100, "currency": currency})
            self.assertEqual(r.status, 200, (currency, r))
        r = self.admin.get(f"/v1/merchants/{local}")
        self.assertEqual((r.json["currency"], r.json["usage"]["currency"], r.json["usage"]["daily_used_minor"]),
                         ("JPY", "JPY", 100), r)
        r = self.admin.post("/v1/merchants", {"name": "Nowhere", "currency": "XXX"})
        self.assertEqual((r.status, r.json["error"]["param"]), (400, "currency"), r)

    def test_tier_recommendation_from_the_last_thirty_days(self):
        client = self.server.client()
        dora, token = register_and_login(client, "dora.volume@example.com")
        dora_client = self.server.client(token)
        r = dora_client.post(f"/v1/wallets/{dora}/topup", {"amount_minor": 200_000})
        self.assertEqual(r.status, 200, r)
        r = self.admin.post("/v1/merchants", {"name": "Busy", "tier": "starter"})
        shop, key = r.json["merchant_id"], r.json["api_key"]
        r = self.admin.request("PUT", f"/v1/merchants/{shop}/limits", {"single_payment": 100_000})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.admin.get(f"/v1/merchants/{shop}/tier-recommendation").json["action"],
                         "none")
        for amount in (50_000, 30_000):  # 80 000 today: 80 % of starter's daily 100 000
            r = dora_client.post("/v1/payments", {"user_id": dora, "merchant_id": shop,
                                                  "amount_minor": amount})
            self.assertEqual(r.status, 200, r)
        r = self.server.client(key).get(f"/v1/merchants/{shop}/tier-recommendation")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["action"], r.json["recommended"], r.json["peak_day_percent"],
                          r.json["month_minor"]), ("upgrade", "business", 80, 80_000))
        self.assertEqual(r.json["fee_saved_minor"], 640 - 480)
        self.assertIn("80 %", r.json["reason"])
        # Another merchant and users may not see it; an unknown merchant is 404.
        self.assertEqual(self.server.client(self.other_key)
                         .get(f"/v1/merchants/{shop}/tier-recommendation").status, 403)
        self.assertEqual(dora_client.get(f"/v1/merchants/{shop}/tier-recommendation").status, 403)
        self.assertEqual(self.admin.get("/v1/merchants/mch_999/tier-recommendation").status, 404)

    def test_the_tier_table(self):
        r = self.alice_client.get("/v1/tiers")
        self.assertEqual(r.status, 200, r)
        tiers = {t["name"]: t for t in r.json["tiers"]}
        self.assertEqual(list(tiers), ["starter", "business", "enterprise", "premium"])
        self.assertEqual((tiers["starter"]["daily_limit"], tiers["starter"]["monthly_limit"],
                          tiers["starter"]["single_payment_limit"]), (100_000, 300_000, 10_000))
        self.assertEqual(tiers["premium"]["fee_rate_basis_points"], 30)
        self.assertEqual(tiers["enterprise"]["settlement_cycle"], "T+0")
        self.assertEqual([t["pre_authorization"] for t in r.json["tiers"]],
                         [False, False, True, True])
        self.assertEqual([t["multi_currency"] for t in r.json["tiers"]],
                         [False, True, True, True])
        self.assertEqual(tiers["business"]["api_requests_per_minute"], 500)
        self.assertEqual(tiers["starter"]["support_response_hours"], 24)
        self.assertEqual(self.server.client().get("/v1/tiers").status, 401)

    def test_p2p_transfer(self):
        r = self.alice_client.post("/v1/transfers", {"from_user_id": self.alice, "to_user_id": self.bob,
                                                     "amount_minor": 700})
        self.assertEqual(r.status, 200, r)
        self.assertGreaterEqual(self.balance(self.bob, self.bob_client)["JPY"]["balance_minor"], 700)
        r = self.bob_client.post("/v1/transfers", {"from_user_id": self.alice, "to_user_id": self.bob,
                                                   "amount_minor": 1})
        self.assertEqual(r.status, 403)
        r = self.alice_client.post("/v1/transfers", {"from_user_id": self.alice, "to_user_id": self.alice,
                                                     "amount_minor": 1})
        self.assertEqual(r.status, 400)
        r = self.alice_client.post("/v1/transfers", {"from_user_id": self.alice, "to_user_id": "usr_999",
                                                     "amount_minor": 1})
        self.assertEqual(r.status, 404)

    def test_multi_currency_wallet(self):
        r = self.alice_client.post(f"/v1/wallets/{self.alice}/topup", {"amount_minor": 250, "currency": "USD"})
        self.assertEqual((r.status, r.json["currency"], r.json["balance_minor"]), (200, "USD", 250))
        balances = self.balance(self.alice, self.alice_client)
        self.assertIn("USD", balances)
        self.assertEqual(balances["USD"]["available_minor"], 250)

    # Idempotency

    def test_idempotency_replay_and_mismatch(self):
        key = str(uuid.uuid4())
        body = {"user_id": self.alice, "merchant_id": self.shop, "amount_minor": 100}
        first = self.alice_client.post("/v1/payments", body, headers={"Idempotency-Key": key})
        self.assertEqual(first.status, 200)
        self.assertNotIn("idempotent-replayed", first.headers)
        balance = self.balance(self.alice, self.alice_client)["JPY"]["balance_minor"]
        again = self.alice_client.post("/v1/payments", body, headers={"Idempotency-Key": key})
        self.assertEqual((again.status, again.body), (first.status, first.body))
        self.assertEqual(again.headers.get("idempotent-replayed"), "true")
        self.assertEqual(self.balance(self.alice, self.alice_client)["JPY"]["balance_minor"], balance)
        other = dict(body, amount_minor=101)
        r = self.alice_client.post("/v1/payments", other, headers={"Idempotency-Key": key})
        self.assertEqual((r.status, r.error_code()), (400, "IDEMPOTENCY_KEY_MISMATCH"))
        r = self.alice_client.post("/v1/payments", body, headers={"Idempotency-Key": "x" * 256})
        self.assertEqual((r.status, r.error_code()), (400, "INVALID_REQUEST"))

    def test_validation_failure_is_not_stored(self):
        key = str(uuid.uuid4())
        bad = {"user_id": self.alice, "merchant_id": self.shop, "amount_minor": 0}
        self.assertEqual(self.alice_client.post("/v1/payments", bad, headers={"Idempotency-Key": key}).status, 400)
        good = dict(bad, amount_minor=10)
        r = self.alice_client.post("/v1/payments", good, headers={"Idempotency-Key": key})
        self.assertEqual(r.status, 200)
        self.assertNotIn("idempotent-replayed", r.headers)

    def test_fifty_concurrent_requests_with_one_key_have_one_effect(self):
        key = str(uuid.uuid4())
        body = {"user_id": self.alice, "merchant_id": self.shop, "amount_minor": 1000}
        before = self.balance(self.alice, self.alice_client)["JPY"]["balance_minor"]
        results = []
        lock = threading.Lock()

        def pay():
            r = self.server.client(self.alice_client.token).post(
                "/v1/payments", body, headers={"Idempotency-Key": key})
            with lock:
                results.append(r)

        threads = [threading.Thread(target=pay) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status for r in results)
        self.assertTrue(all(s in (200, 409) for s in statuses), statuses)
        fresh = [r for r in results if r.status == 200 and "idempotent-replayed" not in r.headers]
        self.assertEqual(len(fresh), 1, statuses)
        for r in results:
            if r.status == 409:
                self.assertEqual(r.error_code(), "IDEMPOTENCY_KEY_IN_USE")
        after = self.balance(self.alice, self.alice_client)["JPY"]["balance_minor"]
        self.assertEqual(before - after, 1000)

    # Ledger list

    def test_transactions_list_paginates_while_payments_are_written(self):
        c = self.server.client()
        user, token = register_and_login(c, "dave@example.com")
        client = self.server.client(token)
        self.assertEqual(client.post(f"/v1/wallets/{user}/topup", {"amount_minor": 10_000}).status, 200)
        for _ in range(7):
            self.assertEqual(client.post("/v1/payments", {"user_id": user, "merchant_id": self.shop,
                                                          "amount_minor": 10}).status, 200)
        seen, cursor, pages = [], None, 0
        while True:
            path = "/v1/ledger/transactions?size=3" + (f"&cursor={cursor}" if cursor else "")
            r = client.get(path)
            self.assertEqual(r.status, 200, r)
            seen += [item["txn_id"] for item in r.json["items"]]
            pages += 1
            # A new payment between pages must not shift or repeat what the pages show.
            client.post("/v1/payments", {"user_id": user, "merchant_id": self.shop, "amount_minor": 1})
            cursor = r.json["nextCursor"]
            if cursor is None:
                break
        self.assertEqual(len(seen), 8)
        self.assertEqual(len(set(seen)), 8)
        numbers = [int(t[4:]) for t in seen]
        self.assertEqual(numbers, sorted(numbers, reverse=True))
        self.assertEqual(pages, 3)
        first = client.get("/v1/ledger/transactions?size=1").json["items"][0]
        self.assertEqual(first["type"], "PAY")
        self.assertEqual(sum(p["amount_minor"] for p in first["postings"] if p["direction"] == "credit"),
                         first["amount_minor"])
        # Another user's list is forbidden; a merchant sees only its own payments.
        self.assertEqual(client.get(f"/v1/ledger/transactions?user_id={self.alice}").status, 403)
        r = self.server.client(self.other_key).get("/v1/ledger/transactions?size=100")
        self.assertTrue(all(i["merchant_id"] == self.other_shop for i in r.json["items"]), r)
        self.assertEqual(client.get("/v1/ledger/transactions?size=0").status, 400)
        self.assertEqual(client.get("/v1/ledger/transactions?size=101").status, 400)

    def test_transactions_list_names_users_and_merchants(self):
        c = self.server.client()
        erin, erin_token = register_and_login(c, "erin@example.com", name="Erin")
        frank, _ = register_and_login(c, "frank@example.com", name="Frank")
        client = self.server.client(erin_token)
        self.assertEqual(client.post(f"/v1/wallets/{erin}/topup", {"amount_minor": 5_000}).status, 200)
        self.assertEqual(client.post("/v1/payments", {"user_id": erin, "merchant_id": self.shop,
                                                      "amount_minor": 300}).status, 200)
        self.assertEqual(client.post("/v1/transfers", {"from_user_id": erin, "to_user_id": frank,
                                                       "amount_minor": 200}).status, 200)
        r = client.get("/v1/ledger/transactions?size=3")
        self.assertEqual(r.status, 200, r)
        transfer, payment, topup = r.json["items"]
        self.assertEqual((transfer["type"], transfer["user_id"], transfer["to_user_id"]),
                         ("TRANSFER", erin, frank))
        self.assertEqual((transfer["user_name"], transfer["to_user_name"], transfer["merchant_name"]),
                         ("Erin", "Frank", None))
        self.assertEqual((payment["type"], payment["merchant_id"]), ("PAY", self.shop))
        self.assertEqual((payment["user_name"], payment["merchant_name"], payment["to_user_name"]),
                         ("Erin", "Coffee", None))
        self.assertEqual((topup["type"], topup["user_name"], topup["merchant_name"], topup["to_user_name"]),
                         ("TOPUP", "Erin", None, None))
        # Names are read when the page is: a new name shows on earlier transactions too.
        r = client.request("PUT", f"/v1/users/{erin}", {"name": "Erin Baker"})
        self.assertEqual(r.status, 200, r)
        r = self.admin.get(f"/v1/ledger/transactions?user_id={erin}&size=3")
        self.assertEqual([i["user_name"] for i in r.json["items"]], ["Erin Baker"] * 3)

    # Live metrics

    def test_live_metrics_see_a_payment_at_once(self):
        before = self.admin.get("/v1/metrics/today")
        self.assertEqual(before.status, 200, before)
        r = self.alice_client.post("/v1/payments", {"user_id": self.alice, "merchant_id": self.other_shop,
                                                    "amount_minor": 4321})
        self.assertEqual(r.status, 200)
        after = self.admin.get("/v1/metrics/today").json
        self.assertEqual(after["txn_count"], before.json["txn_count"] + 1)
        self.assertEqual(after["total_amount_minor"], before.json["total_amount_minor"] + 4321)
        self.assertGreaterEqual(after["dau"], 1)
        self.assertIn(self.other_shop, [m["merchant_id"] for m in after["top_merchants"]])
        names = {m["merchant_id"]: m["name"] for m in after["top_merchants"]}
        self.assertEqual(names[self.other_shop], "Books")
        # A merchant sees its own figures, a user none.
        own = self.server.client(self.other_key).get("/v1/metrics/today")
        self.assertEqual(own.status, 200, own)
        self.assertGreaterEqual(own.json["total_amount_minor"], 4321)
        self.assertEqual(own.json["top_merchants"], [])
        self.assertEqual(self.alice_client.get("/v1/metrics/today").status, 403)
        self.assertEqual(self.server.client().get("/v1/metrics/today").status, 401)
        daily = self.admin.get("/v1/metrics/daily?days=30")
        self.assertEqual((daily.status, len(daily.json["days"])), (200, 30))
        self.assertEqual(daily.json["days"][-1]["txn_count"], after["txn_count"])
        self.assertEqual(len(self.admin.get("/v1/metrics/daily").json["days"]), 7)
        self.assertEqual(self.admin.get("/v1/metrics/daily?days=9").status, 400)
        # Retention by signup cohort: this week's cohort holds the users registered here, and alice
        # (who moved money) is active in it.
        retention = self.admin.get("/v1/metrics/retention?weeks=4")
        self.assertEqual((retention.status, len(retention.json["cohorts"])), (200, 4), retention)
        this_week = retention.json["cohorts"][-1]
        self.assertGreaterEqual(this_week["users"], 2)
        self.assertEqual(len(this_week["active"]), 1)
        self.assertGreaterEqual(this_week["active"][0], 1)
        self.assertEqual(self.server.client(self.other_key).get("/v1/metrics/retention").status, 403)
        self.assertEqual(self.admin.get("/v1/metrics/retention?weeks=13").status, 400)

    # HTTP layer and operations

    def test_unknown_route_method_and_limits(self):
        c = self.server.client()
        self.assertEqual(c.get("/v1/nothing").status, 404)
        r = c.request("DELETE", "/v1/payments")
        self.assertEqual(r.status, 405)
        r = c.request("POST", "/v1/users/register", raw="{" + " " * 70_000 + "}")
        self.assertEqual((r.status, r.error_code()), (413, "PAYLOAD_TOO_LARGE"))
        self.assertEqual(c.get("/healthz").status, 200)

    def test_health_ready_metrics_openapi(self):
        c = self.server.client()
        self.assertEqual(c.get("/healthz").json, {"status": "ok"})
        self.assertEqual(c.get("/readyz").json["status"], "ready")
        metrics = c.get("/metrics")
        self.assertEqual(metrics.status, 200)
        for name in ["bursar_engine_committed_seq", "bursar_engine_fsyncs_total", "bursar_engine_queue_depth",
                     "bursar_journal_bytes", "bursar_http_request_duration_seconds_bucket",
                     "bursar_engine_batch_events_mean"]:
            self.assertIn(name, metrics.body)
        # A real Prometheus parser accepts the exposition (Debian's prometheus package: promtool).
        check = subprocess.run(["promtool", "check", "metrics"], input=metrics.body, capture_output=True,
                               text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        spec = c.get("/v1/openapi.json")
        self.assertEqual(spec.json["openapi"], "3.0.3")
        for path in ["/v1/users/register", "/v1/payments", "/v1/ledger/transactions", "/v1/wallets/{userId}"]:
            self.assertIn(path, spec.json["paths"])


class MemoryBoundTest(unittest.TestCase):
    """At state_memory_max_mib the server refuses writes with 503 CAPACITY_EXCEEDED, stores nothing
    of them (not even their Idempotency-Key) and keeps answering reads."""

    def test_writes_refused_at_the_bound_reads_go_on(self):
        server = Server().start()
        try:
            anonymous = server.client()
            alice, token = register_and_login(anonymous, "alice@example.com")
            alice_client = server.client(token)
            r = alice_client.post(f"/v1/wallets/{alice}/topup", {"amount_minor": 1000})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(server.stop(), 0)

            # 1 MiB: less than the empty indexes take, so the state is at its bound from the start.
            server.extra_env = {"BURSAR_STATE_MEMORY_MAX_MIB": "1"}
            server.start()
            alice_client = server.client(token)
            key = str(uuid.uuid4())
            r = alice_client.post(f"/v1/wallets/{alice}/topup", {"amount_minor": 500},
                                  headers={"Idempotency-Key": key})
            self.assertEqual((r.status, r.error_code()), (503, "CAPACITY_EXCEEDED"), r)
            self.assertNotIn("retry-after", r.headers)
            r = server.client().post("/v1/users/register",
                                     {"email": "bob@example.com", "password": "secret-password", "name": "Bob"})
            self.assertEqual((r.status, r.error_code()), (503, "CAPACITY_EXCEEDED"), r)
            r = alice_client.get(f"/v1/wallets/{alice}")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["balances"][0]["balance_minor"], 1000)
            self.assertEqual(alice_client.get(f"/v1/ledger/transactions?user_id={alice}").status, 200)
            metrics = server.client().get("/metrics").body
            refused = [line for line in metrics.splitlines() if line.startswith("bursar_engine_writes_refused_total ")]
            self.assertEqual(refused, ["bursar_engine_writes_refused_total 2"])
            self.assertEqual(server.stop(), 0)

            # Raised again: the refused top-up's key was never stored, so it runs now, once.
            server.extra_env = {}
            server.start()
            alice_client = server.client(token)
            r = alice_client.post(f"/v1/wallets/{alice}/topup", {"amount_minor": 500},
                                  headers={"Idempotency-Key": key})
            self.assertEqual(r.status, 200, r)
            self.assertNotIn("idempotent-replayed", r.headers)
            self.assertEqual(r.json["balance_minor"], 1500)
        finally:
            server.cleanup()


class DemoTest(unittest.TestCase):
    """A new `--demo` is seeded with 30 days of history among the demo's own users; a restart seeds
    nothing more."""

    def test_new_demo_has_thirty_days_of_history_and_a_restart_adds_none(self):
        server = Server(demo=True, env={"BURSAR_TEST_NO_SIMULATOR": "1"})
        try:
            started = time.monotonic()
            server.start()
            admin = server.admin()
            daily = admin.get("/v1/metrics/daily?days=30")
            self.assertEqual(daily.status, 200, daily)
            took = time.monotonic() - started
            days = daily.json["days"]
            self.assertEqual(len(days), 30)
            active = [d for d in days if d["amount_minor"] > 0]
            self.assertGreater(len(active), 20, days)
            self.assertLess(took, 5, "seeding keeps the start quick")
            # Only the demo's users moved money, by name.
            r = admin.get("/v1/ledger/transactions?size=100")
            self.assertEqual(r.status, 200, r)
            names = {i["user_name"] for i in r.json["items"]} | {i["to_user_name"] for i in r.json["items"]}
            self.assertLessEqual(names - {None}, {"Alice", "Bob", "Chidi Okafor", "Daniela Ruiz", "Emeka Obi",
                                                  "Fatima Zahra", "Goro Tanaka", "Hana Kim"})
            self.assertEqual(server.stop(), 0)

            server.start()
            again = server.admin().get("/v1/metrics/daily?days=30")
            self.assertEqual([d["txn_count"] for d in again.json["days"]], [d["txn_count"] for d in days])
        finally:
            server.cleanup()

    def test_a_demo_seeded_early_in_the_day_still_moved_money_today(self):
        # The history's traffic starts at 08:00 local time: a demo seeded before that (as CI may
        # be, just after midnight) has nothing of today from the history. An offset that puts the
        # server's day at about 03:00 makes that moment now, whatever the time of the run.
        utc_minutes = time.gmtime().tm_hour * 60 + time.gmtime().tm_min
        offset = (180 - utc_minutes) % 1440
        if offset > 14 * 60:
            offset -= 1440
        sign = "+" if offset >= 0 else "-"
        text = f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
        server = Server(demo=True, env={"BURSAR_TEST_NO_SIMULATOR": "1", "BURSAR_UTC_OFFSET": text})
        try:
            server.start()
            today = server.admin().get("/v1/metrics/today")
            self.assertEqual(today.status, 200, today)
            # Three users open the day: a top-up and a payment each.
            self.assertGreaterEqual(today.json["txn_count"], 6, (text, today.json))
            self.assertGreaterEqual(today.json["total_amount_minor"], 3 * 480, (text, today.json))
            self.assertGreaterEqual(today.json["dau"], 3, (text, today.json))
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
