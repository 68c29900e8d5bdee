# The bot as a container: python:3.11-slim, the locked dependencies (wheels only, so no
# compiler is ever installed), the Noto fonts for certificates and charts, a non-root user.
#   docker build -t trainee-bot .
#   docker run --env-file .env trainee-bot            # runs `trainee-bot run`
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements-prod.lock ./
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --only-binary=:all: --require-hashes -r requirements-prod.lock
COPY alembic.ini babel.cfg pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY sandbox ./sandbox
COPY migrations ./migrations
COPY locales ./locales
COPY examples ./examples
RUN /opt/venv/bin/pybabel compile --domain messages --directory locales --use-fuzzy \
 && find /app -name '*.po' -delete

FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-core fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin bot
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=root:root /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 \
    WEBHOOK_HOST=0.0.0.0 WEBHOOK_PORT=8080
USER bot
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD python -c "import urllib.request,os; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WEBHOOK_PORT', '8080'), timeout=4)"
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
