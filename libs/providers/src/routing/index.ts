export * from './circuit-breaker';
export * from './latency-tracker';
export * from './route-plan';
export * from './router';
export * from './target-order';
