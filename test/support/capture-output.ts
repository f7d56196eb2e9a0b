// Captures everything a test's code prints (the service logger at DEBUG, console, stdout, stderr) to assert on it.
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { logger } from '../../src/layer/shared/logger';

const METHODS = ['debug', 'info', 'warn', 'error', 'log', 'trace'] as const;

/** Output captured since the call; `restore()` puts the writers and the log level back. */
export interface CapturedOutput {
  text(): string;
  restore(): void;
}

/** Starts capturing: the service logger logs everything (DEBUG) and nothing reaches the terminal. */
export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const record = (...args: unknown[]) => void chunks.push(args.map(String).join(' '));
  const previousLevel = logger.getLevelName();
  logger.setLogLevel('DEBUG');
  // The logger writes through its own Console (not process.stdout.write as seen from the test's realm).
  const loggerConsole = (logger as unknown as { console: Console }).console;
  const spies: jest.SpyInstance[] = [
    ...METHODS.map((m) => jest.spyOn(loggerConsole, m).mockImplementation(record)),
    ...METHODS.map((m) => jest.spyOn(console, m).mockImplementation(record)),
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      record(chunk);
      return true;
    }),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      record(chunk);
      return true;
    }),
  ];
  return {
    text: () => chunks.join('\n'),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
      logger.setLogLevel(previousLevel as LogLevel);
    },
  };
}
