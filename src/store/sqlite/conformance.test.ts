import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { storeConformance } from '../conformance.ts';
import { openStore } from '../open.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-conformance-'));
after(() => rmSync(dir, { recursive: true, force: true }));

storeConformance('sqlite', (clock, name) => openStore({ path: join(dir, `${name}.db`) }, { clock }));
