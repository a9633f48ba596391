# Sourced by tools/lab: the arbiter's network and etcd (up --arbiter; docs/arbiter.md).
#
# A third network, "the arbiter's": bridge br3 on the lab's switch, eth3 198.18.5.I on node I, and
# an etcd cluster of three members (Debian's etcd-server, unchanged) in namespaces LAB-etcd1..3
# at 198.18.5.201-203 (client port 2379, peer port 2380). `cut I` leaves eth3 alone (a split the
# arbiter decides); `arbiter-cut I` takes node I off the arbiter's network.

ETCD_NET=198.18.5

etcd_ns() { echo "$LAB-etcd$1"; }
# With --arbiter-tls the clients speak https with certificates (made by make_etcd_tls), in the
# etcd lab's state: a lab --arbiter-of another uses the other's.
etcd_tls_dir() { echo "${VIGIL_LAB_DIR:-/run/vigil-lab}/$(cat "$STATE/arbiter-of" 2>/dev/null || echo "$LAB")/etcd-tls"; }
etcd_scheme() { if [ -f "$(etcd_tls_dir)/ca.crt" ]; then echo https; else echo http; fi; }
etcd_urls() { local k s= sc; sc=$(etcd_scheme); for k in 1 2 3; do s="$s${s:+,}$sc://$ETCD_NET.20$k:2379"; done; echo "$s"; }
etcdctl_tls() { local d; d=$(etcd_tls_dir); [ -f "$d/ca.crt" ] && echo "--cacert=$d/ca.crt --cert=$d/client.crt --key=$d/client.key"; true; }

# A private CA, a server certificate for the three members' addresses and a client certificate
# (openssl; valid two days). etcd then asks every client for a certificate of this CA. The server
# certificate allows client authentication too: etcd 3.4's JSON gateway dials etcd's own gRPC port
# with it (with serverAuth alone every gateway call fails: HTTP 503 "connection closed").
make_etcd_tls() {
  local d; d="$STATE/etcd-tls"
  command -v openssl >/dev/null || die "--arbiter-tls needs openssl (apt-get install openssl)"
  mkdir -p "$d"; chmod 700 "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=vigil-lab-$LAB-ca" -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  local who
  for who in server client; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=vigil-lab-$who" -keyout "$d/$who.key" -out "$d/$who.csr" 2>/dev/null
    if [ $who = server ]; then
      printf 'subjectAltName=IP:%s.201,IP:%s.202,IP:%s.203\nextendedKeyUsage=serverAuth,clientAuth\n' $ETCD_NET $ETCD_NET $ETCD_NET > "$d/$who.ext"
    else
      printf 'extendedKeyUsage=clientAuth\n' > "$d/$who.ext"
    fi
    openssl x509 -req -days 2 -in "$d/$who.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
      -extfile "$d/$who.ext" -out "$d/$who.crt" 2>/dev/null
  done
}

# A veth from namespace $1 (interface $2, address $4) to the switch's br3 (port $3).
on_arbiter_net() {
  local netns=$1 ifname=$2 port=$3 addr=$4
  ip link add "$LAB-$port" type veth peer name "$ifname" netns "$netns"
  ip link set "$LAB-$port" netns "$SW"
  ip -n "$SW" link set "$LAB-$port" name "$port"
  ip -n "$SW" link set "$port" master br3 up
  ip -n "$netns" addr add "$addr/24" dev "$ifname"
  ip -n "$netns" link set "$ifname" up
}

make_etcd_net() {
  local n=$1 i k
  command -v etcd >/dev/null && command -v etcdctl >/dev/null \
    || die "--arbiter needs etcd and etcdctl (apt-get install etcd-server etcd-client)"
  ip -n "$SW" link add br3 type bridge
  ip -n "$SW" link set br3 up
  for i in $(seq 1 "$n"); do on_arbiter_net "$(ns "$i")" eth3 "n$i-3" "$ETCD_NET.$i"; done
  for k in 1 2 3; do
    ip netns add "$(etcd_ns "$k")"
    ip -n "$(etcd_ns "$k")" link set lo up
    on_arbiter_net "$(etcd_ns "$k")" eth0 "etcd$k" "$ETCD_NET.20$k"
  done
}

# A second site (up --arbiter-of OTHER): this lab's nodes join OTHER's arbiter network (its
# switch's br3, its etcd) at 198.18.5.(100+I); OTHER must be up with --arbiter.
join_etcd_net() {
  local n=$1 other=$2 i
  ip netns list | grep -q "^$other-etcd1" || die "--arbiter-of $other: no lab '$other' with --arbiter is up"
  echo "$other-sw" > "$STATE/arbiter-sw"
  echo "$other" > "$STATE/arbiter-of"
  for i in $(seq 1 "$n"); do
    ip link add "$LAB-$i-3" type veth peer name eth3 netns "$(ns "$i")"
    ip link set "$LAB-$i-3" netns "$other-sw"
    ip -n "$other-sw" link set "$LAB-$i-3" name "$(arbiter_port "$i")"
    ip -n "$other-sw" link set "$(arbiter_port "$i")" master br3 up
    ip -n "$(ns "$i")" addr add "$ETCD_NET.$((100 + i))/24" dev eth3
    ip -n "$(ns "$i")" link set eth3 up
  done
}

# Node I's port on the arbiter's switch: n$I-3 on this lab's own, j$LAB$I on another lab's.
arbiter_port() { if [ -f "$STATE/arbiter-sw" ]; then echo "j$LAB$1"; else echo "n$1-3"; fi; }
arbiter_sw() { cat "$STATE/arbiter-sw" 2>/dev/null || echo "$SW"; }

etcd_alive() { local p; p=$(cat "$STATE/etcd/e$1.pid" 2>/dev/null || true); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

etcd_start() {
  local k=$1 ip=$ETCD_NET.20$1 cluster= j state=new
  etcd_alive "$k" && return 0
  for j in 1 2 3; do cluster="$cluster${cluster:+,}e$j=http://$ETCD_NET.20$j:2380"; done
  mkdir -p "$STATE/etcd"
  [ -d "$STATE/etcd/e$k" ] && state=existing
  spawn_ns "$(etcd_ns "$k")" "$STATE/etcd/e$k.pid" "$STATE/etcd/e$k.log" etcd --name "e$k" --data-dir "$STATE/etcd/e$k" \
    --listen-client-urls "$(etcd_scheme)://$ip:2379" --advertise-client-urls "$(etcd_scheme)://$ip:2379" $(etcd_server_tls) \
    --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
    --initial-cluster "$cluster" --initial-cluster-state "$state" --initial-cluster-token "$LAB" \
    --heartbeat-interval 100 --election-timeout 1000
  for _ in $(seq 1 100); do [ -s "$STATE/etcd/e$k.pid" ] && return 0; sleep 0.02; done
  die "etcd member e$k did not start (see $STATE/etcd/e$k.log)"
}

etcd_server_tls() {
  local d; d=$(etcd_tls_dir)
  [ -f "$d/ca.crt" ] && echo "--cert-file=$d/server.crt --key-file=$d/server.key --trusted-ca-file=$d/ca.crt --client-cert-auth"
  true
}

etcd_stop() {
  local k=$1 p
  p=$(cat "$STATE/etcd/e$k.pid" 2>/dev/null || true)
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.05; done
  kill -KILL "$p" 2>/dev/null || true
}

# Waits (with a deadline) until the etcd cluster answers (etcdctl from the first member's namespace).
etcd_wait() {
  local deadline=$((SECONDS + ${1:-30}))
  while [ $SECONDS -lt $deadline ]; do
    ip netns exec "$(etcd_ns 1)" etcdctl --endpoints="$(etcd_urls)" $(etcdctl_tls) --command-timeout=1s endpoint health >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# tools/lab etcd start|stop|status [K]
cmd_etcd() {
  local what=${1:?start|stop|status} ks=${2:-1 2 3} k
  case $what in
    start) for k in $ks; do etcd_start "$k"; done ;;
    stop) for k in $ks; do etcd_stop "$k"; done ;;
    status) ip netns exec "$(etcd_ns 1)" etcdctl --endpoints="$(etcd_urls)" $(etcdctl_tls) --command-timeout=1s endpoint status -w table ;;
    *) die "etcd: start, stop or status" ;;
  esac
}

# The [arbiter] section of a lab with --arbiter: a 3-second lease read every 500 ms.
arbiter_config() {
  printf '[arbiter]\nendpoints = [%s]\nttl = "3s"\nrenew = "500ms"\ntimeout = "400ms"\n' \
    "$(etcd_urls | sed 's/[^,]*/"&"/g; s/,/, /g')"
  # cmd_up's heur (--arbiter-heuristics; it also made the gateway, 198.18.0.254 on link 0).
  if [ "${heur:-0}" = 1 ]; then printf 'heuristics = ["/usr/bin/ping", "-c1", "-W1", "198.18.0.254"]\nheuristics_interval = "500ms"\n'; fi
  local d; d=$(etcd_tls_dir)
  if [ -f "$d/ca.crt" ]; then printf 'ca_file = "%s"\ncert_file = "%s"\nkey_file = "%s"\n' "$d/ca.crt" "$d/client.crt" "$d/client.key"; fi
}
