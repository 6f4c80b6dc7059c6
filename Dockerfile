# chatserver: the same `chatserver serve` the README gives, on a slim Python, as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY chatserver ./chatserver
COPY migrations ./migrations
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin chatserver \
    && mkdir -p /data \
    && chown chatserver:chatserver /data

ENV CHATSERVER_HOST=0.0.0.0 \
    CHATSERVER_PORT=8000 \
    CHATSERVER_DATA_DIR=/data

USER chatserver
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CHATSERVER_PORT', '8000'), timeout=2)"]

CMD ["chatserver", "serve"]
