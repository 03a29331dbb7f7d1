"""Settings for the test suite: the production settings with a per-run random secret key and plain HTTP.

config.settings refuses to start without a real secret key when DEBUG is off (as in production); tests run with
DEBUG off too, so they get a random key here. Environment variables set here are inherited by the processes a test
starts (a real Celery worker, `manage.py` subprocesses). The shipped production configuration is checked by
tests/prod/test_deploy.py with `manage.py check --deploy`.
"""

import os
import secrets

os.environ.setdefault("DJANGO_SECRET_KEY", "test-" + secrets.token_urlsafe(48))
os.environ.setdefault("DJANGO_HTTPS", "0")

from config.settings import *  # noqa: E402,F403

# Query-count tests measure a page's own statements: the session's idle-timer renewal (at most once a minute in
# production) must not land inside a measurement on a slow machine. tests/accounts checks the renewal itself.
FJZL_SESSION_RENEW_SECONDS = 3600
