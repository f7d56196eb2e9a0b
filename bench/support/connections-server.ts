// A stand-in for API Gateway's @connections API, run as its own process so its CPU is not charged to the handlers.
import { createServer } from 'node:http';
import { WARMUP_CONNECTION_ID } from './connections-api';

/** Requests answered so far, by method; CHANGES: messages delivered (a `presence-batch` counts its elements). */
const counts: Record<string, number> = { POST: 0, DELETE: 0, GET: 0, CHANGES: 0 };

const server = createServer((req, res) => {
  if (req.url === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(counts));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const method = req.method ?? 'GET';
    if (req.url?.endsWith(`/@connections/${WARMUP_CONNECTION_ID}`)) {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      return;
    }
    counts[method] = (counts[method] ?? 0) + 1;
    if (method === 'POST') {
      const body = Buffer.concat(chunks).toString('utf8');
      counts.CHANGES =
        (counts.CHANGES ?? 0) +
        (body.startsWith('{"type":"presence-batch"') ? (JSON.parse(body) as { changes: unknown[] }).changes.length : 1);
    }
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
