"""gunicorn settings for production (deploy/systemd/cams-console-web.service)."""

import os

bind = os.environ.get("CONSOLE_BIND", "127.0.0.1:8000")
# Two processes per core with a few threads each: views are short and mostly wait on PostgreSQL.
workers = int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) * 2))
threads = int(os.environ.get("WEB_THREADS", 4))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
# The console logs one JSON line per request itself, with receipt-hook tokens masked;
# gunicorn's access log would print the tokens.
accesslog = None
errorlog = "-"
# Trust X-Forwarded-* only from the local reverse proxy.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
