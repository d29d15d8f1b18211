"""Limits over HTTP against the real `bursar serve` (SPEC.md R1, R2, docs/api.md "Limits"): a
merchant's single-payment, daily and monthly limits by tier and a user's single-payment and daily
limits from the configuration, each to the minor unit (exactly at a limit passes, one more is 403
RISK_LIMIT_EXCEEDED naming it, with nothing moved); the order of the checks; refunds giving the
quota back; the admin's overrides and who may set and read them; each currency counted on its own
with its exponent; pre-authorization captures counted as payments (authorizing is not); and
counters, overrides and the configured defaults across a clean stop, a kill -9, a change of the
configuration and a change of the day's offset."""

import itertools
import time
import unittest
import uuid

from harness import Server, merchant_balance, merchant_history, register_and_login, wallet_figures

LIMIT_MAJOR_MAX = 10**15
# The tiers' limits (single, daily, monthly) and the users' defaults (single, daily), major units.
TIERS = {"starter": (10_000, 100_000, 300_000), "business": (50_000, 500_000, 1_500_000),
         "enterprise": (200_000, 2_000_000, 6_000_000),
         "premium": (1_000_000, 10_000_000, 30_000_000)}
USER_DEFAULTS = (1_000_000, 5_000_000)
MESSAGES = {
    "user.single": "The payment is over the user's single-payment limit.",
    "user.daily": "The payment is over the user's daily limit.",
    "merchant.single": "The payment is over the merchant's single-payment limit.",
    "merchant.daily": "The payment is over the merchant's daily limit.",
    "merchant.monthly": "The payment is over the merchant's monthly limit.",
}
NO_OVERRIDES = {"single_payment": None, "daily": None, "monthly": None}
NO_USER_OVERRIDES = {"single_payment": None, "daily": None}


def offset_text(minutes):
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def noon_offset_minutes():
    """The UTC offset whose local time is noon now: days and months follow BURSAR_UTC_OFFSET, so a
    server run with it is twelve hours from a day's (and a month's) change whenever the tests run,
    and the daily windows cannot turn over under them. From -11:59 to +12:00."""
    now = time.gmtime()
    return 12 * 60 - (now.tm_hour * 60 + now.tm_min)


class LimitsCase(unittest.TestCase):
    """What the limits tests share: a server, users and merchants of a test's own, and the reads."""

    server = None

    @classmethod
    def start_server(cls, **env):
        cls.offset = noon_offset_minutes()
        cls.env = {"BURSAR_TEST_NO_SIMULATOR": "1", "BURSAR_UTC_OFFSET": offset_text(cls.offset),
                   **env}
        cls.server = Server(env=cls.env).start()
        cls.connect()
        cls.emails = itertools.count(1)

    @classmethod
    def connect(cls):
        cls.admin = cls.server.admin()
        cls.anonymous = cls.server.client()

    @classmethod
    def new_merchant(cls, tier, name="Shop"):
        r = cls.admin.post("/v1/merchants", {"name": name, "tier": tier})
        assert r.status == 201, r
        return r.json["merchant_id"], cls.server.client(r.json["api_key"])

    @classmethod
    def new_user(cls, topup=None, name="Guest"):
        """A user of the test's own, with `topup` ({currency: minor units}) in the wallets."""
        user, token = register_and_login(cls.anonymous, f"guest{next(cls.emails)}@example.com",
                                         name=name)
        client = cls.server.client(token)
        for currency, amount in (topup or {}).items():
            r = client.post(f"/v1/wallets/{user}/topup", {"amount_minor": amount,
                                                          "currency": currency})
            assert r.status == 200, r
        return user, client

    # Requests

    def pay(self, client, user, merchant, amount, currency="JPY"):
        return client.post("/v1/payments", {"user_id": user, "merchant_id": merchant,
                                            "amount_minor": amount, "currency": currency})

    def paid(self, client, user, merchant, amount, currency="JPY"):
        r = self.pay(client, user, merchant, amount, currency)
        self.assertEqual(r.status, 200, (amount, currency, r))
        return r.json["txn_id"]

    def refunded(self, client, payment, amount=None):
        body = {} if amount is None else {"amount_minor": amount}
        r = client.post(f"/v1/payments/{payment}/refunds", body)
        self.assertEqual(r.status, 200, (payment, body, r))
        return r.json

    def put(self, client, path, body, **kwargs):
        return client.request("PUT", path, body, **kwargs)

    def set_merchant_limits(self, merchant, body):
        r = self.put(self.admin, f"/v1/merchants/{merchant}/limits", body)
        self.assertEqual(r.status, 200, (body, r))
        return r.json

    def set_user_limits(self, user, body):
        r = self.put(self.admin, f"/v1/users/{user}/limits", body)
        self.assertEqual(r.status, 200, (body, r))
        return r.json

    def limits(self, path, client=None, currency=None):
        """The answer of GET <path>/limits; its windows as {window: (limit, used, remaining)}."""
        query = f"?currency={currency}" if currency else ""
        r = (client or self.admin).get(f"{path}/limits{query}")
        self.assertEqual(r.status, 200, r)
        windows = {w["window"]: (w["limit_minor"], w["used_minor"], w["remaining_minor"])
                   for w in r.json["limits"]}
        return r.json, windows

    def merchant_windows(self, merchant, currency=None, client=None):
        return self.limits(f"/v1/merchants/{merchant}", client, currency)[1]

    def user_windows(self, user, currency=None, client=None):
        return self.limits(f"/v1/users/{user}", client, currency)[1]

    def wallet(self, user, currency="JPY"):
        return wallet_figures(self.admin, user, currency)

    def merchant_balance(self, merchant, currency="JPY"):
        """The merchant's balance and how many movements its account had, in `currency`."""
        return (merchant_balance(self.admin, merchant, currency),
                len(merchant_history(self.admin, merchant, currency)))

    def assertError(self, r, status, code, param=None, message=None):
        self.assertEqual((r.status, r.error_code()), (status, code), r)
        if param is not None:
            self.assertEqual(r.json["error"]["param"], param, r)
        if message is not None:
            self.assertEqual(r.json["error"]["message"], message, r)

    def assertOverLimit(self, r, limit):
        self.assertError(r, 403, "RISK_LIMIT_EXCEEDED", limit, MESSAGES[limit])

    def assertRefusedMovingNothing(self, client, user, merchant, amount, limit, currency="JPY"):
        """A payment over `limit`: 403 naming it, and the wallet, the merchant's balance and its
        transactions as they were."""
        wallet = self.wallet(user, currency)
        merchant_before = self.merchant_balance(merchant, currency)
        self.assertOverLimit(self.pay(client, user, merchant, amount, currency), limit)
        self.assertEqual(self.wallet(user, currency), wallet)
        self.assertEqual(self.merchant_balance(merchant, currency), merchant_before)


class LimitsTest(LimitsCase):
    """Carol and Dan pay the Kiosk (starter) and the Bakery (business). Tests that count a window
    use merchants and users of their own, so the tests do not depend on each other's order."""

    @classmethod
    def setUpClass(cls):
        cls.start_server()
        cls.carol, cls.carol_client = cls.new_user({"JPY": 1_000_000}, "Carol")
        cls.dan, cls.dan_client = cls.new_user({"JPY": 1_000_000}, "Dan")
        cls.kiosk, cls.kiosk_client = cls.new_merchant("starter", "Kiosk")
        cls.bakery, cls.bakery_client = cls.new_merchant("business", "Bakery")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    # The single-payment limit

    def test_exactly_the_single_limit_passes_and_one_more_is_refused(self):
        for merchant, tier in ((self.kiosk, "starter"), (self.bakery, "business")):
            single, daily, monthly = TIERS[tier]
            wallet = self.wallet(self.carol)[0]
            self.paid(self.carol_client, self.carol, merchant, single)  # JPY: major = minor
            self.assertEqual(self.wallet(self.carol)[0], wallet - single)
            self.assertRefusedMovingNothing(self.carol_client, self.carol, merchant, single + 1,
                                            "merchant.single")
            # The admin pays for a user the same way.
            self.assertOverLimit(self.pay(self.admin, self.carol, merchant, single + 1),
                                 "merchant.single")
            # What the merchant used is the payment that passed.
            self.assertEqual(self.merchant_windows(merchant),
                             {"single": (single, 0, single),
                              "daily": (daily, single, daily - single),
                              "monthly": (monthly, single, monthly - single)})

    # The daily and monthly limits, and refunds

    def test_payments_up_to_the_daily_limit_pass_and_a_refund_gives_quota_back(self):
        shop, shop_client = self.new_merchant("starter")
        user, client = self.new_user({"JPY": 200_000})
        payments = [self.paid(client, user, shop, 10_000) for _ in range(10)]  # 100 000: exactly
        self.assertEqual(self.merchant_windows(shop),
                         {"single": (10_000, 0, 10_000), "daily": (100_000, 100_000, 0),
                          "monthly": (300_000, 100_000, 200_000)})
        self.assertRefusedMovingNothing(client, user, shop, 1, "merchant.daily")

        # A full refund of today's payment gives its 10 000 back, in the day and in the month.
        self.refunded(shop_client, payments[0])
        self.assertEqual(self.merchant_windows(shop),
                         {"single": (10_000, 0, 10_000), "daily": (100_000, 90_000, 10_000),
                          "monthly": (300_000, 90_000, 210_000)})
        self.assertRefusedMovingNothing(client, user, shop, 10_001, "merchant.single")
        self.paid(client, user, shop, 10_000)
        self.assertRefusedMovingNothing(client, user, shop, 1, "merchant.daily")

        # A partial refund gives back what it refunds, to the minor unit.
        self.refunded(shop_client, payments[1], 2_500)
        self.assertEqual(self.merchant_windows(shop)["daily"], (100_000, 97_500, 2_500))
        self.assertRefusedMovingNothing(client, user, shop, 2_501, "merchant.daily")
        self.paid(client, user, shop, 2_500)
        self.assertEqual(self.merchant_windows(shop)["daily"], (100_000, 100_000, 0))
        # The user's day counted the same payments and refunds.
        self.assertEqual(self.user_windows(user)["daily"],
                         (5_000_000, 100_000, 4_900_000))

    def test_payments_up_to_the_monthly_limit_pass(self):
        shop, _ = self.new_merchant("starter")
        user, client = self.new_user({"JPY": 400_000})
        # The single and daily limits raised above the tier's monthly 300 000.
        self.set_merchant_limits(shop, {"single_payment": 300_000, "daily": 1_000_000})
        self.paid(client, user, shop, 300_000)
        self.assertEqual(self.merchant_windows(shop),
                         {"single": (300_000, 0, 300_000), "daily": (1_000_000, 300_000, 700_000),
                          "monthly": (300_000, 300_000, 0)})
        self.assertRefusedMovingNothing(client, user, shop, 1, "merchant.monthly")

    # Users' limits and the order of the checks

    def test_a_users_limits_from_overrides(self):
        shop, shop_client = self.new_merchant("business")
        user, client = self.new_user({"JPY": 100_000})
        json, windows = self.limits(f"/v1/users/{user}", client)
        self.assertEqual(json, {"user_id": user, "currency": "JPY", "limits": json["limits"],
                                "overrides": NO_USER_OVERRIDES})
        self.assertEqual([w["window"] for w in json["limits"]], ["single", "daily"])
        self.assertEqual(windows, {"single": (1_000_000, 0, 1_000_000),
                                   "daily": (5_000_000, 0, 5_000_000)})

        self.assertEqual(self.set_user_limits(user, {"single_payment": 5_000, "daily": 8_000}),
                         {"user_id": user,
                          "overrides": {"single_payment": 5_000, "daily": 8_000}})
        json, windows = self.limits(f"/v1/users/{user}", client)
        self.assertEqual(json["overrides"], {"single_payment": 5_000, "daily": 8_000})
        self.assertEqual(windows, {"single": (5_000, 0, 5_000), "daily": (8_000, 0, 8_000)})

        self.assertRefusedMovingNothing(client, user, shop, 5_001, "user.single")
        first = self.paid(client, user, shop, 5_000)
        self.assertRefusedMovingNothing(client, user, shop, 3_001, "user.daily")
        self.paid(client, user, shop, 3_000)  # 8 000: exactly the daily limit
        self.assertRefusedMovingNothing(client, user, shop, 1, "user.daily")
        self.assertEqual(self.user_windows(user, client=client)["daily"], (8_000, 8_000, 0))
        # A refund gives the user's quota back as well as the merchant's.
        self.refunded(shop_client, first, 1_000)
        self.assertEqual(self.user_windows(user)["daily"], (8_000, 7_000, 1_000))
        self.assertEqual(self.merchant_windows(shop)["daily"], (500_000, 7_000, 493_000))
        self.paid(client, user, shop, 1_000)
        self.assertRefusedMovingNothing(client, user, shop, 1, "user.daily")

        # Removing the overrides: the configured defaults again, and the day's use stays.
        self.assertEqual(self.set_user_limits(user, {}),
                         {"user_id": user, "overrides": NO_USER_OVERRIDES})
        self.assertEqual(self.user_windows(user),
                         {"single": (1_000_000, 0, 1_000_000),
                          "daily": (5_000_000, 8_000, 4_992_000)})
        self.paid(client, user, shop, 1)

    def test_the_checks_come_in_order_and_before_the_funds(self):
        kiosk, _ = self.new_merchant("starter")
        user, client = self.new_user({"JPY": 50_000})
        # Over both single-payment limits: the user's is named first.
        self.set_user_limits(user, {"single_payment": 20_000, "daily": 30_000})
        self.assertRefusedMovingNothing(client, user, kiosk, 20_001, "user.single")
        self.assertRefusedMovingNothing(client, user, kiosk, 15_000, "merchant.single")
        # The user's daily limit before the merchant's single-payment limit.
        self.paid(client, user, kiosk, 10_000)
        self.paid(client, user, kiosk, 10_000)
        self.assertRefusedMovingNothing(client, user, kiosk, 10_001, "user.daily")
        # The merchant's single-payment limit before its daily one, its daily before its monthly.
        self.set_user_limits(user, {})
        self.set_merchant_limits(kiosk, {"daily": 20_000, "monthly": 25_000})
        self.assertRefusedMovingNothing(client, user, kiosk, 10_001, "merchant.single")
        self.assertRefusedMovingNothing(client, user, kiosk, 1, "merchant.daily")
        self.set_merchant_limits(kiosk, {"daily": 30_000, "monthly": 25_000})
        self.assertRefusedMovingNothing(client, user, kiosk, 5_001, "merchant.monthly")
        self.paid(client, user, kiosk, 5_000)
        # The limits before the funds: over the default user limit with 25 000 in the wallet.
        self.set_merchant_limits(kiosk, {"single_payment": LIMIT_MAJOR_MAX,
                                         "daily": LIMIT_MAJOR_MAX, "monthly": LIMIT_MAJOR_MAX})
        self.assertEqual(self.wallet(user)[0], 25_000)
        self.assertRefusedMovingNothing(client, user, kiosk, USER_DEFAULTS[0] + 1, "user.single")
        r = self.pay(client, user, kiosk, USER_DEFAULTS[0])  # within every limit: the funds
        self.assertError(r, 402, "INSUFFICIENT_FUNDS")

    def test_the_configured_user_daily_limit_applies_without_overrides(self):
        shop, _ = self.new_merchant("premium")
        user, client = self.new_user({"JPY": USER_DEFAULTS[1] + 1})
        for _ in range(USER_DEFAULTS[1] // USER_DEFAULTS[0]):
            self.paid(client, user, shop, USER_DEFAULTS[0])  # each exactly the user's single limit
        self.assertEqual(self.user_windows(user)["daily"], (USER_DEFAULTS[1], USER_DEFAULTS[1], 0))
        self.assertRefusedMovingNothing(client, user, shop, 1, "user.daily")
        # Another user pays the same merchant: the user's limit is the user's own.
        other, other_client = self.new_user({"JPY": 10})
        self.paid(other_client, other, shop, 10)

    # Overrides

    def test_overrides_raise_and_lower_a_merchants_limits(self):
        shop, shop_client = self.new_merchant("starter")
        user, client = self.new_user({"JPY": 100_000})
        json, windows = self.limits(f"/v1/merchants/{shop}", shop_client)
        self.assertEqual(json, {"merchant_id": shop, "currency": "JPY", "limits": json["limits"],
                                "overrides": NO_OVERRIDES})
        self.assertEqual([w["window"] for w in json["limits"]], ["single", "daily", "monthly"])
        self.assertEqual(windows, {"single": (10_000, 0, 10_000), "daily": (100_000, 0, 100_000),
                                   "monthly": (300_000, 0, 300_000)})

        self.assertEqual(self.set_merchant_limits(shop, {"single_payment": 20_000}),
                         {"merchant_id": shop, "overrides": {**NO_OVERRIDES,
                                                             "single_payment": 20_000}})
        self.paid(client, user, shop, 20_000)
        self.assertRefusedMovingNothing(client, user, shop, 20_001, "merchant.single")
        json, windows = self.limits(f"/v1/merchants/{shop}", shop_client)
        self.assertEqual(json["overrides"], {**NO_OVERRIDES, "single_payment": 20_000})
        self.assertEqual(windows, {"single": (20_000, 0, 20_000),
                                   "daily": (100_000, 20_000, 80_000),
                                   "monthly": (300_000, 20_000, 280_000)})
        # The merchant's own read of GET /v1/merchants/{id} shows the limits in force and the day's
        # and month's use.
        r = shop_client.get(f"/v1/merchants/{shop}")
        self.assertEqual(r.json["limits"],
                         {"single_payment": 20_000, "daily": 100_000, "monthly": 300_000})
        self.assertEqual(r.json["usage"], {"currency": "JPY", "daily_used_minor": 20_000,
                                           "monthly_used_minor": 20_000})

        # A PUT replaces all the overrides: a field absent is the tier's again.
        self.assertEqual(self.set_merchant_limits(shop, {"daily": 150_000})["overrides"],
                         {**NO_OVERRIDES, "daily": 150_000})
        self.assertRefusedMovingNothing(client, user, shop, 10_001, "merchant.single")
        # Lowered under what the day used: nothing remains, and the next yen is refused.
        self.set_merchant_limits(shop, {"daily": 15_000})
        self.assertEqual(self.merchant_windows(shop)["daily"], (15_000, 20_000, 0))
        self.assertRefusedMovingNothing(client, user, shop, 1, "merchant.daily")
        # 0 is the tier's, like an absent field; 10^15 is the most.
        self.assertEqual(self.set_merchant_limits(shop, {"single_payment": 0, "daily": 0,
                                                         "monthly": 0})["overrides"],
                         NO_OVERRIDES)
        self.assertEqual(self.merchant_windows(shop)["daily"], (100_000, 20_000, 80_000))
        most = {"single_payment": LIMIT_MAJOR_MAX, "daily": LIMIT_MAJOR_MAX,
                "monthly": LIMIT_MAJOR_MAX}
        self.assertEqual(self.set_merchant_limits(shop, most)["overrides"], most)
        self.assertEqual(self.merchant_windows(shop)["single"],
                         (LIMIT_MAJOR_MAX, 0, LIMIT_MAJOR_MAX))
        self.assertEqual(self.merchant_windows(shop, "USD")["single"],
                         (LIMIT_MAJOR_MAX * 100, 0, LIMIT_MAJOR_MAX * 100))

    def test_malformed_overrides_are_refused_and_change_nothing(self):
        shop, _ = self.new_merchant("starter")
        user, _ = self.new_user()
        self.set_merchant_limits(shop, {"single_payment": 12_345})
        self.set_user_limits(user, {"daily": 54_321})
        for body, param in [({"single_payment": LIMIT_MAJOR_MAX + 1}, "single_payment"),
                            ({"daily": -1}, "daily"),
                            ({"monthly": 1.5}, "monthly"),
                            ({"daily": "5"}, "daily"),
                            ({"daily": True}, "daily"),
                            ({"daily": None}, "daily"),
                            ({"weekly": 5}, "weekly")]:
            self.assertError(self.put(self.admin, f"/v1/merchants/{shop}/limits", body), 400,
                             "INVALID_REQUEST", param)
            if param != "monthly":
                self.assertError(self.put(self.admin, f"/v1/users/{user}/limits", body), 400,
                                 "INVALID_REQUEST", param)
        # Users have no monthly limit.
        self.assertError(self.put(self.admin, f"/v1/users/{user}/limits", {"monthly": 5}), 400,
                         "INVALID_REQUEST", "monthly")
        for path in (f"/v1/merchants/{shop}/limits", f"/v1/users/{user}/limits"):
            for raw in ("[1]", "{", ""):
                r = self.admin.request("PUT", path, raw=raw)
                self.assertError(r, 400, "INVALID_REQUEST")
        self.assertEqual(self.limits(f"/v1/merchants/{shop}")[0]["overrides"],
                         {**NO_OVERRIDES, "single_payment": 12_345})
        self.assertEqual(self.limits(f"/v1/users/{user}")[0]["overrides"],
                         {"single_payment": None, "daily": 54_321})

    def test_an_idempotent_override_is_replayed(self):
        shop, _ = self.new_merchant("starter")
        key = {"Idempotency-Key": str(uuid.uuid4())}
        path = f"/v1/merchants/{shop}/limits"
        first = self.put(self.admin, path, {"daily": 200_000}, headers=key)
        self.assertEqual(first.status, 200, first)
        again = self.put(self.admin, path, {"daily": 200_000}, headers=key)
        self.assertEqual((again.status, again.json), (200, first.json))
        self.assertEqual(again.headers.get("idempotent-replayed"), "true")
        r = self.put(self.admin, path, {"daily": 300_000}, headers=key)
        self.assertError(r, 400, "IDEMPOTENCY_KEY_MISMATCH")
        self.assertEqual(self.merchant_windows(shop)["daily"], (200_000, 0, 200_000))

    # Currencies

    def test_each_currency_is_counted_on_its_own_with_its_exponent(self):
        # A multi-currency tier (a starter is paid in its own currency only): business.
        shop, shop_client = self.new_merchant("business")
        user, client = self.new_user({"JPY": 60_000, "USD": 6_000_000})
        # Business: 50 000 major units, i.e. 50 000.00 USD = 5 000 000 cents.
        self.assertEqual(self.merchant_windows(shop, "USD", shop_client),
                         {"single": (5_000_000, 0, 5_000_000),
                          "daily": (50_000_000, 0, 50_000_000),
                          "monthly": (150_000_000, 0, 150_000_000)})
        self.assertEqual(self.user_windows(user, "USD", client),
                         {"single": (100_000_000, 0, 100_000_000),
                          "daily": (500_000_000, 0, 500_000_000)})
        self.paid(client, user, shop, 5_000_000, "USD")
        self.assertRefusedMovingNothing(client, user, shop, 5_000_001, "merchant.single", "USD")
        json, windows = self.limits(f"/v1/merchants/{shop}", currency="USD")
        self.assertEqual(json["currency"], "USD")
        self.assertEqual(windows["daily"], (50_000_000, 5_000_000, 45_000_000))
        self.assertEqual(self.user_windows(user, "USD")["daily"],
                         (500_000_000, 5_000_000, 495_000_000))
        # Yen are counted apart: none used, 50 000 yen pass and 50 001 do not.
        for windows in (self.merchant_windows(shop), self.merchant_windows(shop, "JPY")):
            self.assertEqual(windows["daily"], (500_000, 0, 500_000))
        self.assertEqual(self.user_windows(user)["daily"], (5_000_000, 0, 5_000_000))
        self.paid(client, user, shop, 50_000)
        self.assertRefusedMovingNothing(client, user, shop, 50_001, "merchant.single")
        self.assertEqual(self.merchant_windows(shop, "USD")["daily"],
                         (50_000_000, 5_000_000, 45_000_000))
        # An unknown currency.
        for path in (f"/v1/merchants/{shop}/limits", f"/v1/users/{user}/limits"):
            self.assertError(self.admin.get(path + "?currency=XYZ"), 400, "INVALID_REQUEST",
                             "currency")

    # Who may set and read limits

    def test_who_may_set_and_read_limits(self):
        kiosk, carol = f"/v1/merchants/{self.kiosk}/limits", f"/v1/users/{self.carol}/limits"
        body = {"single_payment": 1}
        # Only the admin sets: a user (even for themselves), a merchant (even its own) may not.
        for path in (kiosk, carol):
            for client in (self.carol_client, self.dan_client, self.kiosk_client,
                           self.bakery_client):
                self.assertError(self.put(client, path, body), 403, "FORBIDDEN")
            self.assertError(self.put(self.anonymous, path, body), 401, "UNAUTHENTICATED")
        # Authentication before anything else: a malformed id or body without credentials.
        for path in ("/v1/merchants/x/limits", "/v1/users/x/limits"):
            self.assertError(self.put(self.anonymous, path, {"weekly": 1}), 401, "UNAUTHENTICATED")
            self.assertError(self.anonymous.get(path), 401, "UNAUTHENTICATED")
        # Unknown and malformed ids.
        self.assertError(self.put(self.admin, "/v1/merchants/mch_999999/limits", body), 404,
                         "NOT_FOUND", "id", "No such merchant.")
        self.assertError(self.put(self.admin, "/v1/users/usr_999999/limits", body), 404,
                         "NOT_FOUND", "id", "No such user.")
        self.assertError(self.put(self.admin, "/v1/merchants/usr_1/limits", body), 400,
                         "INVALID_REQUEST", "id")
        self.assertError(self.put(self.admin, "/v1/users/mch_1/limits", body), 400,
                         "INVALID_REQUEST", "id")
        self.assertError(self.admin.get("/v1/merchants/mch_999999/limits"), 404, "NOT_FOUND",
                         message="No such merchant.")
        self.assertError(self.admin.get("/v1/users/usr_999999/limits"), 404, "NOT_FOUND",
                         message="No such user.")
        self.assertError(self.admin.get("/v1/merchants/mch_x/limits"), 400, "INVALID_REQUEST",
                         "id")
        self.assertError(self.admin.get("/v1/users/usr_x/limits"), 400, "INVALID_REQUEST", "id")
        # Nothing was set.
        self.assertEqual(self.limits(f"/v1/merchants/{self.kiosk}")[0]["overrides"], NO_OVERRIDES)
        self.assertEqual(self.limits(f"/v1/users/{self.carol}")[0]["overrides"],
                         NO_USER_OVERRIDES)

        # A merchant's limits: the admin and the merchant; not another merchant, not a user.
        for client in (self.admin, self.kiosk_client):
            self.assertEqual(client.get(kiosk).status, 200)
        for client in (self.bakery_client, self.carol_client):
            self.assertError(client.get(kiosk), 403, "FORBIDDEN")
        self.assertError(self.anonymous.get(kiosk), 401, "UNAUTHENTICATED")
        # A user's limits: the admin and the user; not another user, not a merchant.
        for client in (self.admin, self.carol_client):
            self.assertEqual(client.get(carol).status, 200)
        for client in (self.dan_client, self.kiosk_client):
            self.assertError(client.get(carol), 403, "FORBIDDEN")
        self.assertError(self.anonymous.get(carol), 401, "UNAUTHENTICATED")

    # Pre-authorizations

    def test_a_capture_is_a_payment_and_authorizing_counts_against_no_limit(self):
        hotel, hotel_client = self.new_merchant("enterprise", "Hotel")
        user, client = self.new_user({"JPY": 300_000})
        # Authorizing more than the single-payment limit (enterprise: 200 000) counts nothing.
        r = client.post("/v1/preauths", {"user_id": user, "merchant_id": hotel,
                                         "amount_minor": 250_000})
        self.assertEqual(r.status, 201, r)
        hold = r.json["preauth_id"]
        self.assertEqual(self.merchant_windows(hotel)["daily"], (2_000_000, 0, 2_000_000))
        self.assertEqual(self.user_windows(user)["daily"], (5_000_000, 0, 5_000_000))

        # A capture over the single-payment limit is refused: nothing moves, the hold stays open.
        before = self.admin.get(f"/v1/preauths/{hold}").json
        for body in ({"amount_minor": 200_001}, {}, {"amount_minor": 200_001, "final": True}):
            r = hotel_client.post(f"/v1/preauths/{hold}/capture", body)
            self.assertOverLimit(r, "merchant.single")
            self.assertEqual(self.admin.get(f"/v1/preauths/{hold}").json, before)
            self.assertEqual(self.wallet(user), (300_000, 50_000, 250_000))
            self.assertEqual(self.merchant_balance(hotel), (0, 0))
        self.assertEqual((before["status"], before["remaining_minor"], before["captures"]),
                         ("authorized", 250_000, []))

        # Exactly the limit is captured, and counted as a payment of the merchant and the user.
        r = hotel_client.post(f"/v1/preauths/{hold}/capture", {"amount_minor": 200_000})
        self.assertEqual(r.status, 200, r)
        capture = r.json["capture"]["txn_id"]
        self.assertEqual((r.json["preauth"]["status"], r.json["preauth"]["remaining_minor"]),
                         ("partially_captured", 50_000))
        self.assertEqual(self.merchant_windows(hotel)["daily"], (2_000_000, 200_000, 1_800_000))
        self.assertEqual(self.user_windows(user)["daily"], (5_000_000, 200_000, 4_800_000))

        # The user's limits too: a capture over the user's single-payment limit is refused.
        self.set_user_limits(user, {"single_payment": 10_000})
        r = hotel_client.post(f"/v1/preauths/{hold}/capture", {"amount_minor": 10_001})
        self.assertOverLimit(r, "user.single")
        self.assertEqual(self.admin.get(f"/v1/preauths/{hold}").json["remaining_minor"], 50_000)
        r = self.admin.post(f"/v1/preauths/{hold}/capture", {"amount_minor": 10_000})
        self.assertEqual(r.status, 200, r)
        # Refunding the capture gives its quota back like any payment's.
        self.refunded(hotel_client, capture)
        self.assertEqual(self.merchant_windows(hotel)["daily"], (2_000_000, 10_000, 1_990_000))
        self.assertEqual(self.user_windows(user)["daily"], (5_000_000, 10_000, 4_990_000))


class LimitsAcrossRestartsTest(LimitsCase):
    """Counters and overrides are in the journal: a clean stop (snapshot) and a kill -9 (replay)
    keep them. The user defaults and the day's offset come from the configuration at each start."""

    def tearDown(self):
        self.server.cleanup()

    def restart(self, kill=False, **env):
        if kill:
            self.server.kill()
        else:
            self.assertEqual(self.server.stop(), 0)
        self.server.extra_env = {**self.env, **env}
        self.server.start()
        self.connect()

    def reads(self, shop, user):
        return (self.limits(f"/v1/merchants/{shop}")[0], self.limits(f"/v1/users/{user}")[0],
                self.limits(f"/v1/merchants/{shop}", currency="USD")[0])

    def test_counters_and_overrides_survive_restarts(self):
        self.start_server()
        # Paid in yen and dollars: a multi-currency tier.
        shop, shop_key = self.new_merchant("business")
        user, client = self.new_user({"JPY": 200_000, "USD": 100_000})
        other, _ = self.new_user()
        self.set_merchant_limits(shop, {"single_payment": 30_000, "daily": 60_000})
        self.set_user_limits(user, {"daily": 70_000})
        first = self.paid(client, user, shop, 30_000)
        self.paid(client, user, shop, 30_000)
        self.paid(client, user, shop, 50_000, "USD")
        self.assertOverLimit(self.pay(client, user, shop, 1), "merchant.daily")
        self.refunded(shop_key, first, 5_000)
        before = self.reads(shop, user)
        self.assertEqual(self.merchant_windows(shop)["daily"], (60_000, 55_000, 5_000))
        self.assertEqual(self.user_windows(user)["daily"], (70_000, 55_000, 15_000))

        # A clean stop: the same limits, used and remaining, and the same refusals.
        self.restart()
        client = self.server.client(client.token)
        self.assertEqual(self.reads(shop, user), before)
        self.assertOverLimit(self.pay(client, user, shop, 5_001), "merchant.daily")
        self.paid(client, user, shop, 5_000)
        after = self.reads(shop, user)
        self.assertEqual(after[0]["limits"][1]["used_minor"], 60_000)

        # A kill -9: the journal's replay has the last payment.
        self.restart(kill=True)
        self.assertEqual(self.reads(shop, user), after)
        self.assertOverLimit(self.pay(self.admin, user, shop, 1), "merchant.daily")

        # Other defaults in the configuration: in force from the start, under the overrides.
        self.restart(BURSAR_USER_SINGLE_LIMIT_MAJOR="1000", BURSAR_USER_DAILY_LIMIT_MAJOR="2000")
        # Journaled at the first start and now, when the configuration changed; not in between.
        self.assertEqual(self.server.read_log().count("risk settings configured"), 2)
        self.assertEqual(self.user_windows(other), {"single": (1_000, 0, 1_000),
                                                    "daily": (2_000, 0, 2_000)})
        self.assertEqual(self.user_windows(user), {"single": (1_000, 0, 1_000),
                                                   "daily": (70_000, 60_000, 10_000)})
        self.assertEqual(self.reads(shop, user)[0], after[0])
        self.set_merchant_limits(shop, {"single_payment": 30_000, "daily": 100_000})
        self.assertOverLimit(self.pay(self.admin, user, shop, 1_001), "user.single")
        self.paid(self.admin, user, shop, 1_000)

    def test_days_follow_the_configured_offset(self):
        self.start_server()
        shop, shop_key = self.new_merchant("starter")
        user, client = self.new_user({"JPY": 200_000})
        payments = [self.paid(client, user, shop, 10_000) for _ in range(10)]
        self.assertOverLimit(self.pay(client, user, shop, 1), "merchant.daily")
        # Thirteen hours on or back from noon: another day, whose window is empty.
        shifted = self.offset - 13 * 60 if self.offset >= 60 else self.offset + 13 * 60
        self.restart(BURSAR_UTC_OFFSET=offset_text(shifted))
        self.assertEqual(self.merchant_windows(shop)["daily"], (100_000, 0, 100_000))
        self.assertEqual(self.user_windows(user)["daily"], (5_000_000, 0, 5_000_000))
        self.paid(client, user, shop, 10_000)
        self.assertEqual(self.merchant_windows(shop)["daily"], (100_000, 10_000, 90_000))
        self.assertOverLimit(self.pay(client, user, shop, 10_001), "merchant.single")


if __name__ == "__main__":
    unittest.main()
