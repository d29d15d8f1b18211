"""Events to NATS JetStream end to end (issue 4): payments through the API, with `bursar serve`
killed with -9 and nats-server restarted between them; then the stream holds exactly one message
per payment, in commit order, none duplicated. nats-server (Debian's) runs on loopback; the stream
is read with the NATS text protocol and the JetStream API ($JS.API.STREAM.MSG.GET)."""

import base64
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import Server, free_port, register_and_login


class Nats:
    def __init__(self, store):
        self.port = free_port()
        self.store = store
        self.process = None

    def start(self):
        self.process = subprocess.Popen(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(self.port),
                                         "-sd", self.store, "-l", os.path.join(self.store, "nats.log")])
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nats-server did not start")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def url(self):
        return f"nats://127.0.0.1:{self.port}"

    def stream_messages(self, stream="PAYMENTS"):
        """Every message of the stream, in order, as parsed JSON bodies."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        f = s.makefile("rb")
        f.readline()  # INFO
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _INBOX.test 1\r\n')

        def request(subject, payload):
            data = json.dumps(payload).encode()
            s.sendall(b"PUB %s _INBOX.test %d\r\n%s\r\n" % (subject.encode(), len(data), data))
            while True:
                line = f.readline().decode().strip()
                if line == "PING":
                    s.sendall(b"PONG\r\n")
                elif line.startswith("MSG"):
                    size = int(line.split()[-1])
                    body = f.read(size + 2)[:size]
                    return json.loads(body)

        info = request(f"$JS.API.STREAM.INFO.{stream}", {})
        messages = []
        state = info["state"]
        for seq in range(state["first_seq"], state["first_seq"] + state["messages"]):
            reply = request(f"$JS.API.STREAM.MSG.GET.{stream}", {"seq": seq})
            messages.append(json.loads(base64.b64decode(reply["message"]["data"])))
        s.close()
        return messages


class JetStreamEventsTest(unittest.TestCase):
    def test_one_message_per_payment_across_kill_nine_and_nats_restart(self):
        store = tempfile.mkdtemp(prefix="bursar-nats-")
        nats = Nats(store)
        nats.start()
        server = Server(env={"BURSAR_NATS_URL": nats.url()}).start()
        try:
            user, token = register_and_login(server.client(), "payer@example.com")
            admin = server.admin()
            shop = admin.post("/v1/merchants", {"name": "Shop"}).json["merchant_id"]
            self.assertEqual(admin.post(f"/v1/wallets/{user}/topup", {"amount_minor": 100_000}).status, 200)
            txns = []

            def pay(count):
                client = server.client(token)
                for _ in range(count):
                    r = client.post("/v1/payments", {"user_id": user, "merchant_id": shop, "amount_minor": 7})
                    self.assertEqual(r.status, 200, r)
                    txns.append(r.json["txn_id"])

            pay(10)
            server.kill()  # kill -9 between payments
            server.start()
            pay(10)
            nats.kill()  # NATS goes away and comes back with its store
            pay(5)
            nats.start()
            pay(5)
            deadline = time.time() + 30
            messages = []
            while time.time() < deadline:
                messages = nats.stream_messages()
                if len(messages) >= 1 + len(txns):
                    break
                time.sleep(0.2)
            # The top-up and every payment, once each, in commit order.
            self.assertEqual([m["type"] for m in messages], ["TOPUP"] + ["PAY"] * len(txns))
            self.assertEqual([m["txn_id"] for m in messages[1:]], txns)
            self.assertEqual(len({m["event_id"] for m in messages}), len(messages))
            self.assertTrue(all(m["amount_minor"] == 7 and m["merchant_id"] == shop for m in messages[1:]))
            time.sleep(0.5)
            self.assertEqual(len(nats.stream_messages()), 1 + len(txns))  # nothing more arrives
            metrics = server.client().get("/metrics").body
            self.assertIn("bursar_jetstream_connected 1", metrics)
            self.assertIn("bursar_jetstream_lag_seconds", metrics)
            check = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True, text=True)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        finally:
            server.cleanup()
            nats.kill()
            subprocess.run(["rm", "-rf", store])


if __name__ == "__main__":
    unittest.main()
