# emwheel --sandbox: the setup run by `sh -c` inside the new network and mount namespaces
# that `unshare` made. It leaves the command ("$@" after the build directory $1) with no
# network, every mount read-only but the build directory, and no capabilities, so that the
# command cannot mount anything back. Passed in EMWHEEL_SANDBOX_SETUP, which it unsets.
set -eu
unset EMWHEEL_SANDBOX_SETUP
build=$1
shift
mounts=$(cat /proc/self/mountinfo)
mount --bind "$build" "$build"
while read -r _ _ _ _ point options _; do
  point=$(printf '%b' "$point")
  if [ "$point" = "$build" ]; then continue; fi
  case ",$options," in *,ro,*) continue ;; esac
  if ! mount -o "remount,bind,ro,${options#rw,}" "$point"; then
    echo "emwheel sandbox: cannot make \`$point\` read-only" >&2
    exit 125
  fi
done <<MOUNTS
$mounts
MOUNTS
# The working directory still names the directory under the new mount: enter it again.
cd "$(pwd)"
exec setpriv --no-new-privs --inh-caps=-all --bounding-set=-all -- "$@"
