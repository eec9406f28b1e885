export * from './catalog';
export * from './pipeline';
export * from './translate';
