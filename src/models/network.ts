// A network is a list of blocks, the unit of target propagation: each block gets a target
// and trains on its own local loss. A block may hold several layers (conv -> act -> pool).
import { Tensor } from '../engine';
import { BatchStandardize, Layer, Sequential, prefixed } from '../layers';

/** 'batch': a hidden block ends in a batch standardization (FW-DTP's "-BN" networks). */
export const BLOCK_NORMS = ['none', 'batch'] as const;
export type BlockNorm = (typeof BLOCK_NORMS)[number];
/** A hidden block of layers, standardized at its output when `norm` says so. */
export function hiddenBlock(layers: Layer[], norm: BlockNorm = 'none'): Sequential {
  return new Sequential(norm === 'batch' ? [...layers, new BatchStandardize()] : layers);
}

export class Network {
  constructor(readonly name: string, readonly blocks: Sequential[], readonly inputShape: [number, number, number], readonly classes = 10) {
    if (!blocks.length) throw new Error(`${name}: a network needs at least one block`);
  }
  params(): Tensor[] {
    return this.blocks.flatMap((b) => b.params());
  }
  /** Every parameter with its stable name, 'blocks.<block>.<layer>.weight', in params() order. */
  namedParams(): [string, Tensor][] {
    return this.blocks.flatMap((b, i) => prefixed(`blocks.${i}.`, b.namedParams()));
  }
  /** Plain forward (logits), recording autograd as the caller's grad mode says. */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const b of this.blocks) h = b.forward(h)[0];
    return h;
  }
  checkInput(x: Tensor): void {
    const [c, h, w] = this.inputShape;
    if (x.rank !== 4 || x.shape[1] !== c || x.shape[2] !== h || x.shape[3] !== w)
      throw new Error(`${this.name} expects input [B, ${c}, ${h}, ${w}], got [${x.shape.join(', ')}]`);
  }
  describe(): string {
    return this.blocks.map((b, i) => `  block ${i}: ${b.describe()}`).join('\n');
  }
  /** Frees the parameters (native memory). */
  dispose(): void {
    for (const p of this.params()) p.dispose();
  }
  numParams(): number {
    return this.params().reduce((a, p) => a + p.size, 0);
  }
}
