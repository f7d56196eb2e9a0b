// A sender thread that crashes on its first calls (test/integration/threaded-gateway.test.ts): an uncaught error.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', () => {
  throw new Error('sender crashed');
});
