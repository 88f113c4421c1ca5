#!/usr/bin/python3
"""A fault-injecting HTTP proxy for kiln's registry tests (loopback only).

usage: fault_proxy.py LISTEN_PORT UPSTREAM_PORT PLAN_JSON COUNTS_JSON

Forwards every request to 127.0.0.1:UPSTREAM_PORT (keeping the Host header, so the
registry's upload Locations point back at the proxy). Before each request it
reloads PLAN_JSON when it changed: {"rules": [{"method": "GET", "path": "/blobs/",
"action": "status"|"truncate"|"corrupt"|"redirect", "status": 500, "retry_after": "0",
"after": 100, "count": 2}]}; a rule applies to requests whose method matches and
whose path contains "path", `count` times (-1: always). After each request it
writes COUNTS_JSON: {"GET blob": 3, "PUT upload": 1, ...}.
"""
import http.client
import http.server
import json
import os
import sys
import threading

LISTEN, UPSTREAM, PLAN, COUNTS = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = threading.Lock()
state = {"mtime": None, "rules": [], "counts": {}}


def kind(path):
    if "/blobs/uploads/" in path:
        return "upload"
    if "/blobs/" in path:
        return "blob"
    if "/manifests/" in path:
        return "manifest"
    return "other"


def take_rule(method, path):
    with lock:
        try:
            mtime = os.stat(PLAN).st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime != state["mtime"]:
            state["mtime"] = mtime
            state["rules"] = json.load(open(PLAN))["rules"] if mtime else []
        key = method + " " + kind(path)
        state["counts"][key] = state["counts"].get(key, 0) + 1
        tmp = COUNTS + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state["counts"], f, sort_keys=True)
        os.rename(tmp, COUNTS)
        for rule in state["rules"]:
            if rule.get("method", method) == method and rule.get("path", "") in path:
                if rule.get("count", -1) == 0:
                    continue
                if rule.get("count", -1) > 0:
                    rule["count"] -= 1
                return dict(rule)
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        rule = take_rule(self.command, self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if rule and rule["action"] == "status":
            self.send_response(rule["status"])
            if "retry_after" in rule:
                self.send_header("Retry-After", rule["retry_after"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if rule and rule["action"] == "redirect":
            # Like a registry that sends blob downloads to blob storage elsewhere.
            self.send_response(307)
            self.send_header("Location", "http://127.0.0.1:%d%s" % (UPSTREAM, self.path))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM)
        # Repeated headers (skopeo sends one Accept per media type) are joined, so the
        # registry sees every accepted manifest type.
        headers = {}
        for k, v in self.headers.items():
            headers[k] = headers[k] + ", " + v if k in headers else v
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        declared = response.getheader("Content-Length")
        if self.command == "HEAD" and declared is not None:
            self.send_header("Content-Length", declared)
        else:
            self.send_header("Content-Length", str(len(data)))
        if rule and rule["action"] == "truncate":
            self.send_header("Connection", "close")
        self.end_headers()
        upstream.close()
        if self.command == "HEAD":
            return
        if rule and rule["action"] == "truncate" and response.status < 300:
            self.wfile.write(data[: rule.get("after", len(data) // 2)])
            self.wfile.flush()
            self.close_connection = True
            return
        if rule and rule["action"] == "corrupt" and response.status < 300 and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN), Handler).serve_forever()
