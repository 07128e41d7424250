import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { base, defineChannel } from './common.ts';
import { fileSchema as schema } from './schemas.ts';
import { vigilPayload } from './webhook.ts';

export function rotate(path: string, keep: number): void {
  rmSync(`${path}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
  if (existsSync(path)) renameSync(path, `${path}.1`);
}

export const fileChannel = defineChannel({
  schema,
  create(name, cfg) {
    return {
      ...base(name, 'file', cfg, []),
      async send(batch) {
        try {
          mkdirSync(dirname(cfg.path), { recursive: true });
          const line = `${JSON.stringify(vigilPayload(batch))}\n`;
          const size = existsSync(cfg.path) ? statSync(cfg.path).size : 0;
          if (size > 0 && size + Buffer.byteLength(line) > cfg.max_bytes) rotate(cfg.path, cfg.keep);
          appendFileSync(cfg.path, line);
          return { ok: true, retryable: false, detail: `appended to ${cfg.path}` };
        } catch (e) {
          return {
            ok: false,
            retryable: true,
            detail: `cannot write ${cfg.path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
          };
        }
      },
    };
  },
});
