"""kassa: a self-hosted payments server, wire-compatible with Stripe's API, built around Amazon Pay."""

__version__ = "0.1.0"
