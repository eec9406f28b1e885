export * from './http-app';
export * from './http-exception.filter';
export * from './in-flight';
export * from './logger.module';
export * from './request-id';
export * from './validation';
export * from './health.module';
export * from './run-main';
