import type { MessageBody, MessageType, ScanCompleted, ScanFailed, ScanRequest } from '../messages/v1/index.js';

/**
 * Deterministic AMQP message ids: a retried publish of the same request or result carries the same id, so a
 * duplicate can be recognised downstream (and the Temporal ids derived from the same fields make it harmless).
 */
export function scanRequestMessageId(request: Pick<ScanRequest, 'requestId'>): string {
  return request.requestId;
}

/** scan.completed and scan.failed of one scan share the id: a scan ends in exactly one of them. */
export function scanResultMessageId(result: Pick<ScanCompleted | ScanFailed, 'scanId'>): string {
  return result.scanId;
}

export function messageIdOf<T extends MessageType>(type: T, body: MessageBody<T>): string {
  return type === 'scan.request' ? scanRequestMessageId(body) : scanResultMessageId(body as ScanCompleted | ScanFailed);
}
