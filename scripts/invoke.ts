// `npm run invoke -- <function> events/<file>.json`: runs one handler on an event against the configured Redis/Postgres,
// like `sam local invoke` without Docker. Prints the result and every @connections call the handler made.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { FUNCTION_NAMES } from '../src/routes';
import type { FunctionName } from '../src/routes';
import { fillTokens } from '../events/sample-events';
import { createDevIssuer } from '../src/local/dev-issuer';
import { shutdownRuntime } from '../src/layer/runtime';
import { redactSecrets } from '../src/layer/shared/redact';
import { decodePathSegment } from '../src/local/request-parts';

function listen(server: Server): Promise<string> {
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

async function main(): Promise<void> {
  const [name, eventPath] = process.argv.slice(2);
  if (!name || !eventPath || !FUNCTION_NAMES.includes(name as FunctionName)) {
    console.error(`usage: npm run invoke -- <${FUNCTION_NAMES.join('|')}> events/<file>.json`);
    process.exit(2);
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const servers: Server[] = [];
  let text = readFileSync(resolve(eventPath), 'utf8');

  // Sample events carry {{token:user}} placeholders: mint real tokens from a throwaway local issuer.
  if (/\{\{token:/.test(text)) {
    let jwks: unknown = {};
    const issuerServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    servers.push(issuerServer);
    const base = await listen(issuerServer);
    const issuer = createDevIssuer({ issuer: base, audience: 'presence-invoke' });
    jwks = issuer.jwks;
    Object.assign(process.env, { JWT_ISSUER: base, JWT_AUDIENCE: 'presence-invoke', JWT_JWKS_URI: `${base}/.well-known/jwks.json` });
    text = fillTokens(text, (user, expired) => issuer.sign(user, expired ? { expiresIn: -60 } : {}));
  }

  // Without an endpoint, collect @connections calls locally and print them.
  if (!process.env.CONNECTIONS_ENDPOINT) {
    const sink = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = req.url ?? '';
        const path = target.split('?')[0]?.split('/').map((p) => decodePathSegment(p) ?? p).join('/');
        console.log(redactSecrets(`@connections ${req.method} ${path} ${Buffer.concat(chunks).toString('utf8')}`));
        res.writeHead(200).end();
      });
    });
    servers.push(sink);
    process.env.CONNECTIONS_ENDPOINT = `${await listen(sink)}/local`;
  }

  const module = (await import(`../src/functions/${name}/handler`)) as { handler: (e: unknown, c?: unknown) => Promise<unknown> };
  const context = { functionName: name, awsRequestId: 'invoke', getRemainingTimeInMillis: () => 60_000 };
  let exitCode = 0;
  try {
    const result = await module.handler(JSON.parse(text), context);
    console.log(redactSecrets(JSON.stringify(result ?? null, null, 2)));
  } catch (error) {
    exitCode = 1;
    console.error(redactSecrets(`${name} failed: ${(error as Error).message}`));
  } finally {
    await shutdownRuntime();
    for (const server of servers) server.close();
  }
  process.exitCode = exitCode;
}

void main();
