/**
 * Shared gate for JSON messages (VDA 5050, core presence): size guard, strict UTF-8, JSON.parse
 * and a compiled TypeBox check, all failing as ProtocolError.
 */
import type { Validator } from 'typebox/compile';
import { ProtocolError } from './errors.js';
import { summarize, validationProblems } from './json-problems.js';

/** Larger payloads are rejected unparsed; real orders and states are a few KiB. */
export const MAX_JSON_PAYLOAD_BYTES = 1024 * 1024;

// fatal: invalid UTF-8 is a broken message, not something to patch with U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function reject(label: string, problem: string): never {
  throw new ProtocolError(`${label}: ${problem}`, [{ path: '', problem }]);
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function payloadText(label: string, payload: Uint8Array | string): string {
  const tooLarge = `payload larger than ${MAX_JSON_PAYLOAD_BYTES} bytes`;
  if (typeof payload === 'string') {
    // A UTF-16 unit is 1..3 UTF-8 bytes; only count exactly when the length is ambiguous.
    if (payload.length > MAX_JSON_PAYLOAD_BYTES / 3 && Buffer.byteLength(payload, 'utf8') > MAX_JSON_PAYLOAD_BYTES) {
      reject(label, tooLarge);
    }
    return payload;
  }
  if (payload.byteLength > MAX_JSON_PAYLOAD_BYTES) reject(label, tooLarge);
  try {
    return utf8.decode(payload);
  } catch {
    return reject(label, 'payload is not valid UTF-8');
  }
}

/**
 * Parses and validates; `label` prefixes error messages (e.g. "vda5050 state"). The caller
 * asserts that the validator's schema describes T.
 */
export function decodeJsonPayload<T>(label: string, validator: Validator, payload: Uint8Array | string): T {
  const text = payloadText(label, payload);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // SyntaxError for bad JSON, RangeError when nesting exhausts the stack.
    reject(label, `payload is not JSON (${reason(err)})`);
  }
  let valid: boolean;
  try {
    valid = validator.Check(value);
  } catch (err) {
    reject(label, `payload could not be validated (${reason(err)})`);
  }
  if (!valid) {
    const problems = validationProblems(validator.Errors(value));
    throw new ProtocolError(`${label}: ${summarize(problems)}`, problems);
  }
  return value as T;
}
