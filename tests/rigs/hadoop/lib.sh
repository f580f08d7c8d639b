# shellcheck shell=bash
# What only the Hadoop rig's start and stop scripts share (sourced, not run); what every rig
# shares is in ../lib.sh, sourced here.

# shellcheck disable=SC2034  # read by ../lib.sh
RIG_NAME=hadoop
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# Daemons in start order; stop goes the other way. With --ha, namenode2 and resourcemanager2 are
# the second master's.
RIG_DAEMONS=(namenode namenode2 datanode resourcemanager resourcemanager2 nodemanager)

# The java process of a daemon, if its pid file names one that is still that daemon.
daemon_pid() {
    local run_dir=$1 name=$2 pid
    pid=$(cat "$run_dir/pids/$name.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    # A recycled pid belongs to some other program: only a JVM of ours with this RUN_DIR counts.
    tr '\0' '\n' < "/proc/$pid/cmdline" | grep -q "^-Dhadoop.log.file=$name.log$" || return 1
    # RUN_DIR/conf, or a master's RUN_DIR/conf-masterN with --ha.
    tr '\0' '\n' < "/proc/$pid/cmdline" |
        grep -qF -e "$run_dir/conf:" -e "$run_dir/conf-master1:" -e "$run_dir/conf-master2:" || return 1
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
    local run_dir=$1 trust=${2:-} i name pid pids=()
    for ((i = ${#RIG_DAEMONS[@]} - 1; i >= 0; i--)); do
        name=${RIG_DAEMONS[i]}
        if [ -n "$trust" ]; then
            pid=$(cat "$run_dir/pids/$name.pid" 2>/dev/null) || continue
        else
            pid=$(daemon_pid "$run_dir" "$name") || continue
        fi
        # All of them at once: they stop side by side.
        kill -TERM "$pid" 2>/dev/null || true
        pids+=("$pid")
        rm -f "$run_dir/pids/$name.pid"
    done
    for pid in "${pids[@]}"; do
        stop_pid "$pid" 30
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
    mkdir -p /var/tmp/datalake-notebooks
    chmod 755 /var/tmp/datalake-notebooks
    # shellcheck disable=SC2094  # the lock file is only opened, never read
    (
        # Concurrent starts (other test sessions) share the mirror: make it once, atomically.
        take_lock 8 /var/tmp/datalake-notebooks/.mirror.lock "another start making the Hadoop tree's mirror" 600
        if [ ! -f "$mirror/.complete" ]; then
            rm -rf "$mirror.new"
            cp -al "$home" "$mirror.new" 2>/dev/null || { rm -rf "$mirror.new"; cp -a "$home" "$mirror.new"; }
            chmod -R a+rX "$mirror.new"
            rm -rf "$mirror"
            mv "$mirror.new" "$mirror"
        fi
    ) 8>/var/tmp/datalake-notebooks/.mirror.lock
    echo "$mirror"
}

check_traversable() {
    local dir=$1 user=$2
    (as_user "$user" test -w "$dir/data/tmp") ||
        die "user $user cannot reach $dir (is a parent directory private, like a mode 700 temp dir?): pick a RUN_DIR under /tmp or /var/tmp"
}

# One HTTP request over bash's /dev/tcp (no curl in a minimal image): prints the status line, the
# headers and the body. HTTP/1.0, so the server closes the connection after the answer.
# A secure rig (secure=1) answers HTTPS only: curl then, trusting the rig's CA, with SPNEGO from the
# caller's ticket cache when the server asks, and the principals' host name instead of 127.0.0.1.
# shellcheck disable=SC2154  # host and run_dir are start's
http() {
    local method=$1 hostport=$2 path=$3
    if [ "${secure:-0}" = 1 ]; then
        curl -sS -i -m 10 -X "$method" --cacert "$run_dir/tls/ca.pem" --negotiate -u : \
            -H 'Content-Length: 0' "https://$host:${hostport##*:}$path" 2>/dev/null
        return
    fi
    # shellcheck disable=SC2016  # expanded by the inner bash, from its arguments
    timeout 10 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" &&
        printf "%s %s HTTP/1.0\r\nHost: %s\r\nContent-Length: 0\r\n\r\n" "$0" "$2" "$1" >&3 &&
        cat <&3' "$method" "$hostport" "$path" 2>/dev/null
}

webhdfs() {
    local method=$1 hostport=127.0.0.1:$2 path=$3 query=$4 answer
    answer=$(http "$method" "$hostport" "/webhdfs/v1$path?$query") || die "WebHDFS $method $path: no answer"
    case $(head -n1 <<<"$answer") in
        *" 200 "*) ;;
        *" 401 "*) [ "${secure:-0}" = 1 ] && grep -q ' 200 ' <<<"$answer" && return 0
                   die "WebHDFS $method $path?$query was refused: $(tail -n1 <<<"$answer")" ;;
        *) die "WebHDFS $method $path?$query failed: $(tail -n1 <<<"$answer")" ;;
    esac
}

hdfs_ready() {
    local state
    state=$(http GET "127.0.0.1:$1" '/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState') || return 1
    grep -q '"FSState" *: *"Operational"' <<<"$state" &&
        grep -Eq '"NumLiveDataNodes" *: *[1-9]' <<<"$state"
}

# nn_state HTTP_PORT STATE: the NameNode says it is in HA state STATE (active, standby).
nn_state() {
    local status
    status=$(http GET "127.0.0.1:$1" '/jmx?qry=Hadoop:service=NameNode,name=NameNodeStatus') || return 1
    grep -q "\"State\" *: *\"$2\"" <<<"$status"
}

# rm_state WEBAPP_PORT STATE: the ResourceManager says it is in HA state STATE (ACTIVE, STANDBY);
# a standby's web app redirects to the active one for everything but /ws/v1/cluster/info.
rm_state() {
    local info
    info=$(http GET "127.0.0.1:$1" '/ws/v1/cluster/info') || return 1
    grep -q "\"haState\" *: *\"$2\"" <<<"$info"
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
    # The JVM names its log after $name: the stop script knows a daemon by it.
    (export HADOOP_LOGFILE="$name.log"; RUN_HOME="$run_dir/data/tmp" as_user "$user" "$@") \
        > "$HADOOP_LOG_DIR/$name.log" 2>&1 < /dev/null &
    echo $! > "$run_dir/pids/$name.pid"
}

# For rig_wait: every daemon this start launched is still running.
rig_alive() {
    local name
    for name in "${RIG_DAEMONS[@]}"; do
        if [ -f "$run_dir/pids/$name.pid" ] && ! kill -0 "$(cat "$run_dir/pids/$name.pid")" 2>/dev/null; then
            log "$name exited during start-up"
            return 1
        fi
    done
}

# For a failed start (rig_start_guard): stop what it launched.
rig_cleanup() {
    stop_daemons "$run_dir" started
}

# Secure mode (start --kerberos): the values below read the KDC rig's rig.env, sourced by start.

auth_type() {
    if [ "${secure:-0}" = 1 ]; then echo kerberos; else echo simple; fi
}

# core-site.xml properties of secure mode: SPNEGO on every web end point (WebHDFS among them;
# Hadoop 3.3 has no filter of WebHDFS's own), as the HTTP/ principal.
secure_core_props() {
    [ "${secure:-0}" = 1 ] || return 0
    prop hadoop.http.filter.initializers org.apache.hadoop.security.AuthenticationFilterInitializer
    prop hadoop.http.authentication.type kerberos
    prop hadoop.http.authentication.simple.anonymous.allowed false
    prop hadoop.http.authentication.kerberos.principal "$HTTP_PRINCIPAL"
    prop hadoop.http.authentication.kerberos.keytab "$KEYTAB_DIR/hdfs.keytab"
}

# The DataNode's web server: HTTPS only in secure mode.
dn_http_key() {
    if [ "${secure:-0}" = 1 ]; then echo https.address; else echo http.address; fi
}

# hdfs-site.xml properties of the chosen mode. Principals are written out in full (no _HOST):
# what _HOST becomes depends on how this machine resolves 127.0.0.1.
secure_hdfs_props() {
    if [ "${secure:-0}" != 1 ]; then
        prop dfs.http.policy HTTP_ONLY
        return
    fi
    local keytab=$KEYTAB_DIR/hdfs.keytab
    prop dfs.http.policy HTTPS_ONLY
    prop dfs.block.access.token.enable true
    prop dfs.namenode.kerberos.principal "$HDFS_PRINCIPAL"
    prop dfs.namenode.keytab.file "$keytab"
    prop dfs.namenode.kerberos.internal.spnego.principal "$HTTP_PRINCIPAL"
    prop dfs.datanode.kerberos.principal "$HDFS_PRINCIPAL"
    prop dfs.datanode.keytab.file "$keytab"
    prop dfs.web.authentication.kerberos.principal "$HTTP_PRINCIPAL"
    prop dfs.web.authentication.kerberos.keytab "$keytab"
    # SASL on the data-transfer port instead of privileged ports and jsvc (no root).
    prop dfs.data.transfer.protection authentication
}

# make_tls DIR HOST: a self-signed certificate for HOST (and localhost, 127.0.0.1) in a JKS
# keystore the daemons of group hadoop read, the same as a trust store, and as PEM (DIR/ca.pem) for
# the Python and curl clients.
make_tls() {
    local dir=$1 cn=$2 keytool
    keytool=$(java_home)/bin/keytool
    tls_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    mkdir -p "$dir"
    chmod 755 "$dir"
    "$keytool" -genkeypair -noprompt -alias rig -keyalg RSA -keysize 2048 -validity 30 \
        -dname "CN=$cn" -ext "SAN=dns:$cn,dns:localhost,ip:127.0.0.1" \
        -keystore "$dir/keystore.jks" -storetype JKS -storepass "$tls_password" -keypass "$tls_password" \
        > "$dir/keytool.log" 2>&1 || { cat "$dir/keytool.log" >&2; die "keytool -genkeypair failed"; }
    "$keytool" -exportcert -rfc -alias rig -keystore "$dir/keystore.jks" -storepass "$tls_password" \
        -file "$dir/ca.pem" >> "$dir/keytool.log" 2>&1 || die "keytool -exportcert failed"
    "$keytool" -importcert -noprompt -alias rig -file "$dir/ca.pem" -keystore "$dir/truststore.jks" \
        -storetype JKS -storepass "$tls_password" >> "$dir/keytool.log" 2>&1 || die "keytool -importcert failed"
    chown root:hadoop "$dir/keystore.jks" "$dir/truststore.jks"
    chmod 440 "$dir/keystore.jks"
    chmod 444 "$dir/truststore.jks" "$dir/ca.pem"
}

# ssl-server.xml (the keystore's password: readable by group hadoop only) and ssl-client.xml.
write_ssl_conf() {
    local conf=$1
    cat > "$conf/ssl-server.xml" <<EOF
<?xml version="1.0"?>
<configuration>
  <property><name>ssl.server.keystore.location</name><value>$run_dir/tls/keystore.jks</value></property>
  <property><name>ssl.server.keystore.password</name><value>$tls_password</value></property>
  <property><name>ssl.server.keystore.keypassword</name><value>$tls_password</value></property>
  <property><name>ssl.server.truststore.location</name><value>$run_dir/tls/truststore.jks</value></property>
  <property><name>ssl.server.truststore.password</name><value>$tls_password</value></property>
</configuration>
EOF
    chown root:hadoop "$conf/ssl-server.xml"
    chmod 640 "$conf/ssl-server.xml"
    cat > "$conf/ssl-client.xml" <<EOF
<?xml version="1.0"?>
<configuration>
  <property><name>ssl.client.truststore.location</name><value>$run_dir/tls/truststore.jks</value></property>
  <property><name>ssl.client.truststore.password</name><value>$tls_password</value></property>
</configuration>
EOF
}
