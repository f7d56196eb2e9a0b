// Runs the groups suite again with the handlers on the real 3-master Redis Cluster the test setup starts.
import { Cluster } from 'ioredis';
import { getRuntime } from '../../src/layer/runtime';

process.env.TEST_REDIS_TARGET = 'cluster';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the suite must load after the target is set
require('./groups.test');

it('really ran on the cluster', async () => {
  expect((await getRuntime()).redis.client).toBeInstanceOf(Cluster);
});
