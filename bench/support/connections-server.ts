// A stand-in for API Gateway's @connections API, run as its own process so its CPU is not charged to the handlers.
import { createServer } from 'node:http';

/** Requests answered so far, by method. */
const counts: Record<string, number> = { POST: 0, DELETE: 0, GET: 0 };

const server = createServer((req, res) => {
  if (req.url === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(counts));
    return;
  }
  req.on('data', () => undefined);
  req.on('end', () => {
    const method = req.method ?? 'GET';
    counts[method] = (counts[method] ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(method === 'GET' ? JSON.stringify({ connectedAt: new Date().toISOString() }) : '');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
