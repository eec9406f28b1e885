import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, resolveSecrets, type AppConfig } from '@app/config';
import { DatabaseUnavailableError, MigrationError } from '@app/db';
import { tuneV8 } from './v8-tuning';

/** Errors the operator must fix; printed as one line, without a stack trace. */
const OPERATOR_ERRORS = [ConfigError, DatabaseUnavailableError, MigrationError];

/**
 * Entry point of every process: reads `.env` when present, validates the
 * environment, tunes V8 ({@link tuneV8}), runs `main`, and turns configuration
 * or database problems into one clear line and exit code 1.
 */
export function runMain(main: (config: AppConfig) => Promise<void>): void {
  const start = async () => {
    if (existsSync('.env')) process.loadEnvFile('.env');
    const config = resolveSecrets(loadConfig(process.env));
    tuneV8(config);
    await main(config);
  };
  start().catch((error: unknown) => {
    if (OPERATOR_ERRORS.some((type) => error instanceof type)) {
      process.stderr.write(`${(error as Error).message}\n`);
    } else {
      process.stderr.write(
        `Failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exit(1);
  });
}
