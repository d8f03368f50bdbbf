#!/usr/bin/env bash
# Installing: `make install DESTDIR=... PREFIX=/usr` puts each file where the
# FHS wants it and `make uninstall` takes them away again (an edited
# configuration stays); the Debian package builds from a copy of the tree,
# lintian finds no error in it, it installs (user dsyncd, its state folder,
# a configuration that passes `dsyncd -n`, a unit systemd-analyze accepts),
# the installed dsyncd started as root with server.user dsyncd serves as
# dsyncd and commits an UPDATE, and purging leaves nothing behind.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.40
PORT=5354
need make dpkg-buildpackage lintian systemd-analyze nsupdate ps
[ "$(id -u)" = 0 ] || { not_ok "the test runs as root"; finish; }
if dpkg-query -W -f='${Status}' dsyncd 2>/dev/null | grep -q installed; then
	not_ok "no dsyncd package is installed before the test"
	finish
fi
# whatever happens, the package goes again
purge() { dpkg --purge dsyncd >>"$T/dpkg.log" 2>&1; }
trap 'purge; cleanup' EXIT

# ---- make install / uninstall ---------------------------------------------------
R=$T/root
san=$([ "$BUILD" = build-san ] && echo SAN=1)
mk() { make -s -C "$TOP" BUILD="$BUILD" $san DESTDIR="$R" PREFIX=/usr "$@" >>"$T/make.log" 2>&1; }
check "make install DESTDIR PREFIX=/usr" mk install
for f in usr/sbin/dsyncd usr/bin/dsyncctl usr/bin/dsync-agent usr/share/man/man8/dsyncd.8 \
	usr/share/man/man5/dsyncd.conf.5 usr/share/man/man1/dsyncctl.1 \
	usr/share/man/man1/dsync-agent.1 usr/lib/systemd/system/dsyncd.service \
	etc/dsyncd/dsyncd.conf usr/share/dsyncd/ui/index.html usr/share/dsyncd/ui/app.js \
	usr/share/dsyncd/ui/app.css; do
	check "installs /$f" test -s "$R/$f"
done
check "the programs are executable" test -x "$R/usr/sbin/dsyncd" -a -x "$R/usr/bin/dsyncctl"
expect "the unit starts the installed dsyncd with the installed configuration" \
	"ExecStart=/usr/sbin/dsyncd -c /etc/dsyncd/dsyncd.conf" \
	"$(grep '^ExecStart=' "$R/usr/lib/systemd/system/dsyncd.service")"
check "the installed configuration passes dsyncd -n" \
	"$R/usr/sbin/dsyncd" -n -c "$R/etc/dsyncd/dsyncd.conf"
echo "# edited" >>"$R/etc/dsyncd/dsyncd.conf"
check "a second make install" mk install
check "keeps an existing configuration" grep -q "^# edited" "$R/etc/dsyncd/dsyncd.conf"
check "make uninstall" mk uninstall
expect "removes every file but the edited configuration" "$R/etc/dsyncd/dsyncd.conf" \
	"$(find "$R" -type f | paste -sd' ')"
rm -f "$R/etc/dsyncd/dsyncd.conf"
mk install && mk uninstall
expect "an unchanged configuration goes with make uninstall" "" "$(find "$R" -type f)"

# ---- the Debian package -------------------------------------------------------------
# a copy of the tree without build folders; the package lands beside it
S=$T/pkg/dsyncd
mkdir -p "$S"
(cd "$TOP" && git ls-files -z --cached --others --exclude-standard | grep -zv '^build' |
	xargs -0 cp --parents -t "$S") || not_ok "copy of the source tree"
if (cd "$S" && DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -b -us -uc) \
	>"$T/dpkg-buildpackage.log" 2>&1; then
	ok "dpkg-buildpackage -b builds the package"
else
	not_ok "dpkg-buildpackage -b builds the package"
	tail -20 "$T/dpkg-buildpackage.log" | sed 's/^/    /'
	finish
fi
deb=$(ls "$T"/pkg/dsyncd_*_*.deb 2>/dev/null | head -1)
changes=$(ls "$T"/pkg/dsyncd_*.changes 2>/dev/null | head -1)
check "the .deb and .changes are there" test -f "$deb" -a -f "$changes"
lintian "$changes" >"$T/lintian.log" 2>&1
expect "lintian finds no error" "" "$(grep '^E:' "$T/lintian.log")"
expect "the package is not built with the sanitizers" "" \
	"$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/sbin/dsyncd | grep -a -m1 -o AddressSanitizer)"

if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" \
	>"$T/dpkg.log" 2>&1; then
	ok "the package installs"
else
	not_ok "the package installs"
	tail -20 "$T/dpkg.log" | sed 's/^/    /'
	finish
fi
check "the system user dsyncd exists" id dsyncd
expect "its state folder belongs to it" "dsyncd dsyncd" "$(stat -c '%U %G' /var/lib/dsyncd)"
check "/etc/dsyncd/dsyncd.conf is a conffile" \
	grep -qx /etc/dsyncd/dsyncd.conf /var/lib/dpkg/info/dsyncd.conffiles
check "the installed configuration passes dsyncd -n" \
	/usr/sbin/dsyncd -n -c /etc/dsyncd/dsyncd.conf
unit=$(dpkg -L dsyncd | grep '/systemd/system/dsyncd.service$')
expect "systemd-analyze verify accepts the installed unit" "" \
	"$(systemd-analyze verify "$unit" 2>&1)"
check "man dsyncd.conf finds the page" man -w dsyncd.conf
check "the package holds the web console's files" \
	cmp /usr/share/dsyncd/ui/app.js "$TOP/api/ui/app.js"
expect "and its dsyncd looks for them there" '"/usr/share/dsyncd/ui"' \
	"$(/usr/sbin/dsyncd -c /etc/dsyncd/dsyncd.conf config | grep -o '"ui-directory": *"[^"]*"' | sed 's/.*: *//')"

# the installed dsyncd, started as root, serves as dsyncd
chmod 0755 "$T"
k=$(mkkey child.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$k"
sed -i 's/^server = { /server = { user = "dsyncd"; /' "$T/dsyncd.conf"
chown dsyncd "$T/out"
BIN=/usr/sbin
if start_dsyncd "$T/dsyncd.conf"; then
	wait_for 100 grep -q "running as dsyncd" "$T/dsyncd.log" || true
	expect "the installed dsyncd serves as user dsyncd" dsyncd \
		"$(ps -o user= -p "$DSYNCD_PID" | tr -d ' ')"
	two_ns_stored "and accepts an UPDATE" "$k" $ADDR $PORT
	check "it stops cleanly" stop_dsyncd
else
	not_ok "the installed dsyncd starts as root with server.user dsyncd"
fi

check "dpkg --purge dsyncd" purge
check "the programs are gone" test ! -e /usr/sbin/dsyncd -a ! -e /usr/bin/dsyncctl
check "the unit is gone" test ! -e "$unit"
check "the configuration is gone" test ! -e /etc/dsyncd
check "the state folder is gone" test ! -e /var/lib/dsyncd
check "the user dsyncd is gone" bash -c '! getent passwd dsyncd && ! getent group dsyncd'
finish
