# Build: docker build -t pmo-bot .
# Run:   docker run -p 3000:3000 -v pmo-data:/data --env-file .env pmo-bot
# Production shape (PostgreSQL, two replicas): compose.yaml. Checked by hadolint in .ci/run.
# The base is pinned to the Python release CI runs; pin its digest too where you can reach the
# registry (FROM python:3.11.7-slim-bookworm@sha256:…).
FROM python:3.11.7-slim-bookworm AS build
WORKDIR /src
# The dependencies first, in a layer of their own: a change of code does not reinstall them.
COPY pyproject.toml requirements.lock ./
RUN python -m venv /opt/pmo-bot \
 && python -c "import subprocess, tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; subprocess.run(['/opt/pmo-bot/bin/pip', 'install', '--no-cache-dir', '-c', 'requirements.lock', *deps], check=True)"
COPY README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY message_templates ./message_templates
RUN /opt/pmo-bot/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11.7-slim-bookworm
# tini as PID 1: it hands SIGTERM (docker stop, Kubernetes) to pmo-bot, which then stops
# cleanly (the delivery in flight finished, its other leases handed back, exit 0 within 10 s),
# and it reaps any zombie process.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.0-1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 pmo \
 && useradd --uid 10001 --gid 10001 --create-home pmo \
 && mkdir /data \
 && chown 10001:10001 /data
COPY --from=build /opt/pmo-bot /opt/pmo-bot
# The SQLite default lives in the volume, so replacing the container keeps the data; set
# DATABASE_URL to PostgreSQL in production.
ENV PATH=/opt/pmo-bot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/pmo-bot.sqlite
VOLUME ["/data"]
USER 10001:10001
WORKDIR /data
EXPOSE 3000
# Ready: the database answers at the expected schema and ticks are fresh (GET /readyz: HTTP
# mode's port, or in Socket Mode PMO_HEALTH_PORT, both 3000 by default).
HEALTHCHECK --interval=30s --timeout=6s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/readyz', timeout=5)"]
ENTRYPOINT ["tini", "--"]
# `exec`: pmo-bot replaces the shell, so the signals tini forwards reach it. Replicas started
# together may all upgrade: the migration takes a lock (PostgreSQL).
CMD ["sh", "-c", "pmo-bot db upgrade && exec pmo-bot serve --port 3000"]
