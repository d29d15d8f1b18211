"""The live stream over WebSocket against the real `bursar serve` (issue 4): authorization
filtering (header and ?token=), refusal without credentials, and a deliberately slow client closed
with 1008 while payments keep succeeding and a fast client receives every event. A minimal RFC 6455
client is written here (the standard library has none)."""

import base64
import hashlib
import json
import os
import socket
import struct
import threading
import time
import unittest

from harness import Server, register_and_login


class WebSocket:
    def __init__(self, port, token=None, query_token=None, receive_buffer=None):
        self.sock = socket.socket()
        if receive_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.connect(("127.0.0.1", port))
        self.sock.settimeout(10)
        key = base64.b64encode(os.urandom(16)).decode()
        path = "/v1/stream" + (f"?token={query_token}" if query_token else "")
        headers = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                   "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if token:
            headers.append(f"Authorization: Bearer {token}")
        self.sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n").decode()
        self.status = int(head.split()[1])
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        if self.status == 101:
            assert accept.decode() in head, head
        self.close_code = None

    def _read_until(self, marker):
        while marker not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buffer += data
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _read_exact(self, n):
        while len(self.buffer) < n:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buffer += data
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def receive(self):
        """The next text message (JSON), or None when the server closed (close_code set)."""
        while True:
            b0, b1 = self._read_exact(2)
            opcode, length = b0 & 0x0F, b1 & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read_exact(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read_exact(8))[0]
            payload = self._read_exact(length)
            if opcode == 0x1:
                return json.loads(payload)
            if opcode == 0x8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                return None
            if opcode == 0x9:  # ping: answer with a masked pong
                mask = os.urandom(4)
                masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
                self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)

    def close(self):
        self.sock.close()


class StreamTest(unittest.TestCase):
    def test_filtering_refusal_and_slow_clients(self):
        server = Server(env={"BURSAR_STREAM_QUEUE_MESSAGES_MAX": "64"}).start()
        try:
            anonymous = server.client()
            alice, alice_token = register_and_login(anonymous, "alice@example.com")
            bob, bob_token = register_and_login(anonymous, "bob@example.com")
            admin = server.admin()
            shop = admin.post("/v1/merchants", {"name": "A"}).json
            other = admin.post("/v1/merchants", {"name": "B"}).json
            self.assertEqual(admin.post(f"/v1/wallets/{alice}/topup", {"amount_minor": 10_000_000}).status, 200)

            self.assertEqual(WebSocket(server.port).status, 401)
            self.assertEqual(WebSocket(server.port, token="ses_forged").status, 401)
            streams = {
                "admin": WebSocket(server.port, token=server.admin_token),
                "alice": WebSocket(server.port, query_token=alice_token),
                "bob": WebSocket(server.port, token=bob_token),
                "shop": WebSocket(server.port, token=shop["api_key"]),
                "other": WebSocket(server.port, query_token=other["api_key"]),
            }
            for name, ws in streams.items():
                self.assertEqual(ws.status, 101, name)
            alice_client = server.client(alice_token)
            pay = alice_client.post("/v1/payments", {"user_id": alice, "merchant_id": shop["merchant_id"],
                                                     "amount_minor": 500}).json["txn_id"]
            send = alice_client.post("/v1/transfers", {"from_user_id": alice, "to_user_id": bob,
                                                       "amount_minor": 300}).json["txn_id"]
            marker = alice_client.post("/v1/payments", {"user_id": alice, "merchant_id": other["merchant_id"],
                                                        "amount_minor": 1}).json["txn_id"]
            expected = {"admin": [pay, send, marker], "alice": [pay, send, marker], "bob": [send],
                        "shop": [pay], "other": [marker]}
            for name, txns in expected.items():
                got = [streams[name].receive()["txn_id"] for _ in txns]
                self.assertEqual(got, txns, name)
            # Nothing more for anyone: bob and the shops saw only their own.
            for ws in streams.values():
                ws.sock.settimeout(0.3)
                with self.assertRaises(socket.timeout):
                    ws.receive()
                ws.sock.settimeout(10)

            # A client that never reads is closed with 1008; payments go on; a reader gets all.
            slow = WebSocket(server.port, token=server.admin_token, receive_buffer=4096)
            fast = streams["admin"]
            received = []
            reader = threading.Thread(target=lambda: [received.append(fast.receive()) for _ in range(N)])
            N = 3000
            reader.start()
            errors = []

            def pay_many(count):
                client = server.client(alice_token)
                for _ in range(count):
                    r = client.post("/v1/payments", {"user_id": alice, "merchant_id": shop["merchant_id"],
                                                     "amount_minor": 1})
                    if r.status != 200:
                        errors.append(r)

            workers = [threading.Thread(target=pay_many, args=(N // 4,)) for _ in range(4)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            reader.join(timeout=30)
            self.assertEqual(errors, [])
            self.assertEqual(len(received), N)
            self.assertTrue(all(m and m["type"] == "PAY" for m in received))
            # The slow client: whatever it had buffered, then the close frame with 1008.
            slow.sock.settimeout(10)
            while slow.receive() is not None:
                pass
            self.assertEqual(slow.close_code, 1008)
            # The streams of alice and the shop did not read either while 3000 payments were
            # theirs: closed as well. Bob's and the other shop's got none of them: still open, as
            # is the reading admin.
            metrics = server.client().get("/metrics").body
            self.assertIn("bursar_stream_slow_clients_closed_total 3", metrics)
            self.assertIn("bursar_stream_connections 3", metrics)
            for ws in streams.values():
                ws.close()
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
