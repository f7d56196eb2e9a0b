// cdk.json sets every feature flag aws-cdk-lib recommends for a new app, so `cdk synth` reports none unconfigured.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';

const context = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

it('configures every feature flag aws-cdk-lib knows, at the value recommended for a new app', () => {
  // Arrange
  const recommended = Object.entries(CURRENTLY_RECOMMENDED_FLAGS);
  // Act
  const unconfigured = recommended.filter(([flag]) => !(flag in context)).map(([flag]) => flag);
  const different = recommended.filter(
    ([flag, value]) => flag in context && JSON.stringify(context[flag]) !== JSON.stringify(value),
  );
  // Assert
  expect(unconfigured).toEqual([]);
  // The one deliberate exception: the demo VPC passes restrictDefaultSecurityGroup itself (no custom-resource Lambda).
  expect(different.map(([flag]) => flag)).toEqual(['@aws-cdk/aws-ec2:restrictDefaultSecurityGroup']);
});
