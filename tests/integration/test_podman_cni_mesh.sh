#!/usr/bin/env bash
# Containers on weft with a real CNI runtime: on two hosts (each a namespace with its own router),
# `podman run --network weft` puts a container on the overlay through weft-cni and the router's
# /workloads/attach. Each gets an address from weft IPAM, they reach each other (ping, TCP, sealed
# on the underlay), the workload carries the namespace and labels given through CNI_ARGS on every
# host and DNS answers its NAME.NAMESPACE, a repeated ADD answers the same address, and
# `podman rm` (CNI DEL) releases exactly that address and removes the workload record (and its
# name) everywhere.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
# shellcheck source=SCRIPTDIR/lib_podman.sh
source "$here/lib_podman.sh"

harness_init podmesh
podman_cleanup_trap
harness_add_hosts 2
weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
wait_for "h1 and h2 to connect" 20 weft_full_mesh h1 h2 || fail "no mesh"
podman_setup h1
podman_setup h2

c1=c1-$HARNESS_RUN_ID c2=c2-$HARNESS_RUN_ID
# podman passes its own CNI_ARGS on to the plugin, after K8S_POD_NAME (the container's name).
CNI_ARGS="K8S_POD_NAMESPACE=team-a;WEFT_LABELS=app=web,tier=front" \
  podman_on h1 run -d --name "$c1" --network weft "${PODMAN_RUN_ARGS[@]}" /bin/sleep 3600 \
  >/dev/null || fail "podman run $c1 on h1 failed"
podman_on h2 run -d --name "$c2" --network weft "${PODMAN_RUN_ARGS[@]}" /bin/sleep 3600 \
  >/dev/null || fail "podman run $c2 on h2 failed"
ip1=$(podman_ip h1 "$c1") ip2=$(podman_ip h2 "$c2")
[[ $ip1 == 10.3[2-9].* || $ip1 == 10.4[0-7].* ]] || fail "$c1 has no overlay address: '$ip1'"
[[ $ip2 == 10.3[2-9].* || $ip2 == 10.4[0-7].* ]] || fail "$c2 has no overlay address: '$ip2'"
[[ $ip1 != "$ip2" ]] || fail "both containers got $ip1"
id1=$(podman_on h1 inspect -f '{{.Id}}' "$c1")
ipam_holder() { weft_on "$1" status ipam --json | jq -r --arg h "$2" '.allocations[] | select(.holder == $h) | .address'; }
[[ $(ipam_holder h1 "cni:$id1") == "$ip1" ]] ||
  fail "h1's IPAM does not hold $ip1 for cni:$id1: $(weft_on h1 status ipam --json | jq -c .allocations)"
pass "podman run --network weft on two hosts: $c1 got $ip1, $c2 got $ip2 from weft IPAM (holder cni:CONTAINER_ID)"

wait_for "$c1 to ping $c2 across the mesh" 10 podman_on h1 exec "$c1" ping -c1 -W1 -q "$ip2" ||
  fail "$c1 cannot ping $c2"
podman_on h2 exec "$c2" ping -c2 -W1 -q "$ip1" >/dev/null || fail "$c2 cannot ping $c1"
# TCP, captured on h1's underlay link: the reply crosses it only sealed.
marker="CNI-MARKER-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
pcap=$HARNESS_DIR/h1-eth0.pcap
weft_capture_start "$(host_ns h1)" eth0 "$pcap"
cap_pid=$WEFT_CAPTURE_PID
podman_on h2 exec -d "$c2" sh -c "echo $marker | nc -l -p 7000" >/dev/null || fail "no listener in $c2"
tcp_marker() { podman_on h1 exec "$c1" nc -w 2 "$ip2" 7000 </dev/null | grep -qF "$marker"; }
wait_for "$c1 to read from $c2 over TCP" 10 tcp_marker || fail "no TCP from $c1 to $c2:7000"
sealed="udp and src host $(host_ip h2) and dst host $(host_ip h1) and port 6783"
wait_for "tunnel datagrams h2 -> h1 in the capture" 5 weft_pcap_has "$pcap" "$sealed" ||
  fail "the capture on h1 has no tunnel datagrams from h2"
weft_capture_stop "$cap_pid" "$pcap"
if grep -aqF "${marker:0:20}" "$pcap"; then fail "the TCP payload crossed the underlay in clear"; fi
pass "the containers ping each other and talk TCP across the mesh, encrypted on the underlay"

# The workload as every host sees it: namespace and labels from CNI_ARGS, the container's name.
workload_of() { weft_on "$1" ps --all --json | jq -c --arg id "$2" '.[] | select(.container_id == $id)'; }
has_metadata() {
  local w
  w=$(workload_of "$1" "$id1")
  echo "$w"
  jq -e --arg n "$c1" '.namespace == "team-a" and .labels == {"app":"web","tier":"front"} and
    .name == $n and .network == "weft" and (.ips | length == 1)' <<<"$w" >/dev/null
}
has_metadata h1 >/dev/null || fail "h1's record of $c1 lacks the namespace, labels or name: $(has_metadata h1)"
wait_for "h2 to see $c1 with its metadata" 10 has_metadata h2 || fail "h2 does not see $c1's metadata"
w2=$(workload_of h2 "$(podman_on h2 inspect -f '{{.Id}}' "$c2")")
jq -e '.namespace == "default" and .labels == {}' <<<"$w2" >/dev/null ||
  fail "$c2 (no CNI_ARGS) is not in namespace default without labels: $w2"
# DNS sees the container like any workload: NAME.NAMESPACE, from every host.
resolves() { [[ $(weft_on h2 dns-lookup "$c1.team-a" 2>&1) == "$ip1" ]]; }
wait_for "h2's DNS to answer $c1.team-a" 5 resolves || fail "h2's DNS: $(weft_on h2 dns-lookup "$c1.team-a" 2>&1)"
pass "$c1's workload has namespace team-a and labels app=web,tier=front on both hosts (DNS: $c1.team-a is $ip1); $c2's the defaults"

# A repeated ADD (as a runtime retrying would send it) answers the container's address again.
netns1=$(podman_on h1 inspect -f '{{.NetworkSettings.SandboxKey}}' "$c1")
conf=$(jq -c '{cniVersion, name} + .plugins[0]' "$(host_dir h1)"/net.d/*.conflist)
again=$(hexec h1 env CNI_COMMAND=ADD CNI_CONTAINERID="$id1" CNI_NETNS="$netns1" CNI_IFNAME=eth0 \
  CNI_PATH="$(host_dir h1)/cni-bin" "$(host_dir h1)/cni-bin/weft-cni" <<<"$conf") ||
  fail "a repeated ADD of $c1 failed: $again"
[[ $(jq -r '.ips[0].address' <<<"$again") == "$ip1"/* ]] || fail "a repeated ADD answered another address: $again"
[[ $(weft_on h1 status ipam --json | jq '.allocations | length') == 1 ]] ||
  fail "the repeated ADD allocated more: $(weft_on h1 status ipam --json | jq -c .allocations)"
[[ $(podman_ip h1 "$c1") == "$ip1" ]] || fail "the repeated ADD changed $c1's address"
pass "a repeated ADD of $c1 answers $ip1 again and allocates nothing more"

# The CNI result carries weft DNS when the router serves it (on the host's overlay address, which
# h1 does not have: its answer above has no nameserver) as the container's resolver config.
[[ $(jq -c '.dns // {}' <<<"$again") == "{}" ]] || fail "h1 serves no DNS, yet the result has $(jq -c .dns <<<"$again")"
weft_on h2 expose >/dev/null || fail "weft expose on h2 failed"
dns_listen() { curl -sf --unix-socket "$(host_datadir h2)/api.sock" http://weft/dns/status | jq -er '.listen | select(. != "")'; }
wait_for "h2's DNS to serve on its overlay address" 5 dns_listen || fail "h2's DNS does not listen"
netns2=$(podman_on h2 inspect -f '{{.NetworkSettings.SandboxKey}}' "$c2")
id2=$(podman_on h2 inspect -f '{{.Id}}' "$c2")
conf2=$(jq -c '{cniVersion, name} + .plugins[0]' "$(host_dir h2)"/net.d/*.conflist)
again2=$(hexec h2 env CNI_COMMAND=ADD CNI_CONTAINERID="$id2" CNI_NETNS="$netns2" CNI_IFNAME=eth0 \
  CNI_PATH="$(host_dir h2)/cni-bin" "$(host_dir h2)/cni-bin/weft-cni" <<<"$conf2") ||
  fail "a repeated ADD of $c2 failed: $again2"
server=$(dns_listen)
jq -e --arg s "${server%:53}" '.dns.nameservers == [$s] and .dns.search == ["weft.local"] and .dns.domain == "weft.local"' \
  <<<"$again2" >/dev/null || fail "the CNI result lacks h2's DNS ($server): $(jq -c .dns <<<"$again2")"
pass "the CNI result gives the container weft DNS when the host serves it (h2: ${server%:53}, search weft.local), none when not (h1)"

# A NetworkPolicy applies to a container like to any workload: isolating $c1 (team-a, app=web)
# for ingress, applied on h2, stops $c2's pings on h1 (weft-npc there); deleting it lets them in.
cat >"$HARNESS_DIR/deny-web.yaml" <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-web, namespace: team-a}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
Y
weft_on h2 policy apply -f "$HARNESS_DIR/deny-web.yaml" >/dev/null || fail "policy apply failed"
enforced_on_h1() { weft_on h1 policy list --json | jq -e 'length == 1' >/dev/null && weft_npc_caught_up h1; }
wait_for "h1's weft-npc to enforce deny-web" 10 enforced_on_h1 || fail "h1 did not enforce the policy"
! podman_on h2 exec "$c2" ping -c2 -W1 -q "$ip1" >/dev/null 2>&1 || fail "$c2 still pings $c1 through deny-web"
weft_on h1 policy delete team-a/deny-web >/dev/null || fail "policy delete failed"
wait_for "$c2 to ping $c1 again" 10 podman_on h2 exec "$c2" ping -c1 -W1 -q "$ip1" || fail "$c2 cannot ping $c1 after the delete"
pass "a NetworkPolicy isolating $c1 (selected by its CNI labels) blocks $c2's pings across hosts; deleting it lets them through"

# CNI DEL (podman rm): the address is released and the record goes, on every host.
weft_on h1 status ipam | grep -q "Allocated on this host: 1 address " ||
  fail "weft status ipam on h1 does not show the container's address: $(weft_on h1 status ipam)"
podman_on h1 rm -f -t 0 "$c1" >/dev/null || fail "podman rm $c1 failed"
[[ -z $(ipam_holder h1 "cni:$id1") ]] || fail "h1's IPAM still holds $ip1 after podman rm"
weft_on h1 status ipam | grep -q "Allocated on this host: 0 addresses" ||
  fail "weft status ipam on h1 still shows an address: $(weft_on h1 status ipam)"
[[ -z $(workload_of h1 "$id1") ]] || fail "h1 still has $c1's workload record"
gone_from_dns() { ! weft_on h1 dns-lookup "$c1.team-a" >/dev/null 2>&1; }
wait_for "h1's DNS to forget $c1.team-a" 5 gone_from_dns || fail "$c1.team-a still resolves on h1"
gone_on_h2() { [[ -z $(workload_of h2 "$id1") ]]; }
wait_for "h2 to forget $c1" 10 gone_on_h2 || fail "h2 still lists $c1: $(workload_of h2 "$id1")"
[[ -n $(workload_of h2 "$(podman_on h2 inspect -f '{{.Id}}' "$c2")") ]] || fail "h2 lost $c2's record too"
! hexec h1 ip -o link show type veth | grep -q vethwe || fail "a vethwe is left on h1: $(hexec h1 ip -o link show type veth)"
pass "podman rm $c1 released $ip1 (weft status ipam) and removed its record on h1 and h2, its name and its veth"
