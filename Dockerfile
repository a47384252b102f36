# toolfoundry: the API service and the build workers share this image.
FROM python:3.11-slim-bookworm

# bubblewrap: the build sandbox; ca-certificates: HTTPS to the package index for builds.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir .

# Builds run generated code as an unprivileged user inside bubblewrap; the service itself
# does not need root either.
RUN useradd --create-home --uid 10001 toolfoundry && mkdir -p /data && chown toolfoundry /data
USER toolfoundry
ENV TOOLFOUNDRY_DATA_DIR=/data \
    TOOLFOUNDRY_HOST=0.0.0.0 \
    TOOLFOUNDRY_PORT=8765
EXPOSE 8765
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/health')"
CMD ["toolfoundry", "serve"]
