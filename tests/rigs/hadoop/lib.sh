# Shared by the rig's start and stop scripts (sourced, not run).

# Daemons in start order; stop goes the other way.
RIG_DAEMONS=(namenode datanode resourcemanager nodemanager)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'hadoop rig: %s\n' "$*" >&2; exit 1; }

rig_run_dir() {
    local dir=${1:-${DN_CACHE:-$HOME/.cache/datalake-notebooks}/run/hadoop}
    mkdir -p "$dir"
    (cd "$dir" && pwd)
}

java_home() {
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
        echo "$JAVA_HOME"
    elif command -v java >/dev/null 2>&1; then
        dirname "$(dirname "$(readlink -f "$(command -v java)")")"
    else
        die "no Java found: set JAVA_HOME or put java on PATH"
    fi
}

# The java process of a daemon, if its pid file names one that is still that daemon.
daemon_pid() {
    local run_dir=$1 name=$2 pid
    pid=$(cat "$run_dir/pids/$name.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    # A recycled pid belongs to some other program: only a JVM of ours with this RUN_DIR counts.
    tr '\0' '\n' < "/proc/$pid/cmdline" | grep -q "^-Dhadoop.log.file=$name.log$" || return 1
    tr '\0' '\n' < "/proc/$pid/cmdline" | grep -qF "$run_dir/conf:" || return 1
    echo "$pid"
}

rig_any_running() {
    local name
    for name in "${RIG_DAEMONS[@]}"; do
        daemon_pid "$1" "$name" >/dev/null && return 0
    done
    return 1
}

# stop_daemons RUN_DIR [started]: "started" trusts the pid files as written by this very start
# (the launcher may not have reached java yet), otherwise a pid must still be our JVM.
stop_daemons() {
    local run_dir=$1 trust=${2:-} i name pid pids=() waited
    for ((i = ${#RIG_DAEMONS[@]} - 1; i >= 0; i--)); do
        name=${RIG_DAEMONS[i]}
        if [ -n "$trust" ]; then
            pid=$(cat "$run_dir/pids/$name.pid" 2>/dev/null) || continue
            pids+=("$pid")
            kill -TERM "$pid" 2>/dev/null || true
        elif pid=$(daemon_pid "$run_dir" "$name"); then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
        rm -f "$run_dir/pids/$name.pid"
    done
    for pid in "${pids[@]}"; do
        waited=0
        while kill -0 "$pid" 2>/dev/null && [ $waited -lt 150 ]; do
            sleep 0.2
            waited=$((waited + 1))
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
}

ensure_users() {
    getent group hadoop >/dev/null || groupadd --system hadoop
    getent group supergroup >/dev/null || groupadd --system supergroup
    local user
    for user in hdfs yarn livy; do
        id -u "$user" >/dev/null 2>&1 && continue
        case $user in
            hdfs) useradd --system --gid hadoop --groups supergroup --no-create-home \
                          --home-dir /nonexistent --shell /usr/sbin/nologin hdfs ;;
            yarn) useradd --system --gid hadoop --no-create-home \
                          --home-dir /nonexistent --shell /usr/sbin/nologin yarn ;;
            livy) useradd --system --user-group --no-create-home \
                          --home-dir /nonexistent --shell /usr/sbin/nologin livy ;;
        esac
    done
}

# as_user USER CMD...: run CMD as USER with that user's groups, in a session of its own (a Ctrl-C
# or a killed caller does not take the daemons down with it). Everything is exec'd, so a caller
# that backgrounds `(as_user ...) &` gets the pid the command ends up as.
as_user() {
    local user=$1
    shift
    exec setsid setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups \
        env USER="$user" LOGNAME="$user" HOME="${RUN_HOME:-/tmp}" "$@"
}

# The daemons' users must read HADOOP_HOME. The cache under root's home usually is not reachable
# for them, so they get a hard-linked mirror (no copy on the same filesystem) in /var/tmp.
readable_home() {
    local home=$1 mirror
    if (as_user hdfs test -x "$home/libexec/launch" -a -r "$home/share/hadoop/lib"); then
        echo "$home"
        return
    fi
    mirror=/var/tmp/datalake-notebooks/$(basename "$home")
    if [ ! -f "$mirror/.complete" ]; then
        mkdir -p /var/tmp/datalake-notebooks
        chmod 755 /var/tmp/datalake-notebooks
        rm -rf "$mirror.new"
        cp -al "$home" "$mirror.new" 2>/dev/null || { rm -rf "$mirror.new"; cp -a "$home" "$mirror.new"; }
        chmod -R a+rX "$mirror.new"
        rm -rf "$mirror"
        mv "$mirror.new" "$mirror"
    fi
    echo "$mirror"
}

check_traversable() {
    local dir=$1 user=$2
    (as_user "$user" test -w "$dir/data/tmp") ||
        die "user $user cannot reach $dir (is a parent directory private, like a mode 700 temp dir?): pick a RUN_DIR under /tmp or /var/tmp"
}

free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    socks.append(s)
print(' '.join(str(s.getsockname()[1]) for s in socks))
EOF
}

# One HTTP request over bash's /dev/tcp (no curl in a minimal image): prints the status line, the
# headers and the body. HTTP/1.0, so the server closes the connection after the answer.
http() {
    local method=$1 hostport=$2 path=$3
    timeout 10 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" &&
        printf "%s %s HTTP/1.0\r\nHost: %s\r\nContent-Length: 0\r\n\r\n" "$0" "$2" "$1" >&3 &&
        cat <&3' "$method" "$hostport" "$path" 2>/dev/null
}

webhdfs() {
    local method=$1 hostport=127.0.0.1:$2 path=$3 query=$4 answer
    answer=$(http "$method" "$hostport" "/webhdfs/v1$path?$query") || die "WebHDFS $method $path: no answer"
    case $(head -n1 <<<"$answer") in
        *" 200 "*) ;;
        *) die "WebHDFS $method $path?$query failed: $(tail -n1 <<<"$answer")" ;;
    esac
}

hdfs_ready() {
    local state
    state=$(http GET "127.0.0.1:$1" '/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState') || return 1
    grep -q '"FSState" *: *"Operational"' <<<"$state" &&
        grep -Eq '"NumLiveDataNodes" *: *[1-9]' <<<"$state"
}

rm_ready() {
    local hostport=127.0.0.1:$1 with_nm=$2 metrics
    metrics=$(http GET "$hostport" '/jmx?qry=Hadoop:service=ResourceManager,name=ClusterMetrics') || return 1
    grep -q '"NumActiveNMs"' <<<"$metrics" || return 1
    [ "$with_nm" = 1 ] || return 0
    grep -Eq '"NumActiveNMs" *: *[1-9]' <<<"$metrics"
}

start_daemon() {
    local name=$1 user=$2
    shift 2
    log "starting $name as $user"
    (RUN_HOME="$run_dir/data/tmp" as_user "$user" "$@") > "$HADOOP_LOG_DIR/$name.log" 2>&1 < /dev/null &
    echo $! > "$run_dir/pids/$name.pid"
}

# wait_for SECONDS CHECK ARGS...: until CHECK succeeds; fails early when a started daemon died.
wait_for() {
    local seconds=$1 deadline name
    shift
    deadline=$((SECONDS + seconds))
    until "$@"; do
        for name in "${RIG_DAEMONS[@]}"; do
            if [ -f "$run_dir/pids/$name.pid" ] && ! kill -0 "$(cat "$run_dir/pids/$name.pid")" 2>/dev/null; then
                die "$name exited during start-up"
            fi
        done
        [ $SECONDS -lt $deadline ] || die "not ready after ${seconds}s ($*)"
        sleep 0.5
    done
}

print_log_tails() {
    local run_dir=$1 file
    for file in "$run_dir"/logs/*.log; do
        [ -f "$file" ] || continue
        printf '\n----- last 50 lines of %s -----\n' "$file" >&2
        # A daemon's start-up banner holds the whole classpath on one line.
        tail -n 50 "$file" | cut -c1-1000 >&2
    done
}

on_failure() {
    local rc=$?
    print_log_tails "$run_dir"
    stop_daemons "$run_dir" started
    echo "hadoop rig: start failed in $run_dir (daemon logs above)" >&2
    exit "$rc"
}

# The conf dir the daemons and clients read: site files with the chosen ports, the heap sizes.
write_conf() {
    local conf=$1
    cat > "$conf/core-site.xml" <<EOF
<?xml version="1.0"?>
<configuration>
  <property><name>fs.defaultFS</name><value>hdfs://127.0.0.1:$nn_rpc</value></property>
  <property><name>hadoop.tmp.dir</name><value>$run_dir/data/tmp/hadoop-\${user.name}</value></property>
  <property><name>hadoop.security.authentication</name><value>simple</value></property>
  <property><name>hadoop.security.authorization</name><value>false</value></property>
  <property><name>hadoop.security.group.mapping</name><value>org.apache.hadoop.security.ShellBasedUnixGroupsMapping</value></property>
  <property><name>ipc.client.connect.max.retries</name><value>3</value></property>
</configuration>
EOF
    cat > "$conf/hdfs-site.xml" <<EOF
<?xml version="1.0"?>
<configuration>
  <property><name>dfs.namenode.name.dir</name><value>file://$run_dir/data/name</value></property>
  <property><name>dfs.datanode.data.dir</name><value>file://$run_dir/data/data</value></property>
  <property><name>dfs.replication</name><value>1</value></property>
  <property><name>dfs.permissions.enabled</name><value>true</value></property>
  <property><name>dfs.permissions.superusergroup</name><value>supergroup</value></property>
  <property><name>dfs.webhdfs.enabled</name><value>true</value></property>
  <property><name>dfs.http.policy</name><value>HTTP_ONLY</value></property>
  <property><name>dfs.namenode.rpc-address</name><value>127.0.0.1:$nn_rpc</value></property>
  <property><name>dfs.namenode.http-address</name><value>127.0.0.1:$nn_http</value></property>
  <property><name>dfs.namenode.secondary.http-address</name><value>127.0.0.1:0</value></property>
  <property><name>dfs.datanode.address</name><value>127.0.0.1:$dn_data</value></property>
  <property><name>dfs.datanode.http.address</name><value>127.0.0.1:$dn_http</value></property>
  <property><name>dfs.datanode.ipc.address</name><value>127.0.0.1:$dn_ipc</value></property>
  <!-- WebHDFS redirects reads and writes to the DataNode by this name: keep it on loopback. -->
  <property><name>dfs.datanode.hostname</name><value>127.0.0.1</value></property>
  <property><name>dfs.namenode.datanode.registration.ip-hostname-check</name><value>false</value></property>
  <property><name>dfs.namenode.safemode.extension</name><value>0</value></property>
  <property><name>dfs.heartbeat.interval</name><value>1</value></property>
  <property><name>dfs.namenode.handler.count</name><value>10</value></property>
  <property><name>dfs.datanode.handler.count</name><value>3</value></property>
  <property><name>dfs.namenode.resource.du.reserved</name><value>10485760</value></property>
</configuration>
EOF
    cat > "$conf/yarn-site.xml" <<EOF
<?xml version="1.0"?>
<configuration>
  <property><name>yarn.resourcemanager.hostname</name><value>127.0.0.1</value></property>
  <property><name>yarn.resourcemanager.address</name><value>127.0.0.1:$rm_rpc</value></property>
  <property><name>yarn.resourcemanager.scheduler.address</name><value>127.0.0.1:$rm_sched</value></property>
  <property><name>yarn.resourcemanager.resource-tracker.address</name><value>127.0.0.1:$rm_tracker</value></property>
  <property><name>yarn.resourcemanager.admin.address</name><value>127.0.0.1:$rm_admin</value></property>
  <property><name>yarn.resourcemanager.webapp.address</name><value>127.0.0.1:$rm_web</value></property>
  <property><name>yarn.resourcemanager.webapp.https.address</name><value>127.0.0.1:0</value></property>
  <!-- Admin commands (rmadmin): the yarn user and members of group hadoop. -->
  <property><name>yarn.admin.acl</name><value>yarn hadoop</value></property>
  <property><name>yarn.resourcemanager.recovery.enabled</name><value>false</value></property>
  <property><name>yarn.node-labels.fs-store.root-dir</name><value>file://$run_dir/data/yarn/node-labels</value></property>
  <property><name>yarn.node-attribute.fs-store.root-dir</name><value>file://$run_dir/data/yarn/node-attribute</value></property>
  <property><name>yarn.timeline-service.enabled</name><value>false</value></property>
  <property><name>yarn.log-aggregation-enable</name><value>false</value></property>
  <property><name>yarn.nodemanager.hostname</name><value>127.0.0.1</value></property>
  <property><name>yarn.nodemanager.address</name><value>127.0.0.1:$nm_rpc</value></property>
  <property><name>yarn.nodemanager.localizer.address</name><value>127.0.0.1:$nm_local</value></property>
  <property><name>yarn.nodemanager.webapp.address</name><value>127.0.0.1:$nm_web</value></property>
  <property><name>yarn.nodemanager.local-dirs</name><value>$run_dir/data/nm-local</value></property>
  <property><name>yarn.nodemanager.log-dirs</name><value>$run_dir/data/nm-log</value></property>
  <property><name>yarn.nodemanager.resource.memory-mb</name><value>2048</value></property>
  <property><name>yarn.nodemanager.resource.cpu-vcores</name><value>2</value></property>
  <property><name>yarn.nodemanager.vmem-check-enabled</name><value>false</value></property>
  <property><name>yarn.nodemanager.pmem-check-enabled</name><value>false</value></property>
  <property><name>yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage</name><value>99</value></property>
  <property><name>yarn.scheduler.minimum-allocation-mb</name><value>128</value></property>
  <property><name>yarn.scheduler.maximum-allocation-mb</name><value>2048</value></property>
</configuration>
EOF
    cat > "$conf/capacity-scheduler.xml" <<'EOF'
<?xml version="1.0"?>
<configuration>
  <property><name>yarn.scheduler.capacity.root.queues</name><value>default</value></property>
  <property><name>yarn.scheduler.capacity.root.default.capacity</name><value>100</value></property>
  <property><name>yarn.scheduler.capacity.root.default.maximum-capacity</name><value>100</value></property>
  <property><name>yarn.scheduler.capacity.maximum-am-resource-percent</name><value>0.5</value></property>
</configuration>
EOF
    cat > "$conf/hadoop-env.sh" <<'EOF'
# Sourced by the launcher: small heaps, the rig runs on a developer machine.
export HADOOP_HEAPSIZE_MAX=${HADOOP_HEAPSIZE_MAX:-256m}
export YARN_RESOURCEMANAGER_OPTS=${YARN_RESOURCEMANAGER_OPTS:--Xmx384m}
EOF
}
