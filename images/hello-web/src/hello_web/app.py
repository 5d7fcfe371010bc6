"""The HTTP handler of hello-web."""

import http.server
import json
import socket

from . import __version__


def respond(path):
    """(status, content type, body) for a GET of `path`."""
    path = path.split("?", 1)[0]
    if path == "/healthz":
        return 200, "text/plain; charset=utf-8", "ok\n"
    if path == "/":
        body = {"hello": "world", "host": socket.gethostname(), "version": __version__}
        return 200, "application/json", json.dumps(body, sort_keys=True) + "\n"
    return 404, "application/json", json.dumps({"error": "not found", "path": path}) + "\n"


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "hello-web/" + __version__

    def do_GET(self):  # noqa: N802 (the stdlib's name)
        status, content_type, body = respond(self.path)
        payload = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
