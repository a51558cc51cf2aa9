// The typed tensor API. All TP code talks to this file only, never to the addon.
//
// Memory: libtorch memory is invisible to V8's GC, so every Tensor is registered with the
// innermost `tidy` scope and freed when that scope ends, unless it is returned from the
// scope or `keep()`-ed. Tensors made outside any scope live until `dispose()`.
import { native, NativeHandle } from './native';

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';
export type Shape = readonly number[];
const DTYPES = new Set<string>(['float32', 'float64', 'int64', 'int32', 'uint8', 'bool']);

const scopes: Tensor[][] = [];
/** How many tidyBuild calls are running (see there). */
let builds = 0;

export class Tensor {
  /** @internal */ h: NativeHandle;
  private kept = false;
  private _shape?: number[];

  constructor(h: NativeHandle) {
    this.h = h;
    if (leakWatch) leakWatch.registry.register(this, { h, site: leakWatch.stacks ? new Error().stack : undefined });
    const s = scopes[scopes.length - 1];
    if (s) s.push(this);
  }

  get shape(): number[] {
    return (this._shape ??= native.shape(this.h));
  }
  get dtype(): DType {
    return native.dtype(this.h) as DType;
  }
  /** 'cpu', 'cuda:0', ...: where the data lives. */
  get device(): string {
    return native.device(this.h);
  }

  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get disposed(): boolean {
    return this.h.disposed;
  }

  dispose(): void {
    this.h.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** Exempt from scope cleanup (parameters, optimizer state, cached data). */
  keep(): this {
    this.kept = true;
    return this;
  }
  /** @internal */ get isKept(): boolean {
    return this.kept;
  }

  // ---- host transfer ----
  data(): Float32Array {
    const a = native.toArray(this.h);
    return a instanceof Float32Array ? a : Float32Array.from(a as ArrayLike<number>);
  }
  /** Integer contents (labels, indices). */
  ints(): Int32Array {
    const a = native.toArray(this.dtype === 'float32' || this.dtype === 'float64' ? native.toDtype(this.h, 'int32') : this.h);
    return a instanceof Int32Array ? a : Int32Array.from(a as ArrayLike<number>);
  }
  item(): number {
    return native.item(this.h);
  }
  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }

  // ---- element-wise ----
  add(b: Tensor | number): Tensor { return bin('add', this, b); }
  sub(b: Tensor | number): Tensor { return bin('sub', this, b); }
  mul(b: Tensor | number): Tensor { return bin('mul', this, b); }
  div(b: Tensor | number): Tensor { return bin('div', this, b); }
  pow(b: Tensor | number): Tensor { return bin('pow', this, b); }
  maximum(b: Tensor | number): Tensor { return bin('maximum', this, b); }
  minimum(b: Tensor | number): Tensor { return bin('minimum', this, b); }
  eq(b: Tensor | number): Tensor { return bin('eq', this, b); }
  gt(b: Tensor | number): Tensor { return bin('gt', this, b); }
  lt(b: Tensor | number): Tensor { return bin('lt', this, b); }
  ge(b: Tensor | number): Tensor { return bin('ge', this, b); }
  le(b: Tensor | number): Tensor { return bin('le', this, b); }
  neg(): Tensor { return un('neg', this); }
  exp(): Tensor { return un('exp', this); }
  log(): Tensor { return un('log', this); }
  sqrt(): Tensor { return un('sqrt', this); }
  rsqrt(): Tensor { return un('rsqrt', this); }
  abs(): Tensor { return un('abs', this); }
  sign(): Tensor { return un('sign', this); }
  square(): Tensor { return un('square', this); }
  reciprocal(): Tensor { return un('reciprocal', this); }
  tanh(): Tensor { return un('tanh', this); }
  sigmoid(): Tensor { return un('sigmoid', this); }
  relu(): Tensor { return un('relu', this); }
  floor(): Tensor { return un('floor', this); }
  acos(): Tensor { return un('acos', this); }
  cos(): Tensor { return un('cos', this); }
  clone(): Tensor { return un('clone', this); }
  contiguous(): Tensor { return un('contiguous', this); }
  /** Same values, cut from the autograd graph. */
  detach(): Tensor { return un('detach', this); }
  clamp(min: number | null, max: number | null): Tensor {
    return new Tensor(native.clamp(this.h, min, max));
  }
  /** A copy in another dtype, or on another device ('cpu', 'cuda', 'cuda:1'; ops on tensors of two devices throw). */
  to(target: DType | string): Tensor {
    return new Tensor(DTYPES.has(target) ? native.toDtype(this.h, target) : native.toDevice(this.h, target));
  }

  // ---- reductions (dims omitted: over everything) ----
  sum(dims?: number[], keepdim = false): Tensor { return red('sum', this, dims, keepdim); }
  mean(dims?: number[], keepdim = false): Tensor { return red('mean', this, dims, keepdim); }
  amax(dims?: number[], keepdim = false): Tensor { return red('amax', this, dims, keepdim); }
  /** Biased variance (divides by N), as LayerNorm uses. */
  var(dims?: number[], keepdim = false): Tensor { return red('var', this, dims, keepdim); }
  argmax(dim: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.h, dim, keepdim));
  }
  /** Frobenius norm of the whole tensor. */
  norm(): Tensor {
    return tidy(() => this.square().sum().sqrt());
  }

  // ---- shape ----
  reshape(shape: Shape): Tensor { return new Tensor(native.reshape(this.h, [...shape])); }
  flatten(startDim = 1): Tensor {
    const s = this.shape;
    return this.reshape([...s.slice(0, startDim), s.slice(startDim).reduce((a, b) => a * b, 1)]);
  }
  permute(dims: number[]): Tensor { return new Tensor(native.permute(this.h, dims)); }
  transpose(a: number, b: number): Tensor { return new Tensor(native.transpose(this.h, a, b)); }
  /** 2-D transpose. */
  get T(): Tensor { return this.transpose(0, 1); }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(native.narrow(this.h, dim, start, length));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.indexSelect(this.h, dim, index.h));
  }
  flip(dims: number[]): Tensor { return new Tensor(native.flip(this.h, dims)); }
  expand(shape: Shape): Tensor { return new Tensor(native.expand(this.h, [...shape])); }
  matmul(b: Tensor): Tensor { return new Tensor(native.matmul(this.h, b.h)); }

  // ---- in place (optimizer updates; wrap in noGrad for leaves that require grad) ----
  addInPlace(b: Tensor, alpha = 1): this { native.addInPlace(this.h, b.h, alpha); return this; }
  mulInPlace(s: number): this { native.mulInPlace(this.h, s); return this; }
  addcmulInPlace(b: Tensor, c: Tensor, value = 1): this { native.addcmulInPlace(this.h, b.h, c.h, value); return this; }
  addcdivInPlace(b: Tensor, c: Tensor, value = 1): this { native.addcdivInPlace(this.h, b.h, c.h, value); return this; }
  copyInPlace(src: Tensor): this { native.copyInPlace(this.h, src.h); return this; }
  zeroInPlace(): this { native.zeroInPlace(this.h); return this; }

  // ---- autograd ----
  requiresGrad(on = true): this { native.setRequiresGrad(this.h, on); return this; }
  get needsGrad(): boolean { return native.requiresGrad(this.h); }
  /** Same shape, dtype and values, bit for bit. */
  equals(other: Tensor): boolean { return native.equal(this.h, other.h); }
  /** Accumulated gradient after `backward`, or null. */
  get grad(): Tensor | null {
    const g = native.gradOf(this.h);
    return g ? new Tensor(g) : null;
  }
  clearGrad(): void { native.clearGrad(this.h); }
  backward(grad?: Tensor, retainGraph = false): void {
    native.backward(this.h, grad ? grad.h : null, retainGraph);
  }
}

function bin(op: string, a: Tensor, b: Tensor | number): Tensor {
  return new Tensor(native.binary(op, a.h, typeof b === 'number' ? b : b.h));
}
function un(op: string, a: Tensor): Tensor {
  return new Tensor(native.unary(op, a.h));
}
function red(op: string, a: Tensor, dims: number[] | undefined, keep: boolean): Tensor {
  return new Tensor(native.reduce(op, a.h, dims ?? null, keep));
}

// ---------------- scopes ----------------

function collect(x: unknown, out: Set<Tensor>, depth = 0): void {
  if (depth > 6 || x == null) return;
  if (x instanceof Tensor) out.add(x);
  else if (Array.isArray(x)) for (const v of x) collect(v, out, depth + 1);
  else if (x instanceof Map) for (const v of x.values()) collect(v, out, depth + 1);
  else if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype)
    for (const v of Object.values(x)) collect(v, out, depth + 1);
}

/**
 * Runs `fn`; every tensor created inside is disposed when it returns, except the tensors in
 * its result (arrays, Maps and plain objects are searched) and kept ones. Results move to
 * the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Tensor[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    const parent = scopes[scopes.length - 1];
    for (const t of scope) {
      if (!t.isKept) t.dispose();
      else if (builds > 0) parent?.push(t);
    }
    throw e;
  }
  scopes.pop();
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    // inside a tidyBuild, kept tensors move up too, so that a failing build can free them
    if (survivors.has(t) || (builds > 0 && t.isKept)) parent?.push(t);
    else if (!t.isKept) t.dispose();
  }
  return result;
}

/**
 * Runs a constructor-like `fn` (a model builder, a method) all or nothing. If it returns, the
 * tensors it made stay as if made in the caller's scope; if it throws, every tensor it made is
 * freed, kept ones (parameters, optimizer state) too, so a config rejected halfway through a
 * build leaves no native memory behind for the GC to find later.
 */
export function tidyBuild<T>(fn: () => T): T {
  const scope: Tensor[] = [];
  scopes.push(scope);
  builds++;
  try {
    const result = fn();
    scopes.pop();
    const parent = scopes[scopes.length - 1];
    if (parent) for (const t of scope) parent.push(t);
    return result;
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  } finally {
    builds--;
  }
}

/** Disposes every tensor found in `x` (arrays, Maps and plain objects are searched). */
export function dispose(x: unknown): void {
  const s = new Set<Tensor>();
  collect(x, s);
  for (const t of s) t.dispose();
}

/** Runs `fn` with autograd recording off (like torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}
/** Runs `fn` with autograd recording on, even inside noGrad. */
export function withGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(true);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

// ---- leak watch: tensors the GC had to free ----

interface LeakWatch {
  registry: FinalizationRegistry<{ h: NativeHandle; site?: string }>;
  stacks: boolean;
  count: number;
  sites: Map<string, number>;
}
let leakWatch: LeakWatch | null = null;

/**
 * Debug aid for "every tensor lives in a scope or is disposed". While on, each tensor made is
 * watched, and one the GC collects before anyone disposed it is counted (its native memory
 * waited on a GC that V8 schedules by JS heap pressure alone). `stacks` also records where
 * each was made. Costs a registry entry per tensor, so it is off unless asked for.
 */
export function watchLeaks(on = true, o: { stacks?: boolean } = {}): void {
  if (!on) {
    leakWatch = null;
    return;
  }
  const w: LeakWatch = {
    stacks: !!o.stacks,
    count: 0,
    sites: new Map(),
    registry: new FinalizationRegistry(({ h, site }) => {
      if (h.disposed) return;
      w.count++;
      // the creation site without this file's frames
      const key = (site ?? '').split('\n').slice(2, 8).join('\n');
      if (site) w.sites.set(key, (w.sites.get(key) ?? 0) + 1);
    }),
  };
  leakWatch = w;
}
/**
 * Tensors the GC collected undisposed since watchLeaks(), with their creation sites when
 * stacks are on. Finalization runs after a GC, a turn of the event loop later: to check a
 * piece of code, run it, then `global.gc()` (node --expose-gc) and await a timer or two.
 */
export function leakedTensors(): { count: number; sites: Map<string, number> } {
  return { count: leakWatch?.count ?? 0, sites: new Map(leakWatch?.sites ?? []) };
}

/** Number of native tensors alive (created and not yet freed): for leak tests. */
export function liveTensors(): number {
  return native.liveCount();
}

/**
 * Yields to the event loop. Node runs N-API finalizers there, so a long synchronous loop that
 * never yields keeps every dead tensor wrapper alive (measured: RSS +0.3 MB per LeNet step).
 * Training loops await this between steps.
 */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
