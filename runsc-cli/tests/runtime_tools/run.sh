#!/usr/bin/env bash
# Runs the OCI runtime-tools validation suite (validation/<name>/<name>.go programs and the
# runtimetest binary they copy into each container) against one runtime.
#
#   run.sh build                                   build the suite into the cache
#   run.sh list                                    print the program names
#   run.sh clean DIR...                            remove output directories (unmounting
#                                                  what a runtime left mounted in them)
#   run.sh [-r RUNTIME] [-o OUTDIR] [-t SECS] [-g GLOBAL-ARGS] [PROGRAM...]
#                                                  run PROGRAMs (default: all) with RUNTIME
#                                                  (given GLOBAL-ARGS before every command)
#
# RUNTIME is a runc-compatible binary (default: runc). Each program runs in OUTDIR/work
# (which holds rootfs-amd64.tar.gz and runtimetest, as the suite expects) with
# TMPDIR=OUTDIR/tmp (its bundles), under `timeout SECS` (default 60: a hung program is
# killed and counts as failed). The runtime is called through a wrapper that adds
# `--root` (a state directory of this run's own, so nothing else on the host is touched),
# logs every argv to OUTDIR/PROGRAM.calls and keeps each config.json given to `create` in
# OUTDIR/PROGRAM.configs/. Per program it leaves OUTDIR/PROGRAM.tap
# (stdout: TAP), .stderr, .rc (exit code; 124 = timed out) and prints one summary line:
#   PROGRAM ok=N not_ok=N skip=N rc=N
#
# The cache (RT_CACHE, default /var/tmp/rt-suite) must hold the suite's Go sources in GOPATH
# layout under gopath/src/github.com/opencontainers/runtime-tools/{validation,cmd/runtimetest}
# (plus gopath/src/github.com/mndrix/tap-go, which Debian lacks). Debian 12's
# golang-github-opencontainers-runtime-tools-dev ships only the library packages (generate,
# specerror, validate, cgroups, ...), not validation/ or cmd/runtimetest, and no package
# registry reachable here has them: see README.md beside this script. Everything else comes
# from Debian: golang-go, golang-github-opencontainers-runtime-tools-dev,
# golang-github-google-uuid-dev, golang-github-moby-sys-dev, busybox-static (the rootfs),
# util-linux (unshare, for the linux_ns_* programs).
set -uo pipefail

RT_CACHE=${RT_CACHE:-/var/tmp/rt-suite}
SRC=$RT_CACHE/gopath/src/github.com/opencontainers/runtime-tools
BIN=$RT_CACHE/bin

die() {
    echo "run.sh: $*" >&2
    exit 2
}

programs() {
    [ -d "$SRC/validation" ] || return 0
    for d in "$SRC"/validation/*/; do
        n=$(basename "$d")
        [ "$n" = util ] && continue
        [ -f "$d/$n.go" ] && echo "$n"
    done
}

check_sources() {
    if [ ! -d "$SRC/validation/util" ] || [ ! -f "$SRC/cmd/runtimetest/main.go" ]; then
        die "the runtime-tools validation sources are not in $SRC (validation/ and cmd/runtimetest/);
Debian's golang-github-opencontainers-runtime-tools-dev does not ship them. See
runsc-cli/tests/runtime_tools/README.md for how the cache is laid out."
    fi
    [ -f "$RT_CACHE/gopath/src/github.com/mndrix/tap-go/tap.go" ] ||
        die "missing $RT_CACHE/gopath/src/github.com/mndrix/tap-go/tap.go (see README.md)"
    command -v go >/dev/null || die "go is not installed (apt-get install -y golang-go)"
    [ -d /usr/share/gocode/src/github.com/opencontainers/runtime-tools/generate ] ||
        die "apt-get install -y golang-github-opencontainers-runtime-tools-dev"
}

# newer_than BINARY DIR...: true if BINARY is missing or a .go file in a DIR is newer.
stale() {
    local bin=$1
    shift
    [ -x "$bin" ] || return 0
    [ -n "$(find "$@" -name '*.go' -newer "$bin" -print -quit 2>/dev/null)" ]
}

gobuild() {
    # $1 = output binary, $2 = package path
    local log=$RT_CACHE/build-logs/$(basename "$1").log
    mkdir -p "$RT_CACHE/build-logs" "$BIN"
    if GO111MODULE=off GOFLAGS= GOPATH="$RT_CACHE/gopath:/usr/share/gocode" \
        GOCACHE="$RT_CACHE/gocache" CGO_ENABLED=0 \
        go build -o "$1" "$2" >"$log" 2>&1; then
        return 0
    fi
    echo "BUILD FAILED: $2 (log: $log)" >&2
    sed 's/^/    /' "$log" >&2
    rm -f "$1"
    return 1
}

build_rootfs() {
    local tarball=$RT_CACHE/rootfs-amd64.tar.gz
    [ -s "$tarball" ] && return 0
    [ -x /bin/busybox ] || die "busybox-static is not installed (apt-get install -y busybox-static)"
    local r=$RT_CACHE/rootfs
    rm -rf "$r"
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc,root,var,run,mnt}
    cp /bin/busybox "$r/bin/busybox"
    local p
    for p in $(/bin/busybox --list-full); do
        [ "$p" = bin/busybox ] && continue
        mkdir -p "$r/$(dirname "$p")"
        ln -f "$r/bin/busybox" "$r/$p"
    done
    chmod 1777 "$r/tmp"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
    (cd "$r" && tar --numeric-owner -czf "$tarball.part" .) && mv "$tarball.part" "$tarball"
}

build() {
    check_sources
    build_rootfs
    local failed=0 n
    if stale "$BIN/runtimetest" "$SRC/cmd/runtimetest" "$RT_CACHE/gopath/src/github.com/mndrix"; then
        gobuild "$BIN/runtimetest" github.com/opencontainers/runtime-tools/cmd/runtimetest || failed=1
    fi
    for n in $(programs); do
        if stale "$BIN/$n" "$SRC/validation/$n" "$SRC/validation/util" "$RT_CACHE/gopath/src/github.com/mndrix"; then
            gobuild "$BIN/$n" "github.com/opencontainers/runtime-tools/validation/$n" || failed=1
        fi
    done
    return $failed
}

count() {
    # count FILE: prints "ok=N not_ok=N skip=N" for the top-level TAP test lines.
    awk '
        /^ok [0-9]+/ { if ($0 ~ /# (SKIP|skip|TODO|todo)/) s++; else o++; next }
        /^not ok [0-9]+/ { if ($0 ~ /# (TODO|todo|SKIP|skip)/) s++; else n++; next }
        END { printf "ok=%d not_ok=%d skip=%d", o, n, s }' "$1"
}

# Unmounts what is mounted under DIR. A runtime run in the host's mount namespace (runc with
# linux_ns_itype, whose config has no namespaces) mounts proc, sysfs, a /dev tmpfs, ... on the
# bundle's rootfs in the host's mount table and leaves them there: a plain `rm -rf` of the
# bundle would then walk into the host's /proc and /sys.
unmount_under() {
    local dir m
    dir=$(cd "$1" 2>/dev/null && pwd) || return 0
    for m in $(awk '{print $5}' /proc/self/mountinfo | grep -F "$dir/" | sort -r); do
        m=$(printf '%b' "$m") # mountinfo escapes spaces and the like as \ooo
        case $m in "$dir"/*) umount -l "$m" 2>/dev/null ;; esac
    done
}

# Removes DIR, first unmounting what is under it, never crossing into another filesystem.
clean() {
    [ -e "$1" ] || return 0
    unmount_under "$1"
    rm -rf --one-file-system "$1"
}

cleanup_containers() {
    # Deletes (forcibly) what a killed program left in this run's state directory.
    local rt=$1 root=$2 id
    for id in $("$rt" --root "$root" list --format json 2>/dev/null | tr '{},' '\n\n\n' |
        sed -n 's/^ *"id": *"\([^"]*\)".*/\1/p'); do
        "$rt" --root "$root" kill "$id" KILL >/dev/null 2>&1
        "$rt" --root "$root" delete --force "$id" >/dev/null 2>&1
    done
}

run() {
    local runtime=runc out="" limit=60 global="" opt
    OPTIND=1
    while getopts "r:o:t:g:" opt; do
        case $opt in
        r) runtime=$OPTARG ;;
        o) out=$OPTARG ;;
        t) limit=$OPTARG ;;
        g) global=$OPTARG ;;
        *) die "usage: run.sh [-r RUNTIME] [-o OUTDIR] [-t SECS] [-g GLOBAL-ARGS] [PROGRAM...]" ;;
        esac
    done
    shift $((OPTIND - 1))
    runtime=$(command -v "$runtime") || die "runtime not found"
    [ -n "$out" ] || out=$(mktemp -d /var/tmp/rt-run.XXXXXX)
    mkdir -p "$out/work" "$out/tmp"
    out=$(cd "$out" && pwd)

    build || echo "run.sh: some programs failed to build (see above); running the rest" >&2

    cp "$RT_CACHE/rootfs-amd64.tar.gz" "$BIN/runtimetest" "$out/work/"

    # The state directory must be short: runtimes put unix sockets under it.
    local root
    root=$(mktemp -d /run/rt-tools.XXXXXX)
    local wrapper=$out/runtime
    cat >"$wrapper" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"\${RT_CALLS:-/dev/null}"
if [ "\$1" = create ] && [ -n "\${RT_CONFIGS:-}" ]; then
    # Keep each config.json the runtime is given (the bundles are removed afterwards).
    prev=
    for a in "\$@"; do
        if [ "\$prev" = --bundle ] && [ -f "\$a/config.json" ]; then
            mkdir -p "\$RT_CONFIGS"
            cp "\$a/config.json" "\$RT_CONFIGS/\$(ls "\$RT_CONFIGS" | wc -l).json"
        fi
        prev=\$a
    done
fi
exec "$runtime" --root "$root" $global "\$@"
EOF
    chmod +x "$wrapper"

    local list=("$@")
    [ ${#list[@]} -gt 0 ] || mapfile -t list < <(programs)
    echo "# runtime: $runtime  out: $out  timeout: ${limit}s"
    local n rc
    for n in "${list[@]}"; do
        if [ ! -x "$BIN/$n" ]; then
            : >"$out/$n.tap"
            echo "not built" >"$out/$n.stderr"
            echo 127 >"$out/$n.rc"
            echo "$n ok=0 not_ok=0 skip=0 rc=127 (not built)"
            continue
        fi
        : >"$out/$n.calls"
        rm -rf "$out/$n.configs"
        (cd "$out/work" && RT_CALLS="$out/$n.calls" RT_CONFIGS="$out/$n.configs" \
            TMPDIR="$out/tmp" RUNTIME="$wrapper" \
            timeout -k 5 "$limit" "$BIN/$n" >"$out/$n.tap" 2>"$out/$n.stderr" </dev/null)
        rc=$?
        echo "$rc" >"$out/$n.rc"
        cleanup_containers "$runtime" "$root"
        unmount_under "$out/tmp"
        echo "$n $(count "$out/$n.tap") rc=$rc"
    done
    cleanup_containers "$runtime" "$root"
    rm -rf --one-file-system "$root" 2>/dev/null
    clean "$out/tmp"
    return 0
}

case ${1:-} in
build)
    build
    ;;
list)
    programs
    ;;
clean)
    shift
    for d in "$@"; do clean "$d"; done
    ;;
*)
    run "$@"
    ;;
esac
