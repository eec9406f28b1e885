export * from './errors';
export * from './openai';
export * from './anthropic';
export * from './json-text';
export * from './objects';
export * from './deadline';
export * from './characters';
export * from './json-schema';
