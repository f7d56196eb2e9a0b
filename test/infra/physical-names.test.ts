// Two stacks in one account and region (staging next to production): no fixed physical name may collide.
import type { Template } from 'aws-cdk-lib/assertions';
import { buildStacksInOneAccount } from './stack-fixture';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** Properties that name a resource (`...Name`, `...Identifier`, ElastiCache's `...Id` names). */
const NAME_PROPERTY = /(Name|Identifier)$|^(ReplicationGroupId|CacheClusterId|UserGroupId|UserId)$/;

/**
 * Names that are scoped to a parent resource of the same stack (an API, a role, a proxy, an instance), or that only
 * refer to something (a metric), so equal values in two stacks do not collide.
 */
const PARENT_SCOPED = new Set([
  'AWS::ApiGateway::Authorizer Name',
  'AWS::ApiGateway::RequestValidator Name',
  'AWS::ApiGateway::Stage StageName',
  'AWS::ApiGatewayV2::Authorizer Name',
  'AWS::ApiGatewayV2::Stage StageName',
  'AWS::CloudWatch::Alarm MetricName',
  'AWS::IAM::Policy PolicyName',
  'AWS::RDS::DBInstance DBName',
  'AWS::RDS::DBProxyTargetGroup TargetGroupName',
  'AWS::SNS::Topic DisplayName',
]);

/** Every literal name in a template, as `Type Property=value` (references and ARNs of existing resources excluded). */
function literalNames(template: Template): string[] {
  const names: string[] = [];
  for (const resource of Object.values(template.toJSON().Resources as Resources)) {
    for (const [key, value] of Object.entries(resource.Properties ?? {})) {
      if (!NAME_PROPERTY.test(key) || typeof value !== 'string' || value.startsWith('arn:')) continue;
      if (PARENT_SCOPED.has(`${resource.Type} ${key}`)) continue;
      names.push(`${resource.Type} ${key}=${value}`);
    }
  }
  return names;
}

/** Namespace and name of every metric the stack publishes itself (metric filters). */
function ownMetrics(template: Template): string[] {
  return Object.values(template.toJSON().Resources as Resources)
    .filter((resource) => resource.Type === 'AWS::Logs::MetricFilter')
    .flatMap((resource) =>
      (resource.Properties?.MetricTransformations as { MetricNamespace: string; MetricName: string }[]).map(
        (t) => `${t.MetricNamespace}/${t.MetricName}`,
      ),
    );
}

const VARIANTS: Record<string, Record<string, string>> = {
  'replication group, existing Postgres': {},
  'cluster mode': { CACHE_CLUSTER_MODE: 'true', CACHE_SHARDS: '2' },
  'ElastiCache Serverless with a storage maximum': { CACHE_MODE: 'serverless', CACHE_SERVERLESS_MAX_STORAGE_GB: '10' },
  'new VPC and the demo database': {
    VPC_ID: '',
    VPC_AVAILABILITY_ZONES: '',
    VPC_PRIVATE_SUBNET_IDS: '',
    VPC_DATA_SUBNET_IDS: '',
    DB_MODE: 'demo',
  },
};

describe.each(Object.entries(VARIANTS))(
  'a production and a staging stack in one account and region: %s',
  (_name, overrides) => {
    let production: Template;
    let staging: Template;
    beforeAll(() => {
      [production, staging] = buildStacksInOneAccount(
        [
          { name: 'PresenceApi', overrides },
          // The account-level API Gateway logging role is set once per account and region (by production here).
          { name: 'PresenceApi-staging', overrides: { ...overrides, API_GATEWAY_CLOUDWATCH_ROLE: 'false' } },
        ],
        { bundle: false, validate: false },
      ).templates as [Template, Template];
    }, 60_000);

    it('gives no account-scoped resource the same physical name in both stacks', () => {
      const taken = new Set(literalNames(production));
      expect(literalNames(staging).filter((name) => taken.has(name))).toEqual([]);
    });

    it('publishes its own metrics under a namespace of its own', () => {
      const taken = new Set(ownMetrics(production));
      expect(ownMetrics(staging).length).toBeGreaterThan(0);
      expect(ownMetrics(staging).filter((metric) => taken.has(metric))).toEqual([]);
    });

    it('sets the account-wide API Gateway logging role in one stack only', () => {
      production.resourceCountIs('AWS::ApiGateway::Account', 1);
      staging.resourceCountIs('AWS::ApiGateway::Account', 0);
    });
  },
);

describe('names derived from the stack name', () => {
  it('names the RDS Proxy after the stack', () => {
    const [production, staging] = buildStacksInOneAccount([{ name: 'PresenceApi' }, { name: 'PresenceApi-staging' }], {
      bundle: false,
      validate: false,
    }).templates as [Template, Template];
    production.hasResourceProperties('AWS::RDS::DBProxy', { DBProxyName: 'PresenceApi-presence-proxy' });
    staging.hasResourceProperties('AWS::RDS::DBProxy', { DBProxyName: 'PresenceApi-staging-presence-proxy' });
  });

  it('keeps long stack names within each resource limit and still distinct', () => {
    const long = 'PresenceApi-' + 'x'.repeat(100);
    const templates = buildStacksInOneAccount(
      [`${long}-a`, `${long}-b`].map((name) => ({ name, overrides: { CACHE_MODE: 'serverless' } })),
      { bundle: false, validate: false },
    ).templates;
    const proxies = templates.map(
      (t) => Object.values(t.findResources('AWS::RDS::DBProxy'))[0]?.Properties.DBProxyName as string,
    );
    const caches = templates.map(
      (t) =>
        Object.values(t.findResources('AWS::ElastiCache::ServerlessCache'))[0]?.Properties
          .ServerlessCacheName as string,
    );
    for (const name of proxies) expect(name).toMatch(/^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,59}(?<!-)$/);
    for (const name of caches) expect(name).toMatch(/^[a-z](?!.*--)[a-z0-9-]{0,39}(?<!-)$/);
    expect(new Set(proxies).size).toBe(2);
    expect(new Set(caches).size).toBe(2);
  });
});
