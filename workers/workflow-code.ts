import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the control worker gets its workflow code. Built installs load the bundle made at build time by the same
 * @temporalio/worker version (`npm run build` → dist/workflow-bundle.js): no webpack at start-up, and what runs
 * is what was tested. From sources (tests, `npm run dev`), the worker bundles workflows/index.ts itself.
 */
export function workflowCodeOptions(): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const here = fileURLToPath(import.meta.url);
  const fromSources = here.endsWith('.ts');
  if (!fromSources) {
    const codePath = resolve(dirname(here), '..', 'workflow-bundle.js');
    if (existsSync(codePath)) return { workflowBundle: { codePath } };
  }
  return { workflowsPath: resolve(dirname(here), '..', 'workflows', fromSources ? 'index.ts' : 'index.js') };
}
