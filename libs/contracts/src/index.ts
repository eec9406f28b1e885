export * from './errors';
export * from './openai';
export * from './anthropic';
