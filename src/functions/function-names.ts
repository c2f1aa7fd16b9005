/**
 * The names the functions are registered under (docs/reference/http-api.md and docs/reference/events.md), one per file of this folder,
 * each wired to its handler factory (src/app/handlers/*.ts):
 *   createScanTimerHandler(deps): TimerHandler
 *   createSubscriptionWatchHandler(deps): TimerHandler   (not registered when CONTACT_WATCH_WATCH_SCHEDULE is off)
 *   createContactEventHandler(deps): EventGridHandler<unknown>
 *   createComplianceHandler(deps): HttpHandler    GET  /api/subscriptions/{subscriptionId}/compliance[?wait]
 *   createSubscriptionsHandler(deps): HttpHandler GET  /api/subscriptions[?status]
 *   createScansHandler(deps): HttpHandler         POST /api/scans
 *   createScanResultHandler(deps): HttpHandler    GET  /api/scans/{scanId}
 *   createReportHandler(deps): HttpHandler        GET  /api/report
 */
export const FUNCTION_NAMES = {
  scanTimer: 'scanTimer',
  subscriptionWatch: 'subscriptionWatch',
  contactEvents: 'contactEvents',
  compliance: 'subscriptionCompliance',
  subscriptions: 'subscriptions',
  scans: 'scans',
  scanResult: 'scanResult',
  report: 'report',
} as const;
