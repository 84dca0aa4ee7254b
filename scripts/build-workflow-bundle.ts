/**
 * `npm run build` step: bundles the compiled workflows (dist/workflows/index.js) with the installed
 * @temporalio/worker into dist/workflow-bundle.js, which production workers load instead of bundling at start-up.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

async function run(): Promise<void> {
  const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const { code } = await bundleWorkflowCode({ workflowsPath: resolve(dist, 'workflows', 'index.js') });
  const target = resolve(dist, 'workflow-bundle.js');
  await writeFile(target, code);
  console.log(`workflow bundle: ${target} (${Math.round(code.length / 1024)} KiB)`);
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
