# The bot as a container: `docker build -t memory-bot .` then run it with your .env
# (docker compose up runs it beside PostgreSQL, see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The pinned versions the test suite passed with, then the package itself.
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY bot ./bot
COPY adapters ./adapters
COPY memory ./memory
RUN pip install --no-cache-dir -c constraints.txt .

# Run as a user of its own; SQLite files (when DATABASE_URL is unset) go to /data.
RUN groupadd --gid 10001 bot \
    && useradd --create-home --uid 10001 --gid bot bot \
    && mkdir /data \
    && chown bot:bot /data
USER 10001:10001
ENV DATA_DIR=/data \
    PORT=3000
VOLUME ["/data"]
EXPOSE 3000

# /healthz answers 200 while the database and every adapter are up (bot run).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

# `bot run`, not `bot`: without a platform token `bot` opens the terminal chat, which in a
# container (no stdin) would exit at once, 0, in a restart loop; `bot run` says what is missing.
CMD ["bot", "run"]
