// Log defaults for the handlers' Powertools logger; imported first by main.ts, before anything creates the logger.

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_SERVICE_NAME ??= 'presence-local';
process.env.POWERTOOLS_DEV ??= process.stdout.isTTY ? 'true' : 'false';
// The SDK's Node 20 support notice says nothing about the local stack.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The log level the handlers run with. */
export const handlerLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
