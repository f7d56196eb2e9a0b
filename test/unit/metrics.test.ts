// Metrics: embedded-metric-format lines under the configured namespace with the service dimension; none without one.
const ENV_KEYS = ['POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_DEV', 'POWERTOOLS_METRICS_DISABLED'] as const;
const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));

afterEach(() => {
  for (const key of ENV_KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  jest.restoreAllMocks();
});

/** A fresh copy of the metrics module (it keeps one Powertools instance per container). */
function loadMetrics(): typeof import('../../src/layer/shared/metrics') {
  let loaded: typeof import('../../src/layer/shared/metrics') | undefined;
  jest.isolateModules(() => {
    loaded = jest.requireActual<typeof import('../../src/layer/shared/metrics')>('../../src/layer/shared/metrics');
  });
  return loaded as typeof import('../../src/layer/shared/metrics');
}

it('writes buffered metrics as one EMF line under the namespace, with the service dimension the dashboard reads', () => {
  // Arrange: POWERTOOLS_DEV makes Powertools print through the global console, where the test can see it
  Object.assign(process.env, {
    POWERTOOLS_METRICS_NAMESPACE: 'PresenceApi/Test',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_DISABLED: 'false',
  });
  const lines: string[] = [];
  jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
  const { putMetric, flushMetrics } = loadMetrics();

  // Act
  putMetric('DeliveriesSent', 3);
  putMetric('DeliveriesSent', 2);
  putMetric('DeliveryLag', 120);
  flushMetrics();
  flushMetrics(); // nothing left: no second line

  // Assert
  expect(lines).toHaveLength(1);
  const emf = JSON.parse(lines[0] as string) as Record<string, any>;
  expect(emf._aws.CloudWatchMetrics).toEqual([
    {
      Namespace: 'PresenceApi/Test',
      Dimensions: [['service']],
      Metrics: [
        { Name: 'DeliveriesSent', Unit: 'Count' },
        { Name: 'DeliveryLag', Unit: 'Milliseconds' },
      ],
    },
  ]);
  expect(emf).toMatchObject({ service: 'presence-api', DeliveriesSent: [3, 2], DeliveryLag: 120 });
});

it('writes nothing where no namespace is configured (tests, the local stack)', () => {
  // Arrange
  delete process.env.POWERTOOLS_METRICS_NAMESPACE;
  Object.assign(process.env, { POWERTOOLS_DEV: 'true', POWERTOOLS_METRICS_DISABLED: 'false' });
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const { putMetric, flushMetrics } = loadMetrics();

  // Act
  putMetric('UsersOnline', 5);
  flushMetrics();

  // Assert
  expect(log).not.toHaveBeenCalled();
});
