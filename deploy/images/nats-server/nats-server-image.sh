#!/bin/sh
# The hyperhive/nats-server image: the host's (Debian's) nats-server binary and the shared
# libraries it links, on an empty image (FROM scratch). Nothing is pulled from a registry.
#
#   nats-server-image.sh tag           print the image's tag: hyperhive/nats-server:<version>
#   nats-server-image.sh context DIR   write a docker build context (Dockerfile + rootfs/) into DIR
#   nats-server-image.sh build         build and tag the image with `docker build`
#
# NATS_SERVER_BIN chooses the binary; default: nats-server on PATH, else /usr/sbin/nats-server.
set -eu

bin=${NATS_SERVER_BIN:-$(command -v nats-server || echo /usr/sbin/nats-server)}
[ -x "$bin" ] || {
  echo "nats-server-image: no nats-server at $bin (apt-get install nats-server, or set NATS_SERVER_BIN)" >&2
  exit 1
}

# "nats-server: v2.9.10" -> "2.9.10"
version() { "$bin" --version | sed -n 's/^nats-server: v//p'; }
tag() { echo "hyperhive/nats-server:$(version)"; }

# Every file the dynamic loader needs: "libc.so.6 => /lib/.../libc.so.6 (0x...)" and the loader
# itself, "/lib64/ld-linux-x86-64.so.2 (0x...)". A static binary has none (ldd fails).
libs() { ldd "$bin" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' || true; }

context() {
  dir=$1
  mkdir -p "$dir/rootfs/usr/sbin"
  cp -L "$bin" "$dir/rootfs/usr/sbin/nats-server"
  for lib in $(libs); do
    mkdir -p "$dir/rootfs$(dirname "$lib")"
    cp -L "$lib" "$dir/rootfs$lib"
  done
  cat >"$dir/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
LABEL org.opencontainers.image.title="nats-server" org.opencontainers.image.version="$(version)"
# 4222 clients, 6222 cluster routes, 8222 HTTP monitoring (when started with -m 8222)
EXPOSE 4222 6222 8222
USER 65534:65534
ENTRYPOINT ["/usr/sbin/nats-server"]
DOCKERFILE
}

case ${1:-} in
tag) tag ;;
context)
  [ $# -eq 2 ] || { echo "usage: $0 context DIR" >&2; exit 2; }
  context "$2"
  ;;
build)
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  context "$dir"
  docker build -t "$(tag)" "$dir"
  ;;
*)
  echo "usage: $0 tag | context DIR | build" >&2
  exit 2
  ;;
esac
