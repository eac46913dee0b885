#!/usr/bin/env bash
# Builds the pinned control plane into bin/k8s/<version>/ once per machine.
# Everything comes from the Go module proxy; nothing is downloaded elsewhere.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

K8S_VERSION=$(awk '$1=="k8s.io/kubernetes"{print $2}' "$here/go.mod")
ETCD_VERSION=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2}' "$here/go.mod")
KWOK_VERSION=${KWOK_VERSION:-v0.7.0}
out="$root/bin/k8s/$K8S_VERSION"
mkdir -p "$out"

ldflags_k8s="-s -w \
 -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"

build() { # name package ldflags
  local name=$1 pkg=$2 flags=$3
  if [ -x "$out/$name" ]; then return 0; fi
  echo ">> building $name ($pkg)"
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "$flags" -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"
}

build etcd go.etcd.io/etcd/server/v3 "-s -w"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$ldflags_k8s"
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$ldflags_k8s"
build kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$ldflags_k8s"
build kubectl k8s.io/kubernetes/cmd/kubectl "$ldflags_k8s"

# kwok has its own dependency graph (older k8s.io libraries); build it alone
# with "go install module@version" so the two graphs never mix.
if [ ! -x "$out/kwok" ]; then
  echo ">> building kwok $KWOK_VERSION"
  tmp=$(mktemp -d)
  GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  mv "$tmp/kwok" "$out/kwok"
  rmdir "$tmp"
fi

# metrics-server serves metrics.k8s.io in a dev cluster started with
# Options.Metrics. It is pinned by a tool directive in a module of its own,
# hack/metrics-server, whose older k8s.io libraries never meet the control
# plane's; building through that module keeps the build reproducible.
METRICS_SERVER_VERSION=$(awk '$1=="sigs.k8s.io/metrics-server"{print $2}' "$root/hack/metrics-server/go.mod")
if [ ! -x "$out/metrics-server" ]; then
  echo ">> building metrics-server $METRICS_SERVER_VERSION"
  (cd "$root/hack/metrics-server" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/metrics-server.tmp" sigs.k8s.io/metrics-server/cmd/metrics-server)
  mv "$out/metrics-server.tmp" "$out/metrics-server"
fi

echo "$K8S_VERSION" > "$root/bin/k8s/current"
echo ">> control plane $K8S_VERSION (etcd $ETCD_VERSION, kwok $KWOK_VERSION, metrics-server $METRICS_SERVER_VERSION) in ${out#"$root"/}"
