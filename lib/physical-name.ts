// Physical names of account-scoped resources, derived from the stack name so that two stacks can share an account.
import { createHash } from 'node:crypto';
import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** What a resource accepts as a name (letters, digits and single hyphens, starting with a letter, in all cases here). */
export interface NameRules {
  readonly maxLength: number;
  /** The resource only takes lower-case names (ElastiCache). */
  readonly lowercase?: boolean;
}

/**
 * `<stack name>-<suffix>` reduced to what the resource accepts: other characters become hyphens, runs of hyphens
 * collapse, no hyphen at either end. A name longer than `maxLength` is cut and ends in a hash of the full stack name
 * and suffix, so two long stack names that share a prefix still get different names.
 *
 * Only for resources CloudFormation cannot name itself (RDS Proxy, ElastiCache Serverless) or whose name shows in a
 * shared namespace; everything else is left to CloudFormation, which derives names from the stack anyway.
 */
export function stackScopedName(scope: IConstruct, suffix: string, rules: NameRules): string {
  const stackName = Stack.of(scope).stackName;
  if (Token.isUnresolved(stackName)) throw new Error('stackScopedName needs a concrete stack name');
  let name = `${stackName}-${suffix}`
    .replace(/[^A-Za-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (rules.lowercase) name = name.toLowerCase();
  if (name.length <= rules.maxLength) return name;
  const hash = createHash('sha256').update(`${stackName}/${suffix}`).digest('hex').slice(0, 8);
  return `${name.slice(0, rules.maxLength - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}
