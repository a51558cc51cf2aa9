export * from './method';
export * from './base';
export * from './tp';
export * from './bp';
export * from './analytical';
export * from './learned';
export * from './factory';
