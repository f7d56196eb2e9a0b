// The docs hold together: links resolve inside the repository, and docs/protocol.md covers the whole protocol.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { MAX_MESSAGE_BYTES } from '../../src/layer/presence/messages';
import { CONNECTION_STATUSES } from '../../src/layer/presence/model';
import { REST_ROUTES, WEBSOCKET_ROUTES } from '../../src/routes';

const ROOT = join(__dirname, '..', '..');
const protocol = readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8');
/** The protocol without white space: JSON examples match however they are formatted. */
const compact = protocol.replace(/\s+/g, '');

function markdownFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file && !file.startsWith('node_modules/'));
}

it('has no relative link that leaves the repository or points at a missing file (a clone has no ../shared)', () => {
  // Arrange
  const broken: string[] = [];
  // Act
  for (const file of markdownFiles()) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!target || /^(https?:|mailto:|#)/.test(target)) continue;
      const path = resolve(ROOT, dirname(file), decodeURIComponent(target.split('#')[0] as string));
      if (relative(ROOT, path).startsWith('..') || !existsSync(path)) broken.push(`${file}: ${target}`);
    }
  }
  // Assert
  expect(markdownFiles()).toContain('docs/protocol.md');
  expect(broken).toEqual([]);
});

it('links the protocol from the README', () => {
  expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('](docs/protocol.md)');
});

it('describes every error code, action, server message and REST route of the protocol', () => {
  // Arrange
  const errorCodes = [
    'invalid_message',
    'unknown_action',
    'rate_limited',
    'unauthorized',
    'token_expired',
    'forbidden',
    'resync',
    'unavailable',
    'internal',
  ];
  const actions = [...WEBSOCKET_ROUTES.map((r) => r.routeKey).filter((key) => !key.startsWith('$')), 'subscribe'];
  const serverTypes = ['update-presence', 'presence-timeout', 'presence-batch', 'subscribed', 'error'];
  const routes = [...REST_ROUTES.map((r) => `${r.method} ${r.path}`), 'GET /groups/{groupId}/presence', 'GET /usage'];
  // Act
  const missing = [
    ...errorCodes.filter((code) => !compact.includes(`|\`${code}\`|`)),
    ...actions.filter((action) => !compact.includes(`"action":"${action}"`)),
    ...serverTypes.filter((type) => !compact.includes(`"type":"${type}"`)),
    ...routes.filter((route) => !protocol.includes(`\`${route}`)),
    ...CONNECTION_STATUSES.filter((status) => !protocol.includes(`\`${status}\``)),
  ];
  // Assert
  expect(missing).toEqual([]);
  expect(protocol).toContain(`"message must be at most ${MAX_MESSAGE_BYTES} bytes"`);
});

it('describes every version 2 addition', () => {
  for (const topic of [
    '"v"',
    '"seq"',
    'At least once',
    '"detail"',
    '"groups"',
    'presence-batch',
    'AUTH_GRACE_SECONDS',
    '"jwt"',
    '"activity"',
    'IDLE_AWAY_SECONDS',
    'Presence Changed',
    '/usage?range=',
    'resync',
  ]) {
    expect(protocol).toContain(topic);
  }
});
