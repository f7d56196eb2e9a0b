// Cold start: minified bundle sizes (functions with the layer external, the layer with its deps) and handler load time.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';
import { FUNCTION_NAMES } from '../src/routes';
import { summarize } from './support/stats';
import type { LatencyStats } from './support/stats';

/** Size and load time of one function bundle. */
export interface FunctionColdStart {
  readonly name: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** `require()` of the handler module (which loads the layer) in a fresh Node process. */
  readonly load: LatencyStats;
}

/** Cold-start figures. */
export interface ColdStartFigures {
  readonly layerBytes: number;
  readonly layerGzipBytes: number;
  /** `require()` of the layer alone in a fresh Node process. */
  readonly layerLoad: LatencyStats;
  readonly functions: FunctionColdStart[];
  readonly nodeVersion: string;
}

const ROOT = join(__dirname, '..');
const LAYER = '@presence/layer';

/** The same esbuild settings as lib/constructs/shared-layer.ts (layer) and presence-function.ts (functions). */
function bundle(entry: string, outfile: string, external: string[]): number {
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    mainFields: ['module', 'main'],
    tsconfig: join(ROOT, 'tsconfig.json'),
    external,
    legalComments: 'eof',
    logLevel: 'error',
  });
  return statSync(outfile).size;
}

/** Milliseconds to `require` `file` in a fresh `node` (the layer resolved from `nodePath`, like /opt/nodejs/node_modules). */
function loadTimes(file: string, nodePath: string, runs: number): LatencyStats {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const result = spawnSync(process.execPath, ['-e', script], {
      env: {
        PATH: process.env.PATH,
        NODE_PATH: nodePath,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
      },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`loading ${file} failed: ${result.stderr}`);
    samples.push(Number(result.stdout));
  }
  return summarize(samples);
}

/** Bundles the layer and every function into a temporary directory and measures them. */
export function benchColdStart(runs: number): ColdStartFigures {
  const dir = mkdtempSync(join(tmpdir(), 'presence-bench-bundles-'));
  try {
    const nodePath = join(dir, 'layer', 'nodejs', 'node_modules');
    const layerDir = join(nodePath, ...LAYER.split('/'));
    mkdirSync(layerDir, { recursive: true });
    const layerFile = join(layerDir, 'index.js');
    const layerBytes = bundle(join(ROOT, 'src', 'layer', 'index.ts'), layerFile, ['pg-native']);
    writeFileSync(join(layerDir, 'package.json'), JSON.stringify({ name: LAYER, main: 'index.js' }));
    const layerLoad = loadTimes(layerFile, nodePath, runs);
    const functions: FunctionColdStart[] = [];
    for (const name of FUNCTION_NAMES) {
      const file = join(dir, 'functions', name, 'index.js');
      const bytes = bundle(join(ROOT, 'src', 'functions', name, 'handler.ts'), file, [LAYER]);
      functions.push({
        name,
        bytes,
        gzipBytes: gzipSync(readFileSync(file)).length,
        load: loadTimes(file, nodePath, runs),
      });
    }
    return {
      layerBytes,
      layerGzipBytes: gzipSync(readFileSync(layerFile)).length,
      layerLoad,
      functions,
      nodeVersion: process.version,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
