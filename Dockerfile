# syntax=docker/dockerfile:1
# harden as a container image: a static (musl) binary on distroless/static,
# running as an unprivileged user by number, no shell. It is what
# `kpt fn eval --image` and a kustomize container function run, and what the
# Argo CD init container copies the binary from (examples/argocd).
#
#   docker build -t harden .
#   docker run --rm -i harden < deploy.yaml > hardened.yaml
#   kpt fn eval deploy/ --image harden

# Build: Alpine's Rust targets musl and links statically.
FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev busybox-static
WORKDIR /src
COPY . .
ENV RUSTFLAGS="-C target-feature=+crt-static"
RUN cargo build --release --locked \
 && ./target/release/harden --version

# Run: nothing but the binary and a static `cp` (busybox, invoked as cp)
# for the Argo CD init container to copy harden into a shared volume.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/target/release/harden /usr/local/bin/harden
COPY --from=build /bin/busybox.static /usr/local/bin/cp
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/harden"]
