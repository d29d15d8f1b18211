"""Pre-authorizations over HTTP against the real `bursar serve` (SPEC.md P6, docs/api.md
"Pre-authorizations"): who may authorize, capture, cancel and see one; the frozen and available
amounts of the wallet; partial and final captures, each a payment with the tier's fee; cancel;
the bounds and errors; reference uniqueness; idempotency; captures as refundable payments;
listing with filters and pages; captures in the live metrics; expiry exactly at its time by the
server's own tick; and holds kept across a clean stop and a kill -9."""

import itertools
import subprocess
import time
import unittest
import uuid

from harness import BINARY, Server, merchant_balance, register_and_login, wallet_figures

CURRENCY = "JPY"
DEFAULT_EXPIRY_S = 7 * 86_400
EXPIRY_MAX_S = 30 * 86_400
CAPTURES_PER_HOLD_MAX = 100
STATUSES = ("authorized", "partially_captured", "captured", "cancelled", "expired")


class PreauthsTest(unittest.TestCase):
    """Carol and Dan book with the Hotel (enterprise, 0.45 %) and the Rental (premium, 0.3 %); the
    Kiosk (starter) may not pre-authorize. Tests that check a wallet's figures exactly use a fresh
    user of their own, so the tests do not depend on each other's order."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(env={"BURSAR_TEST_NO_SIMULATOR": "1"}).start()
        cls.admin = cls.server.admin()
        cls.anonymous = cls.server.client()
        cls.emails = itertools.count(1)
        cls.carol, token = register_and_login(cls.anonymous, "carol@example.com", name="Carol")
        cls.carol_client = cls.server.client(token)
        cls.dan, token = register_and_login(cls.anonymous, "dan@example.com", name="Dan")
        cls.dan_client = cls.server.client(token)
        cls.hotel, cls.hotel_client = cls.merchant("Hotel", "enterprise")
        cls.rental, cls.rental_client = cls.merchant("Rental", "premium")
        cls.kiosk, cls.kiosk_client = cls.merchant("Kiosk", "starter")
        for user, client in ((cls.carol, cls.carol_client), (cls.dan, cls.dan_client)):
            r = client.post(f"/v1/wallets/{user}/topup", {"amount_minor": 1_000_000})
            assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    @classmethod
    def merchant(cls, name, tier):
        r = cls.admin.post("/v1/merchants", {"name": name, "tier": tier})
        assert r.status == 201, r
        return r.json["merchant_id"], cls.server.client(r.json["api_key"])

    # Helpers

    def new_user(self, topup=100_000):
        """A user of the test's own, with `topup` in the wallet (none: no wallet at all)."""
        user, token = register_and_login(self.anonymous, f"guest{next(self.emails)}@example.com",
                                         name="Guest")
        client = self.server.client(token)
        if topup:
            r = client.post(f"/v1/wallets/{user}/topup", {"amount_minor": topup})
            self.assertEqual(r.status, 200, r)
        return user, client

    def authorize(self, client, user, merchant, amount, **fields):
        headers = fields.pop("headers", None)
        body = {"user_id": user, "merchant_id": merchant, "amount_minor": amount, **fields}
        return client.post("/v1/preauths", body, headers=headers)

    def authorized(self, client, user, merchant, amount, **fields):
        r = self.authorize(client, user, merchant, amount, **fields)
        self.assertEqual(r.status, 201, r)
        return r.json

    def capture(self, client, hold, body=None, **kwargs):
        return client.post(f"/v1/preauths/{hold}/capture", body, **kwargs)

    def captured(self, client, hold, body=None, **kwargs):
        r = self.capture(client, hold, body, **kwargs)
        self.assertEqual(r.status, 200, (hold, body, r))
        return r.json

    def cancel(self, client, hold, body=None, **kwargs):
        return client.post(f"/v1/preauths/{hold}/cancel", body, **kwargs)

    def cancelled(self, client, hold, body=None, **kwargs):
        r = self.cancel(client, hold, body, **kwargs)
        self.assertEqual(r.status, 200, (hold, body, r))
        return r.json

    def hold(self, hold, client=None):
        r = (client or self.admin).get(f"/v1/preauths/{hold}")
        self.assertEqual(r.status, 200, r)
        return r.json

    def wallet(self, user):
        return wallet_figures(self.admin, user, CURRENCY)

    def merchant_balance(self, merchant):
        return merchant_balance(self.admin, merchant, CURRENCY)

    def list_ids(self, client, query=""):
        r = client.get("/v1/preauths" + query)
        self.assertEqual(r.status, 200, r)
        return [item["preauth_id"] for item in r.json["items"]], r.json["nextCursor"]

    def assertError(self, r, status, code, param=None, message=None):
        self.assertEqual((r.status, r.error_code()), (status, code), r)
        if param is not None:
            self.assertEqual(r.json["error"]["param"], param, r)
        if message is not None:
            self.assertEqual(r.json["error"]["message"], message, r)

    # Authorize, partial captures, capture in full

    def test_authorize_freezes_and_partial_captures_pay_the_merchant(self):
        user, client = self.new_user(100_000)
        self.assertEqual(self.wallet(user), (100_000, 100_000, 0))
        merchant_before = self.merchant_balance(self.hotel)

        hold = self.authorized(client, user, self.hotel, 20_000, reference="booking-1001")
        self.assertRegex(hold["preauth_id"], r"^pa_[1-9][0-9]*$")
        self.assertEqual(
            {k: v for k, v in hold.items() if k not in ("preauth_id", "created_at", "expires_at")},
            {"status": "authorized", "user_id": user, "merchant_id": self.hotel,
             "amount_minor": 20_000, "captured_minor": 0, "released_minor": 0,
             "remaining_minor": 20_000, "currency": CURRENCY, "reference": "booking-1001",
             "closed_at": None, "captures": []})
        self.assertLess(abs(hold["created_at"] - time.time()), 60, hold)
        self.assertEqual(hold["expires_at"] - hold["created_at"], DEFAULT_EXPIRY_S)
        pa = hold["preauth_id"]
        # The balance stays; the amount moves from available to frozen. The merchant has nothing.
        self.assertEqual(self.wallet(user), (100_000, 80_000, 20_000))
        self.assertEqual(self.merchant_balance(self.hotel), merchant_before)
        # Payer, merchant and admin read the same.
        for reader in (client, self.hotel_client, self.admin):
            self.assertEqual(self.hold(pa, reader), hold)

        # Enterprise 0.45 %, half up: 10 000 -> 45.
        first = self.captured(self.hotel_client, pa, {"amount_minor": 10_000})
        capture = first["capture"]
        self.assertRegex(capture["txn_id"], r"^txn_[1-9][0-9]*$")
        self.assertEqual({k: v for k, v in capture.items() if k not in ("txn_id", "created_at")},
                         {"amount_minor": 10_000, "fee_minor": 45, "net_minor": 9_955,
                          "currency": CURRENCY})
        self.assertLess(abs(capture["created_at"] - time.time()), 60, capture)
        self.assertEqual((first["preauth"]["status"], first["preauth"]["captured_minor"],
                          first["preauth"]["remaining_minor"], first["preauth"]["released_minor"],
                          first["preauth"]["closed_at"], first["preauth"]["captures"]),
                         ("partially_captured", 10_000, 10_000, 0, None, [capture["txn_id"]]))
        self.assertEqual(self.wallet(user), (90_000, 80_000, 10_000))
        self.assertEqual(self.merchant_balance(self.hotel), merchant_before + 9_955)

        # 5 000 -> 22.5 -> 23 (half up).
        second = self.captured(self.admin, pa, {"amount_minor": 5_000})
        self.assertEqual((second["capture"]["fee_minor"], second["capture"]["net_minor"]),
                         (23, 4_977))
        self.assertEqual(self.wallet(user), (85_000, 80_000, 5_000))

        # More than is left moves nothing.
        r = self.capture(self.hotel_client, pa, {"amount_minor": 5_001})
        self.assertError(r, 400, "INVALID_REQUEST", "amount_minor",
                         "amount_minor is more than what is left of the pre-authorization.")
        self.assertEqual(self.wallet(user), (85_000, 80_000, 5_000))

        # No body: all that is left. The pre-authorization is then captured in full.
        last = self.captured(self.hotel_client, pa)
        self.assertEqual((last["capture"]["amount_minor"], last["capture"]["fee_minor"]),
                         (5_000, 23))
        done = last["preauth"]
        txns = [first["capture"]["txn_id"], second["capture"]["txn_id"],
                last["capture"]["txn_id"]]
        self.assertEqual((done["status"], done["captured_minor"], done["released_minor"],
                          done["remaining_minor"], done["captures"]),
                         ("captured", 20_000, 0, 0, txns))
        self.assertIsNotNone(done["closed_at"])
        self.assertLess(abs(done["closed_at"] - time.time()), 60, done)
        self.assertEqual(self.wallet(user), (80_000, 80_000, 0))
        self.assertEqual(self.merchant_balance(self.hotel),
                         merchant_before + 9_955 + 4_977 + 4_977)
        for reader in (client, self.hotel_client, self.admin):
            self.assertEqual(self.hold(pa, reader), done)

        message = "The pre-authorization is captured in full."
        for body in (None, {"amount_minor": 1}, {"final": True}):
            self.assertError(self.capture(self.hotel_client, pa, body), 409, "INVALID_STATE",
                             message=message)
        self.assertError(self.cancel(self.hotel_client, pa), 409, "INVALID_STATE",
                         message=message)
        self.assertEqual(self.wallet(user), (80_000, 80_000, 0))

        # Each capture is a payment of its own, in the ledger as PAY.
        r = self.admin.get(f"/v1/ledger/transactions?merchant_id={self.hotel}&size=3")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(i["txn_id"], i["type"], i["amount_minor"], i["fee_minor"])
                          for i in r.json["items"]],
                         [(txns[2], "PAY", 5_000, 23), (txns[1], "PAY", 5_000, 23),
                          (txns[0], "PAY", 10_000, 45)])

    def test_premium_fee_and_a_final_capture_release_the_rest(self):
        user, client = self.new_user(50_000)
        # Premium 0.3 %: 10 000 -> 30.
        pa = self.authorized(client, user, self.rental, 10_000)["preauth_id"]
        whole = self.captured(self.rental_client, pa, {"amount_minor": 10_000})
        self.assertEqual((whole["capture"]["fee_minor"], whole["capture"]["net_minor"]),
                         (30, 9_970))
        self.assertEqual(whole["preauth"]["status"], "captured")
        self.assertEqual(self.wallet(user), (40_000, 40_000, 0))

        # final: capture 3 000 of 8 000 and release the other 5 000.
        pa = self.authorized(client, user, self.rental, 8_000)["preauth_id"]
        self.assertEqual(self.wallet(user), (40_000, 32_000, 8_000))
        final = self.captured(self.rental_client, pa, {"amount_minor": 3_000, "final": True})
        self.assertEqual(final["capture"]["fee_minor"], 9)
        held = final["preauth"]
        self.assertEqual((held["status"], held["captured_minor"], held["released_minor"],
                          held["remaining_minor"], len(held["captures"])),
                         ("captured", 3_000, 5_000, 0, 1))
        self.assertIsNotNone(held["closed_at"])
        self.assertEqual(self.wallet(user), (37_000, 37_000, 0))
        self.assertError(self.capture(self.rental_client, pa), 409, "INVALID_STATE",
                         message="The pre-authorization is captured in full.")
        # final: false is the default; final without an amount captures all that is left.
        pa = self.authorized(client, user, self.rental, 1_000)["preauth_id"]
        part = self.captured(self.rental_client, pa, {"amount_minor": 400, "final": False})
        self.assertEqual(part["preauth"]["status"], "partially_captured")
        rest = self.captured(self.rental_client, pa, {"final": True})
        self.assertEqual((rest["capture"]["amount_minor"], rest["preauth"]["status"],
                          rest["preauth"]["released_minor"]), (600, "captured", 0))
        self.assertEqual(self.wallet(user), (36_000, 36_000, 0))

    def test_a_capture_takes_the_fee_of_the_tier_at_the_time(self):
        lodge, lodge_client = self.merchant("Lodge", "enterprise")
        user, client = self.new_user(50_000)
        pa = self.authorized(client, user, lodge, 10_000)["preauth_id"]
        r = self.admin.request("PUT", f"/v1/merchants/{lodge}/tier",
                               {"tier": "business", "reason": "downgrade"})
        self.assertEqual(r.status, 200, r)
        # No new pre-authorization on business; the open one is still captured, at 0.6 %.
        self.assertError(self.authorize(client, user, lodge, 100), 403, "TIER_NOT_PERMITTED",
                         "merchant_id")
        capture = self.captured(lodge_client, pa)["capture"]
        self.assertEqual((capture["amount_minor"], capture["fee_minor"]), (10_000, 60))

    def test_a_pre_authorization_takes_at_most_one_hundred_captures(self):
        user, client = self.new_user(10_000)
        pa = self.authorized(client, user, self.hotel, 150)["preauth_id"]
        txns = []
        for _ in range(CAPTURES_PER_HOLD_MAX):
            capture = self.captured(self.hotel_client, pa, {"amount_minor": 1})["capture"]
            self.assertEqual(capture["fee_minor"], 0)  # 1 x 0.45 % rounds to 0
            txns.append(capture["txn_id"])
        r = self.capture(self.hotel_client, pa, {"amount_minor": 1})
        self.assertError(r, 409, "INVALID_STATE",
                         message="A pre-authorization takes at most 100 captures.")
        held = self.hold(pa)
        self.assertEqual((held["status"], held["captured_minor"], held["remaining_minor"],
                          held["captures"]), ("partially_captured", 100, 50, txns))
        self.assertEqual(self.wallet(user), (9_900, 9_850, 50))
        # What is left can still be cancelled.
        held = self.cancelled(self.hotel_client, pa)
        self.assertEqual((held["status"], held["released_minor"]), ("cancelled", 50))
        self.assertEqual(self.wallet(user), (9_900, 9_900, 0))

    # Cancel

    def test_cancel_releases_what_is_left(self):
        user, client = self.new_user(50_000)
        pa = self.authorized(client, user, self.hotel, 12_000)["preauth_id"]
        capture = self.captured(self.hotel_client, pa, {"amount_minor": 2_000})["capture"]
        self.assertEqual(self.wallet(user), (48_000, 38_000, 10_000))
        r = self.cancel(self.hotel_client, pa, {"reason": "x" * 501})
        self.assertError(r, 400, "INVALID_REQUEST", "reason")
        for body in ({"reason": ""}, {"reason": 5}, {"note": "x"}):
            self.assertError(self.cancel(self.hotel_client, pa, body), 400, "INVALID_REQUEST",
                             list(body)[0])
        held = self.cancelled(self.hotel_client, pa, {"reason": "The guest checked out early."})
        self.assertEqual(
            (held["status"], held["captured_minor"], held["released_minor"],
             held["remaining_minor"], held["captures"]),
            ("cancelled", 2_000, 10_000, 0, [capture["txn_id"]]))
        self.assertIsNotNone(held["closed_at"])
        self.assertEqual(self.hold(pa, client), held)
        self.assertEqual(self.wallet(user), (48_000, 48_000, 0))
        message = "The pre-authorization is cancelled."
        self.assertError(self.cancel(self.hotel_client, pa), 409, "INVALID_STATE", message=message)
        self.assertError(self.capture(self.hotel_client, pa, {"amount_minor": 1}), 409,
                         "INVALID_STATE", message=message)
        # No body, by the admin, before any capture: all of it back.
        pa = self.authorized(client, user, self.rental, 5_000)["preauth_id"]
        held = self.cancelled(self.admin, pa)
        self.assertEqual((held["status"], held["captured_minor"], held["released_minor"]),
                         ("cancelled", 0, 5_000))
        self.assertEqual(self.wallet(user), (48_000, 48_000, 0))

    # Who may do what

    def test_who_may_authorize(self):
        user, client = self.new_user(10_000)
        # Authentication comes first, whatever the body.
        for token in (None, "ses_not-a-session", "sk_not-a-key"):
            anon = self.server.client(token)
            for body in ({"user_id": user, "merchant_id": self.hotel, "amount_minor": 100},
                         {"amount_minor": 0}):
                self.assertError(anon.post("/v1/preauths", body), 401, "UNAUTHENTICATED")
        # Another user, a merchant (even the one paid): 403.
        self.assertError(self.authorize(self.dan_client, user, self.hotel, 100), 403,
                         "FORBIDDEN")
        self.assertError(self.authorize(self.hotel_client, user, self.hotel, 100), 403,
                         "FORBIDDEN")
        # Tiers without pre-authorization.
        shop, _ = self.merchant("Print Shop", "business")
        for merchant in (self.kiosk, shop):
            r = self.authorize(client, user, merchant, 100)
            self.assertError(r, 403, "TIER_NOT_PERMITTED", "merchant_id",
                             "Pre-authorization needs the enterprise or premium tier.")
        # Ids of nobody.
        self.assertError(self.authorize(self.admin, "usr_999999", self.hotel, 100), 404,
                         "NOT_FOUND", "user_id")
        self.assertError(self.authorize(client, user, "mch_999999", 100), 404, "NOT_FOUND",
                         "merchant_id")
        self.assertEqual(self.wallet(user), (10_000, 10_000, 0))
        # The admin may authorize for any user.
        held = self.authorized(self.admin, user, self.hotel, 100)
        self.assertEqual((held["user_id"], held["status"]), (user, "authorized"))
        self.assertEqual(self.wallet(user), (10_000, 9_900, 100))
        self.cancelled(self.admin, held["preauth_id"])

    def test_who_may_capture_cancel_and_see(self):
        pa = self.authorized(self.carol_client, self.carol, self.hotel, 3_000)["preauth_id"]
        before = self.hold(pa)
        wallet = self.wallet(self.carol)
        # Without credentials: 401 before anything else, even for a malformed id or body.
        for token in (None, "ses_not-a-session", "sk_not-a-key"):
            anon = self.server.client(token)
            for target, body in ((pa, None), ("pa_x", {"amount_minor": 0})):
                self.assertError(self.capture(anon, target, body), 401, "UNAUTHENTICATED")
                self.assertError(self.cancel(anon, target, body and {"reason": ""}), 401,
                                 "UNAUTHENTICATED")
            self.assertError(anon.get(f"/v1/preauths/{pa}"), 401, "UNAUTHENTICATED")
            self.assertError(anon.get("/v1/preauths"), 401, "UNAUTHENTICATED")
        # Users do not capture or cancel, not even the payer.
        message = "Only the merchant or the admin captures or cancels a pre-authorization."
        for client in (self.carol_client, self.dan_client):
            self.assertError(self.capture(client, pa), 403, "FORBIDDEN", message=message)
            self.assertError(self.cancel(client, pa), 403, "FORBIDDEN", message=message)
        # Another merchant's and nobody's are "no such pre-authorization" (no leak).
        for client, target in ((self.rental_client, pa), (self.kiosk_client, pa),
                               (self.hotel_client, "pa_999999"), (self.admin, "pa_999999")):
            for r in (self.capture(client, target), self.cancel(client, target)):
                self.assertError(r, 404, "NOT_FOUND", "id", "No such pre-authorization.")
        for client, target in ((self.rental_client, pa), (self.kiosk_client, pa),
                               (self.dan_client, pa), (self.admin, "pa_999999")):
            r = client.get(f"/v1/preauths/{target}")
            self.assertError(r, 404, "NOT_FOUND", message="No such pre-authorization.")
        # Not an id.
        for target in ("pa_x", "pa_0", "pa_", "txn_1", "1"):
            for r in (self.capture(self.hotel_client, target),
                      self.cancel(self.hotel_client, target),
                      self.hotel_client.get(f"/v1/preauths/{target}")):
                self.assertError(r, 400, "INVALID_REQUEST", "id")
        # Nothing moved, nothing changed.
        self.assertEqual(self.hold(pa), before)
        self.assertEqual(self.wallet(self.carol), wallet)
        # Its payer, its merchant and the admin see it; the merchant and the admin act on it.
        for client in (self.carol_client, self.hotel_client, self.admin):
            self.assertEqual(self.hold(pa, client), before)
        self.assertEqual(self.captured(self.admin, pa, {"amount_minor": 1_000})["preauth"]
                         ["captured_minor"], 1_000)
        self.assertEqual(self.cancelled(self.hotel_client, pa)["released_minor"], 2_000)

    # What is refused

    def test_a_malformed_authorization_is_refused_and_reserves_nothing(self):
        user, client = self.new_user(10_000)
        base = {"user_id": user, "merchant_id": self.hotel, "amount_minor": 100}
        cases = [({"amount_minor": 0}, "amount_minor"), ({"amount_minor": -5}, "amount_minor"),
                 ({"amount_minor": 1.5}, "amount_minor"), ({"amount_minor": "5"}, "amount_minor"),
                 ({"amount_minor": 10**18 + 1}, "amount_minor"),
                 ({"currency": "XXX"}, "currency"), ({"user_id": "usr_abc"}, "user_id"),
                 ({"merchant_id": "mch_"}, "merchant_id"), ({"merchant_id": 7}, "merchant_id"),
                 ({"expires_in_seconds": 0}, "expires_in_seconds"),
                 ({"expires_in_seconds": EXPIRY_MAX_S + 1}, "expires_in_seconds"),
                 ({"expires_in_seconds": -1}, "expires_in_seconds"),
                 ({"expires_in_seconds": 1.5}, "expires_in_seconds"),
                 ({"expires_in_seconds": "60"}, "expires_in_seconds"),
                 ({"expires_in_seconds": True}, "expires_in_seconds"),
                 ({"reference": ""}, "reference"), ({"reference": "r" * 65}, "reference"),
                 ({"reference": 12}, "reference"), ({"note": "x"}, "note")]
        for change, param in cases:
            r = client.post("/v1/preauths", {**base, **change})
            self.assertError(r, 400, "INVALID_REQUEST", param)
        for missing in ("user_id", "merchant_id", "amount_minor"):
            body = {k: v for k, v in base.items() if k != missing}
            self.assertError(client.post("/v1/preauths", body), 400, "INVALID_REQUEST", missing)
        self.assertError(client.request("POST", "/v1/preauths", raw="[1]"), 400,
                         "INVALID_REQUEST")
        self.assertEqual(self.wallet(user), (10_000, 10_000, 0))
        # The bounds themselves are accepted: 30 days, a 64-byte reference (bytes, not letters).
        held = self.authorized(client, user, self.hotel, 100, expires_in_seconds=EXPIRY_MAX_S,
                               reference="é" * 32)
        self.assertEqual(held["expires_at"] - held["created_at"], EXPIRY_MAX_S)
        self.assertEqual(held["reference"], "é" * 32)
        self.assertError(self.authorize(client, user, self.hotel, 100, reference="é" * 32 + "x"),
                         400, "INVALID_REQUEST", "reference")
        self.cancelled(self.hotel_client, held["preauth_id"])

    def test_a_malformed_capture_is_refused(self):
        pa = self.authorized(self.dan_client, self.dan, self.hotel, 700)["preauth_id"]
        for body, param in [({"amount_minor": 0}, "amount_minor"),
                            ({"amount_minor": -1}, "amount_minor"),
                            ({"amount_minor": 1.5}, "amount_minor"),
                            ({"amount_minor": 10**18 + 1}, "amount_minor"),
                            ({"final": "yes"}, "final"), ({"final": 1}, "final"),
                            ({"amount_minor": 5, "note": "x"}, "note")]:
            self.assertError(self.capture(self.hotel_client, pa, body), 400, "INVALID_REQUEST",
                             param)
        r = self.hotel_client.request("POST", f"/v1/preauths/{pa}/capture", raw="[1]")
        self.assertError(r, 400, "INVALID_REQUEST")
        self.assertEqual(self.hold(pa)["captured_minor"], 0)
        self.cancelled(self.hotel_client, pa)

    def test_authorizing_more_than_is_available_is_refused(self):
        user, client = self.new_user(10_000)
        r = self.authorize(client, user, self.hotel, 10_001)
        self.assertError(r, 402, "INSUFFICIENT_FUNDS")
        first = self.authorized(client, user, self.hotel, 6_000)["preauth_id"]
        self.assertEqual(self.wallet(user), (10_000, 4_000, 6_000))
        # The frozen amount is not available to anything else: another hold, a payment, a
        # transfer.
        self.assertError(self.authorize(client, user, self.rental, 4_001), 402,
                         "INSUFFICIENT_FUNDS")
        r = client.post("/v1/payments", {"user_id": user, "merchant_id": self.kiosk,
                                         "amount_minor": 4_001})
        self.assertError(r, 402, "INSUFFICIENT_FUNDS")
        r = client.post("/v1/transfers", {"from_user_id": user, "to_user_id": self.dan,
                                          "amount_minor": 4_001})
        self.assertError(r, 402, "INSUFFICIENT_FUNDS")
        self.assertEqual(self.wallet(user), (10_000, 4_000, 6_000))
        second = self.authorized(client, user, self.rental, 4_000)["preauth_id"]
        self.assertEqual(self.wallet(user), (10_000, 0, 10_000))
        self.assertError(self.authorize(client, user, self.hotel, 1), 402, "INSUFFICIENT_FUNDS")
        self.cancelled(self.hotel_client, first)
        self.cancelled(self.rental_client, second)
        self.assertEqual(self.wallet(user), (10_000, 10_000, 0))
        # No wallet at all, or none in the currency.
        walletless, walletless_client = self.new_user(topup=None)
        self.assertError(self.authorize(walletless_client, walletless, self.hotel, 1), 402,
                         "INSUFFICIENT_FUNDS")
        self.assertIsNone(self.wallet(walletless))
        self.assertError(self.authorize(client, user, self.hotel, 1, currency="USD"), 402,
                         "INSUFFICIENT_FUNDS")

    def test_a_reference_is_unique_per_merchant(self):
        reference = f"order-{uuid.uuid4().hex[:12]}"
        first = self.authorized(self.carol_client, self.carol, self.hotel, 500,
                                reference=reference)
        wallet = self.wallet(self.dan)
        message = "The merchant has a pre-authorization with this reference."
        for client, user in ((self.carol_client, self.carol), (self.dan_client, self.dan)):
            r = self.authorize(client, user, self.hotel, 500, reference=reference)
            self.assertError(r, 409, "INVALID_STATE", "reference", message)
        self.assertEqual(self.wallet(self.dan), wallet)
        # Another merchant may use it; a closed pre-authorization keeps its reference.
        other = self.authorized(self.dan_client, self.dan, self.rental, 500, reference=reference)
        self.assertEqual(other["reference"], reference)
        self.cancelled(self.hotel_client, first["preauth_id"])
        r = self.authorize(self.carol_client, self.carol, self.hotel, 500, reference=reference)
        self.assertError(r, 409, "INVALID_STATE", "reference", message)
        self.cancelled(self.rental_client, other["preauth_id"])
        # Without a reference there is nothing to collide: null, any number of times.
        a = self.authorized(self.carol_client, self.carol, self.hotel, 1)
        b = self.authorized(self.carol_client, self.carol, self.hotel, 1)
        self.assertEqual((a["reference"], b["reference"]), (None, None))
        for held in (a, b):
            self.cancelled(self.hotel_client, held["preauth_id"])

    # Idempotency

    def test_an_idempotent_capture_is_made_once(self):
        user, client = self.new_user(20_000)
        pa = self.authorized(client, user, self.hotel, 9_000)["preauth_id"]
        other = self.authorized(client, user, self.hotel, 1_000)["preauth_id"]
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = self.capture(self.hotel_client, pa, {"amount_minor": 3_000}, headers=key)
        self.assertEqual(first.status, 200, first)
        self.assertNotIn("idempotent-replayed", first.headers)
        wallet = self.wallet(user)
        self.assertEqual(wallet, (17_000, 10_000, 7_000))  # the other hold: 1 000
        again = self.capture(self.hotel_client, pa, {"amount_minor": 3_000}, headers=key)
        self.assertEqual((again.status, again.body), (first.status, first.body))
        self.assertEqual(again.headers.get("idempotent-replayed"), "true")
        self.assertEqual(self.wallet(user), wallet)
        held = self.hold(pa)
        self.assertEqual((held["captured_minor"], held["captures"]),
                         (3_000, [first.json["capture"]["txn_id"]]))
        # The same key with another amount or another pre-authorization.
        r = self.capture(self.hotel_client, pa, {"amount_minor": 3_001}, headers=key)
        self.assertError(r, 400, "IDEMPOTENCY_KEY_MISMATCH")
        r = self.capture(self.hotel_client, other, {"amount_minor": 3_000}, headers=key)
        self.assertError(r, 400, "IDEMPOTENCY_KEY_MISMATCH")
        self.assertEqual(self.hold(other)["captured_minor"], 0)
        # Another key is another capture.
        r = self.capture(self.hotel_client, pa, {"amount_minor": 3_000},
                         headers={"Idempotency-Key": str(uuid.uuid4())})
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(r.json["capture"]["txn_id"], first.json["capture"]["txn_id"])
        self.assertEqual(self.hold(pa)["captured_minor"], 6_000)
        # A validation failure is not stored: corrected, the same key captures.
        key = {"Idempotency-Key": str(uuid.uuid4())}
        r = self.capture(self.hotel_client, pa, {"final": "yes"}, headers=key)
        self.assertError(r, 400, "INVALID_REQUEST", "final")
        r = self.capture(self.hotel_client, pa, {"final": True}, headers=key)
        self.assertEqual((r.status, r.json["capture"]["amount_minor"]), (200, 3_000), r)
        self.assertNotIn("idempotent-replayed", r.headers)
        self.cancelled(self.hotel_client, other)
        self.assertEqual(self.wallet(user), (11_000, 11_000, 0))

    def test_an_idempotent_authorization_reserves_once(self):
        user, client = self.new_user(5_000)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = self.authorize(client, user, self.rental, 2_000, reference="ride-9", headers=key)
        self.assertEqual(first.status, 201, first)
        again = self.authorize(client, user, self.rental, 2_000, reference="ride-9", headers=key)
        self.assertEqual((again.status, again.body), (201, first.body))
        self.assertEqual(again.headers.get("idempotent-replayed"), "true")
        self.assertEqual(self.wallet(user), (5_000, 3_000, 2_000))
        r = self.authorize(client, user, self.rental, 2_001, reference="ride-9", headers=key)
        self.assertError(r, 400, "IDEMPOTENCY_KEY_MISMATCH")
        ids, _ = self.list_ids(client)
        self.assertEqual(ids, [first.json["preauth_id"]])
        self.cancelled(self.rental_client, first.json["preauth_id"])

    # Captures are payments

    def test_a_capture_is_a_payment_that_can_be_refunded(self):
        user, client = self.new_user(30_000)
        pa = self.authorized(client, user, self.hotel, 10_000)["preauth_id"]
        capture = self.captured(self.hotel_client, pa, {"amount_minor": 6_000})["capture"]
        txn = capture["txn_id"]
        self.assertEqual((capture["fee_minor"], capture["net_minor"]), (27, 5_973))
        for reader in (client, self.hotel_client, self.admin):
            r = reader.get(f"/v1/payments/{txn}")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(
                {k: v for k, v in r.json.items() if k != "created_at"},
                {"txn_id": txn, "status": "succeeded", "amount_minor": 6_000, "fee_minor": 27,
                 "net_minor": 5_973, "currency": CURRENCY, "user_id": user,
                 "merchant_id": self.hotel, "amount_refunded_minor": 0, "refunds": []})
            self.assertEqual(r.json["created_at"], capture["created_at"])
        for reader in (self.dan_client, self.rental_client):
            self.assertError(reader.get(f"/v1/payments/{txn}"), 404, "NOT_FOUND")
        r = self.admin.get(f"/v1/ledger/transactions/{txn}")
        self.assertEqual((r.status, r.json["type"], r.json["amount_minor"], r.json["fee_minor"]),
                         (200, "PAY", 6_000, 27), r)

        # A refund by the merchant: floor(27 x 2 000 / 6 000) = 9 of the fee back.
        self.assertError(self.rental_client.post(f"/v1/payments/{txn}/refunds",
                                                 {"amount_minor": 2_000}),
                         404, "NOT_FOUND", "id")
        r = self.hotel_client.post(f"/v1/payments/{txn}/refunds", {"amount_minor": 2_000})
        self.assertEqual(r.status, 200, r)
        refund = r.json
        self.assertEqual((refund["payment_id"], refund["amount_minor"],
                          refund["fee_returned_minor"], refund["net_minor"], refund["user_id"]),
                         (txn, 2_000, 9, 1_991, user))
        # The wallet gets it back; the pre-authorization is not touched by it.
        self.assertEqual(self.wallet(user), (26_000, 22_000, 4_000))
        held = self.hold(pa)
        self.assertEqual((held["status"], held["captured_minor"], held["remaining_minor"]),
                         ("partially_captured", 6_000, 4_000))
        read = self.admin.get(f"/v1/payments/{txn}").json
        self.assertEqual((read["amount_refunded_minor"], read["refunds"]), (2_000, [refund]))
        # The wallet's history: the capture as a payment, then the refund.
        r = client.get(f"/v1/wallets/{user}/history?size=2")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(i["txn_id"], i["type"], i["change_minor"], i["balance_after_minor"])
                          for i in r.json["items"]],
                         [(refund["refund_id"], "REFUND", 2_000, 26_000),
                          (txn, "PAY", -6_000, 24_000)])
        self.cancelled(self.hotel_client, pa)
        self.assertEqual(self.wallet(user), (26_000, 26_000, 0))

    def test_live_metrics_count_captures_as_payments(self):
        # The metrics include everything committed when the request arrived (docs/api.md).
        before = self.admin.get("/v1/metrics/today").json
        pa = self.authorized(self.carol_client, self.carol, self.hotel, 4_000)["preauth_id"]
        after = self.admin.get("/v1/metrics/today").json
        self.assertEqual((after["txn_count"], after["total_amount_minor"]),
                         (before["txn_count"], before["total_amount_minor"]))
        self.captured(self.hotel_client, pa, {"amount_minor": 1_500})
        after = self.admin.get("/v1/metrics/today").json
        self.assertEqual((after["txn_count"], after["total_amount_minor"]),
                         (before["txn_count"] + 1, before["total_amount_minor"] + 1_500))
        self.cancelled(self.hotel_client, pa)
        final = self.admin.get("/v1/metrics/today").json
        self.assertEqual((final["txn_count"], final["total_amount_minor"]),
                         (after["txn_count"], after["total_amount_minor"]))

    # Listing

    def test_listing_with_filters_and_pages(self):
        user, client = self.new_user(50_000)
        h1 = self.authorized(client, user, self.hotel, 1_000)["preauth_id"]
        h2 = self.authorized(client, user, self.rental, 2_000)["preauth_id"]
        self.cancelled(self.rental_client, h2)
        h3 = self.authorized(client, user, self.hotel, 3_000)["preauth_id"]
        self.captured(self.hotel_client, h3)
        h4 = self.authorized(client, user, self.hotel, 4_000)["preauth_id"]
        self.captured(self.hotel_client, h4, {"amount_minor": 1_000})
        h5 = self.authorized(client, user, self.rental, 5_000)["preauth_id"]
        # Carol and Dan have holds too; the user sees only their own, newest first.
        self.authorized(self.dan_client, self.dan, self.hotel, 10)

        r = client.get("/v1/preauths")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([i["preauth_id"] for i in r.json["items"]], [h5, h4, h3, h2, h1])
        self.assertIsNone(r.json["nextCursor"])
        self.assertEqual(r.json["items"], [self.hold(h) for h in (h5, h4, h3, h2, h1)])
        self.assertEqual([i["status"] for i in r.json["items"]],
                         ["authorized", "partially_captured", "captured", "cancelled",
                          "authorized"])
        self.assertEqual(self.list_ids(client, f"?user_id={user}"), ([h5, h4, h3, h2, h1], None))
        self.assertEqual(self.list_ids(client, f"?merchant_id={self.hotel}"), ([h4, h3, h1], None))
        self.assertEqual(self.list_ids(client, "?status=cancelled"), ([h2], None))
        self.assertEqual(self.list_ids(client, "?status=authorized"), ([h5, h1], None))
        self.assertEqual(self.list_ids(client, "?status=expired"), ([], None))
        self.assertEqual(self.list_ids(client, f"?status=captured&merchant_id={self.rental}"),
                         ([], None))
        # Pages: nextCursor is the last item's id; null on the last page.
        self.assertEqual(self.list_ids(client, "?size=2"), ([h5, h4], h4))
        self.assertEqual(self.list_ids(client, f"?size=2&cursor={h4}"), ([h3, h2], h2))
        self.assertEqual(self.list_ids(client, f"?size=2&cursor={h2}"), ([h1], None))
        self.assertEqual(self.list_ids(client, "?size=1&status=authorized"), ([h5], h5))
        self.assertEqual(self.list_ids(client, f"?size=1&status=authorized&cursor={h5}"),
                         ([h1], None))
        # A user may not name another user.
        self.assertError(client.get(f"/v1/preauths?user_id={self.carol}"), 403, "FORBIDDEN")

        # A merchant sees its own only, and may filter by user.
        self.assertEqual(self.list_ids(self.hotel_client, f"?user_id={user}"), ([h4, h3, h1], None))
        self.assertEqual(
            self.list_ids(self.hotel_client, f"?user_id={user}&merchant_id={self.hotel}"),
            ([h4, h3, h1], None))
        self.assertError(self.hotel_client.get(f"/v1/preauths?merchant_id={self.rental}"), 403,
                         "FORBIDDEN")
        cursor, seen = None, []
        while True:
            page = "/v1/preauths?size=5" + (f"&cursor={cursor}" if cursor else "")
            r = self.hotel_client.get(page)
            self.assertEqual(r.status, 200, r)
            self.assertLessEqual(len(r.json["items"]), 5)
            seen += r.json["items"]
            cursor = r.json["nextCursor"]
            if cursor is None:
                break
        self.assertEqual({i["merchant_id"] for i in seen}, {self.hotel})
        ids = [int(i["preauth_id"][3:]) for i in seen]
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertTrue({h4, h3, h1} <= {i["preauth_id"] for i in seen})
        self.assertEqual(self.list_ids(self.kiosk_client), ([], None))

        # The admin sees everyone's and filters by both.
        self.assertEqual(self.list_ids(self.admin, f"?user_id={user}&merchant_id={self.rental}"),
                         ([h5, h2], None))
        self.assertEqual(self.list_ids(self.admin, f"?user_id={user}&status=partially_captured"),
                         ([h4], None))
        newest, cursor = self.list_ids(self.admin, "?size=1")
        self.assertEqual((len(newest), cursor), (1, newest[0]))
        self.assertNotEqual(newest, [h5])  # Dan's is newer

        # Malformed queries.
        for query, param in [("?status=open", "status"), ("?status=AUTHORIZED", "status"),
                             ("?size=0", "size"), ("?size=101", "size"), ("?size=x", "size"),
                             ("?cursor=txn_1", "cursor"), ("?cursor=pa_x", "cursor"),
                             ("?user_id=usr_x", "user_id"), ("?merchant_id=mch_0", "merchant_id")]:
            self.assertError(self.admin.get("/v1/preauths" + query), 400, "INVALID_REQUEST", param)
        r = self.admin.get("/v1/preauths?status=open")
        self.assertEqual(r.json["error"]["message"],
                         "status must be authorized, partially_captured, captured, cancelled or "
                         "expired.")

    # Expiry

    def test_a_pre_authorization_expires_at_its_time_by_the_servers_tick(self):
        user, client = self.new_user(10_000)
        held = self.authorized(client, user, self.hotel, 3_000, expires_in_seconds=1)
        pa = held["preauth_id"]
        self.assertEqual(held["expires_at"] - held["created_at"], 1)
        self.assertEqual(self.wallet(user), (10_000, 7_000, 3_000))
        # Poll the pre-authorization alone, nothing else in between, until it has expired.
        deadline = time.time() + 5
        while True:
            held = self.hold(pa, client)
            if held["status"] != "authorized" or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual((held["status"], held["captured_minor"], held["released_minor"],
                          held["remaining_minor"]), ("expired", 0, 3_000, 0), held)
        self.assertIn(held["closed_at"] - held["expires_at"], (0, 1), held)
        self.assertEqual(self.wallet(user), (10_000, 10_000, 0))
        message = "The pre-authorization expired."
        self.assertError(self.capture(self.hotel_client, pa), 409, "INVALID_STATE",
                         message=message)
        self.assertError(self.cancel(self.hotel_client, pa), 409, "INVALID_STATE",
                         message=message)
        self.assertEqual(self.list_ids(client, "?status=expired"), ([pa], None))

        # No request at all around the expiry: the server's own tick releases it at its time
        # (a release made by the next request would be closed seconds later). Partly captured
        # first: the rest is released, the capture stays.
        held = self.authorized(client, user, self.rental, 2_000, expires_in_seconds=2)
        pa = held["preauth_id"]
        self.captured(self.rental_client, pa, {"amount_minor": 500})
        self.assertEqual(self.wallet(user), (9_500, 8_000, 1_500))
        time.sleep(max(0.0, held["expires_at"] + 3 - time.time()))
        held = self.hold(pa)
        self.assertEqual((held["status"], held["captured_minor"], held["released_minor"],
                          held["remaining_minor"]), ("expired", 500, 1_500, 0), held)
        self.assertIn(held["closed_at"] - held["expires_at"], (0, 1), held)
        self.assertEqual(self.wallet(user), (9_500, 9_500, 0))


class PreauthsAcrossRestartsTest(unittest.TestCase):
    """Pre-authorizations are in the journal: a clean stop (snapshot) and a kill -9 (replay) keep
    them, the frozen amounts, the references, the Idempotency-Keys and what is left to capture;
    one that expired while the server was down is released when it is back. The configured
    default expiry applies."""

    def test_pre_authorizations_survive_restarts(self):
        server = Server(env={"BURSAR_TEST_NO_SIMULATOR": "1",
                             "BURSAR_PREAUTH_EXPIRY_SECONDS": "3600"})
        try:
            server.start()
            anonymous = server.client()
            carol, carol_token = register_and_login(anonymous, "carol@example.com")
            r = server.admin().post("/v1/merchants", {"name": "Hotel", "tier": "enterprise"})
            self.assertEqual(r.status, 201, r)
            hotel, hotel_key = r.json["merchant_id"], r.json["api_key"]
            carol_client = server.client(carol_token)
            r = carol_client.post(f"/v1/wallets/{carol}/topup", {"amount_minor": 50_000})
            self.assertEqual(r.status, 200, r)

            def wallet():
                r = server.admin().get(f"/v1/wallets/{carol}")
                self.assertEqual(r.status, 200, r)
                b = r.json["balances"][0]
                return b["balance_minor"], b["available_minor"], b["frozen_minor"]

            def hold(pa):
                r = server.admin().get(f"/v1/preauths/{pa}")
                self.assertEqual(r.status, 200, r)
                return r.json

            def listed():
                r = server.admin().get("/v1/preauths")
                self.assertEqual(r.status, 200, r)
                return r.json

            r = carol_client.post("/v1/preauths", {"user_id": carol, "merchant_id": hotel,
                                                   "amount_minor": 20_000,
                                                   "reference": "stay-1"})
            self.assertEqual(r.status, 201, r)
            stay = r.json["preauth_id"]
            # The configured default expiry.
            self.assertEqual(r.json["expires_at"] - r.json["created_at"], 3_600)
            key = {"Idempotency-Key": str(uuid.uuid4())}
            r = server.client(hotel_key).post(f"/v1/preauths/{stay}/capture",
                                              {"amount_minor": 5_000}, headers=key)
            self.assertEqual(r.status, 200, r)
            first_capture = r
            self.assertEqual(r.json["capture"]["fee_minor"], 23)
            r = carol_client.post("/v1/preauths", {"user_id": carol, "merchant_id": hotel,
                                                   "amount_minor": 1_000})
            self.assertEqual(r.status, 201, r)
            gone = r.json["preauth_id"]
            r = server.client(hotel_key).post(f"/v1/preauths/{gone}/cancel", {})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(wallet(), (45_000, 30_000, 15_000))
            before = listed()

            # A clean stop and start.
            self.assertEqual(server.stop(), 0)
            server.start()
            hotel_client = server.client(hotel_key)
            self.assertEqual(listed(), before)
            self.assertEqual(wallet(), (45_000, 30_000, 15_000))
            # The key is kept: the first capture again, nothing more.
            r = hotel_client.post(f"/v1/preauths/{stay}/capture", {"amount_minor": 5_000},
                                  headers=key)
            self.assertEqual((r.status, r.body), (200, first_capture.body))
            self.assertEqual(r.headers.get("idempotent-replayed"), "true")
            self.assertEqual(wallet(), (45_000, 30_000, 15_000))
            r = hotel_client.post(f"/v1/preauths/{stay}/capture", {"amount_minor": 5_000})
            self.assertEqual(r.status, 200, r)
            # One that will expire while the server is down.
            r = server.client(carol_token).post(
                "/v1/preauths", {"user_id": carol, "merchant_id": hotel, "amount_minor": 7_000,
                                 "expires_in_seconds": 4})
            self.assertEqual(r.status, 201, r)
            short = r.json
            self.assertEqual(wallet(), (40_000, 23_000, 17_000))
            stay_before = hold(stay)
            self.assertEqual((stay_before["status"], stay_before["captured_minor"],
                              stay_before["remaining_minor"]), ("partially_captured", 10_000,
                                                                10_000))

            server.kill()  # no snapshot of the last writes: the journal's replay has them
            time.sleep(max(0.0, short["expires_at"] + 1 - time.time()))
            server.start()
            hotel_client = server.client(hotel_key)
            self.assertEqual(hold(stay), stay_before)
            expired = hold(short["preauth_id"])
            self.assertEqual((expired["status"], expired["released_minor"],
                              expired["remaining_minor"]), ("expired", 7_000, 0), expired)
            self.assertGreaterEqual(expired["closed_at"], short["expires_at"])
            self.assertEqual(wallet(), (40_000, 30_000, 10_000))
            # The reference is still taken.
            r = server.client(carol_token).post(
                "/v1/preauths", {"user_id": carol, "merchant_id": hotel, "amount_minor": 1,
                                 "reference": "stay-1"})
            self.assertEqual((r.status, r.error_code(), r.json["error"]["param"]),
                             (409, "INVALID_STATE", "reference"), r)
            # What is left, 10 000, is captured; no more.
            r = hotel_client.post(f"/v1/preauths/{stay}/capture", {"amount_minor": 10_001})
            self.assertEqual((r.status, r.json["error"]["param"]), (400, "amount_minor"), r)
            r = hotel_client.post(f"/v1/preauths/{stay}/capture")
            self.assertEqual(r.status, 200, r)
            self.assertEqual((r.json["capture"]["amount_minor"], r.json["capture"]["fee_minor"],
                              r.json["preauth"]["status"], r.json["preauth"]["captured_minor"],
                              len(r.json["preauth"]["captures"])),
                             (10_000, 45, "captured", 20_000, 3))
            self.assertEqual(wallet(), (30_000, 30_000, 0))
            after = listed()

            self.assertEqual(server.stop(), 0)
            verify = subprocess.run([BINARY, "verify", server.data_dir], capture_output=True,
                                    text=True)
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
            self.assertIn("verify: ok", verify.stdout)
            server.start()
            self.assertEqual(listed(), after)
            self.assertEqual(wallet(), (30_000, 30_000, 0))
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
