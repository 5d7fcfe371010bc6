#!/usr/bin/env python3
"""A small Prometheus exporter for memcached (stdlib only).

Speaks memcached's text protocol ("stats") to MEMCACHED_ADDRESS (host:port, or
--memcached.address) on every scrape and serves the figures at /metrics in the
Prometheus text format, under the metric names of the upstream memcached_exporter.
"""

import argparse
import http.server
import os
import socket
import sys

VERSION = "0.1.0"

# stats key -> (metric name, type, help)
GAUGES = {
    "uptime": ("memcached_uptime_seconds", "counter", "Seconds the server has been running."),
    "curr_connections": ("memcached_current_connections", "gauge", "Open connections."),
    "total_connections": ("memcached_connections_total", "counter", "Connections opened."),
    "curr_items": ("memcached_current_items", "gauge", "Items stored."),
    "total_items": ("memcached_items_total", "counter", "Items stored ever."),
    "bytes": ("memcached_current_bytes", "gauge", "Bytes used to store items."),
    "limit_maxbytes": ("memcached_limit_bytes", "gauge", "Storage limit in bytes."),
    "evictions": ("memcached_items_evicted_total", "counter", "Valid items evicted to free memory."),
    "bytes_read": ("memcached_read_bytes_total", "counter", "Bytes read from the network."),
    "bytes_written": ("memcached_written_bytes_total", "counter", "Bytes written to the network."),
    "threads": ("memcached_threads", "gauge", "Worker threads."),
}
COMMANDS = {
    # stats key -> (command, status)
    "get_hits": ("get", "hit"),
    "get_misses": ("get", "miss"),
    "cmd_set": ("set", "hit"),
    "delete_hits": ("delete", "hit"),
    "delete_misses": ("delete", "miss"),
    "incr_hits": ("incr", "hit"),
    "incr_misses": ("incr", "miss"),
    "decr_hits": ("decr", "hit"),
    "decr_misses": ("decr", "miss"),
    "touch_hits": ("touch", "hit"),
    "touch_misses": ("touch", "miss"),
    "cmd_flush": ("flush", "hit"),
}


def fetch_stats(address, timeout):
    """Return memcached's `stats` as a dict, or raise OSError."""
    host, _, port = address.rpartition(":")
    with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout) as sock:
        sock.sendall(b"stats\r\n")
        data = b""
        while not data.endswith(b"END\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise OSError("connection closed before END")
            data += chunk
    stats = {}
    for line in data.decode("ascii", "replace").splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0] == "STAT":
            stats[parts[1]] = parts[2]
    return stats


def render(stats):
    """The exposition text for one scrape; `stats` is None when memcached is down."""
    out = [
        "# HELP memcached_up Whether the last scrape of memcached succeeded.",
        "# TYPE memcached_up gauge",
        "memcached_up %d" % (0 if stats is None else 1),
    ]
    if stats is None:
        return "\n".join(out) + "\n"
    version = stats.get("version", "unknown").replace("\\", "").replace('"', "")
    out += [
        "# HELP memcached_version_info The server's version.",
        "# TYPE memcached_version_info gauge",
        'memcached_version_info{version="%s"} 1' % version,
    ]
    for key, (name, kind, text) in GAUGES.items():
        if key in stats:
            out += ["# HELP %s %s" % (name, text), "# TYPE %s %s" % (name, kind), "%s %s" % (name, stats[key])]
    out += ["# HELP memcached_commands_total Commands by kind and outcome.", "# TYPE memcached_commands_total counter"]
    for key, (command, status) in COMMANDS.items():
        if key in stats:
            out.append('memcached_commands_total{command="%s",status="%s"} %s' % (command, status, stats[key]))
    return "\n".join(out) + "\n"


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "kbuild-memcached-exporter/" + VERSION
    address = "127.0.0.1:11211"
    timeout_seconds = 3.0

    def do_GET(self):  # noqa: N802 (the stdlib's name)
        if self.path.split("?", 1)[0] == "/metrics":
            try:
                stats = fetch_stats(self.address, self.timeout_seconds)
            except (OSError, ValueError) as error:
                sys.stderr.write("memcached at %s: %s\n" % (self.address, error))
                stats = None
            self.reply(200, "text/plain; version=0.0.4; charset=utf-8", render(stats))
        elif self.path == "/":
            self.reply(200, "text/html", '<html><body><a href="/metrics">Metrics</a></body></html>\n')
        else:
            self.reply(404, "text/plain", "not found\n")

    def reply(self, status, content_type, body):
        payload = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # noqa: A002 (the stdlib's signature)
        pass  # one line per scrape is noise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memcached.address", dest="address", default=os.environ.get("MEMCACHED_ADDRESS", "127.0.0.1:11211"))
    parser.add_argument("--web.listen-address", dest="listen", default=":9150")
    parser.add_argument("--version", action="version", version="prometheus-memcached-exporter (kbuild) " + VERSION)
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    Handler.address = args.address
    server = http.server.ThreadingHTTPServer((host or "0.0.0.0", int(port)), Handler)
    sys.stderr.write("serving /metrics on %s for memcached at %s\n" % (args.listen, args.address))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
