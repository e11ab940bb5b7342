#!/usr/bin/env bash
# The GPU run on the device machine (bench/device/README.md). Uses what bench/device/prepare.ts put
# in .device/ (or GRADLAB_DEVICE_DIR): unpacks Node, makes GLX possible without a display (glvnd's
# libraries where the machine has none, a carried Xvfb), then runs bench/device/main.ts's bundle,
# which writes $OUT/device.json. Its options pass through, e.g.
#
#   bash bench/device/run.sh --rows all --only step --batch 128
#
#   bash bench/device/run.sh --stage-mesa      # a call of its own first: .device-mesa carried
#
# --stage-mesa unpacks the Mesa .debs of .device-mesa/ (prepare.ts --mesa) into .device-mesa-root/
# in the repository — git-ignored, so a warm device machine keeps it for the next call — and stops;
# a later run gives Xvfb that Mesa (its GLX needs swrast_dri.so) where the folder is there.
#
# Settings: OUT (where results go; default ./device-out), GRADLAB_DEVICE_DIR (default .device),
# GRADLAB_DEVICE_NODE (a node binary to use instead of the carried one), GRADLAB_DEVICE_NO_X=1
# (start no X server). The whole output also goes to $OUT/log.txt, the X server's to $OUT/xvfb.log.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dev=${GRADLAB_DEVICE_DIR:-$root/.device}
mesa=$root/.device-mesa-root
out=${OUT:-$root/device-out}
work=${TMPDIR:-/tmp}/gradlab-device
mkdir -p "$out" "$work"
say() { echo "run.sh: $*"; }

if [ "${1:-}" = --stage-mesa ]; then
  debs=$root/.device-mesa
  ls "$debs"/*.deb >/dev/null 2>&1 || { say "no .debs in $debs: run 'npx tsx bench/device/prepare.ts --mesa' and carry .device-mesa"; exit 2; }
  rm -rf "$mesa.tmp" && mkdir -p "$mesa.tmp"
  for f in "$debs"/*.deb; do dpkg -x "$f" "$mesa.tmp" || exit 2; done
  rm -rf "$mesa" && mv "$mesa.tmp" "$mesa"
  say "Mesa unpacked into $mesa ($(du -sh "$mesa" | cut -f1)); now the run, in the next call while the machine is warm"
  exit 0
fi

if [ ! -f "$dev/app/start.mjs" ]; then
  say "$dev/app/start.mjs is missing: run 'npx tsx bench/device/prepare.ts' first (and carry .device)"
  exit 2
fi

# ── Node: the carried binary (xz), unless one is given ──
if [ -n "${GRADLAB_DEVICE_NODE:-}" ]; then
  node=$GRADLAB_DEVICE_NODE
elif [ -f "$dev/node.xz" ]; then
  node=$work/node
  if [ ! -x "$node" ]; then
    if command -v xz >/dev/null; then
      xz -dc "$dev/node.xz" > "$node.tmp"
    else # no xz there: Python's lzma module reads the same format
      python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$dev/node.xz" "$node.tmp"
    fi || { say "could not unpack $dev/node.xz"; exit 2; }
    chmod +x "$node.tmp" && mv "$node.tmp" "$node"
  fi
elif command -v node >/dev/null; then
  node=$(command -v node)
else
  say "no node: neither GRADLAB_DEVICE_NODE, nor $dev/node.xz, nor node on the PATH"
  exit 2
fi
say "node $("$node" --version) ($node)"

# ── GL without a display: headless-gl's ANGLE draws through GLX, which needs an X server ──
xvfb_pid=
if [ -z "${DISPLAY:-}" ] && [ "${GRADLAB_DEVICE_NO_X:-0}" != 1 ] && [ -d "$dev/debs/x" ]; then
  # glvnd's dispatch libraries into /, as the device README says — only where the machine has none
  if ! ldconfig -p 2>/dev/null | grep -q 'libGLX\.so\.0' && [ -d "$dev/debs/gl" ] && [ "$(id -u)" = 0 ]; then
    for f in "$dev"/debs/gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    say "unpacked glvnd's libraries into / (the machine had no libGLX.so.0)"
  fi
  # NVIDIA's GL libraries, where the driver's files are mounted outside the loader's path
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
    [ -d "$d" ] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
  # Xvfb and xkbcomp with their libraries, under $work/x (not into /: other packages can break it)
  x=$work/x
  if [ ! -x "$x/usr/bin/Xvfb" ]; then
    mkdir -p "$x"
    for f in "$dev"/debs/x/*.deb; do dpkg -x "$f" "$x"; done
  fi
  # Xvfb runs xkbcomp from the path it was built with; give it the carried one where there is none
  if [ ! -x /usr/bin/xkbcomp ] && [ "$(id -u)" = 0 ]; then ln -s "$x/usr/bin/xkbcomp" /usr/bin/xkbcomp; fi
  xlibs=$x/usr/lib/x86_64-linux-gnu:$x/lib/x86_64-linux-gnu
  # Xvfb offers GLX only where it loads Mesa's swrast_dri.so: the staged Mesa (--stage-mesa), if any
  xdri=
  if [ -d "$mesa/usr/lib/x86_64-linux-gnu/dri" ]; then
    xlibs=$xlibs:$mesa/usr/lib/x86_64-linux-gnu:$mesa/lib/x86_64-linux-gnu
    xdri=$mesa/usr/lib/x86_64-linux-gnu/dri
    say "Xvfb gets the staged Mesa ($mesa)"
  fi
  xenv=("LD_LIBRARY_PATH=$xlibs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
  [ -n "$xdri" ] && xenv+=("LIBGL_DRIVERS_PATH=$xdri")
  env "${xenv[@]}" "$x/usr/bin/Xvfb" :97 -screen 0 1280x1024x24 -nolisten tcp -xkbdir "$x/usr/share/X11/xkb" +extension GLX > "$out/xvfb.log" 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 1 50); do [ -e /tmp/.X11-unix/X97 ] && break; sleep 0.2; done
  if [ -e /tmp/.X11-unix/X97 ]; then
    export DISPLAY=:97
    say "Xvfb on :97 (pid $xvfb_pid)"
  else
    say "Xvfb did not start (see $out/xvfb.log); the run goes on without a display"
  fi
  # GLX through NVIDIA's vendor library where the machine has it (the device README's recipe)
  if ldconfig -p 2>/dev/null | grep -q libGLX_nvidia || ls /usr/local/nvidia/lib*/libGLX_nvidia.so* >/dev/null 2>&1; then
    export __GLX_VENDOR_LIBRARY_NAME=${__GLX_VENDOR_LIBRARY_NAME:-nvidia}
  fi
fi

"$node" "$dev/app/start.mjs" --out "$out" "$@" 2>&1 | tee "$out/log.txt"
status=${PIPESTATUS[0]}
if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null; fi
exit "$status"
