import type { z } from 'zod';
import type { Clock } from '../../clock.ts';
import type { Channel } from '../types.ts';

export interface ChannelDeps {
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where console lines go (tests capture it). */
  readonly stdout?: { write(s: string): unknown; isTTY?: boolean };
}

export interface ChannelFactory<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  create(name: string, config: z.output<S>, deps: ChannelDeps): Channel;
}

export function defineChannel<S extends z.ZodType>(f: ChannelFactory<S>): ChannelFactory<S> {
  return f;
}

export function base(
  name: string,
  type: string,
  cfg: {
    rate_limit_per_second?: number | undefined;
    send_resolved: boolean;
    severities?: readonly string[] | undefined;
  },
  secrets: readonly (string | undefined)[],
  idempotent = false,
): Omit<Channel, 'send'> {
  return {
    name,
    type,
    idempotent,
    minIntervalMs: cfg.rate_limit_per_second ? Math.ceil(1000 / cfg.rate_limit_per_second) : 0,
    sendResolved: cfg.send_resolved,
    severities: cfg.severities ?? null,
    secrets: secrets.filter((s): s is string => typeof s === 'string' && s.length > 0),
  };
}

/** Webhook URLs are credentials: the URL, its path, long path segments and query values are all secret. */
export function urlSecrets(url: string): string[] {
  const u = new URL(url);
  return [
    url,
    u.pathname,
    ...u.pathname.split('/').filter((s) => s.length >= 8),
    ...[...u.searchParams.values()].filter((v) => v.length >= 4),
  ];
}
