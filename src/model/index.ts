export * from './alert.ts';
export * from './edit-distance.ts';
export * from './labels.ts';
export * from './metrics.ts';
export * from './outcome.ts';
export * from './sample.ts';
export * from './snapshot.ts';
export * from './vm.ts';
