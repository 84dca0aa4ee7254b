import { Client, Connection } from '@temporalio/client';
import type { XfcConfig } from '../config/env.js';
import { UserError, errorMessage } from '../common/errors.js';
import { temporalConnectionOptions } from './tls.js';
import { xfcCommand } from '../common/invocation.js';

/** A Temporal client for the configured frontend and namespace, with an error a person can act on. */
export async function connectTemporal(config: Pick<XfcConfig, 'temporal'>): Promise<Client> {
  const { address, namespace } = config.temporal;
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: 5_000 });
  } catch (err) {
    throw new UserError(
      `Cannot reach the Temporal server at ${address} (${errorMessage(err)}). Start it (\`${xfcCommand('dev')}\` does) or set TEMPORAL_ADDRESS.`,
    );
  }
  return new Client({ connection, namespace });
}

/** Link to one workflow in the Temporal Web UI. */
export function workflowUrl(config: Pick<XfcConfig, 'temporal'>, workflowId: string, runId?: string): string {
  const { uiUrl, namespace } = config.temporal;
  const base = `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}` : base;
}

/** Link to the Web UI's workflow list filtered to one user's scans and applications. */
export function userWorkflowsUrl(config: Pick<XfcConfig, 'temporal'>, username: string): string {
  const { uiUrl, namespace } = config.temporal;
  const query = encodeURIComponent(`XfcUser="${username}"`);
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${query}`;
}
