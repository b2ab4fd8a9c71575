# okr-server container image.
#
#   docker build -t okr-server .
#   docker run -p 50051:50051 -p 8080:8080 -v okr-data:/var/lib/okr okr-server
#
# Two stages on Debian 12: the build stage compiles only the okr-server target from
# Debian's packages (nothing is downloaded by CMake); the runtime stage carries the
# binary, the shared libraries it links and CA certificates, and runs as the non-root
# user 10001 (the uid the Helm chart's securityContext expects).

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev \
      libcurl4-openssl-dev libcpp-httplib-dev nlohmann-json3-dev libsimdjson-dev \
      libssl-dev libsqlite3-dev libpq-dev prometheus-cpp-dev libctemplate-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DOKR_BUILD_TESTS=OFF -DOKR_BUILD_BENCH=OFF \
 && cmake --build build --target okr-server

FROM debian:12-slim
LABEL org.opencontainers.image.title="okr-server" \
      org.opencontainers.image.description="Self-hosted OKR gRPC service with Jira and GitLab connectors"
# The runtime halves of the build stage's -dev packages (libgrpc++1.51 brings libgrpc29;
# libsimdjson14 is there for the simdjson the build may link).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libabsl20220623 libcurl4 libcpp-httplib0.11 \
      libsimdjson14 libsqlite3-0 libpq5 libssl3 libprometheus-cpp-core1.0 libctemplate3 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 okr \
 && useradd --system --uid 10001 --gid okr --home-dir /var/lib/okr --no-create-home \
      --shell /usr/sbin/nologin okr \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/okr
COPY --from=build /src/build/service/server/okr-server /usr/local/bin/okr-server
# The embedded SQLite database lives on the volume the chart mounts at /var/lib/okr.
ENV OKR_DATABASE=sqlite:/var/lib/okr/okr.db
WORKDIR /var/lib/okr
USER 10001:10001
# 50051: gRPC API (+ grpc.health.v1 and reflection); 8080: webhooks, /metrics, /healthz, /readyz.
EXPOSE 50051 8080
ENTRYPOINT ["/usr/local/bin/okr-server"]
