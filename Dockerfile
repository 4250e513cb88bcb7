# csvbot: one image, two commands (`csvbot run` for the bot, `csvbot worker` for a worker).
#
# Build stage: wheels for the project and every dependency, so the final image needs no compiler.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
# The product only: the bot, the workers and their telemetry. The simulator and the Telegram and
# Storage stand-ins are tools for a checkout (they serve fault injection on open control routes,
# which has no place next to production data), and the alert/dashboard generators write files
# that compose mounts from the repository. Without them the image's `csvbot` has no `simulate`
# or `generate` subcommand (service/cli.py loads those only when installed).
COPY service ./service
COPY telemetry ./telemetry
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# Inside a container /metrics must listen on every interface for Prometheus to reach it; the
# worker service overrides METRICS_PORT with 9465.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9464
# The wheels are bind-mounted from the build stage, so they never become a layer of this image.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels csvbot \
    && useradd --system --uid 10001 --user-group --home-dir /app --create-home csvbot \
    && mkdir -p /app/data \
    && chown csvbot:csvbot /app/data
# Non-root; data/ (SQLite file, local storage) is the one writable place, a volume in compose.
USER csvbot
WORKDIR /app
EXPOSE 9464
# Healthy while the process serves /metrics on its METRICS_PORT.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/metrics' % os.environ.get('METRICS_PORT', '9464'), timeout=4)"
CMD ["csvbot", "run"]
