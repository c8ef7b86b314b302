#!/bin/bash
# The Sentinel discovery race behind the HA store's occasional slow failover (issue 14; docs/benchmarks.md), on plain
# redis-server/redis-sentinel processes (loopback only, throwaway, no ACL), with the AppHost's Sentinel timings.
# Usage: sentinel-discovery-race.sh plain|known OFFSET [together|staggered]
#   plain: Sentinels discover replicas (primary's INFO, every 10 s) and peers (hello) themselves;
#   known: their configuration names them (sentinel myid, known-replica, known-sentinel), as the AppHost now writes it;
#   OFFSET: added to ports 7101-7103 (data) and 27101-27103 (Sentinels);
#   staggered: Sentinels 2 and 3 meet the primary before its replicas connect, Sentinel 1 after them.
# Waits until the store looks ready (2 online replicas, Sentinel 1 lists them, CKQUORUM OK everywhere), kill -9s the
# primary and prints what each Sentinel knew then, the seconds until every Sentinel names a new primary answering
# ROLE master, and the failover attempts and aborts in the Sentinels' logs.
set -u
variant=$1; off=$2
D=(7101 7102 7103); S=(27101 27102 27103)
for i in 0 1 2; do D[$i]=$((D[$i]+off)); S[$i]=$((S[$i]+off)); done
dir=$(mktemp -d /tmp/hr-exp/t.XXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 $p 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT
ids=(); for i in 0 1 2; do ids[$i]=$(echo -n "sentinel-$i" | sha1sum | cut -c1-40); done
start_node() { i=$1
  args=(--port ${D[$i]} --bind 127.0.0.1 --dir "$dir" --dbfilename d$i.rdb --appendonly no --save "" --repl-diskless-sync-delay 0 --replica-announce-ip 127.0.0.1 --daemonize no --logfile "$dir/d$i.log")
  [ $i -gt 0 ] && args+=(--replicaof 127.0.0.1 ${D[0]})
  redis-server "${args[@]}" & pids+=($!)
}
start_sentinel() { i=$1
  c="$dir/s$i.conf"
  { echo "port ${S[$i]}"; echo "bind 127.0.0.1"; echo "dir $dir"; echo "logfile $dir/s$i.log"
    echo "sentinel announce-ip 127.0.0.1"; echo "sentinel announce-port ${S[$i]}"
    echo "sentinel monitor svc 127.0.0.1 ${D[0]} 2"
    echo "sentinel down-after-milliseconds svc 1500"; echo "sentinel failover-timeout svc 5000"; echo "sentinel parallel-syncs svc 2"
    if [ "$variant" = known ]; then
      echo "sentinel myid ${ids[$i]}"
      echo "sentinel known-replica svc 127.0.0.1 ${D[1]}"; echo "sentinel known-replica svc 127.0.0.1 ${D[2]}"
      for j in 0 1 2; do [ $j -ne $i ] && echo "sentinel known-sentinel svc 127.0.0.1 ${S[$j]} ${ids[$j]}"; done
    fi; } > "$c"
  redis-sentinel "$c" & pids+=($!)
}
if [ "${3:-together}" = staggered ]; then
  # Sentinels 2 and 3 meet the primary before its replicas connect; Sentinel 1 after (what a loaded start can do).
  start_node 0; sleep 0.3; start_sentinel 1; start_sentinel 2; sleep 1; start_node 1; start_node 2
  until [ "$(redis-cli -p ${D[0]} info replication 2>/dev/null | grep -c 'state=online')" = 2 ]; do sleep 0.1; done
  start_sentinel 0
else
  for i in 0 1 2; do start_node $i; done
  for i in 0 1 2; do start_sentinel $i; done
fi
# Ready as the bench saw it: the primary has 2 online replicas, Sentinel 1 lists 2 replicas, every Sentinel's CKQUORUM is OK.
start=$(date +%s.%N)
for t in $(seq 1 300); do
  ok=1
  [ "$(redis-cli -p ${D[0]} info replication 2>/dev/null | grep -c 'state=online')" = 2 ] || ok=0
  [ "$(redis-cli -p ${S[0]} sentinel replicas svc 2>/dev/null | grep -c '^name$')" -ge 2 ] || ok=0
  for i in 0 1 2; do redis-cli -p ${S[$i]} sentinel ckquorum svc 2>/dev/null | grep -q '^OK' || ok=0; done
  [ $ok = 1 ] && break; sleep 0.1
done
ready=$(echo "$(date +%s.%N) - $start" | bc)
known=""
for i in 0 1 2; do
  r=$(redis-cli -p ${S[$i]} sentinel replicas svc | grep -c '^name$'); s=$(redis-cli -p ${S[$i]} sentinel sentinels svc | grep -c '^name$')
  known="$known $((i+1)):${r}r/${s}s"
done
kill -9 ${pids[0]}
k=$(date +%s.%N)
for t in $(seq 1 900); do
  done=1
  for i in 0 1 2; do
    p=$(redis-cli -p ${S[$i]} sentinel get-master-addr-by-name svc | sed -n 2p)
    [ "$p" != "${D[0]}" ] || done=0
  done
  if [ $done = 1 ]; then role=$(redis-cli -p $p role | head -1); [ "$role" = master ] && break; fi
  sleep 0.1
done
took=$(echo "$(date +%s.%N) - $k" | bc)
aborts=$(cat "$dir"/s*.log | grep -c "failover-abort")
tries=$(cat "$dir"/s*.log | grep -c "+try-failover")
printf "%s/%s ready_after=%.1fs knew:%s failover=%.1fs try-failover=%s aborts=%s %s\n" "$variant" "${3:-together}" "$ready" "$known" "$took" "$tries" "$aborts" "$(cat "$dir"/s*.log | grep -o 'failover-abort[a-z-]*' | sort | uniq -c | tr '\n' ' ')"
