// Structured JSON logging (Powertools Logger); never log tokens or unshared URLs.
import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger of the service. Level: `POWERTOOLS_LOG_LEVEL` (DEBUG, INFO, WARN, ERROR, SILENT). */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'presence-api' });
