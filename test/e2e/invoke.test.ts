// `npm run invoke` as the README shows it: verbatim on a fresh machine, and against a running `npm start`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StackProcess } from './support/stack-process';
import { devToken, startStackProcess } from './support/stack-process';
import { WsPeer } from './support/ws-peer';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
let scratch: string;

/** The commands of the README's invoke example (the sh block after its `readme-example: invoke` marker). */
function readmeExample(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- readme-example: invoke[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no readme-example: invoke block');
  return block
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

/** Runs one README line in a shell, in the repository, with `env` on top of a clean environment (no stores set). */
function run(command: string, env: Record<string, string>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.REDIS_URL;
  delete childEnv.DATABASE_URL;
  delete childEnv.ALLOWED_ORIGINS;
  delete childEnv.CONNECTIONS_ENDPOINT;
  const result = spawnSync('sh', ['-c', command], { cwd: ROOT, env: childEnv, encoding: 'utf8', timeout: 90_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'presence-e2e-invoke-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe("the README's npm run invoke example", () => {
  it('works verbatim with no stores configured and no stack running (throwaway embedded stores)', () => {
    // Arrange: a stack file that does not exist stands for a machine where nothing runs
    const commands = readmeExample();
    const env = { LOCAL_STACK_FILE: join(scratch, 'none.json') };
    // Act
    const results = commands.map((command) => run(command, env));
    // Assert
    expect(commands.length).toBeGreaterThan(0);
    for (const result of results) {
      expect(result).toMatchObject({ status: 0 });
      expect(result.stdout).toContain('"statusCode": 200');
      expect(result.stderr).toContain('stores: throwaway embedded Redis and Postgres');
      expect(result.stderr).not.toContain('NodeVersionSupportWarning');
    }
  });

  it("uses a running npm start's stores and delivers through its @connections API, so friends see the change", async () => {
    // Arrange: the stack, and bob (alice's friend in the demo seed) connected to it
    const stackFile = join(scratch, 'stack.json');
    const stack: StackProcess = await startStackProcess({ LOCAL_STACK_FILE: stackFile });
    try {
      const bob = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, 'bob'));
      // Act
      const results = readmeExample().map((command) => run(command, { LOCAL_STACK_FILE: stackFile }));
      // Assert
      for (const result of results) {
        expect(result).toMatchObject({ status: 0 });
        expect(result.stderr).toContain('stores: those of the running local stack');
      }
      expect(results.at(-1)?.stdout).toMatch(/@connections POST .*"userId":"alice".* -> 200 \(the running stack\)/);
      await bob.waitFor(
        (m) =>
          m.type === 'update-presence' && m.userId === 'alice' && m.url === 'https://en.wikipedia.org/wiki/Presence',
        5000,
        "alice's invoked page",
      );
      await bob.close();
    } finally {
      await stack.stop();
    }
  });
});
