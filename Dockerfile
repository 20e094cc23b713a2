# syntax=docker/dockerfile:1
# Mimi's container image.
#
#   docker build -t registry.example.com/mimi:0.1.0 .
#
# Needs BuildKit (the default builder since Docker 23) for the cache mounts. The build uses the
# committed sqlx query data (.sqlx/), so no database is needed; Cargo.lock is honoured (--locked).
# The image holds only the binary: mount a configuration at /etc/mimi/mimi.toml (k8s/configmap.yaml)
# and a writable /var/lib/mimi. To try it locally:
#
#   docker run --rm -p 8080:8080 --read-only --tmpfs /tmp \
#     -v "$PWD/mimi.toml:/etc/mimi/mimi.toml:ro" -v mimi-data:/var/lib/mimi \
#     registry.example.com/mimi:0.1.0
#
# with data_dir = "/var/lib/mimi" and listen = "0.0.0.0:8080" in mimi.toml.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true \
    CARGO_TERM_COLOR=never
# Everything cargo needs to resolve the package (its test and example targets must exist) and to
# compile it (migrations/ and .sqlx/ are read at compile time). .dockerignore keeps build output,
# databases and git history out.
COPY . .
# The registry and the target directory are cache mounts: a rebuild after a source change
# recompiles only Mimi. The binary is copied out of the cache within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin mimi \
    && install -D -m 0755 target/release/mimi /out/usr/local/bin/mimi \
    && install -d -m 0750 /out/var/lib/mimi

# Distroless "cc": glibc, libgcc, CA certificates and tzdata; no shell, no package
# manager. Mimi links SQLite statically and uses rustls, so it needs nothing else.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="mimi" \
      org.opencontainers.image.description="Kubernetes incident ChatOps bot: Alertmanager in, evidence and safe fixes out, in Slack and Matrix" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/usr/local/bin/mimi /usr/local/bin/mimi
# The data directory, owned by the user Mimi runs as (in Kubernetes a volume is mounted here and
# fsGroup makes it writable).
COPY --from=build --chown=65532:65532 /out/var/lib/mimi /var/lib/mimi
# 65532 is distroless's "nonroot"; numeric so that runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
WORKDIR /var/lib/mimi
EXPOSE 8080
ENTRYPOINT ["mimi"]
CMD ["serve", "--config", "/etc/mimi/mimi.toml"]
