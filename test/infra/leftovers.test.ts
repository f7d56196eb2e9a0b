// `npm test` leaves nothing in the temp dir: the infra tests, run with a temp dir of their own, leave it empty.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/temp-dirs';

const ROOT = join(__dirname, '..', '..');
/** The infra files that write to the temp dir (deploy-config's .env files, every buildStack's cdk.out). */
const FILES = ['test/infra/deploy-config.test.ts', 'test/infra/variants.test.ts', 'test/infra/nag.test.ts'];

it('leaves no deploy-config or cdk.out directory in the temp dir', () => {
  // Arrange: an empty temp dir for the run; jest's cache outside it
  const scratch = tempDir('presence-leftovers-');
  const tmp = join(scratch, 'tmp');
  mkdirSync(tmp);
  // Act
  const run = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
      ...FILES,
      '--selectProjects',
      'infra',
      '--runInBand',
      '--cacheDirectory',
      join(scratch, 'cache'),
    ],
    { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, encoding: 'utf8', timeout: 120_000 },
  );
  // Assert
  expect(run.stderr).toMatch(/Tests:\s+\d+ passed, \d+ total/);
  expect(run.status).toBe(0);
  expect(readdirSync(tmp)).toEqual([]);
}, 150_000);
