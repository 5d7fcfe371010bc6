"""Run hello-web: `python3 -m hello_web [--port N]` (default $HELLO_WEB_PORT or 8000)."""

import argparse
import http.server
import os
import sys

from . import __version__
from .app import Handler


def main(argv=None):
    parser = argparse.ArgumentParser(prog="hello-web", description="The kbuild family's example web service.")
    parser.add_argument("--host", default=os.environ.get("HELLO_WEB_HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("HELLO_WEB_PORT", "8000")))
    parser.add_argument("--version", action="version", version="hello-web " + __version__)
    args = parser.parse_args(argv)
    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    sys.stderr.write("hello-web %s listening on %s:%d\n" % (__version__, args.host, args.port))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
