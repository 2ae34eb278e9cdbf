#!/usr/bin/env bash
# Install the Debian packages Hotline's embedded stack needs: ClickHouse server (+ client),
# rtpengine (the media relay, + rtpengine-ctl), espeak-ng (the default IVR prompts), sipp (package
# sip-tester), baresip (a real softphone for the tests) and chromium (the browser tests drive it
# with Playwright).
# Idempotent and quiet; a no-op taking milliseconds when everything is already there.
# Non-interactive (works in CI as root, with no stdin).
#
# The clickhouse-server and rtpengine-daemon packages would start a system-wide server (via their
# init script / systemd unit): ClickHouse on ports 9000/8123, rtpengine with the kernel module
# table and every interface.  We never want that: Hotline starts its own servers with its own
# configs (hotline_cli.embedded).  So service starts are blocked with policy-rc.d during the
# install (invoke-rc.d and deb-systemd-invoke in both packages' scripts obey it), and any system
# instance found running afterwards is stopped and disabled.
set -euo pipefail

PACKAGES=(clickhouse-server clickhouse-client rtpengine-daemon rtpengine-utils espeak-ng
    sip-tester baresip-core chromium)

log() { echo "install-system-deps: $*" >&2; }

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

SUDO=()
if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo -n)
    elif ((${#missing[@]})); then
        log "need root to install: ${missing[*]} (no sudo available)"
        exit 1
    fi
fi

if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    policy=/usr/sbin/policy-rc.d
    backup=""
    if [[ -e "$policy" ]]; then
        backup="$policy.hotline-backup.$$"
        "${SUDO[@]}" mv "$policy" "$backup"
    fi
    apt_log=$(mktemp)
    restore_policy() {
        "${SUDO[@]}" rm -f "$policy"
        if [[ -n "$backup" ]]; then "${SUDO[@]}" mv "$backup" "$policy"; fi
        rm -f "$apt_log"
    }
    trap restore_policy EXIT
    # Exit code 101 = "action forbidden": invoke-rc.d and deb-systemd-invoke start nothing.
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 0755 "$policy"

    run_apt() {  # quiet unless it fails
        if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" </dev/null \
            >"$apt_log" 2>&1; then
            cat "$apt_log" >&2
            log "apt-get $1 failed"
            exit 1
        fi
    }
    run_apt update -qq -o DPkg::Lock::Timeout=300
    run_apt install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 \
        -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef \
        -o Dpkg::Options::=--force-confold "${missing[@]}"

    restore_policy
    trap - EXIT
fi

# No system-wide server: keep a unit from starting at boot, and stop one that is running.
# Only processes of the package's own user with the package's config file are stopped, never the
# servers Hotline starts.  (Not via /etc/init.d/clickhouse-server stop: its second
# start-stop-daemon call matches every clickhouse-server process.)
stop_system_service() {  # unit, user, pgrep pattern of its command line
    local unit=$1 user=$2 pattern=$3 pids
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        if systemctl is-enabled --quiet "$unit" 2>/dev/null \
            || systemctl is-active --quiet "$unit" 2>/dev/null; then
            log "disabling the system $unit service"
            "${SUDO[@]}" systemctl disable --now --quiet "$unit" >/dev/null 2>&1 || true
        fi
    fi
    command -v pgrep >/dev/null 2>&1 || return 0
    pids=$(pgrep -u "$user" -f -- "$pattern" 2>/dev/null || true)
    [[ -n "$pids" ]] || return 0
    log "stopping the system $unit (pid $(echo $pids))"
    # shellcheck disable=SC2086
    "${SUDO[@]}" kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 1 150); do
        pgrep -u "$user" -f -- "$pattern" >/dev/null || break
        sleep 0.1
    done
    pids=$(pgrep -u "$user" -f -- "$pattern" 2>/dev/null || true)
    # shellcheck disable=SC2086
    if [[ -n "$pids" ]]; then "${SUDO[@]}" kill -KILL $pids 2>/dev/null || true; fi
}
stop_system_service clickhouse-server clickhouse \
    "--config(-file)?=/etc/clickhouse-server/config.xml"
# The unit passes "--config-file /etc/...", the init script "--config-file=/etc/...".
stop_system_service rtpengine-daemon rtpengine "--config-file[= ]/etc/rtpengine/rtpengine.conf"

# Check what we rely on is really there.
for bin in /usr/sbin/clickhouse-server /usr/bin/rtpengine /usr/bin/rtpengine-ctl \
    /usr/bin/espeak-ng /usr/bin/sipp /usr/bin/baresip /usr/bin/chromium; do
    if [[ ! -x "$bin" ]]; then
        log "expected $bin after installing ${PACKAGES[*]}, but it is missing"
        exit 1
    fi
done
