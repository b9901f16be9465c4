# syntax=docker/dockerfile:1
# clearml-probe image: a Swift build stage and a slim Debian runtime holding exactly the C libraries the binary
# links (libcurl, hiredis, libmongoc/libbson) and CA certificates. The Swift runtime is linked in statically.
#
#   docker build -t clearml-probe .
#   docker run --rm clearml-probe --help
#
# Build and runtime are both Debian 12 (bookworm), so the -dev packages match the runtime libraries.
# compose/tests/test_runtime_root.py installs the runtime packages below into a debootstrap'd bookworm and runs the
# release binary there, so a missing library fails in CI before it fails a user.

FROM swift:6.3-bookworm AS build
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libcurl4-openssl-dev \
      libhiredis-dev \
      libmongoc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest names test targets too, so SwiftPM needs Tests/ to load the package.
COPY Package.swift Package.resolve[d] ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY probes ./probes
COPY alerts ./alerts
RUN swift build -c release --static-swift-stdlib --product clearml-probe \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/clearml-probe" /out/clearml-probe

FROM debian:bookworm-slim
# Exactly the runtime libraries (the debootstrap test parses this list).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libcurl4 \
      libhiredis0.14 \
      libmongoc-1.0-0 \
      libbson-1.0-0 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 clearml-probe \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/clearml-probe --no-create-home \
      --shell /usr/sbin/nologin clearml-probe \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/clearml-probe
COPY --from=build /out/clearml-probe /usr/local/bin/clearml-probe
# Defaults, also embedded in the binary; mount your own over them or point CLEARML_PROBE_CONFIG/_ALERTS elsewhere.
COPY probes /etc/clearml-probe/probes
COPY alerts /etc/clearml-probe/alerts
ENV CLEARML_PROBE_STATE_DIR=/var/lib/clearml-probe \
    CLEARML_PROBE_LISTEN=0.0.0.0:9469
USER 10001:10001
WORKDIR /var/lib/clearml-probe
VOLUME ["/var/lib/clearml-probe"]
EXPOSE 9469
# No curl in the runtime: the binary checks its own sidecar (exit 0 when the scheduler is alive).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["clearml-probe", "healthcheck"]
ENTRYPOINT ["clearml-probe"]
CMD ["serve"]
