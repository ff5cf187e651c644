/**
 * Keyset cursors of the list endpoints: the (createdAt, id) of the last item of a page, opaque
 * to clients (base64url JSON), so that the next page starts right after it however the list
 * grew meanwhile.
 */
import { PickwireError } from '../errors.js';

export interface CursorKey {
  createdAt: number;
  id: string;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.createdAt, key.id])).toString('base64url');
}

/** The key a cursor holds; a cursor this API did not hand out is a 400 naming it. */
export function decodeCursor(cursor: string): CursorKey {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id };
  } catch {
    // fall through to the validation error
  }
  throw new PickwireError('PW_ERR_VALIDATION', 'cursor is not one this API handed out', { details: [{ path: '/cursor', problem: 'invalid cursor' }] });
}
