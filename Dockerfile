# Duocache: RESP on 6379 and memcached on 11211, data in the /data volume.
#
# Two stages. The build stage (the full Python image, which has a C compiler) turns the
# project and its dependencies into wheels, compiling any C extension that has no prebuilt
# wheel for this platform (lzf, anycrc, hiredis, uvloop normally ship one). The runtime
# stage installs those wheels into the slim image, so no compiler ends up in it.
FROM python:3.12 AS build

ENV PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY server ./server
COPY protocol ./protocol
COPY storage ./storage
COPY persistence ./persistence
COPY replication ./replication
RUN pip wheel --wheel-dir /wheels .

FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-index /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /data duocache \
    && mkdir -p /data \
    && chown duocache /data

USER duocache
WORKDIR /data
VOLUME ["/data"]
EXPOSE 6379 11211

HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-m", "server.healthcheck", "6379"]

# Inside a container the server listens on every interface so published ports reach it;
# protected mode is off because the container network is the boundary. Set requirepass
# (for example: docker run duocache --requirepass secret) before exposing it further.
ENTRYPOINT ["python", "-m", "server", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]
