import type { Connection } from '@temporalio/client';
import { searchAttributeNames, userSearchAttribute } from '../../lib/temporal/names.js';
import { errorMessage } from '../../lib/common/errors.js';

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD */
const keyword = 2;

/** temporal.api.enums.v1.IndexedValueType, by the names the `temporal` CLI and the dev server's flag use. */
export const indexedValueTypes = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
} as const;

export interface XfcSearchAttribute {
  name: string;
  type: keyof typeof indexedValueTypes;
}

/**
 * Every custom search attribute xfc's workflows carry: the one list that `xfc dev` (the dev server's flags), the
 * test harness and deploy/temporal/setup-namespace.sh register, and that `xfc doctor` checks. Add a new attribute
 * here and nowhere else.
 */
export const xfcSearchAttributes: readonly XfcSearchAttribute[] = searchAttributeNames.map((name) => ({
  name,
  type: 'Keyword',
}));

export type SearchAttributeState = 'present' | 'added' | 'wrong-type';

/** Whether the namespace has the XfcUser search attribute, and its type if it is not Keyword. */
export async function hasUserSearchAttribute(
  connection: Connection,
  namespace: string,
  name: string = userSearchAttribute,
): Promise<{ present: boolean; keyword: boolean }> {
  const response = await connection.operatorService.listSearchAttributes({ namespace });
  const type = response.customAttributes?.[name];
  return { present: type !== undefined && type !== null, keyword: Number(type) === keyword };
}

/**
 * Registers the Keyword search attribute XfcUser on a server that lacks it (docs/design.md §6), so the Web UI can filter
 * scans by user. Tolerates a concurrent registration ("already exists").
 */
export async function ensureUserSearchAttribute(
  connection: Connection,
  namespace: string,
  name: string = userSearchAttribute,
): Promise<SearchAttributeState> {
  const found = await hasUserSearchAttribute(connection, namespace, name);
  if (found.present) return found.keyword ? 'present' : 'wrong-type';
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { [name]: keyword },
    });
  } catch (err) {
    if (!/already exists/i.test(errorMessage(err))) throw err;
    return 'present';
  }
  return 'added';
}

/** Registers every search attribute of xfc (lib/temporal/names.ts) that the namespace lacks; the state of each. */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<Array<{ name: string; state: SearchAttributeState }>> {
  const states: Array<{ name: string; state: SearchAttributeState }> = [];
  for (const name of searchAttributeNames) {
    states.push({ name, state: await ensureUserSearchAttribute(connection, namespace, name) });
  }
  return states;
}
