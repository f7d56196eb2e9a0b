// Temporary directories for one test file, removed after it (afterAll), so `npm test` leaves nothing in the temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];

/** Removes every directory {@link tempDir} created so far in this test file. */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

// Registered when a test file imports this module (hooks cannot be added from inside a running test).
if (typeof afterAll === 'function') afterAll(removeTempDirs);

/** A new directory under the OS temp dir, removed after the current test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}
