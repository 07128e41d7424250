/** A minimal leveled logger writing one line per event; secrets must never be passed to it. */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(out: NodeJS.WritableStream, now: () => number, opts: { quiet?: boolean } = {}): Logger {
  const write = (level: string, msg: string, fields?: Record<string, unknown>) => {
    const extra = fields
      ? Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
          .join(' ')
      : '';
    out.write(`${new Date(now()).toISOString().slice(0, 19)}Z ${level} ${msg}${extra ? ` ${extra}` : ''}\n`);
  };
  return {
    info: (m, f) => {
      if (!opts.quiet) write('INFO ', m, f);
    },
    warn: (m, f) => write('WARN ', m, f),
    error: (m, f) => write('ERROR', m, f),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
