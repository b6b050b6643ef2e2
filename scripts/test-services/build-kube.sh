#!/usr/bin/env bash
# Builds kube-apiserver (k8s.io/kubernetes) and etcd (go.etcd.io/etcd/server/v3) from the Go module
# proxy into a cache outside the repository, for the operator's tests against a real API server.
# k8s.io/kubernetes is not meant to be a dependency: its staging modules are pinned with replace
# lines in a small wrapper module. Prints the cache directory holding both binaries; cached
# binaries of the pinned versions are reused, never rebuilt.
set -euo pipefail
KUBE_VERSION="${KUBE_VERSION:-v1.34.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.13}"
CACHE="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
OUT="$CACHE/kube-$KUBE_VERSION-etcd-$ETCD_VERSION"
if [ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/etcd" ]; then
  echo "$OUT"
  exit 0
fi
command -v go >/dev/null || { echo "build-kube: the Go toolchain is required" >&2; exit 3; }
mkdir -p "$OUT"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
staging="v0${KUBE_VERSION#v1}"   # k8s.io/api etc. are tagged v0.<minor>.<patch>

if [ ! -x "$OUT/etcd" ]; then
  mkdir "$work/etcd" && cd "$work/etcd"
  go mod init sluice.local/etcd-build >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  CGO_ENABLED=0 go build -trimpath -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3 >&2
  mv "$OUT/etcd.tmp" "$OUT/etcd"
fi

if [ ! -x "$OUT/kube-apiserver" ]; then
  mkdir "$work/kube" && cd "$work/kube"
  go mod init sluice.local/kube-build >/dev/null 2>&1
  gomod="$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [ -n "$gomod" ] || { echo "build-kube: could not download k8s.io/kubernetes@$KUBE_VERSION" >&2; exit 1; }
  # Every staging module k8s.io/kubernetes requires at v0.0.0 is pinned to its published tag.
  {
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    grep -oE '^[[:space:]]*k8s\.io/[a-z0-9-]+ v0\.0\.0([[:space:]]|$)' "$gomod" | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
  } >> go.mod
  go mod tidy -e >/dev/null 2>&1 || true
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" >&2
  CGO_ENABLED=0 go build -trimpath -ldflags "-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)" -o "$OUT/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver >&2
  mv "$OUT/kube-apiserver.tmp" "$OUT/kube-apiserver"
fi
echo "$OUT"
