"""Holds WebSocket clients on /v1/stream for bench/http-live.sh: N users (each sees the events of
their own wallet) and one admin (sees every event and measures the lag from commit, the event's
ts, to delivery). Runs until SIGTERM, then prints the lag percentiles and the message count."""

import base64
import json
import os
import selectors
import signal
import socket
import sys
import time
from datetime import datetime

port, admin_token, tokens_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def connect(token):
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /v1/stream?token={token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert b" 101 " in head, head
    s.setblocking(False)
    return s


clients = [connect(t.strip()) for t in open(tokens_file) if t.strip()]
admin = connect(admin_token)
buffers = {s: b"" for s in clients + [admin]}
selector = selectors.DefaultSelector()
for s in buffers:
    selector.register(s, selectors.EVENT_READ)
lags, messages, closed = [], 0, []
running = True
signal.signal(signal.SIGTERM, lambda *_: globals().__setitem__("running", False))
print(f"ws: {len(clients)} user clients and 1 admin client connected", flush=True)
while running:
    for key, _ in selector.select(timeout=0.2):
        s = key.fileobj
        try:
            data = s.recv(1 << 20)
        except BlockingIOError:
            continue
        if not data:
            selector.unregister(s)
            closed.append(s)
            continue
        buffers[s] += data
        while True:
            b = buffers[s]
            if len(b) < 2:
                break
            length, offset = b[1] & 0x7F, 2
            if length == 126:
                if len(b) < 4:
                    break
                length, offset = int.from_bytes(b[2:4], "big"), 4
            elif length == 127:
                if len(b) < 10:
                    break
                length, offset = int.from_bytes(b[2:10], "big"), 10
            if len(b) < offset + length:
                break
            payload, buffers[s] = b[offset:offset + length], b[offset + length:]
            if b[0] & 0x0F != 0x1:
                continue
            messages += 1
            if s is admin:
                ts = json.loads(payload)["ts"]
                committed = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() + \
                    (datetime.now() - datetime.utcnow()).total_seconds()
                lags.append(time.time() - committed)
lags.sort()
pick = lambda p: lags[min(len(lags) - 1, int(p / 100 * len(lags)))] * 1000 if lags else float("nan")
print(f"ws: {messages} messages received, {len(closed)} clients closed by the server; "
      f"commit -> WebSocket lag p50 {pick(50):.1f} ms, p99 {pick(99):.1f} ms, max {pick(100):.1f} ms", flush=True)
