// The shared layer's public surface: handlers import everything from `@presence/layer`.
export * from './shared/errors';
export * from './shared/config';
export * from './shared/auth';
export * from './shared/renewal';
export * from './shared/http';
export * from './shared/redact';
export * from './shared/websocket';
export * from './shared/async';
export { logger } from './shared/logger';
export * from './presence/model';
export type * from './presence/ports';
export * from './presence/messages';
export * from './presence/views';
export * from './presence/privacy';
export { connectUser, AFTER_CONNECT_MS } from './presence/connect';
export { heartbeat, chargeRejectedMessage, requestResync, closeExpired } from './presence/heartbeat';
export { subscribe } from './presence/subscribe';
export { updatePresence } from './presence/update-presence';
export { disconnect } from './presence/disconnect';
export { getPresenceOverview, getUserPresence } from './presence/get-presence';
export { sweepOnce, runSweep, emptySweepStats, sweepOptions } from './presence/sweep';
export type { SweepStats, SweepOptions } from './presence/sweep';
export { DeliveryService, emptyDeliveryStats } from './delivery/deliverer';
export type { DeliveryStats } from './delivery/deliverer';
export type * from './delivery/ports';
export { planCalls } from './delivery/batches';
export { handleMessage } from './message-handler';
export type { MessageContext } from './message-handler';
export { getRuntime, getVerifier, shutdownRuntime, useLocalAdapters, DELIVERY_LEASE_MS } from './runtime';
export type { SweepQueue } from './runtime';
export type { Runtime } from './runtime';
export { migrate } from './adapters/postgres/migrate';
export { MIGRATIONS, SEED_SQL } from './adapters/postgres/schema';
export { RedisKeys, SHARD_COUNT, shardOf } from './adapters/redis/keys';
export { RedisExecutor, createRedisClient } from './adapters/redis/client';
export { RedisPresenceStore } from './adapters/redis/presence-store';
export { RedisDeliveryStore } from './adapters/redis/delivery-store';
export { RedisRateCap } from './adapters/redis/rate-cap';
export { SqsWorkQueue, NO_QUEUE } from './adapters/sqs/work-queue';
export type { WorkMessage } from './adapters/sqs/work-queue';
export {
  EventBridgePublisher,
  NO_EVENTS,
  EVENT_SOURCE,
  EVENT_DETAIL_TYPE,
} from './adapters/eventbridge/event-publisher';
export { PostgresFriendDirectory } from './adapters/postgres/friend-directory';
export { ApiGatewayConnectionGateway } from './adapters/apigw/connection-gateway';
