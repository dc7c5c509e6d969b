#!/usr/bin/env bash
# shellcheck disable=SC2015,SC2034,SC2046,SC2086,SC2155 # vendored from the project's shared k8s-node.sh, unchanged but for this line
# Real single-node Kubernetes v1.20.2, offline: etcd + kube-apiserver + controller-manager + scheduler
# + kubelet (built-in dockershim -> Debian docker.io dockerd) + kube-proxy (iptables) + CNI bridge/host-local.
# Everything is built from Debian bookworm's kubernetes source package (ships vendor/), see k8s-offline.sh.
# Needs only the Debian mirror. Usage: W=/some/scratch bash k8s-node.sh build|up|smoke|down
#   build: system pkgs (apt) + toolchain/source into $W, go build 6 binaries, pause + python3 image tarballs
#   up:    dockerd (reuses a running one: $DOCKER_HOST or /var/run/docker.sock), control plane, node; waits Ready
#   smoke: Deployment (2x python3 http.server, readinessProbe) + ClusterIP Service + hostNetwork pod, curls them
#   down:  stops what up started (by pid files), removes pods/containers it made, iptables KUBE-/CNI- chains
# Env: AUTHZ (default Node,RBAC; AlwaysAllow also works), NODE_IP (default: source IP of the default route).
# Limits: no registry (only local images: imagePullPolicy Never/IfNotPresent), no cluster DNS (no CoreDNS in
# Debian), no SA token mounts (ServiceAccount admission off), pods cannot reach the apiserver (bound to 127.0.0.1).
# Touches outside $W: apt pkgs, iptables KUBE-/CNI- chains, bridge k8slab0, /var/log/pods (kubelet hard-codes it),
# sysctls ip_forward/route_localnet/bridge-nf-call-iptables (saved by up, restored by down).
set -euo pipefail
W=${W:?set W to a scratch folder}; P=$W/prefix; S=$W/src/kubernetes-1.20.2; R=$W/run; B=$W/bin
mkdir -p "$W" "$P" "$R"
export GOROOT=$P/usr/lib/go-1.19 GOPATH=$W/gopath GOCACHE=$W/gocache HOME=$W/home \
       CGO_ENABLED=0 GOPROXY=off GO111MODULE=off
export PATH=$B:$GOROOT/bin:$P/usr/bin:$PATH
NODE=${NODE_NAME:-k8slab-node}; PODNET=10.244.0.0/24; SVCNET=10.96.0.0/16
NODE_IP=${NODE_IP:-$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')}
KC=$R/admin.kubeconfig
pick_docker() {  # reuse a running dockerd (never stop it); else start our own under $W
  if [ -n "${DOCKER_HOST:-}" ] && docker info >/dev/null 2>&1; then return; fi
  if DOCKER_HOST=unix:///var/run/docker.sock docker info >/dev/null 2>&1; then export DOCKER_HOST=unix:///var/run/docker.sock; return; fi
  export DOCKER_HOST=unix://$W/docker.sock
  if ! docker info >/dev/null 2>&1; then
    mkdir -p "$W/docker"
    setsid nohup dockerd --storage-driver=overlay2 --data-root "$W/docker/root" --exec-root "$W/docker/exec" \
      --pidfile "$W/docker/dockerd.pid" -H "$DOCKER_HOST" --bridge=none --iptables=false --ip-masq=false \
      --ip-forward=false --exec-opt native.cgroupdriver=cgroupfs >"$W/docker/dockerd.log" 2>&1 </dev/null &
    for i in $(seq 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
    docker info >/dev/null || { tail -20 "$W/docker/dockerd.log"; exit 1; }
    cp "$W/docker/dockerd.pid" "$R/dockerd.pid"   # only a dockerd we started is stopped by down
  fi
}
mkkc() { cat > "$R/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
contexts: [{name: local, context: {cluster: local, user: $1}}]
users: [{name: $1, user: {token: $2}}]
current-context: local
EOF
}
waitfor() { for i in $(seq "$1"); do eval "$2" >/dev/null 2>&1 && return 0; sleep 1; done; echo "timeout: $2" >&2; return 1; }
case "${1:-}" in
build)
  cd "$W"; mkdir -p debs home images
  export DEBIAN_FRONTEND=noninteractive
  PK="docker.io debootstrap iptables containernetworking-plugins conntrack socat"
  dpkg -s $PK >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends $PK >/dev/null \
    || { apt-get update -qq; apt-get install -y -qq --no-install-recommends $PK >/dev/null; }
  M=$(grep -rhE '^[[:space:]]*(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
      | grep -oE 'https?://[^ ]+/debian\b' | head -1 || true)  # first *active* mirror line (commented-out lines may name an unreachable one)
  if [ ! -x "$GOROOT/bin/go" ]; then
    (cd debs && apt-get download golang-1.19-go golang-1.19-src etcd-server etcd-client rsync libpopt0 \
        golang-github-modern-go-reflect2-dev)
    for f in debs/*.deb; do dpkg -x "$f" "$P"; done
  fi
  if [ ! -d "$S" ]; then
    mkdir -p apt/lists/partial apt/cache/archives/partial src
    printf 'deb-src %s bookworm main\ndeb-src %s-security bookworm-security main\n' "$M" "$M" > apt/src.list
    O="-o Dir::Etc::SourceList=$W/apt/src.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$W/apt/lists -o Dir::Cache=$W/apt/cache"
    apt-get $O update
    (cd src && apt-get $O source --download-only kubernetes=1.20.5+really1.20.2-1.1+deb12u1 && tar xzf kubernetes_*.orig.tar.gz)
    # vendored reflect2 v1.0.1 crashes under Go>=1.18 ("fatal error: fault" in mapiter) -> Debian's 1.0.2
    rm -f "$S"/vendor/github.com/modern-go/reflect2/*.go "$S"/vendor/github.com/modern-go/reflect2/*.s
    cp "$P"/usr/share/gocode/src/github.com/modern-go/reflect2/*.{go,s} "$S"/vendor/github.com/modern-go/reflect2/
  fi
  mkdir -p "$GOPATH/src/k8s.io" && ln -sfn "$S" "$GOPATH/src/k8s.io/kubernetes"
  # no negative oom_score_adj: this sandbox lacks CAP_SYS_RESOURCE, so runc fails every pause container that
  # dockershim creates with OomScoreAdj=-998 ("can't get final child's PID from pipe: EOF"). Harmless elsewhere.
  sed -i 's/defaultSandboxOOMAdj int = -998/defaultSandboxOOMAdj int = 0/' "$S/pkg/kubelet/dockershim/docker_sandbox.go"
  sed -i 's/dockerOOMScoreAdj = -999/dockerOOMScoreAdj = 0/' "$S/pkg/kubelet/dockershim/cm/container_manager_linux.go"
  sed -i 's/guaranteedOOMScoreAdj int = -997/guaranteedOOMScoreAdj int = 0/' "$S/pkg/kubelet/qos/policy.go"
  # images as tarballs (imported by 'up' into whichever dockerd is used): pause from k8s' own pause.c
  if [ ! -f images/pause.tar ]; then
    rm -rf pause && mkdir -p pause && gcc -Os -static -DVERSION=3.2-k8slab -o pause/pause "$S/build/pause/linux/pause.c"
    strip pause/pause; tar -C pause -cf images/pause.tar pause; rm -rf pause
  fi
  if [ ! -f images/python3.tar ]; then
    rm -rf rootfs; debootstrap --variant=minbase --include=python3 bookworm "$W/rootfs" "$M" >"$W/debootstrap.log"
    rm -rf rootfs/var/lib/apt/lists/* rootfs/var/cache/apt/*.bin
    tar -C rootfs -cf images/python3.tar .; rm -rf rootfs
  fi
  cd "$GOPATH/src/k8s.io/kubernetes"
  [ -f pkg/generated/openapi/zz_generated.openapi.go ] || make generated_files
  V=k8s.io/kubernetes/vendor/k8s.io
  LD="-s -w"; for p in component-base/version client-go/pkg/version; do
    LD="$LD -X $V/$p.gitVersion=v1.20.2 -X $V/$p.gitMajor=1 -X $V/$p.gitMinor=20"; done
  mkdir -p "$B"; go build -ldflags "$LD" -o "$B/" ./cmd/kube-apiserver ./cmd/kube-controller-manager \
    ./cmd/kube-scheduler ./cmd/kubelet ./cmd/kube-proxy ./cmd/kubectl
  ls -la "$B"
  ;;
up)
  [ -n "$NODE_IP" ] || { echo "set NODE_IP" >&2; exit 1; }
  [ -f "$R/apiserver.pid" ] && kill -0 "$(cat "$R/apiserver.pid")" 2>/dev/null && { echo "already up; run down first" >&2; exit 1; }
  cd "$R"; mkdir -p certs pki cni/net.d cni/cache cni/ipam kubelet dockershim
  pick_docker; echo "$DOCKER_HOST" > docker_host
  DRV=$(docker info -f '{{.CgroupDriver}}')
  docker image inspect k8s.gcr.io/pause:3.2 >/dev/null 2>&1 || docker import -c 'ENTRYPOINT ["/pause"]' "$W/images/pause.tar" k8s.gcr.io/pause:3.2
  docker image inspect local/python3:bookworm >/dev/null 2>&1 || docker import -c 'CMD ["/bin/bash"]' "$W/images/python3.tar" local/python3:bookworm
  [ -f sa.key ] || { openssl genrsa -out sa.key 2048; openssl rsa -in sa.key -pubout -out sa.pub; }
  if [ ! -f pki/ca.crt ]; then  # CA + client cert the apiserver uses towards the kubelet (kubelet: no anonymous access)
    openssl req -x509 -newkey rsa:2048 -nodes -keyout pki/ca.key -out pki/ca.crt -days 3650 -subj /CN=k8slab-ca 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout pki/kc.key -out pki/kc.csr -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" 2>/dev/null
    openssl x509 -req -in pki/kc.csr -CA pki/ca.crt -CAkey pki/ca.key -CAcreateserial -out pki/kc.crt -days 3650 2>/dev/null
  fi
  cat > tokens.csv <<EOF
testtoken,admin,admin,system:masters
nodetoken,system:node:$NODE,node,system:nodes
proxytoken,system:kube-proxy,proxy
EOF
  mkkc admin testtoken; mkkc node nodetoken; mkkc proxy proxytoken; cp admin.kubeconfig kubeconfig
  cat > cni/net.d/10-k8slab.conflist <<EOF
{"cniVersion": "0.4.0", "name": "k8slab", "plugins": [
  {"type": "bridge", "bridge": "k8slab0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$PODNET"}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$R/cni/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
  # pod traffic through a Linux bridge must be seen by iptables (kube-proxy DNAT replies)
  KS="net.ipv4.ip_forward net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables"
  [ -f sysctl.orig ] || for k in $KS; do echo "$k=$(sysctl -n $k)"; done > sysctl.orig   # restored by down
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.ipv4.ip_forward=1
  [ -d /var/log/pods ] || touch made_var_log_pods    # kubelet 1.20 hard-codes /var/log/pods, /var/log/containers
  etcd --name t --data-dir "$R/etcd" --listen-client-urls http://127.0.0.1:2379 \
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster t=http://127.0.0.1:2380 \
    > etcd.log 2>&1 & echo $! > etcd.pid
  kube-apiserver --etcd-servers=http://127.0.0.1:2379 --bind-address=127.0.0.1 \
    --advertise-address="$NODE_IP" --secure-port=6443 --cert-dir="$R/certs" --token-auth-file="$R/tokens.csv" \
    --authorization-mode="${AUTHZ:-Node,RBAC}" --enable-admission-plugins=NodeRestriction \
    --service-cluster-ip-range=$SVCNET --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$R/sa.pub" --service-account-signing-key-file="$R/sa.key" \
    --disable-admission-plugins=ServiceAccount --endpoint-reconciler-type=none \
    --kubelet-client-certificate="$R/pki/kc.crt" --kubelet-client-key="$R/pki/kc.key" \
    --kubelet-preferred-address-types=InternalIP > apiserver.log 2>&1 & echo $! > apiserver.pid
  waitfor 90 "curl -skf -H 'Authorization: Bearer testtoken' https://127.0.0.1:6443/readyz"
  kube-controller-manager --kubeconfig="$KC" --leader-elect=false --bind-address=127.0.0.1 --port=0 \
    --service-account-private-key-file="$R/sa.key" --root-ca-file="$R/certs/apiserver.crt" \
    > kcm.log 2>&1 & echo $! > kcm.pid
  kube-scheduler --kubeconfig="$KC" --leader-elect=false --bind-address=127.0.0.1 --port=0 \
    > scheduler.log 2>&1 & echo $! > scheduler.pid
  kubelet --kubeconfig="$R/node.kubeconfig" --hostname-override="$NODE" --node-ip="$NODE_IP" --address="$NODE_IP" \
    --container-runtime=docker --docker-endpoint="$DOCKER_HOST" --cgroup-driver="$DRV" \
    --container-runtime-endpoint="unix://$R/dockershim.sock" --image-service-endpoint="unix://$R/dockershim.sock" \
    --experimental-dockershim-root-directory="$R/dockershim" --root-dir="$R/kubelet" --cert-dir="$R/kubelet/pki" \
    --volume-plugin-dir="$R/kubelet/volume-plugins" --pod-infra-container-image=k8s.gcr.io/pause:3.2 \
    --network-plugin=cni --cni-bin-dir=/usr/lib/cni --cni-conf-dir="$R/cni/net.d" --cni-cache-dir="$R/cni/cache" \
    --cgroups-per-qos=false --enforce-node-allocatable= --fail-swap-on=false \
    --anonymous-auth=false --client-ca-file="$R/pki/ca.crt" --authorization-mode=Webhook \
    --read-only-port=0 --healthz-bind-address=127.0.0.1 \
    --eviction-hard='memory.available<100Mi,nodefs.available<2%,imagefs.available<2%' \
    --image-gc-high-threshold=99 --image-gc-low-threshold=98 --serialize-image-pulls=false --oom-score-adj=0 \
    > kubelet.log 2>&1 & echo $! > kubelet.pid
  kube-proxy --kubeconfig="$R/proxy.kubeconfig" --hostname-override="$NODE" --proxy-mode=iptables \
    --cluster-cidr=$PODNET --bind-address=127.0.0.1 --healthz-bind-address=127.0.0.1:10256 \
    --metrics-bind-address=127.0.0.1:10249 --conntrack-max-per-core=0 --oom-score-adj=0 \
    --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0 > proxy.log 2>&1 & echo $! > proxy.pid
  export KUBECONFIG=$KC
  waitfor 120 "kubectl get node $NODE"
  kubectl wait --for=condition=Ready "node/$NODE" --timeout=120s
  kubectl get nodes -o wide
  echo "export KUBECONFIG=$KC DOCKER_HOST=$DOCKER_HOST PATH=$B:\$PATH"
  ;;
smoke)
  export KUBECONFIG=$KC
  kubectl apply -f - <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2   # python as PID 1 ignores SIGTERM
      containers:
      - name: web
        image: local/python3:bookworm
        imagePullPolicy: Never
        command: ["python3", "-m", "http.server", "8080"]
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: hostnet, namespace: default}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: local/python3:bookworm
    imagePullPolicy: Never
    command: ["python3", "-m", "http.server", "28080", "--bind", "127.0.0.1"]
    readinessProbe: {httpGet: {host: 127.0.0.1, path: /, port: 28080}, periodSeconds: 2}
EOF
  kubectl rollout status deploy/web --timeout=120s
  kubectl wait --for=condition=Ready pod/hostnet --timeout=60s
  kubectl get pods -o wide; kubectl get svc web -o wide; kubectl get endpoints web
  IP=$(kubectl get pod -l app=web -o jsonpath='{.items[0].status.podIP}')
  echo "== curl pod $IP:8080"; curl -sf -m 5 "http://$IP:8080/" | head -3
  echo "== curl service $(kubectl get svc web -o jsonpath='{.spec.clusterIP}'):80"
  curl -sf -m 5 "http://$(kubectl get svc web -o jsonpath='{.spec.clusterIP}'):80/" | head -3
  echo "== curl hostNetwork pod 127.0.0.1:28080"; curl -sf -m 5 http://127.0.0.1:28080/ | head -3
  POD=$(kubectl get pod -l app=web -o jsonpath='{.items[0].metadata.name}')
  echo "== exec"; kubectl exec "$POD" -- python3 -c 'import socket; print(socket.gethostname())'
  echo "== exec pod->service"; kubectl exec "$POD" -- python3 -c "import urllib.request as u; print(u.urlopen('http://$(kubectl get svc web -o jsonpath='{.spec.clusterIP}')/').status)"
  echo "== logs"; kubectl logs "$POD" | tail -3
  ;;
down)
  set +e   # best effort from here on
  cd "$R" 2>/dev/null || exit 0
  export KUBECONFIG=$KC
  [ -f docker_host ] && export DOCKER_HOST=$(cat docker_host)
  # delete workloads while the node still runs, so kubelet tears down sandboxes/CNI cleanly
  if [ -f kubelet.pid ] && kubectl get ns >/dev/null 2>&1; then
    kubectl delete deploy,rs,svc,pod --all --all-namespaces --wait=false >/dev/null 2>&1 || true
    for i in $(seq 60); do [ -z "$(docker ps -q --filter label=io.kubernetes.docker.type=podsandbox 2>/dev/null)" ] && break; sleep 1; done
  fi
  for s in proxy kubelet scheduler kcm apiserver etcd; do
    [ -f $s.pid ] && kill "$(cat $s.pid)" 2>/dev/null || true; rm -f $s.pid; done
  sleep 2
  # leftover kubelet-made containers (only those carrying kubelet's labels)
  docker ps -aq --filter label=io.kubernetes.docker.type 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
  [ -x "$B/kube-proxy" ] && kube-proxy --cleanup >/dev/null 2>&1 || true
  for t in filter nat mangle; do  # rules/chains named KUBE-* / CNI-* (kubelet, kube-proxy, CNI plugins)
    iptables -t $t -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j (KUBE|CNI)-' | grep -vE '^-A (KUBE|CNI)-' \
      | sed 's/^-A/-D/' | while read -r r; do eval iptables -t $t "$r" || true; done
    for c in $(iptables -t $t -S 2>/dev/null | awk '/^-N (KUBE|CNI)-/{print $2}'); do iptables -t $t -F "$c"; done
    for c in $(iptables -t $t -S 2>/dev/null | awk '/^-N (KUBE|CNI)-/{print $2}'); do iptables -t $t -X "$c" || true; done
  done
  ip link del k8slab0 2>/dev/null || true
  if [ -f dockerd.pid ]; then D=$(cat dockerd.pid); kill "$D" 2>/dev/null; rm -f dockerd.pid
    for i in $(seq 30); do kill -0 "$D" 2>/dev/null || break; sleep 1; done
    umount "$W/docker/exec/netns/default" 2>/dev/null; fi
  [ -f sysctl.orig ] && sysctl -qw $(cat sysctl.orig) && rm -f sysctl.orig
  if [ -f made_var_log_pods ]; then rm -rf /var/log/pods /var/log/containers; rm -f made_var_log_pods; fi
  grep -q " $R/kubelet" /proc/mounts && awk -v r="$R/kubelet" '$2 ~ "^"r {print $2}' /proc/mounts | sort -r | xargs -r umount
  rm -rf "$R/etcd" "$R/kubelet" "$R/dockershim" "$R/cni/ipam" "$R/cni/cache"
  ;;
*) echo "usage: $0 build|up|smoke|down"; exit 2;;
esac
