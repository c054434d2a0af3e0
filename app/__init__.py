"""The single customer view: a web app over the serving snapshot (see docs/app.md)."""
