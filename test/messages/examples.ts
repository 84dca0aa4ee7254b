import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RejectReason } from '../../lib/amqp/decode.js';
import { messageTypes, type MessageBody, type MessageType } from '../../lib/messages/v1/index.js';

/**
 * The example messages of docs/messages.md, read from the document itself so that the examples people copy are
 * the ones the tests check. A block opened with ```json <type> is a valid message of that type; one opened with
 * ```json <type> <reason> is refused with that reason.
 */
export interface DocExample {
  type: MessageType;
  /** Undefined for a valid example. */
  expected: RejectReason | undefined;
  text: string;
  /** 1-based line of the opening fence, for failure messages. */
  line: number;
}

export const docPath = fileURLToPath(new URL('../../docs/messages.md', import.meta.url));

export function readDocExamples(path: string = docPath): DocExample[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const examples: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```json\s+(\S+)(?:\s+(\S+))?\s*$/.exec(lines[i]!);
    if (!open) continue;
    const [, type, expected] = open;
    if (!(type! in messageTypes)) throw new Error(`${path}:${i + 1}: unknown message type ${type}`);
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`${path}:${i + 1}: unclosed code block`);
    examples.push({
      type: type as MessageType,
      expected: expected as RejectReason | undefined,
      text: lines.slice(i + 1, end).join('\n'),
      line: i + 1,
    });
    i = end;
  }
  return examples;
}

/** The documented valid example of a type, parsed: a ready-made message for tests. */
export function exampleMessage<T extends MessageType>(type: T): MessageBody<T> {
  const example = readDocExamples().find((e) => e.type === type && e.expected === undefined);
  if (!example) throw new Error(`docs/messages.md has no valid ${type} example`);
  return messageTypes[type].parse(JSON.parse(example.text));
}
