# salonbot's image: `salonbot serve` (migrates the database on start), run by
# docker-compose.yml next to Postgres and Caddy. Build: docker compose build.
#
# Two stages on the same pinned Python base: the first installs the locked dependencies
# and salonbot itself (as a wheel, not a link to the source) into /opt/salonbot with uv;
# the second copies only that environment, so neither uv nor the source tree ships.
# Every dependency comes as a wheel, so neither stage has (or needs) a compiler.

ARG PYTHON_IMAGE=python:3.11.15-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# The uv this repository is developed with (uv.lock's format is uv's).
RUN pip install --no-cache-dir --root-user-action=ignore uv==0.13.9
ENV UV_PROJECT_ENVIRONMENT=/opt/salonbot \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1
WORKDIR /src
# The dependencies first, in a layer of their own: a change to the code reuses it.
# pgserver (the embedded Postgres for a laptop) is left out: here the database is the
# postgres service, and pgserver has no wheel for arm64 servers.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --no-install-package pgserver
COPY README.md ./
COPY src ./src
COPY migrations ./migrations
COPY examples/salon.yaml ./examples/salon.yaml
RUN uv sync --frozen --no-dev --no-editable --no-install-package pgserver

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 salonbot \
    && useradd --system --uid 10001 --gid salonbot --create-home --home-dir /home/salonbot salonbot
COPY --from=build /opt/salonbot /opt/salonbot
# HOST: reachable from the other containers (the default, 127.0.0.1, is the container's
# own loopback). docker-compose.yml sets these again, over anything in .env.
ENV PATH=/opt/salonbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8080
USER salonbot
WORKDIR /home/salonbot
EXPOSE 8080
# Alive: /healthz answers (readiness, with the database, is /readyz). Python's own urllib,
# as the slim image has no curl; docker-compose.yml runs the same command.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"]
# SIGTERM is a graceful stop; it may take up to 35 s (README: Run it on a server).
STOPSIGNAL SIGTERM
ENTRYPOINT ["salonbot"]
CMD ["serve"]
