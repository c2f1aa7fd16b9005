/**
 * Starts the app — imported first by index.ts, so that a missing or malformed setting stops the
 * app with a message naming it before any function is registered.
 */
import { startApp } from './app-instance.js';

startApp(process.env);
