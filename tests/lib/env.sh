# shellcheck shell=bash
# Sourced by every project script: one virtualenv, one collection tree, pinned tools.
# Creates what is missing, reuses what is there. Works on a fresh machine.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export REPO_ROOT
VENV="$REPO_ROOT/.venv"
export DN_CACHE="${DN_CACHE:-$HOME/.cache/datalake-notebooks}"
# The collection tree lives outside the work tree: ansible-test lists files with git, and would
# see nothing inside an ignored directory. One per checkout, so clones do not collide.
BUILD="$DN_CACHE/build-$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)"
export BUILD
mkdir -p "$DN_CACHE" "$BUILD"

log() { printf '\n==> %s\n' "$*" >&2; }

# take_lock FD FILE WHAT [SECONDS]: an exclusive flock on FILE through descriptor FD (already open),
# saying what it waits for when another process holds it, and giving up after SECONDS (default 1800).
# A daemon started while the lock is held must not inherit FD (close it: `FD>&-`), or it holds the
# lock for its whole life.
take_lock() {
    local fd=$1 file=$2 what=$3 seconds=${4:-1800}
    flock -n "$fd" && return 0
    local holders
    holders=$(fuser "$file" 2>/dev/null | xargs -r ps -o pid=,comm= -p 2>/dev/null | tr -s ' \n' ' ')
    log "waiting (up to ${seconds}s) for $what: $file is locked by ${holders:-another process}"
    flock -w "$seconds" "$fd" && return 0
    echo "Gave up after ${seconds}s waiting for $what: $file is still locked by ${holders:-another process}." >&2
    return 1
}

pick_python() {
    # ansible-core 2.21 needs Python >= 3.12 on the controller.
    local candidate
    for candidate in python3.13 python3.12 "$HOME/.pyenv/versions/3.12.1/bin/python3" \
                     "$HOME"/.pyenv/versions/3.1[23]*/bin/python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$candidate"; return 0
        fi
    done
    echo "No Python >= 3.12 found for the controller (ansible-core 2.21 needs it)." >&2
    return 1
}

ensure_venv() {
    local stamp="$VENV/.requirements.sha"
    local want
    want=$(sha256sum "$REPO_ROOT/tests/requirements.txt" | cut -d' ' -f1)
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating virtualenv $VENV"
        "$(pick_python)" -m venv "$VENV"
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log "installing pinned Python packages (tests/requirements.txt)"
        # gssapi (under requests-gssapi) is built from source against MIT Kerberos.
        ensure_debian_packages libkrb5-dev gcc
        "$VENV/bin/pip" install --quiet --upgrade pip==25.3
        "$VENV/bin/pip" install --quiet -r "$REPO_ROOT/tests/requirements.txt"
        echo "$want" > "$stamp"
    fi
    # shellcheck disable=SC1091
    source "$VENV/bin/activate"
}

# The collection as Ansible finds it: BUILD/collections/ansible_collections/datalake/notebooks.
# A copy of the tracked and new files (ansible-test needs a real tree, not a symlink), updated in
# place with rsync so a test already running in it keeps its files.
sync_collection() {
    ensure_rsync
    local dest="$BUILD/collections/ansible_collections/datalake/notebooks"
    local list
    list=$(mktemp)
    # Tracked files deleted in the work tree are listed by git but are not there to copy.
    (cd "$REPO_ROOT" && git ls-files -co --exclude-standard |
        while IFS= read -r file; do if [ -e "$file" ]; then printf '%s\n' "$file"; fi; done) > "$list"
    mkdir -p "$dest"
    rsync -a --files-from="$list" "$REPO_ROOT/" "$dest/"
    # Files the work tree no longer has leave the copy too (ansible-test's output stays).
    comm -23 <(cd "$dest" && find . -type f ! -path './tests/output/*' | sed 's|^\./||' | LC_ALL=C sort) \
             <(LC_ALL=C sort "$list") | (cd "$dest" && xargs -r -d '\n' rm -f --)
    rm -f "$list"
    export ANSIBLE_COLLECTIONS_PATH="$BUILD/collections"
    # Unit tests import the collection as ansible_collections.datalake.notebooks.
    export PYTHONPATH="$BUILD/collections${PYTHONPATH:+:$PYTHONPATH}"
    export COLLECTION_DIR="$dest"
    # Convenience link for people: .build/collections/... in the work tree.
    ln -sfn "$BUILD" "$REPO_ROOT/.build"
}

ensure_rsync() {
    command -v rsync >/dev/null 2>&1 || ensure_debian_packages rsync
}

# Debian packages the tests need on the machine itself (installed once).
ensure_debian_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
