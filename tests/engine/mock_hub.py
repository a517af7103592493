#!/usr/bin/env python3
"""A stand-in for the Hugging Face Hub on loopback, for tst_hub (no network at test time).

Two servers: the "hub" (API and /resolve/ URLs) and a "cdn" on another port, to which the hub
redirects file downloads, as the real Hub redirects to its CDN. Field names follow the Hub's
API: /api/models gives [{id, downloads, likes, lastModified, tags}], /api/models/R/tree/main
gives [{type, path, size, oid, lfs: {oid, size, pointerSize}}].

Repositories (from --repo NAME=DIR, every file of DIR): a repository whose name contains "gated"
answers 401 (X-Error-Code: GatedRepo) unless the request carries "Authorization: Bearer <token>"
(--token). The CDN serves Range requests (206, Content-Range) and logs whether each request
carried an Authorization header.

Faults, set with GET /_control?...:  drop=FILE&count=N&keep=F  (send the fraction F, default
0.5, of the body asked for, then close the connection, N times), status=CODE&count=N (answer CODE, with Retry-After: 0, N times),
corrupt=FILE (serve FILE with one byte changed), stall=FILE&count=N (send half the body, then
nothing for 30 s, N times), norange=FILE (answer Range requests for FILE with the whole file, 200). GET /_log gives the requests seen, as JSON.

Prints "HUB <port> CDN <port>" on stdout when ready; runs until killed or stdin closes.
"""
import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"repos": {}, "token": "", "cdn": "", "drop": {}, "status": [], "corrupt": set(), "stall": {},
         "norange": set(), "log": []}
LOCK = threading.Lock()


def file_bytes(repo, path):
    root = STATE["repos"].get(repo)
    if root is None:
        return None
    full = os.path.realpath(os.path.join(root, path))
    if not full.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(full):
        return None
    with open(full, "rb") as f:
        return f.read()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_role = "hub"

    def log_message(self, *args):
        pass

    def send_json(self, code, value, headers=None):
        body = json.dumps(value).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_error_code(self, code, error_code=""):
        headers = {"X-Error-Code": error_code} if error_code else {}
        self.send_json(code, {"error": error_code or str(code)}, headers)

    def authorized(self, repo):
        if "gated" not in repo:
            return True
        return self.headers.get("Authorization", "") == "Bearer " + STATE["token"]

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        path = urllib.parse.unquote(url.path)
        with LOCK:
            STATE["log"].append({"server": self.server_role, "path": path, "query": url.query,
                                 "range": self.headers.get("Range", ""),
                                 "auth": self.headers.get("Authorization", "")})
        if self.server_role == "cdn":
            return self.serve_blob(path)
        if path == "/_log":
            with LOCK:
                return self.send_json(200, STATE["log"])
        if path == "/_control":
            with LOCK:
                if "drop" in query:
                    STATE["drop"][query["drop"][0]] = [int(query.get("count", ["1"])[0]),
                                                       float(query.get("keep", ["0.5"])[0])]
                if "status" in query:
                    STATE["status"] += [int(query["status"][0])] * int(query.get("count", ["1"])[0])
                if "corrupt" in query:
                    STATE["corrupt"].add(query["corrupt"][0])
                if "stall" in query:
                    STATE["stall"][query["stall"][0]] = int(query.get("count", ["1"])[0])
                if "norange" in query:
                    STATE["norange"].add(query["norange"][0])
                if "reset" in query:
                    for key in ("drop", "status", "corrupt", "stall", "norange", "log"):
                        STATE[key].clear()
            return self.send_json(200, {"ok": True})
        if path == "/api/models":
            words = query.get("search", [""])[0].lower()
            found = [{"_id": str(i), "id": repo, "modelId": repo, "downloads": 1000 - i, "likes": 10 + i,
                      "lastModified": "2026-11-0%dT10:00:00.000Z" % (i + 1), "tags": ["gguf"],
                      "private": False, **({"gated": "manual"} if "gated" in repo else {})}
                     for i, repo in enumerate(sorted(STATE["repos"])) if words in repo.lower()]
            if query.get("filter", [""])[0] != "gguf":
                found = []
            return self.send_json(200, found)
        if path.startswith("/api/models/") and "/tree/" in path:
            repo, _, rest = path[len("/api/models/"):].partition("/tree/")
            if repo not in STATE["repos"]:
                return self.send_error_code(404, "RepoNotFound")
            if not self.authorized(repo):
                return self.send_error_code(401, "GatedRepo")
            entries = []
            root = STATE["repos"][repo]
            for dirpath, _, names in os.walk(root):
                for name in sorted(names):
                    rel = os.path.relpath(os.path.join(dirpath, name), root)
                    data = file_bytes(repo, rel)
                    entries.append({"type": "file", "oid": hashlib.sha1(data).hexdigest(), "size": len(data),
                                    "path": rel, "lfs": {"oid": hashlib.sha256(data).hexdigest(),
                                                         "size": len(data), "pointerSize": 134}})
            entries.append({"type": "directory", "oid": "0" * 40, "size": 0, "path": "docs"})
            return self.send_json(200, entries)
        if "/resolve/" in path:
            repo, _, rest = path.lstrip("/").partition("/resolve/")
            _, _, file_path = rest.partition("/")
            if repo not in STATE["repos"]:
                return self.send_error_code(404, "RepoNotFound")
            if not self.authorized(repo):
                return self.send_error_code(401, "GatedRepo")
            if file_bytes(repo, file_path) is None:
                return self.send_error_code(404, "EntryNotFound")
            with LOCK:
                status = STATE["status"].pop(0) if STATE["status"] else None
            if status:
                self.send_response(status)
                self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(302)
            self.send_header("Location", STATE["cdn"] + "/blob/" + urllib.parse.quote(repo + "/" + file_path))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_error_code(404, "NotFound")

    def serve_blob(self, path):
        repo_file = path[len("/blob/"):] if path.startswith("/blob/") else ""
        owner, _, rest = repo_file.partition("/")
        name, _, file_path = rest.partition("/")
        data = file_bytes(owner + "/" + name, file_path)
        if data is None:
            return self.send_error_code(404)
        with LOCK:
            if file_path in STATE["corrupt"]:
                data = bytes([data[0] ^ 1]) + data[1:]
        first, last, code = 0, len(data) - 1, 200
        rng = self.headers.get("Range", "")
        with LOCK:
            if file_path in STATE["norange"]:
                rng = ""
        if rng.startswith("bytes="):
            a, _, b = rng[len("bytes="):].partition("-")
            first = int(a)
            last = min(int(b), len(data) - 1) if b else len(data) - 1
            if first >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            code = 206
        body = data[first:last + 1]
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", '"%s"' % hashlib.sha256(data).hexdigest())
        if code == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, len(data)))
        self.end_headers()
        with LOCK:
            fault = STATE["drop"].get(file_path)
            drop = fault is not None and fault[0] > 0 and code in (200, 206)
            if drop:
                fault[0] -= 1
            stall = STATE["stall"].get(file_path, 0) > 0 and code in (200, 206)
            if stall:
                STATE["stall"][file_path] -= 1
        if stall:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            time.sleep(30)
            self.close_connection = True
            return
        if drop:
            self.wfile.write(body[:int(len(body) * fault[1])])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)


class CdnHandler(Handler):
    server_role = "cdn"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", action="append", default=[], help="NAME=DIR")
    ap.add_argument("--token", default="")
    args = ap.parse_args()
    for spec in args.repo:
        name, _, root = spec.partition("=")
        STATE["repos"][name] = root
    STATE["token"] = args.token
    hub = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    cdn = ThreadingHTTPServer(("127.0.0.1", 0), CdnHandler)
    hub.daemon_threads = cdn.daemon_threads = True
    STATE["cdn"] = "http://127.0.0.1:%d" % cdn.server_address[1]
    for s in (hub, cdn):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("HUB %d CDN %d" % (hub.server_address[1], cdn.server_address[1]), flush=True)
    sys.stdin.read()  # until the test closes our stdin (or dies)


if __name__ == "__main__":
    main()
