// Serves the demo web page at `/`: the HTML, and its script bundled (with the client library) by esbuild at start.
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';

/** The demo page's files, built once. */
export interface DemoPage {
  readonly html: string;
  readonly script: string;
}

/** Bundles `demo/demo-app.ts` (esbuild, a dev dependency of the local stack) and reads the HTML. */
export async function buildDemoPage(): Promise<DemoPage> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(__dirname, 'demo', 'demo-app.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    logLevel: 'silent',
  });
  return {
    html: readFileSync(join(__dirname, 'demo', 'index.html'), 'utf8'),
    script: result.outputFiles[0]?.text ?? '',
  };
}

/** Serves `/` and `/demo.js`; answers false for other paths. */
export function serveDemoPage(page: DemoPage, pathname: string, res: ServerResponse): boolean {
  const file =
    pathname === '/' || pathname === '/index.html'
      ? { type: 'text/html; charset=utf-8', body: page.html }
      : pathname === '/demo.js'
        ? { type: 'text/javascript; charset=utf-8', body: page.script }
        : undefined;
  if (!file) return false;
  res.writeHead(200, {
    'Content-Type': file.type,
    'Cache-Control': 'no-store',
    'Content-Length': String(Buffer.byteLength(file.body)),
  });
  res.end(file.body);
  return true;
}
