// Every module's rows of the authorization matrix: each `<module>.rows.ts` in this folder
// exports `rows`. Loaded by name so that adding a module's file is all it takes.
import { readdirSync } from 'node:fs';
import type { AuthzRow } from './types.js';

export async function loadRows(): Promise<AuthzRow[]> {
  const files = readdirSync(import.meta.dirname).filter((f) => f.endsWith('.rows.ts'));
  const modules = await Promise.all(files.map((f) => import(`./${f}`) as Promise<{ rows: AuthzRow[] }>));
  return modules.flatMap((m) => m.rows);
}
