#!/bin/sh
# Builds the example loader image (a miniature of the QTickets loader) FROM scratch.
#
#   build.sh CONTEXT_DIR TAG            prepare CONTEXT_DIR, then `docker build -t TAG CONTEXT_DIR`
#   build.sh --context-only CONTEXT_DIR prepare CONTEXT_DIR only (for a scenario's
#                                       docker-build step, which runs the build itself)
#
# Preparing copies Dockerfile, loader.sh and a static busybox into CONTEXT_DIR (created
# if needed; other files there are left alone). Idempotent: running it again rewrites
# the same three files, and docker's layer cache makes a rebuild take a moment.
#
# Environment:
#   BUSYBOX   the static busybox to copy (default /bin/busybox, Debian's busybox-static)
#   DOCKER    the docker command (default docker)
# Nothing is pulled: the image starts from `scratch`. Without the buildx plugin the
# legacy builder is used (DOCKER_BUILDKIT=0), unless DOCKER_BUILDKIT is already set.
set -eu

die() {
  echo "build.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

context_only=false
if [ "${1:-}" = --context-only ]; then
  context_only=true
  shift
  [ $# -eq 1 ] || usage
else
  [ $# -eq 2 ] || usage
  tag=$2
  [ -n "$tag" ] || die "TAG must not be empty"
fi
ctx=$1
[ -n "$ctx" ] || die "CONTEXT_DIR must not be empty"

here=$(cd "$(dirname "$0")" && pwd)
busybox=${BUSYBOX:-/bin/busybox}
docker=${DOCKER:-docker}

[ -f "$here/Dockerfile" ] && [ -f "$here/loader.sh" ] || die "Dockerfile or loader.sh missing in $here"
[ -x "$busybox" ] || die "no executable busybox at $busybox (apt-get install busybox-static, or set BUSYBOX)"
# A dynamic busybox would not run in a FROM-scratch image.
if command -v ldd >/dev/null 2>&1 && ldd "$busybox" >/dev/null 2>&1; then
  case $(ldd "$busybox" 2>&1) in
  *"not a dynamic executable"* | *"statically linked"*) ;;
  *) die "$busybox is dynamically linked; install busybox-static or set BUSYBOX to a static one" ;;
  esac
fi

mkdir -p "$ctx"
ctx=$(cd "$ctx" && pwd)
[ "$ctx" != "$here" ] || die "CONTEXT_DIR must not be $here itself (busybox would be copied into the sources)"

# Copy through a temporary name, so an interrupted run never leaves a half-written file.
put() { # SRC NAME MODE
  cp "$1" "$ctx/.$2.tmp"
  chmod "$3" "$ctx/.$2.tmp"
  mv -f "$ctx/.$2.tmp" "$ctx/$2"
}
put "$here/Dockerfile" Dockerfile 0644
put "$here/loader.sh" loader.sh 0644
put "$busybox" busybox 0755

if $context_only; then
  echo "$ctx"
  exit 0
fi

if [ -z "${DOCKER_BUILDKIT:-}" ] && ! "$docker" buildx version >/dev/null 2>&1; then
  DOCKER_BUILDKIT=0
  export DOCKER_BUILDKIT
fi
exec "$docker" build -t "$tag" "$ctx"
