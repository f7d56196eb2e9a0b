// Builds the loadable extension into examples/chrome-extension/dist: bundles the scripts (with src/client) by esbuild.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/** Where the unpacked extension is written by default (gitignored). */
export const EXTENSION_DIST = join(__dirname, 'dist');

/** Bundles background, popup and options and copies the manifest and pages into `outDir`; returns `outDir`. */
export async function buildExtension(outDir: string = EXTENSION_DIST): Promise<string> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: ['background', 'popup', 'options'].map((name) => join(__dirname, 'src', `${name}.ts`)),
    outdir: outDir,
    bundle: true,
    format: 'iife',
    target: 'chrome116',
    platform: 'browser',
    logLevel: 'warning',
  });
  for (const file of ['manifest.json', 'popup.html', 'options.html'])
    copyFileSync(join(__dirname, file), join(outDir, file));
  return outDir;
}

if (require.main === module) {
  buildExtension(process.argv[2]).then(
    (dir) => process.stdout.write(`Extension built in ${dir}: load it unpacked from chrome://extensions\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
