// Structured JSON logging (Powertools Logger); every record passes through the redacting replacer, so no token or
// secret query parameter reaches a log, whatever a caller passes (error objects included).
import { Logger } from '@aws-lambda-powertools/logger';
import { redactingReplacer } from './redact';

/** The one logger of the service. Level: `POWERTOOLS_LOG_LEVEL` (DEBUG, INFO, WARN, ERROR, SILENT). */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'presence-api',
  jsonReplacerFn: redactingReplacer,
});
