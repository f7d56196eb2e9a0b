// GET /usage?range=1h|24h|7d|30d|90d: users online and connections open, live and over the range; admins only.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { getRuntime, getUsage, handleRest } from '@presence/layer';

export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> =>
  handleRest(event, async (deps, _callerId, caller) => {
    const { config, usage } = await getRuntime();
    const range = event.queryStringParameters?.range;
    return getUsage({ store: deps.store, usage, clock: deps.clock }, caller, config.adminGroup, range);
  });
