// Test fixture for infra tests: a valid deploy environment and a helper that builds the stack from it, offline.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseDeployConfig } from '../../lib/deploy-config';
import { PresenceApiStack } from '../../lib/presence-api-stack';
import { tempDir } from '../support/temp-dirs';

/** The production shape: the database's existing VPC, a Valkey replication group, the existing Postgres behind RDS Proxy. */
export const BASE_ENV: Readonly<Record<string, string>> = {
  VPC_ID: 'vpc-0123456789abcdef0',
  VPC_AVAILABILITY_ZONES: 'us-east-1a,us-east-1b',
  VPC_PRIVATE_SUBNET_IDS: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2',
  VPC_DATA_SUBNET_IDS: 'subnet-0bbbbbbbbbbbbbbb1,subnet-0bbbbbbbbbbbbbbb2',
  ALLOWED_ORIGINS: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop',
  COGNITO_USER_POOL_ID: 'us-east-1_AbCdEf123',
  JWT_AUDIENCE: '1example23456789',
  DB_MODE: 'existing-instance',
  DB_IDENTIFIER: 'pagenow-db',
  DB_ENDPOINT: 'pagenow-db.abc123.us-east-1.rds.amazonaws.com',
  DB_SECURITY_GROUP_ID: 'sg-0123456789abcdef0',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pagenow/db-AbCdEf',
  DB_NAME: 'pagenow',
};

/** The feature flags `cdk synth` uses, so tests see the same template. */
const CONTEXT = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context as Record<
  string,
  unknown
>;

/** Options of {@link buildStack}. */
export interface BuildOptions {
  /** Run esbuild for the layer and the functions (slow-ish); off, assets are placeholders. Default true. */
  readonly bundle?: boolean;
  /** Run CDK's built-in CloudFormation template validation during synth (about 5 s per process). Default true. */
  readonly validate?: boolean;
}

/** BASE_ENV plus `overrides`; an empty string removes a key. */
function environment(overrides: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries({ ...BASE_ENV, ...overrides }).filter(([, value]) => value !== ''));
}

function newApp(options: BuildOptions): App {
  const context = options.bundle === false ? { ...CONTEXT, 'aws:cdk:bundling-stacks': [] } : CONTEXT;
  // An outdir of our own, removed after the test file: without one, App() leaves a cdk.out* directory in the temp dir.
  return new App({
    context,
    builtinCloudFormationValidation: options.validate ?? true,
    outdir: tempDir('presence-cdk-test-'),
  });
}

/** Builds the stack from BASE_ENV plus `overrides` (an empty string removes a key) and synthesizes its template. */
export function buildStack(
  overrides: Record<string, string> = {},
  options: BuildOptions = {},
): { app: App; stack: PresenceApiStack; template: Template } {
  const app = newApp(options);
  const stack = new PresenceApiStack(app, 'PresenceApiTest', { config: parseDeployConfig(environment(overrides)) });
  return { app, stack, template: Template.fromStack(stack) };
}

/** One account and region, as `cdk deploy` with credentials would resolve it. */
export const TEST_ACCOUNT_ENV = { account: '123456789012', region: 'us-east-1' } as const;

/**
 * Builds several stacks in one app, all in {@link TEST_ACCOUNT_ENV} (as staging next to production would be), each
 * named `name` and configured from BASE_ENV plus its overrides.
 */
export function buildStacksInOneAccount(
  stacks: readonly { readonly name: string; readonly overrides?: Record<string, string> }[],
  options: BuildOptions = {},
): { app: App; stacks: PresenceApiStack[]; templates: Template[] } {
  const app = newApp(options);
  const built = stacks.map(
    ({ name, overrides }) =>
      new PresenceApiStack(app, name, {
        config: parseDeployConfig(environment({ ...overrides, STACK_NAME: name })),
        env: TEST_ACCOUNT_ENV,
      }),
  );
  return { app, stacks: built, templates: built.map((stack) => Template.fromStack(stack)) };
}

/** The logical id of the (only) resource of `type` whose properties contain `fragment` in their JSON. */
export function logicalIdOf(template: Template, type: string, fragment: string): string {
  const matches = Object.entries(template.findResources(type)).filter(([, resource]) =>
    JSON.stringify(resource).includes(fragment),
  );
  if (matches.length !== 1) throw new Error(`expected one ${type} containing ${fragment}, found ${matches.length}`);
  return (matches[0] as [string, unknown])[0];
}
