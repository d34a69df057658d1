#!/usr/bin/env bash
# The package suite (scripts/test.sh package): builds the Debian package the way the README
# says, checks what it holds and declares, checks that an installed copy finds its web client
# relative to its own prefix (moved elsewhere, never the build tree), then installs it with
# apt-get into a throwaway root (an overlay over this machine's root, discarded afterwards) and
# checks the forum user, the state and config directories and their permissions, the unit
# (`systemd-analyze verify`, `systemctl enable`), the service's ExecStart line run as the forum
# user (producer key printed once, /healthz, SIGHUP, SIGTERM), and removal. systemd itself does
# not run there. Needs root (mount, chroot); bounded by timeouts (about a minute).
set -euo pipefail
cd "$(dirname "$0")/../.."
root_dir=$PWD

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

[ "$(id -u)" = 0 ] || { echo "skip: the package suite needs root (mount, chroot)"; exit 0; }

# ---- the package ---------------------------------------------------------------------------
timeout 600 bash scripts/package.sh >/dev/null
deb=$(ls build/forum_*.deb)
[ "$(echo "$deb" | wc -l)" = 1 ] || fail "expected one build/forum_*.deb, got: $deb"
ok "built $deb"

depends=$(dpkg-deb -f "$deb" Depends)
echo "  Depends: $depends"
for want in libwebsockets-evlib-uv 'libwebsockets[0-9]' 'libuv1' 'libsqlite3-0' 'libcjson1' 'libhiredis' \
            'libutf8proc' 'libssl3' 'libsystemd0' 'libc6' adduser; do
  echo "$depends" | grep -Eq "(^|, )$want" || fail "Depends lacks $want: $depends"
done
ok "Depends names every library forumd links, the libuv plugin lws loads, and adduser"

contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/forumd ./usr/share/forum/web-client/index.html ./usr/share/forum/web-client/viewer.html \
         ./usr/lib/systemd/system/forumd.service ./etc/forum/forumd.conf ./usr/share/man/man8/forumd.8 \
         ./usr/share/doc/forum/operations.md ./usr/share/doc/forum/README.md; do
  echo "$contents" | grep -qx "$f" || fail "the package lacks $f"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/forum/forumd.conf || fail "forumd.conf is not a conffile"
ok "files: binary, web client, unit, config (a conffile), man page, docs"

work=$(mktemp -d /tmp/forum-package-XXXXXX)
mnt="$work/mnt"
cleanup() {
  set +e
  [ -n "${server_pid:-}" ] && kill -KILL "$server_pid" 2>/dev/null
  for m in "$mnt/proc" "$mnt/dev" "$mnt/sys" "$mnt" "$work/layers"; do
    mountpoint -q "$m" && umount -l "$m"
  done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- an install prefix moved elsewhere still finds its web client ----------------------------
dpkg-deb -x "$deb" "$work/extracted"
mkdir -p "$work/moved/opt"
mv "$work/extracted/usr" "$work/moved/opt/forum"
echo '<!-- served from the moved prefix -->' >>"$work/moved/opt/forum/share/forum/web-client/index.html"
: >"$work/moved.out"
"$work/moved/opt/forum/bin/forumd" --port 0 --bind 127.0.0.1 --db "$work/moved/forum.db" --no-demo \
  --producer-key "$(head -c 24 /dev/urandom | base64 | tr -d '/+=')" >"$work/moved.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/moved.out" && break; sleep 0.1; done
port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/moved.out")
[ -n "$port" ] || fail "the moved binary did not start: $(cat "$work/moved.out")"
page=$(timeout 10 node -e "fetch('http://127.0.0.1:$port/').then(r => r.text()).then(t => process.stdout.write(t))")
echo "$page" | grep -q 'served from the moved prefix' || fail "the moved binary serves another web root"
kill -TERM "$server_pid"; wait "$server_pid" || fail "the moved binary did not exit cleanly"
server_pid=
ok "a moved prefix serves its own share/forum/web-client"

# ---- install into a throwaway root ------------------------------------------------------------
mkdir -p "$work/layers" "$mnt"
mount -t tmpfs tmpfs "$work/layers"
mkdir -p "$work/layers/upper" "$work/layers/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/layers/upper,workdir=$work/layers/work" "$mnt" ||
  { echo "skip: this kernel cannot make an overlay of / (the install checks need one)"; exit 0; }
mount -t proc proc "$mnt/proc"
mount --rbind /dev "$mnt/dev"
mount --rbind /sys "$mnt/sys"
cp "$deb" "$mnt/tmp/forum.deb"
in_root() { timeout "${TIMEOUT:-120}" chroot "$mnt" /bin/bash -c "$1"; }

if in_root 'getent passwd forum >/dev/null'; then
  in_root 'apt-get purge -y -qq forum >/dev/null 2>&1; userdel forum 2>/dev/null; rm -rf /var/lib/forum /etc/forum' || true
fi
TIMEOUT=300 in_root 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/forum.deb' >"$work/install.log" 2>&1 ||
  fail "apt-get install failed: $(tail -20 "$work/install.log")"
ok "apt-get install ./forum_*.deb"

user=$(in_root 'getent passwd forum') || fail "no forum user"
echo "  $user"
uid=$(echo "$user" | cut -d: -f3)
[ "$uid" -lt 1000 ] || fail "forum is not a system user (uid $uid)"
echo "$user" | grep -Eq ':/var/lib/forum:/(usr/)?s?bin/(nologin|false)$' || fail "forum's home or shell: $user"
[ "$(in_root 'stat -c "%U:%G %a" /var/lib/forum')" = "forum:forum 750" ] || fail "/var/lib/forum: $(in_root 'stat -c "%U:%G %a" /var/lib/forum')"
[ "$(in_root 'stat -c "%U:%G %a" /etc/forum/forumd.conf')" = "root:forum 640" ] || fail "/etc/forum/forumd.conf: $(in_root 'stat -c "%U:%G %a" /etc/forum/forumd.conf')"
ok "forum system user, /var/lib/forum (forum, 0750), /etc/forum/forumd.conf (root:forum, 0640)"

unit=/usr/lib/systemd/system/forumd.service
# verify runs `man forumd(8)` for Documentation=, when there is a man to run (not in minbase)
man_check=$(in_root 'command -v man >/dev/null' && echo --man=yes || echo --man=no)
in_root "systemd-analyze verify $man_check $unit" >"$work/verify.log" 2>&1 ||
  fail "systemd-analyze verify $man_check: $(cat "$work/verify.log")"
[ ! -s "$work/verify.log" ] || fail "systemd-analyze verify $man_check is not clean: $(cat "$work/verify.log")"
for directive in Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' LimitNOFILE=65536 User=forum StateDirectory=forum \
                 NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes; do
  in_root "grep -qxF '$directive' $unit" || fail "the unit lacks $directive"
done
in_root 'systemctl enable forumd' >/dev/null 2>&1 || fail "systemctl enable forumd"
in_root 'test -L /etc/systemd/system/multi-user.target.wants/forumd.service' || fail "enable made no link"
ok "the unit verifies clean ($man_check) and can be enabled"

# The ExecStart line, as the forum user (on a free loopback port instead of the config's).
exec_start=$(in_root "sed -n 's/^ExecStart=//p' $unit")
: >"$work/service.out"
in_root "cd / && exec runuser -u forum -- $exec_start --port 0 --bind 127.0.0.1" >"$work/service.out" 2>&1 &
server_pid=$!
for _ in $(seq 150); do grep -q 'listening on' "$work/service.out" && break; sleep 0.1; done
port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/service.out")
[ -n "$port" ] || fail "the service's ExecStart did not start: $(cat "$work/service.out")"
health=$(timeout 10 node -e "fetch('http://127.0.0.1:$port/healthz').then(r => r.text()).then(t => process.stdout.write(t))")
[ "$health" = '{"ok":true}' ] || fail "/healthz: $health"
[ "$(grep -c '^producer key: ' "$work/service.out")" = 1 ] || fail "the producer key is not printed once: $(cat "$work/service.out")"
grep -q 'demo programme' "$work/service.out" && fail "the packaged config creates the demo programme"
[ "$(in_root 'stat -c %U /var/lib/forum/forum.db')" = forum ] || fail "the database is not the forum user's"
forumd_pid=$(pgrep -n -f "^$exec_start --port 0") || fail "no forumd process"
[ "$(stat -c %u "/proc/$forumd_pid")" = "$uid" ] || fail "forumd does not run as forum"
[ "$(awk '/Max open files/ {print $4 == $5}' "/proc/$forumd_pid/limits")" = 1 ] ||
  fail "the descriptor limit was not raised to the hard one"
kill -HUP "$forumd_pid"
for _ in $(seq 50); do grep -q 'reload: 0 changes applied' "$work/service.out" && break; sleep 0.1; done
grep -q 'reload: 0 changes applied' "$work/service.out" || fail "SIGHUP: $(cat "$work/service.out")"
kill -TERM "$forumd_pid"
wait "$server_pid" || fail "the service did not exit cleanly on SIGTERM: $(cat "$work/service.out")"
server_pid=
ok "ExecStart as the forum user: serves, prints the producer key once, reloads on SIGHUP, drains on SIGTERM"

in_root 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq forum' >/dev/null 2>&1 || fail "apt-get remove"
in_root 'test ! -e /usr/bin/forumd && test -f /var/lib/forum/forum.db' || fail "remove: the binary stays or the database went"
ok "apt-get remove takes the program and leaves the database"
