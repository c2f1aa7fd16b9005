/**
 * The Functions app's entry point (package.json `main`, bundled to dist/functions/index.js): the
 * settings check first, then every function of docs/reference/http-api.md and docs/reference/events.md. ES modules evaluate their
 * imports in this order.
 */
import './startup.js';
import './scan-timer.js';
import './subscription-watch.js';
import './contact-events.js';
import './compliance.js';
import './subscriptions.js';
import './scans.js';
import './scan-result.js';
import './report.js';
