// The shared Lambda layer: src/layer bundled with esbuild into nodejs/node_modules/@presence/layer, deps included.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, DockerImage, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Code, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import { buildSync } from 'esbuild';
import { Construct } from 'constructs';

/** The module name handlers import shared code by; in Lambda it resolves from the layer's node_modules. */
export const LAYER_MODULE_NAME = '@presence/layer';

/** Properties of {@link SharedLayer}. */
export interface SharedLayerProps {
  /** Directory of the layer's sources; its `index.ts` is the barrel that becomes the module's entry point. */
  readonly sourceDir: string;
  /** tsconfig used to resolve the sources. */
  readonly tsconfig: string;
  /** Node.js release the bundle targets, as esbuild spells it. */
  readonly target: string;
}

/**
 * One layer version shared by every function. It carries the shared code and all its dependencies (ioredis, pg,
 * aws-jwt-verify, zod, tldts, Powertools, the AWS SDK clients) as a single minified CommonJS module, so function
 * bundles mark {@link LAYER_MODULE_NAME} external and stay a few kilobytes. Bundling runs esbuild in-process:
 * no Docker, works offline in `cdk synth` and in jest.
 */
export class SharedLayer extends Construct {
  /** The layer version to attach to functions. */
  readonly layerVersion: LayerVersion;

  constructor(scope: Construct, id: string, props: SharedLayerProps) {
    super(scope, id);
    const code = Code.fromAsset(props.sourceDir, {
      // The bundle depends on node_modules too, so hash what esbuild produced rather than the sources.
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never used: local bundling always succeeds or throws. CDK requires an image to be named.
        image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
        local: { tryBundle: (outputDir) => bundleLayer(props, outputDir) },
      },
    });
    this.layerVersion = new LayerVersion(this, 'Layer', {
      code,
      description: `Presence API shared code and dependencies (${LAYER_MODULE_NAME})`,
      compatibleRuntimes: [Runtime.NODEJS_22_X],
      compatibleArchitectures: [Architecture.ARM_64],
      // Functions keep their own copy of a layer version, so old versions can go with updates and teardown.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}

/** Bundles the layer barrel into the `nodejs/node_modules/<module>` layout Lambda puts on the module path. */
export function bundleLayer(props: SharedLayerProps, outputDir: string): boolean {
  const moduleDir = join(outputDir, 'nodejs', 'node_modules', ...LAYER_MODULE_NAME.split('/'));
  mkdirSync(moduleDir, { recursive: true });
  buildSync({
    entryPoints: [join(props.sourceDir, 'index.ts')],
    outfile: join(moduleDir, 'index.js'),
    bundle: true,
    minify: true,
    platform: 'node',
    target: props.target,
    format: 'cjs',
    // ESM entry points first: lets esbuild tree-shake the AWS SDK clients.
    mainFields: ['module', 'main'],
    tsconfig: props.tsconfig,
    // pg loads its optional native binding inside try/catch; it is never installed.
    external: ['pg-native'],
    legalComments: 'eof',
    logLevel: 'error',
  });
  writeFileSync(
    join(moduleDir, 'package.json'),
    `${JSON.stringify({ name: LAYER_MODULE_NAME, version: '1.0.0', private: true, main: 'index.js' }, null, 2)}\n`,
  );
  return true;
}
