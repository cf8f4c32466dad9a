# Build: docker build -t pmo-bot .
# Run:   docker run -p 3000:3000 --env-file .env pmo-bot
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY message_templates ./message_templates
RUN python -m venv /opt/pmo-bot \
 && /opt/pmo-bot/bin/pip install --no-cache-dir -c requirements.lock .

FROM python:3.11-slim
# tini as PID 1: it hands SIGTERM (docker stop, Kubernetes) to pmo-bot, which then stops
# cleanly (the delivery in flight finished, its other leases handed back, exit 0 within 10 s),
# and it reaps any zombie process.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 pmo
COPY --from=build /opt/pmo-bot /opt/pmo-bot
ENV PATH=/opt/pmo-bot/bin:$PATH PYTHONUNBUFFERED=1
USER pmo
WORKDIR /home/pmo
EXPOSE 3000
# Ready: the database answers at the expected schema and ticks are fresh (GET /readyz: HTTP
# mode's port, or in Socket Mode PMO_HEALTH_PORT, both 3000 by default).
HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/readyz', timeout=5)"]
ENTRYPOINT ["tini", "--"]
# `exec`: pmo-bot replaces the shell, so the signals tini forwards reach it.
CMD ["sh", "-c", "pmo-bot db upgrade && exec pmo-bot serve --port 3000"]
