#!/usr/bin/python3
"""A fake bearer-token registry for kiln's auth tests (loopback only).

usage: token_server.py PORT LOG

GET /token checks basic auth alice:wonderland and returns {"token": "tok-<scope>"}.
Every /v2/ path needs "Authorization: Bearer tok-<the scope it requires>" and
otherwise answers 401 with a Bearer challenge naming realm, service and scope.
/v2/<name>/manifests/<ref> returns a fixed manifest. Each request's path (and the
token endpoint's query) is appended to LOG.
"""
import base64
import http.server
import json
import sys
import urllib.parse

PORT, LOG = int(sys.argv[1]), sys.argv[2]
MANIFEST = json.dumps({"schemaVersion": 2,
                       "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "sha256:" + "a" * 64, "size": 2},
                       "layers": []}, separators=(",", ":")).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with open(LOG, "a") as f:
            f.write(self.path + "\n")
        url = urllib.parse.urlparse(self.path)
        if url.path == "/token":
            auth = self.headers.get("Authorization", "")
            if auth != "Basic " + base64.b64encode(b"alice:wonderland").decode():
                self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
                return
            scope = " ".join(urllib.parse.parse_qs(url.query).get("scope", []))
            self.reply(200, json.dumps({"token": "tok-" + scope}).encode())
            return
        parts = url.path.split("/")
        scope = ""
        if "manifests" in parts:
            name = "/".join(parts[2:parts.index("manifests")])
            scope = "repository:" + name + ":pull"
        if self.headers.get("Authorization", "") != "Bearer tok-" + scope:
            challenge = 'Bearer realm="http://127.0.0.1:%d/token",service="fake"' % PORT
            if scope:
                challenge += ',scope="%s"' % scope
            self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}',
                       [("WWW-Authenticate", challenge)])
            return
        if scope:
            self.reply(200, MANIFEST,
                       [("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
        else:
            self.reply(200, b"{}")


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
