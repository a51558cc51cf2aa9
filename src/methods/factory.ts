// Builds a method by name; all configuration errors surface here, before any training.
import { tidyBuild } from '../engine';
import { Network } from '../models/network';
import { AnalyticalTP } from './analytical';
import { Backprop } from './bp';
import { LearnedTP } from './learned';
import { METHODS, Method, MethodConfig, MethodName } from './method';

export function isMethod(name: string): name is MethodName {
  return (METHODS as readonly string[]).includes(name);
}

export function createMethod(net: Network, cfg: MethodConfig): Method {
  if (!isMethod(cfg.method)) throw new Error(`unknown method '${cfg.method}' (expected one of: ${METHODS.join(', ')})`);
  if (!(cfg.lr > 0)) throw new Error(`lr must be > 0, got ${cfg.lr}`);
  // methods check the network and their feedback settings after making optimizer state and
  // feedback weights: a rejected config frees those instead of leaving them to the GC
  return tidyBuild(() => construct(net, cfg));
}

function construct(net: Network, cfg: MethodConfig): Method {
  switch (cfg.method) {
    case 'bp':
      return new Backprop(net, cfg);
    case 'tjml':
    case 'tjml-exact':
    case 'ijml':
    case 'pjml':
      return new AnalyticalTP(cfg.method, net, cfg);
    case 'ldrl':
    case 'fwdtp':
    case 'dtp':
    case 'drl':
      return new LearnedTP(cfg.method, net, cfg);
  }
}
