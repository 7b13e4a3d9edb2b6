# harden as a container image: a static (musl) binary on distroless/static,
# running as an unprivileged user by number, with no shell and no other
# program (the Argo CD init container copies harden out with
# `harden install-to DIR`, see examples/argocd). It is what
# `kpt fn eval --image` and a kustomize container function run.
#
#   docker build -t harden .
#   docker run --rm -i harden < deploy.yaml > hardened.yaml
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/harden:0.1.0 --push .
#
# Base images are pinned by digest: a tag can be moved, a digest cannot. To
# move to a newer base, look its digest up (`docker buildx imagetools
# inspect rust:1-alpine`) and replace it here.

# Build: Alpine's Rust targets musl and links statically.
FROM rust:1-alpine@sha256:a10e64dd139b7387337c7fbe8aca31b959b57b2fd4c8ae20a02cf1d6ea424dce AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
ENV RUSTFLAGS="-C target-feature=+crt-static"
# The dependencies first, in a layer of their own (stub sources stand in
# for harden's, and for the bench target Cargo.toml names, which is not
# built but must be there): a change to harden's code does not build them
# again.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src bench \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs bench/registry.rs \
 && cargo build --release --locked \
 && rm -r src
COPY profiles profiles
COPY data data
COPY src src
# COPY keeps the files' times: touch them so cargo rebuilds over the stubs.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && ./target/release/harden --version | grep '^harden '

# Run: nothing but the binary.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
COPY --from=build /src/target/release/harden /usr/local/bin/harden
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/harden"]
