export { createServer, type Identity, isLoopback, type VigilServer } from './app.ts';
export type { AlertsApi, ServerDeps } from './deps.ts';
export { ApiError, ServerStartError } from './errors.ts';
