# scripts/lib/packages.sh -- install the Debian packages the project needs,
# doing no apt work at all when everything is already there.

# shellcheck shell=bash

# Everything `scripts/dev up` needs: toolchain, libraries, servers, tools.
TENANTRY_BASE_PACKAGES=(
    build-essential autoconf automake libtool pkg-config
    libfcgi-dev spawn-fcgi libpq-dev postgresql
    libjson-c-dev libargon2-dev libjwt-dev libssl-dev libcmocka-dev
    nginx-light bats jq curl wrk openssl
)
# Only for `scripts/dev test` and CI: the browser suite (npm playwright-core
# driving Debian's /usr/bin/chromium -- never `playwright install`).
TENANTRY_BROWSER_PACKAGES=(chromium)

# pkg_installed NAME: dpkg says the package is fully installed.
pkg_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

# Are the apt lists missing or older than a day?
_apt_lists_stale() {
    local lists=/var/lib/apt/lists
    compgen -G "$lists/*_Packages" >/dev/null || return 0
    [[ -n "$(find "$lists" -maxdepth 1 -name '*_Packages' -mtime -1 -print -quit 2>/dev/null)" ]] && return 1
    return 0
}

_apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# apt_ensure PKG...: install the packages that dpkg does not list as
# installed; `apt-get update` only when something must be installed and the
# lists are missing/stale, or the first install attempt fails.
apt_ensure() {
    local p
    local -a missing=()
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
    if ! is_root && ! command -v sudo >/dev/null; then
        die "missing packages (${missing[*]}): run as root or install sudo"
    fi
    log "installing: ${missing[*]}"
    if _apt_lists_stale; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        _apt_install "${missing[@]}"
    elif ! _apt_install "${missing[@]}"; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        _apt_install "${missing[@]}"
    fi
}

# node + npm for the browser tests and the API tests' webhook receiver
# (tests/api/webhook-receiver.js).  Whatever provides `node` and `npm` is
# fine (Debian's nodejs + npm, or a vendor nodejs that bundles npm -- then
# installing Debian's npm would conflict, so look at commands, not packages).
node_ensure() {
    command -v node >/dev/null || apt_ensure nodejs
    command -v npm >/dev/null || apt_ensure npm
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        die "node/npm still missing after install"
    fi
}

ensure_base_packages() { apt_ensure "${TENANTRY_BASE_PACKAGES[@]}"; }

ensure_test_packages() {
    apt_ensure "${TENANTRY_BASE_PACKAGES[@]}" "${TENANTRY_BROWSER_PACKAGES[@]}"
    node_ensure
}
