#!/usr/bin/env bash
# Install the Debian packages Hotline's embedded stack needs: ClickHouse server (+ client),
# sipp (package sip-tester) and chromium (the browser tests drive it with Playwright).
# Idempotent and quiet; a no-op taking milliseconds when everything is already there.
# Non-interactive (works in CI as root, with no stdin).
#
# The clickhouse-server package would start a system-wide server (via its init script / systemd
# unit) on ports 9000/8123.  We never want that: Hotline starts its own server with its own config
# (hotline_cli.embedded).  So service starts are blocked with policy-rc.d during the install, and
# any system instance found running afterwards is stopped and disabled.
set -euo pipefail

PACKAGES=(clickhouse-server clickhouse-client sip-tester chromium)
SYSTEM_CH_CONFIG=/etc/clickhouse-server/config.xml

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

# No system-wide ClickHouse: keep the unit from starting at boot, and stop one that is running.
# (Not via /etc/init.d/clickhouse-server stop: its second start-stop-daemon call matches every
# clickhouse-server process, which would also kill servers started by Hotline.)
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    if systemctl is-enabled --quiet clickhouse-server 2>/dev/null \
        || systemctl is-active --quiet clickhouse-server 2>/dev/null; then
        log "disabling the system clickhouse-server service"
        "${SUDO[@]}" systemctl disable --now --quiet clickhouse-server >/dev/null 2>&1 || true
    fi
fi
if command -v pgrep >/dev/null 2>&1; then
    pids=$(pgrep -u clickhouse -f -- "--config(-file)?=$SYSTEM_CH_CONFIG" || true)
    if [[ -n "$pids" ]]; then
        log "stopping the system clickhouse-server (pid $(echo $pids))"
        # shellcheck disable=SC2086
        "${SUDO[@]}" kill -TERM $pids 2>/dev/null || true
        for _ in $(seq 1 150); do
            pgrep -u clickhouse -f -- "--config(-file)?=$SYSTEM_CH_CONFIG" >/dev/null || break
            sleep 0.1
        done
        pids=$(pgrep -u clickhouse -f -- "--config(-file)?=$SYSTEM_CH_CONFIG" || true)
        # shellcheck disable=SC2086
        if [[ -n "$pids" ]]; then "${SUDO[@]}" kill -KILL $pids 2>/dev/null || true; fi
    fi
fi

# Check what we rely on is really there.
for bin in /usr/sbin/clickhouse-server /usr/bin/sipp /usr/bin/chromium; do
    if [[ ! -x "$bin" ]]; then
        log "expected $bin after installing ${PACKAGES[*]}, but it is missing"
        exit 1
    fi
done
