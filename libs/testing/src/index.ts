export * from './test-database';
export * from './tcp-proxy';
export * from './within';
export * from './fakes';
