import type { Connection } from '@temporalio/client';
import { errorMessage } from '../../lib/common/errors.js';
import { indexedValueTypes, xfcSearchAttributes, type XfcSearchAttribute } from './search-attribute.js';

/**
 * What a Temporal cluster lacks for xfc: its namespace, and each search attribute of `xfcSearchAttributes` (absent,
 * or registered with another type). Self-contained so that `xfc doctor` and the test harness ask the same question,
 * and every answer comes with the operator's command that fixes it.
 */

export interface NamespaceFinding {
  status: 'ok' | 'fail';
  detail: string;
  /** The `temporal operator …` commands that fix it, for a failure. */
  fix?: string;
}

export interface ClusterFindings {
  namespace: NamespaceFinding;
  /** Absent when the namespace is missing (nothing to list). */
  searchAttributes?: NamespaceFinding;
}

const typeName = (value: unknown): string =>
  Object.entries(indexedValueTypes).find(([, number]) => number === Number(value))?.[0] ?? `type ${String(value)}`;

/** The operator's commands that create `attributes` on `namespace` (one command takes them all). */
export function searchAttributeCommand(namespace: string, attributes: readonly XfcSearchAttribute[]): string {
  const flags = attributes.map((attribute) => `--name ${attribute.name} --type ${attribute.type}`).join(' ');
  return `temporal operator search-attribute create --namespace ${namespace} ${flags}`;
}

export async function checkTemporalNamespace(
  connection: Connection,
  namespace: string,
  attributes: readonly XfcSearchAttribute[] = xfcSearchAttributes,
): Promise<ClusterFindings> {
  try {
    const described = await connection.workflowService.describeNamespace({ namespace });
    const retention = Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0) / 86_400;
    const detail = `${namespace} (retention ${retention} d)`;
    const found = { status: 'ok', detail } as const;
    return { namespace: found, searchAttributes: await checkSearchAttributes(connection, namespace, attributes) };
  } catch (err) {
    const missing = /not.?found/i.test(errorMessage(err));
    return {
      namespace: {
        status: 'fail',
        detail: missing ? `${namespace} does not exist on this cluster` : `${namespace}: ${errorMessage(err)}`,
        fix:
          `temporal operator namespace create --namespace ${namespace} --retention 30d, then ` +
          searchAttributeCommand(namespace, attributes) +
          ' (deploy/temporal/setup-namespace.sh does both)',
      },
    };
  }
}

async function checkSearchAttributes(
  connection: Connection,
  namespace: string,
  attributes: readonly XfcSearchAttribute[],
): Promise<NamespaceFinding> {
  const response = await connection.operatorService.listSearchAttributes({ namespace });
  const registered = response.customAttributes ?? {};
  const missing = attributes.filter((attribute) => registered[attribute.name] === undefined);
  const wrongType = attributes.filter(
    (attribute) =>
      registered[attribute.name] !== undefined &&
      Number(registered[attribute.name]) !== indexedValueTypes[attribute.type],
  );
  const listed = attributes.map((attribute) => `${attribute.name} (${attribute.type})`).join(', ');
  if (missing.length === 0 && wrongType.length === 0) return { status: 'ok', detail: listed };
  const problems = [
    ...missing.map((attribute) => `${attribute.name} (${attribute.type}) is missing`),
    ...wrongType.map(
      (attribute) => `${attribute.name} is ${typeName(registered[attribute.name])}, not ${attribute.type}`,
    ),
  ];
  const fixes = [
    ...(missing.length > 0 ? [searchAttributeCommand(namespace, missing)] : []),
    ...(wrongType.length > 0
      ? [
          `remove ${wrongType.map((attribute) => attribute.name).join(', ')} (temporal operator search-attribute ` +
            `remove --namespace ${namespace} --name …) and create ${wrongType.length > 1 ? 'them' : 'it'} with the type above`,
        ]
      : []),
  ];
  return {
    status: 'fail',
    detail: `on namespace ${namespace}: ${problems.join('; ')}; workflows tagged with ${missing.length + wrongType.length > 1 ? 'them' : 'it'} cannot start`,
    fix: fixes.join('; '),
  };
}
