/**
 * Validates the app settings once, at start-up — imported first by index.ts, so that a missing or
 * malformed setting stops the app with a message naming it before any function is registered.
 */
import { validateAppSettingsAtStartup } from '../app/settings.js';

validateAppSettingsAtStartup(process.env);
