// The engine: libtorch through our N-API addon, behind a typed Tensor API.
export * from './tensor';
export * from './ops';
export * from './optim';
export { blasChoice, BlasChoice, CoreProbe } from './blascore';
