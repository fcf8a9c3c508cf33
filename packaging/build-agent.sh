#!/bin/sh
# Builds the static updraft-agent for x86_64 Linux guests (the `agent` profile: size-optimised,
# LTO, stripped, panic=abort), checks that it is static and prints its size.
# Run by hand (slow: not part of the test suite). Output paths are printed at the end.
set -eu

cd "$(dirname "$0")/.."

check() {
    bin=$1
    echo "== $bin"
    file "$bin"
    # ldd exits non-zero on a static executable; its message is what we want to see.
    ldd_out=$(ldd "$bin" 2>&1 || true)
    echo "ldd: $ldd_out"
    case $ldd_out in
        *"not a dynamic executable"* | *"statically linked"*) ;;
        *) echo "error: $bin is dynamically linked" >&2; exit 1 ;;
    esac
    size=$(stat -c %s "$bin")
    echo "size: $size bytes ($(( (size + 1023) / 1024 )) KiB)"
}

# glibc, statically linked: needs no musl toolchain. (getaddrinfo in a static glibc binary
# still wants the guest's NSS modules for names other than /etc/hosts and DNS; the agent
# reaches its server by IP or plain DNS.)
# UPDRAFT_AGENT_NO_PIE=1 links a fixed-address executable instead of a static PIE: no
# start-up relocations, so about 0.7 MiB less resident memory, but no ASLR for the agent's
# own code, which is why it is not the default.
target=x86_64-unknown-linux-gnu
extra=""
if [ "${UPDRAFT_AGENT_NO_PIE:-}" = 1 ]; then
    extra="-C relocation-model=static"
fi
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static $extra" \
    cargo build --profile agent --target "$target" -p updraft-agent --bin updraft-agent
check "target/$target/agent/updraft-agent"

# musl, when its target is installed (rustup cannot download it on every machine).
if rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
    target=x86_64-unknown-linux-musl
    cargo build --profile agent --target "$target" -p updraft-agent --bin updraft-agent
    check "target/$target/agent/updraft-agent"
else
    echo "== x86_64-unknown-linux-musl not installed; skipped"
fi
