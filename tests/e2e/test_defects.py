"""The defects a new user hit (issue 8), each as the user met it, against the real `bursar serve`;
and the secrets rule: no token or key that was issued is anywhere in the data directory."""

import http.client
import json
import os
import stat
import time
import unittest

from harness import Server, register_and_login


def raw_request(port, method, path, body, headers):
    """A request with exactly these headers (http.client's request() would add none of its own
    but Host and Content-Length)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest(method, path, skip_accept_encoding=True)
    for name, value in headers:
        connection.putheader(name, value)
    payload = body.encode()
    connection.putheader("Content-Length", str(len(payload)))
    connection.endheaders(payload)
    response = connection.getresponse()
    data = response.read().decode()
    connection.close()
    return response.status, json.loads(data) if data else None


class DefectsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(env={"BURSAR_TEST_NO_SIMULATOR": "1"}).start()
        cls.admin = cls.server.admin()
        cls.anonymous = cls.server.client()
        cls.issued = []  # every session token and API key the server gave out
        cls.carol, token = register_and_login(cls.anonymous, "carol@example.com")
        cls.issued.append(token)
        cls.carol_client = cls.server.client(token)
        cls.dan, token = register_and_login(cls.anonymous, "dan@example.com")
        cls.issued.append(token)
        cls.dan_client = cls.server.client(token)
        r = cls.admin.post("/v1/merchants", {"name": "Tea House", "tier": "business"})
        assert r.status == 201, r
        cls.shop = r.json["merchant_id"]
        cls.issued.append(r.json["api_key"])
        r = cls.carol_client.post(f"/v1/wallets/{cls.carol}/topup", {"amount_minor": 50_000})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_authentication_comes_before_validation(self):
        for token in (None, "ses_not-a-session", "sk_not-a-key"):
            client = self.server.client(token)
            r = client.post("/v1/payments", {})
            self.assertEqual((r.status, r.error_code()), (401, "UNAUTHENTICATED"), (token, r))
            r = client.get("/v1/wallets/usr_abc")
            self.assertEqual(r.status, 401, (token, r))
        # Signed in, the same requests are told what is wrong with them.
        r = self.carol_client.post("/v1/payments", {})
        self.assertEqual((r.status, r.json["error"]["param"]), (400, "user_id"), r)

    def test_an_empty_idempotency_key_is_refused(self):
        body = json.dumps({"amount_minor": 7})
        for value in ("", " "):
            status, answer = raw_request(
                self.server.port, "POST", f"/v1/wallets/{self.carol}/topup", body,
                [("Authorization", "Bearer " + self.server.admin_token),
                 ("Content-Type", "application/json"), ("Idempotency-Key", value)])
            self.assertEqual(status, 400, answer)
            self.assertEqual(answer["error"]["param"], "Idempotency-Key")

    def test_the_fingerprint_compares_parameters_not_bytes(self):
        key = {"Idempotency-Key": "canonical-1"}
        first = self.carol_client.request(
            "POST", "/v1/payments", headers=key,
            raw=json.dumps({"user_id": self.carol, "merchant_id": self.shop, "amount_minor": 300}))
        self.assertEqual(first.status, 200, first)
        same = self.carol_client.request(
            "POST", "/v1/payments", headers=key,
            raw='{ "amount_minor" : 300,\n  "merchant_id":"%s", "user_id": "%s" }' % (self.shop,
                                                                                     self.carol))
        self.assertEqual(same.status, 200, same)
        self.assertEqual(same.headers.get("idempotent-replayed"), "true")
        self.assertEqual(same.json, first.json)
        other = self.carol_client.request(
            "POST", "/v1/payments", headers=key,
            raw=json.dumps({"user_id": self.carol, "merchant_id": self.shop, "amount_minor": 301}))
        self.assertEqual(other.error_code(), "IDEMPOTENCY_KEY_MISMATCH", other)

    def test_an_oversized_amount_names_the_field(self):
        r = self.carol_client.request(
            "POST", f"/v1/wallets/{self.carol}/topup",
            raw='{"amount_minor": 99999999999999999999999}')
        self.assertEqual((r.status, r.json["error"]["param"]), (400, "amount_minor"), r)
        self.assertIn("10^18", r.json["error"]["message"])

    def test_a_malformed_id_is_400_and_a_missing_one_404(self):
        for path in ("/v1/wallets/usr_abc", "/v1/users/usr_0", "/v1/payments/pay_1",
                     "/v1/ledger/transactions/txn_x"):
            r = self.admin.get(path)
            self.assertEqual((r.status, r.error_code()), (400, "INVALID_REQUEST"), (path, r))
        r = self.admin.get("/v1/wallets/usr_999")
        self.assertEqual(r.status, 404, r)

    def test_emails_are_unique_in_any_case(self):
        r = self.anonymous.post("/v1/users/register",
                                {"email": "CAROL@Example.com", "password": "secret-password",
                                 "name": "Another Carol"})
        self.assertEqual((r.status, r.error_code()), (409, "EMAIL_ALREADY_REGISTERED"), r)
        r = self.anonymous.post("/v1/users/login",
                                {"email": "Carol@EXAMPLE.com", "password": "secret-password"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user_id"], self.carol)
        self.issued.append(r.json["token"])

    def test_router_errors_are_sentences(self):
        for method, path in (("GET", "/v1/nothing"), ("DELETE", "/v1/payments")):
            r = self.admin.request(method, path)
            message = r.json["error"]["message"]
            self.assertTrue(message[0].isupper() and message.endswith("."), (method, path, r))

    def test_any_visible_transaction_by_id(self):
        r = self.carol_client.post("/v1/transfers", {"from_user_id": self.carol,
                                                      "to_user_id": self.dan,
                                                      "amount_minor": 250})
        self.assertEqual(r.status, 200, r)
        transfer = r.json["txn_id"]
        for client in (self.carol_client, self.dan_client, self.admin):  # payer, recipient, admin
            r = client.get(f"/v1/ledger/transactions/{transfer}")
            self.assertEqual(r.status, 200, r)
            self.assertEqual((r.json["type"], r.json["amount_minor"], r.json["to_user_id"]),
                             ("TRANSFER", 250, self.dan))
        r = self.carol_client.post(f"/v1/wallets/{self.carol}/topup", {"amount_minor": 10})
        topup = r.json["txn_id"]
        self.assertEqual(self.carol_client.get(f"/v1/ledger/transactions/{topup}").json["type"],
                         "TOPUP")
        # Another user's top-up is not there for Dan, as if it did not exist.
        r = self.dan_client.get(f"/v1/ledger/transactions/{topup}")
        self.assertEqual((r.status, r.error_code()), (404, "NOT_FOUND"), r)

    def test_replays_of_login_and_merchant_creation_show_no_secret(self):
        key = {"Idempotency-Key": "login-once"}
        body = {"email": "dan@example.com", "password": "secret-password"}
        first = self.anonymous.request("POST", "/v1/users/login", body, headers=key)
        self.assertEqual(first.status, 200, first)
        self.assertTrue(first.json["token"].startswith("ses_"))
        self.issued.append(first.json["token"])
        again = self.anonymous.request("POST", "/v1/users/login", body, headers=key)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.headers.get("idempotent-replayed"), "true")
        self.assertIsNone(again.json["token"])
        self.assertEqual(again.json["user_id"], first.json["user_id"])
        key = {"Idempotency-Key": "merchant-once"}
        first = self.admin.request("POST", "/v1/merchants", {"name": "Once"}, headers=key)
        self.assertEqual(first.status, 201, first)
        self.issued.append(first.json["api_key"])
        again = self.admin.request("POST", "/v1/merchants", {"name": "Once"}, headers=key)
        self.assertEqual((again.status, again.json["api_key"]), (201, None), again)
        self.assertEqual(again.json["merchant_id"], first.json["merchant_id"])
        # The first answer's key works; nothing else was created.
        shop = self.server.client(self.issued[-1])
        r = shop.get("/v1/ledger/transactions")
        self.assertEqual(r.status, 200, r)

    def test_zz_no_issued_secret_is_in_the_data_directory(self):
        # Last (zz): after the others issued their tokens and keys. A snapshot and the read
        # model are written too before the data directory is searched.
        self.assertGreaterEqual(len(self.issued), 5)
        r = self.carol_client.post("/v1/users/logout")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.server.stop(), 0)
        found = []
        for root, _, files in os.walk(self.server.data_dir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    data = f.read()
                for secret in self.issued:
                    if secret.encode() in data:
                        found.append((name, secret[:8]))
        with open(self.server.log.name, "rb") as f:
            log = f.read()
        for secret in self.issued:
            if secret.encode() in log:
                found.append(("log", secret[:8]))
        self.assertEqual(found, [])
        # Who may read it: the directory 0700, the journal and the read model 0600.
        mode = stat.S_IMODE(os.stat(self.server.data_dir).st_mode)
        self.assertEqual(mode, 0o700, oct(mode))
        for sub in ("journal", "snapshots"):
            path = os.path.join(self.server.data_dir, sub)
            if os.path.isdir(path):
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o700, sub)
                for name in os.listdir(path):
                    self.assertEqual(stat.S_IMODE(os.stat(os.path.join(path, name)).st_mode),
                                     0o600, name)
        model = os.path.join(self.server.data_dir, "readmodel.sqlite")
        self.assertEqual(stat.S_IMODE(os.stat(model).st_mode), 0o600)
        self.server.start()  # for tearDownClass's cleanup


class DemoSimulatorTest(unittest.TestCase):
    def test_the_simulator_moves_only_its_own_users_money(self):
        server = Server(demo=True).start()
        try:
            client = server.client()
            people = []
            for i in range(4):
                user, token = register_and_login(client, f"person{i}@example.com")
                r = server.client(token).post(f"/v1/wallets/{user}/topup",
                                              {"amount_minor": 10_000})
                self.assertEqual(r.status, 200, r)
                people.append(user)
            time.sleep(4)  # about ten simulated money movements
            admin = server.admin()
            for user in people:
                r = admin.get(f"/v1/ledger/transactions?user_id={user}")
                self.assertEqual(r.status, 200, r)
                self.assertEqual([t["type"] for t in r.json["items"]], ["TOPUP"], user)
                r = admin.get(f"/v1/wallets/{user}")
                self.assertEqual(r.json["balances"][0]["balance_minor"], 10_000)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
