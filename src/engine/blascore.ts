// OpenBLAS kernel choice, made before the addon (and the OpenBLAS it links) is loaded: OpenBLAS
// reads OPENBLAS_CORETYPE once, at load. A DYNAMIC_ARCH OpenBLAS that does not know a CPU model
// falls back to its oldest kernels (0.3.21 on a recent Xeon: 'Prescott', 13 GFLOP/s where
// 'SkylakeX' gives 215), silently. So, once per machine, child processes load the engine under
// each core type this CPU's flags allow, check a set of GEMMs against a float64 reference (some
// OpenBLAS builds compute wrong results on some cores), time SGEMM, and the fastest verified core
// is cached and set for every later start. A user's OPENBLAS_CORETYPE is always kept.
// Also OMP_WAIT_POLICY (see OMP_WAIT_DEFAULT).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Core types tried, fastest family first, with the CPU flags each one's kernels execute. */
const CANDIDATES: [string, string[]][] = [
  ['SkylakeX', ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl']],
  ['Haswell', ['avx2', 'fma']],
  ['Sandybridge', ['avx']],
];

/** One probe: a core type (null: OpenBLAS's own choice), the core it reported, verified, GFLOP/s. */
export interface CoreProbe {
  requested: string | null;
  core?: string;
  verified: boolean;
  gflops?: number;
  error?: string;
  /** The child did not report (crashed, timed out, missing): says nothing about the BLAS itself. */
  crashed?: boolean;
}

/** How this process's BLAS core was chosen (recorded with every run). */
export interface BlasChoice {
  /** user: OPENBLAS_CORETYPE was set; calibrated: chosen by the probes (now or cached); auto: OpenBLAS's own; skipped: not a dynamic OpenBLAS, or off. */
  source: 'user' | 'calibrated' | 'auto' | 'skipped';
  /** The OPENBLAS_CORETYPE in force (undefined: none set). */
  coretype?: string;
  /** The probes behind a calibrated choice. */
  probes?: CoreProbe[];
  /** The cache file the choice came from or went to. */
  cache?: string;
  note?: string;
}

let choice: BlasChoice = { source: 'auto' };
/** How the BLAS core of this process was chosen. */
export const blasChoice = (): BlasChoice => choice;

function cpuInfo(): { model: string; flags: Set<string> } {
  try {
    const txt = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.*)$/m.exec(txt)?.[1] ?? '';
    const fam = /^cpu family\s*:\s*(.*)$/m.exec(txt)?.[1] ?? '';
    const mod = /^model\s*:\s*(.*)$/m.exec(txt)?.[1] ?? '';
    const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(txt)?.[1] ?? '').split(/\s+/));
    return { model: `${model} (family ${fam}, model ${mod})`, flags };
  } catch {
    return { model: '', flags: new Set() };
  }
}

function cacheFile(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'targetprop', 'blas-core.json');
}

/** Runs the probe in a child process under one core type; never throws. */
function probe(addon: string, coretype: string | null): CoreProbe {
  const env: NodeJS.ProcessEnv = { ...process.env, TARGETPROP_BLAS_PROBE: '1' };
  if (coretype) env.OPENBLAS_CORETYPE = coretype;
  else delete env.OPENBLAS_CORETYPE;
  const r = spawnSync(process.execPath, [path.join(__dirname, 'blasprobe.js')], { env, encoding: 'utf8', timeout: 120_000 });
  const line = r.stdout?.trim().split('\n').pop() ?? '';
  try {
    return { requested: coretype, ...JSON.parse(line) };
  } catch {
    const why = r.error?.message ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').pop()}`);
    return { requested: coretype, verified: false, error: why, crashed: true };
  }
}

/** The fastest verified probe; OpenBLAS's own choice unless another core is >10% faster. */
export function pickCore(probes: CoreProbe[]): CoreProbe | undefined {
  const ok = probes.filter((p) => p.verified && p.gflops);
  if (!ok.length) return undefined;
  const best = ok.reduce((a, b) => (b.gflops! > a.gflops! ? b : a));
  const own = ok.find((p) => p.requested === null);
  return own && own.gflops! >= best.gflops! / 1.1 ? own : best;
}

/** One cached calibration: for one CPU and one engine build (path and mtime), in `key`. */
export interface CoreCacheEntry {
  key: string;
  coretype: string | null;
  probes: CoreProbe[];
  note?: string;
}

/** Calibrations kept; the oldest goes first (each clone, CI checkout or rebuild adds one). */
export const CORE_CACHE_MAX = 16;

/**
 * The cached calibrations in `file`; none when it is missing or unreadable (then calibrate).
 * Reads the older one-entry layout too.
 */
export function readCoreCache(file: string): CoreCacheEntry[] {
  try {
    const c = JSON.parse(fs.readFileSync(file, 'utf8'));
    const list: unknown[] = Array.isArray(c?.entries) ? c.entries : [c];
    return list.filter((e): e is CoreCacheEntry => typeof (e as CoreCacheEntry)?.key === 'string' && Array.isArray((e as CoreCacheEntry).probes));
  } catch {
    return [];
  }
}

/**
 * `entries` with `entry` as the newest, replacing one of the same key. One entry per engine
 * build, so two checkouts on one machine (a long run's and a development one) keep their own
 * choice instead of recalibrating each other's at every start, under whatever load is running.
 */
export function withCoreEntry(entries: CoreCacheEntry[], entry: CoreCacheEntry, max = CORE_CACHE_MAX): CoreCacheEntry[] {
  return [...entries.filter((e) => e.key !== entry.key), entry].slice(-max);
}

/**
 * Sets OPENBLAS_CORETYPE for this process (before the addon loads): the user's, the cached
 * calibration for this CPU and engine build, or a new calibration (a few seconds, once).
 * TARGETPROP_BLAS_CORE=auto keeps OpenBLAS's own choice.
 */
export function chooseBlasCore(addon: string): void {
  if (process.env.TARGETPROP_BLAS_PROBE) return; // a probe child: load as told
  if (process.env.OPENBLAS_CORETYPE) {
    choice = { source: 'user', coretype: process.env.OPENBLAS_CORETYPE };
    return;
  }
  if (process.env.TARGETPROP_BLAS_CORE === 'auto') {
    choice = { source: 'auto', note: 'TARGETPROP_BLAS_CORE=auto' };
    return;
  }
  const cpu = cpuInfo();
  if (!cpu.model || process.arch !== 'x64') {
    choice = { source: 'skipped', note: 'not an x86-64 Linux CPU' };
    return;
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(addon);
  } catch {
    return; // loadAddon reports the missing engine
  }
  const key = `${cpu.model}|${[...cpu.flags].sort().join(' ')}|${addon}|${stat.mtimeMs}`;
  const file = cacheFile();
  let cached = readCoreCache(file).find((e) => e.key === key);
  if (!cached) {
    const own = probe(addon, null);
    const probes = [own];
    let note: string | undefined;
    if (own.error || !own.core) note = `no dynamic OpenBLAS to tune${own.error ? ` (${own.error})` : ''}`;
    else for (const [name, needs] of CANDIDATES) if (needs.every((f) => cpu.flags.has(f))) probes.push(probe(addon, name));
    const best = note ? undefined : pickCore(probes);
    cached = { key, coretype: best?.requested ?? null, probes, note };
    // a probe child that never reported (killed on a loaded machine, run from sources without the
    // compiled probe) is no verdict on this BLAS: try again next start instead of caching it
    if (!own.crashed) {
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}`;
        // re-read just before writing: another checkout may have added its entry meanwhile
        fs.writeFileSync(tmp, JSON.stringify({ entries: withCoreEntry(readCoreCache(file), cached) }, null, 1));
        fs.renameSync(tmp, file);
      } catch {
        /* a read-only home: calibrate again next time */
      }
    }
    if (best && best.requested)
      process.stderr.write(
        `targetprop: OpenBLAS chose core ${own.core} on this CPU (${own.gflops?.toFixed(0) ?? '?'} GFLOP/s); using ${best.requested} ` +
          `(${best.gflops!.toFixed(0)} GFLOP/s, results verified). Cached in ${file}; set OPENBLAS_CORETYPE to override.\n`,
      );
  }
  if (cached.coretype) process.env.OPENBLAS_CORETYPE = cached.coretype;
  choice = { source: cached.note ? 'skipped' : 'calibrated', coretype: cached.coretype ?? undefined, probes: cached.probes, cache: file, note: cached.note };
}

/**
 * libgomp's default wait policy spins idle threads between parallel regions. With every core
 * busy (two runs at one thread each beside a 2-thread run, a shared machine) the spinning
 * threads take the cores the working ones need: measured 3-4x slower steps than at 1 thread.
 * PASSIVE makes them sleep; `npm run bench:omp` times both policies, idle and loaded (docs/results/bench-omp.md).
 */
export const OMP_WAIT_DEFAULT = 'PASSIVE';
