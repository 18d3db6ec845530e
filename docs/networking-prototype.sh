#!/bin/bash
# Prototype (docs/networking.md): a veth from the real bridge CNI plugin moved into a
# netns owned by a child user namespace, re-configured, reached over TCP, then the real
# CNI DEL on containerd's path. As root; only namespaces it makes; cleans up after itself.
set -u
D=/run/vnode-proto; mkdir -p $D/netns $D/ipam
CONF='{"cniVersion":"0.4.0","name":"proto","type":"bridge","bridge":"vnproto0","isGateway":true,"ipMasq":false,"hairpinMode":true,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.250.7.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":"'$D'/ipam"}}'
cni() { # cmd id netns
  CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=$3 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
  CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=proto;K8S_POD_NAME=$2;K8S_POD_INFRA_CONTAINER_ID=$2" /usr/lib/cni/bridge <<<"$CONF"; }
step() { echo; echo "\$ $*"; "$@"; }
# two netns as containerd makes them (persisted by a bind mount of nsfs)
touch $D/netns/orig; step unshare --net=$D/netns/orig true
touch $D/netns/peer; step unshare --net=$D/netns/peer true
step cni ADD podA $D/netns/orig
step cni ADD peer $D/netns/peer >/dev/null
# the vNode stand-in: a user namespace mapped to 200000..265535 with its own netns
unshare --user --net sleep 600 & U=$!
sleep 0.3
echo '0 200000 65536' > /proc/$U/uid_map; echo '0 200000 65536' > /proc/$U/gid_map
step cat /proc/$U/uid_map
step readlink /proc/$U/ns/user /proc/$U/ns/net
step lsns -o NS,TYPE,ONS -p $U -t net
echo "--- before move, orig:"; nsenter --net=$D/netns/orig ip -br addr; nsenter --net=$D/netns/orig ip route
nsenter --net=$D/netns/orig sh -c 'cat /proc/sys/net/ipv4/conf/eth0/arp_notify'
# capture, move, re-apply
ADDR=$(nsenter --net=$D/netns/orig ip -j addr show dev eth0 | node -e 'const a=JSON.parse(require("fs").readFileSync(0))[0].addr_info.find(x=>x.family=="inet");console.log(a.local+"/"+a.prefixlen)')
GW=$(nsenter --net=$D/netns/orig ip -j route show default | node -e 'console.log(JSON.parse(require("fs").readFileSync(0))[0].gateway)')
MTU=$(nsenter --net=$D/netns/orig ip -j link show eth0 | node -e 'console.log(JSON.parse(require("fs").readFileSync(0))[0].mtu)')
echo "captured addr=$ADDR gw=$GW mtu=$MTU"
step nsenter --net=$D/netns/orig ip link set eth0 netns $U
echo "--- after move, target (no re-apply yet):"; nsenter --net=/proc/$U/ns/net ip -br addr; nsenter --net=/proc/$U/ns/net ip route; nsenter --net=/proc/$U/ns/net cat /proc/sys/net/ipv4/conf/eth0/arp_notify
step nsenter --net=/proc/$U/ns/net ip -batch - <<B
link set lo up
link set eth0 mtu $MTU up
addr add $ADDR dev eth0
route add default via $GW dev eth0
B
nsenter --net=/proc/$U/ns/net sh -c 'echo 1 > /proc/sys/net/ipv4/conf/eth0/arp_notify'
echo "--- after re-apply, target:"; nsenter --net=/proc/$U/ns/net ip -o link show eth0 | grep -o "mtu [0-9]*"; nsenter --net=/proc/$U/ns/net cat /proc/sys/net/ipv4/conf/eth0/arp_notify; nsenter --net=/proc/$U/ns/net ip -br addr; nsenter --net=/proc/$U/ns/net ip route
# a process of the "vNode" (root in the child userns) configures its own netns: CAP_NET_ADMIN there
step nsenter -t $U --user --net ip link add br-in type bridge
step nsenter -t $U --user --net ip -br link show br-in
step nsenter -t $U --user --net ip link del br-in
# TCP from the peer netns to a listener in the userns-owned netns
nsenter -t $U --user --net busybox nc -l -p 8080 -e echo hello-from-userns-netns & L=$!
sleep 0.3
step nsenter --net=$D/netns/peer busybox nc -w 3 ${ADDR%/*} 8080
wait $L
# replace containerd's mount at the original path with the userns-owned netns
step umount $D/netns/orig
step mount --bind /proc/$U/ns/net $D/netns/orig
kill $U; wait $U 2>/dev/null
echo "--- vNode process gone; netns still reachable by path:"; nsenter --net=$D/netns/orig ip -br addr
step ls $D/ipam/proto
step cni DEL podA $D/netns/orig; echo "rc=$?"
step ls $D/ipam/proto
step ip -br link show master vnproto0
step umount $D/netns/orig; rm -f $D/netns/orig
step cni DEL podA $D/netns/orig; echo "rc=$? (second DEL, netns path gone)"
step cni DEL peer $D/netns/peer >/dev/null; umount $D/netns/peer; rm -f $D/netns/peer
ip link del vnproto0; rm -rf $D
step grep -c vnode-proto /proc/self/mountinfo
