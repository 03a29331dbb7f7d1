#!/usr/bin/env bash
# Set up and start the platform with demo data on http://127.0.0.1:8000 (SQLite, in-process Celery by default;
# set DATABASE_URL / REDIS_URL to use PostgreSQL / Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh run
# The demo runs the development server with DEBUG on (never in production: see docker-compose.yml).
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py seed_demo
echo "平台地址: http://127.0.0.1:8000/   (Ctrl+C 停止)"
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
