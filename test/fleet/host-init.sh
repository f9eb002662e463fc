#!/bin/sh
# PID 1 of one fleet host. Started by fleet-lib.ts as
#   nsenter --net=/run/netns/<netns> -- unshare --mount --uts --ipc --pid --fork --kill-child --propagation private \
#     -- /bin/sh host-init.sh <netns>
# ($1 is only there so `ps` shows which host a process belongs to). Inputs come from the environment:
#   RIG_NAME     host name (hostname)            RIG_IP   host address (/24 on eth0)
#   RIG_GW       controller address on the bridge RIG_HOSTDIR <dir>/hosts/<name> (upper, work, root, home)
#   RIG_HIDE     the fleet dir, covered by an empty tmpfs inside the host
# It writes its pid as seen from the controller to $RIG_HOSTDIR/pid, builds the host's root (overlay with lowerdir=/),
# pivots into it and execs tini, which runs /usr/local/lib/rig-fleet/boot.sh (sshd + stand-ins, then sleeps).
set -eu

read -r outer_pid _rest < /proc/self/stat
echo "$outer_pid" > "$RIG_HOSTDIR/pid"

hostname "$RIG_NAME"
ip link set lo up
ip addr add "$RIG_IP/24" dev eth0
ip link set eth0 up
ip route add default via "$RIG_GW"

R="$RIG_HOSTDIR/root"
U="$RIG_HOSTDIR/upper"
# white out the machine's own host keys: each host has only its own ed25519 key
for f in /etc/ssh/ssh_host_*; do
  case "$f" in */ssh_host_ed25519_key|*/ssh_host_ed25519_key.pub) ;; *) [ -e "$U$f" ] || mknod "$U$f" c 0 0 ;; esac
done
mount -t overlay overlay -o "lowerdir=/,upperdir=$U,workdir=$RIG_HOSTDIR/work" "$R"
# its own /root: Debian's default dotfiles and the fleet key only (the machine's /root runs pyenv init in .bashrc)
mount --bind "$RIG_HOSTDIR/home" "$R/root"
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o mode=755,size=64k,nosuid tmpfs "$R/dev"
for n in 'null 1 3' 'zero 1 5' 'full 1 7' 'random 1 8' 'urandom 1 9' 'tty 5 0'; do
  set -- $n
  mknod -m 666 "$R/dev/$1" c "$2" "$3"
done
mkdir "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m tmpfs "$R/dev/shm"
mount -t tmpfs -o mode=755,nosuid,nodev,size=16m tmpfs "$R/run"
mount -t tmpfs -o mode=1777,nosuid,nodev,size=256m tmpfs "$R/tmp"
mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m tmpfs "$R/var/tmp"
# the fleet's own state (upper dirs, keys) must look empty from inside: a host cannot read its own upper dir
# through the lower layer, and the fleet key has no business on the hosts
mkdir -p "$R$RIG_HIDE"
mount -t tmpfs -o mode=700,size=4k tmpfs "$R$RIG_HIDE"
mkdir -p "$R/run/sshd" "$R/run/lock"

cd "$R"
pivot_root . .
umount -l .
cd /
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  /usr/bin/tini -- /bin/sh /usr/local/lib/rig-fleet/boot.sh
