"""hello-web: the kbuild family's example web service (stdlib only)."""

__version__ = "1.0.0"
