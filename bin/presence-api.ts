#!/usr/bin/env node
// CDK app entry: loads the validated deploy config from the environment / .env, creates the stack, runs cdk-nag.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeployConfigError, parseDeployConfig, readDeployEnvironment } from '../lib/deploy-config';
import { PresenceApiStack } from '../lib/presence-api-stack';

function main(): void {
  let config;
  try {
    config = parseDeployConfig(readDeployEnvironment());
  } catch (error) {
    if (!(error instanceof DeployConfigError)) throw error;
    console.error(`${error.message}\nSee .env.deploy.example and docs/deployment.md.`);
    process.exit(1);
  }
  const app = new App();
  // Environment-agnostic unless the CLI resolved an account and region (it does when credentials are present).
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  new PresenceApiStack(app, config.stackName, {
    config,
    description: 'Presence API: real-time friend presence over API Gateway WebSocket + REST, Lambda, Redis, Postgres',
    ...(account && region ? { env: { account, region } } : {}),
  });
  // Any unacknowledged finding fails synth; acknowledgements live next to the resources they concern, with reasons.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}

main();
