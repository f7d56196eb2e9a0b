// Per-worker environment defaults for tests: quiet logs, local AWS credentials for the @connections client.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Handlers make their @connections calls on the calling thread; test/integration/threaded-gateway.test.ts runs the threads.
process.env.CONNECTIONS_THREADS ??= '0';
