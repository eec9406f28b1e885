export * from './app-config';
export * from './config.module';
export * from './config.schema';
export * from './secrets';
export * from './project';
export * from './secret-cipher';
