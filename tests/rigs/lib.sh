# shellcheck shell=bash
# Sourced by every rig's scripts (tests/rigs/NAME/start, stop, install): the contract of
# tests/rigs/README.md, once. Set RIG_NAME (hadoop, kdc, jupyterhub, livy) before sourcing.
# Brings tests/lib/env.sh along (log, take_lock, DN_CACHE, ensure_venv).

# shellcheck source=../lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"

: "${RIG_NAME:?set RIG_NAME before sourcing tests/rigs/lib.sh}"
# Not under DN_CACHE: that is in root's home, which the daemons' users cannot enter.
RIG_RUN_ROOT=/var/tmp/datalake-notebooks/run
RIG_DEFAULT_RUN_DIR=$RIG_RUN_ROOT/$RIG_NAME
# What a failed start shows the tail of: files, or directories whose *.log and *.out files count.
RIG_LOGS=()

die() { printf '%s rig: %s\n' "$RIG_NAME" "$*" >&2; exit 1; }

# The script's own header comment (from line 2 to the first line that is not a comment).
rig_usage() { sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

# rig_run_dir [DIR]: DIR (default RIG_DEFAULT_RUN_DIR), made if missing, as an absolute path.
rig_run_dir() {
    local dir=${1:-$RIG_DEFAULT_RUN_DIR}
    mkdir -p "$dir"
    (cd "$dir" && pwd)
}

# free_ports N: N loopback TCP ports nothing listens on right now, on one line. All are held open
# together while they are picked, so they differ from each other.
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

free_port() { free_ports 1; }

# The JDK every rig runs: JAVA_HOME if it has a java, else the java on PATH.
java_home() {
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
        echo "$JAVA_HOME"
    elif command -v java >/dev/null 2>&1; then
        dirname "$(dirname "$(readlink -f "$(command -v java)")")"
    else
        die "no Java found: set JAVA_HOME or put java on PATH"
    fi
}

# The service accounts of a master node, as every rig expects them: groups hadoop and supergroup
# (the HDFS superuser group), users hdfs (in both), yarn (hadoop) and livy (a group of its own).
# Made when missing; another start may be adding the same one right now: it existing afterwards
# is enough.
ensure_service_users() {
    local group user
    for group in hadoop supergroup; do
        getent group "$group" >/dev/null || groupadd --system "$group" || getent group "$group" >/dev/null
    done
    for user in hdfs yarn livy; do
        id -u "$user" >/dev/null 2>&1 && continue
        case $user in
            hdfs) useradd --system --gid hadoop --groups supergroup --no-create-home \
                          --home-dir /nonexistent --shell /usr/sbin/nologin hdfs ;;
            yarn) useradd --system --gid hadoop --no-create-home \
                          --home-dir /nonexistent --shell /usr/sbin/nologin yarn ;;
            livy) useradd --system --user-group --no-create-home \
                          --home-dir /nonexistent --shell /usr/sbin/nologin livy ;;
        esac || id -u "$user" >/dev/null
    done
}

# write_rig_env RUN_DIR KEY VALUE [KEY VALUE ...]: RUN_DIR/rig.env as KEY='value' lines (a quote
# in a value is written '\''), so the shell sources it and rigs.read_env_file reads it. Written
# whole or not at all.
write_rig_env() {
    local run_dir=$1 quote="'" escaped="'\\''"
    shift
    [ $(($# % 2)) = 0 ] || die "write_rig_env: a key without a value"
    {
        printf '# Written by tests/rigs/%s/start; source it, or read it as KEY='"'value'"' lines.\n' "$RIG_NAME"
        while [ $# -gt 0 ]; do
            printf "%s='%s'\n" "$1" "${2//$quote/$escaped}"
            shift 2
        done
    } > "$run_dir/rig.env.new"
    mv -f "$run_dir/rig.env.new" "$run_dir/rig.env"
}

# rig_log_tails [LINES]: the last LINES (default 50) of each of RIG_LOGS, on stderr. A start-up
# banner can hold a whole classpath on one line: lines are cut at 1000 characters.
rig_log_tails() {
    local lines=${1:-50} entry file
    for entry in "${RIG_LOGS[@]}"; do
        for file in "$entry" "$entry"/*.log "$entry"/*.out; do
            [ -f "$file" ] || continue
            printf '\n----- last %d lines of %s -----\n' "$lines" "$file" >&2
            tail -n "$lines" "$file" | cut -c1-1000 >&2
        done
    done
}

# rig_wait SECONDS WHAT CHECK [ARG...]: run CHECK every half second until it succeeds. Dies saying
# WHAT it waited for when SECONDS pass, or at once when rig_alive (the rig's own: are the processes
# it started still there? it says which is not) fails. The failure trap shows the logs.
rig_wait() {
    local seconds=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + seconds))
    until "$@"; do
        if declare -F rig_alive >/dev/null && ! rig_alive; then
            die "gave up waiting for $what: a process of the rig exited"
        fi
        [ $SECONDS -lt $deadline ] || die "gave up waiting for $what after ${seconds}s"
        sleep 0.5
    done
}

# rig_start_guard RUN_DIR: from here on, a start that fails shows the tails of RIG_LOGS, runs
# rig_cleanup (the rig's own: stop what it started) and says so. rig_ready ends the guard.
rig_start_guard() {
    RIG_STARTING_IN=$1
    trap rig_on_failure EXIT
}

rig_on_failure() {
    local rc=$?
    [ "$rc" != 0 ] || return 0
    rig_log_tails 50
    if declare -F rig_cleanup >/dev/null; then
        rig_cleanup || true
    fi
    printf '%s rig: start failed in %s (logs above)\n' "$RIG_NAME" "$RIG_STARTING_IN" >&2
    exit "$rc"
}

# rig_ready RUN_DIR KEY VALUE ...: the rig is up: writes RUN_DIR/rig.env, says so on stderr and
# prints the file's path on stdout (the one line a caller reads).
rig_ready() {
    local run_dir=$1
    write_rig_env "$@"
    trap - EXIT
    log "$RIG_NAME rig is up after ${SECONDS}s: $run_dir/rig.env"
    echo "$run_dir/rig.env"
}

# stop_pid PID [SECONDS] [group]: SIGTERM to PID (to its process group with "group"), SIGKILL
# when it is still there after SECONDS (default 30). Nothing when PID is not running.
stop_pid() {
    local pid=$1 seconds=${2:-30} group=${3:-} target deadline
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    target=$pid
    [ -z "$group" ] || target=-$pid
    kill -TERM -- "$target" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + seconds))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid ignored SIGTERM for ${seconds}s: SIGKILL"
        kill -KILL -- "$target" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
}
