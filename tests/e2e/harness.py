"""Runs `bursar serve` on a free loopback port and talks to it over HTTP (standard library only)."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BINARY = os.environ.get("BURSAR_TEST_BINARY", "build/release/bursar")
START_TIMEOUT_S = 30
OPENAPI_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "api",
                            "openapi.json")
# Statuses the HTTP layer may answer on any route (docs/api.md): their body is an Error.
SERVER_STATUSES = {404, 405, 408, 413, 431, 500, 503, 504}


class OpenApiDocument:
    """Checks every response the tests receive against src/api/openapi.json: its status is
    documented for the operation (or is one of the server's own), and its JSON body matches the
    documented schema, with no property the schema does not name."""

    def __init__(self, path=OPENAPI_PATH):
        with open(path) as f:
            self.document = json.load(f)
        self.operations = []
        for template, item in self.document["paths"].items():
            pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
            for method, operation in item.items():
                self.operations.append((method.upper(), re.compile(pattern), template, operation))

    def resolve(self, schema):
        while "$ref" in schema:
            node = self.document
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def check_value(self, schema, value, where):
        schema = self.resolve(schema)
        if "oneOf" in schema:
            results = [self.check_value(option, value, where) for option in schema["oneOf"]]
            if any(not problems for problems in results):
                return []
            return [f"{where}: matches none of oneOf: " + " | ".join("; ".join(p) for p in results)]
        if value is None:
            return [] if schema.get("nullable") else [f"{where}: null where not nullable"]
        kind = schema.get("type")
        types = {"object": dict, "array": list, "string": str, "boolean": bool}
        if kind in types and not isinstance(value, types[kind]):
            return [f"{where}: {type(value).__name__}, documented {kind}"]
        if kind in ("integer", "number") and (isinstance(value, bool) or
                                              not isinstance(value, (int, float))):
            return [f"{where}: {type(value).__name__}, documented {kind}"]
        if kind == "integer" and not isinstance(value, int):
            return [f"{where}: not an integer"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} not in {schema['enum']}"]
        problems = []
        if kind == "object" and "properties" in schema:
            for name in schema.get("required", []):
                if name not in value:
                    problems.append(f"{where}.{name}: required, missing")
            for name, item in value.items():
                if name not in schema["properties"]:
                    if not schema.get("additionalProperties"):
                        problems.append(f"{where}.{name}: not in the document")
                    continue
                problems += self.check_value(schema["properties"][name], item, f"{where}.{name}")
        if kind == "array" and "items" in schema:
            for i, item in enumerate(value):
                problems += self.check_value(schema["items"], item, f"{where}[{i}]")
        return problems

    def check(self, method, target, status, body):
        """The problems of one response (empty: in step with the document)."""
        path = target.split("?", 1)[0]
        matches = [op for op in self.operations if op[0] == method and op[1].match(path)]
        if not matches:
            return []  # no route: the router's 404 or 405
        # A literal path wins over a template one (/v1/ledger/transactions vs .../{id}).
        _, _, template, operation = min(matches, key=lambda op: op[2].count("{"))
        responses = operation.get("responses", {})
        where = f"{method} {template} {status}"
        if str(status) in responses:
            answer = self.resolve(responses[str(status)])
        elif status in SERVER_STATUSES:
            answer = {"content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Error"}}}}
        else:
            return [f"{where}: status not documented"]
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        if schema is None or not body:
            return []
        try:
            value = json.loads(body)
        except ValueError:
            return [f"{where}: body is not JSON"]
        return self.check_value(schema, value, where)


DOCUMENT = OpenApiDocument()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def error_code(self):
        return (self.json or {}).get("error", {}).get("code")

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Client:
    """One keep-alive connection; reconnects once if the server closed it."""

    def __init__(self, port, token=None):
        self.port = port
        self.token = token
        self.connection = None

    def request(self, method, path, body=None, token=None, headers=None, raw=None):
        all_headers = dict(headers or {})
        auth = token if token is not None else self.token
        if auth:
            all_headers["Authorization"] = "Bearer " + auth
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.connection.request(method, path, body=payload, headers=all_headers)
                r = self.connection.getresponse()
                data = r.read().decode()
                result = Response(r.status, r.getheaders(), data)
                problems = DOCUMENT.check(method, path, r.status, data)
                if problems:
                    raise AssertionError("response not as documented: " + "; ".join(problems))
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return result
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def __del__(self):
        self.close()

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Server:
    """A `bursar serve` process with its own data directory."""

    def __init__(self, data_dir=None, demo=False, env=None):
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="bursar-e2e-")
        self.owns_dir = data_dir is None
        self.demo = demo
        self.extra_env = env or {}
        self.port = free_port()
        self.process = None
        self.output = ""

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("BURSAR_")}
        env.update({"BURSAR_DATA_DIR": self.data_dir, "BURSAR_LISTEN": f"127.0.0.1:{self.port}"})
        env.update(self.extra_env)
        args = [BINARY, "serve"] + (["--demo"] if self.demo else [])
        if getattr(self, "log", None) is not None:
            self.log.close()
        self.log = open(self.data_dir.rstrip("/") + ".log", "a")
        self.process = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + START_TIMEOUT_S
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"bursar serve exited with {self.process.returncode}: {self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError("bursar serve did not start: " + self.read_log())
        with open(os.path.join(self.data_dir, "admin-token")) as f:
            self.admin_token = f.read().strip()
        return self

    def read_log(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def client(self, token=None):
        return Client(self.port, token)

    def admin(self):
        return Client(self.port, self.admin_token)

    def stop(self):
        """SIGTERM: a graceful stop; returns the exit code."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        return self.process.returncode

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def cleanup(self):
        self.kill()
        self.log.close()
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            try:
                os.remove(self.log.name)
            except OSError:
                pass


def register_and_login(client, email, password="secret-password", name="Test User"):
    r = client.post("/v1/users/register", {"email": email, "password": password, "name": name})
    assert r.status == 201, r
    user_id = r.json["user_id"]
    r = client.post("/v1/users/login", {"email": email, "password": password})
    assert r.status == 200, r
    return user_id, r.json["token"]


def wallet_figures(client, user, currency="JPY"):
    """(balance, available, frozen) of the user's wallet in `currency`, or None without one."""
    r = client.get(f"/v1/wallets/{user}")
    assert r.status == 200, r
    for b in r.json["balances"]:
        if b["currency"] == currency:
            return b["balance_minor"], b["available_minor"], b["frozen_minor"]
    return None


def merchant_history(client, merchant, currency="JPY"):
    """Every movement of the merchant's account in `currency`, newest first (every page)."""
    items, cursor = [], None
    while True:
        path = f"/v1/merchants/{merchant}/history?currency={currency}&size=100"
        r = client.get(path + (f"&cursor={cursor}" if cursor else ""))
        assert r.status == 200, r
        items += r.json["items"]
        cursor = r.json["nextCursor"]
        if cursor is None:
            return items


def merchant_balance(client, merchant, currency="JPY"):
    """The merchant's balance in `currency`: the balance after its last movement (0 without)."""
    r = client.get(f"/v1/merchants/{merchant}/history?currency={currency}&size=1")
    assert r.status == 200, r
    return r.json["items"][0]["balance_after_minor"] if r.json["items"] else 0

