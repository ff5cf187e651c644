import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.js';
import { WCS_V1_SAMPLES } from '../testdata/wcs-v1-samples.js';
import { decodeWcs, encodeWcs } from './codec.js';
import { WCS_TOPICS, WCS_VERSION, type WcsJob, type WcsTelemetry, type WcsTopicName } from './messages.js';
import { WIRE_TYPES } from './proto-schema.js';

const goldenDir = new URL('../testdata/wcs-v1/', import.meta.url);
const golden = (kind: WcsTopicName) => ({
  json: JSON.parse(readFileSync(fileURLToPath(new URL(`${kind}.json`, goldenDir)), 'utf8')) as unknown,
  bin: new Uint8Array(readFileSync(fileURLToPath(new URL(`${kind}.bin`, goldenDir)))),
});

const header = { headerId: 1, timestamp: '2025-01-01T00:00:00Z', version: WCS_VERSION, site: 's1', deviceId: 'd1' };

/** Encodes a raw protobufjs object, bypassing our typed encoder, to forge invalid messages. */
function raw(kind: WcsTopicName, obj: object): Uint8Array {
  return WIRE_TYPES[kind].encode(obj).finish();
}

function problemOf(kind: WcsTopicName, bytes: Uint8Array): { message: string; path: string | undefined } {
  try {
    decodeWcs(kind, bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    const e = err as ProtocolError;
    return { message: e.message, path: e.problems[0]?.path };
  }
  throw new Error('expected decode to fail');
}

describe('wcs/v1 golden vectors', () => {
  it.each(WCS_TOPICS)('%s: encode(json) equals the .bin byte for byte', (kind) => {
    const { json, bin } = golden(kind);
    expect(Buffer.from(encodeWcs(kind, json as never)).equals(Buffer.from(bin))).toBe(true);
  });

  it.each(WCS_TOPICS)('%s: decode(.bin) deep-equals the .json', (kind) => {
    const { json, bin } = golden(kind);
    expect(decodeWcs(kind, bin)).toStrictEqual(json);
  });

  it('the samples are the vectors on disk', () => {
    for (const kind of WCS_TOPICS) expect(golden(kind).json).toStrictEqual(WCS_V1_SAMPLES[kind]);
  });
});

describe('wcs/v1 round trips', () => {
  it.each(WCS_TOPICS)('%s sample survives encode -> decode', (kind) => {
    const msg = WCS_V1_SAMPLES[kind];
    expect(decodeWcs(kind, encodeWcs(kind, msg))).toStrictEqual(msg);
  });

  it('absent optional fields come back absent, not as empty strings', () => {
    const job: WcsJob = {
      header,
      jobId: 'j',
      jobUpdateId: 0,
      actions: [{ actionId: 'a', actionType: 't', blockingType: 'NONE', actionParameters: [] }],
    };
    const back = decodeWcs('job', encodeWcs('job', job));
    expect(back).toStrictEqual(job);
    expect(back.actions[0]).not.toHaveProperty('actionDescription');

    const state = decodeWcs('jobState', encodeWcs('jobState', { ...WCS_V1_SAMPLES.jobState, operatingMode: undefined }));
    expect(state.operatingMode).toBeUndefined();
  });

  it('keeps a battery charge of 0 apart from no battery', () => {
    const base: WcsTelemetry = { header, deviceState: 'IDLE', metrics: {}, loads: [] };
    expect(decodeWcs('telemetry', encodeWcs('telemetry', { ...base, batteryCharge: 0 })).batteryCharge).toBe(0);
    expect(decodeWcs('telemetry', encodeWcs('telemetry', base))).not.toHaveProperty('batteryCharge');
  });

  it('round-trips arbitrary jobs', () => {
    const id = fc.string({ minLength: 1, maxLength: 12 });
    const action = fc.record(
      {
        actionId: id,
        actionType: id,
        blockingType: fc.constantFrom('NONE' as const, 'SOFT' as const, 'HARD' as const),
        actionParameters: fc.array(fc.record({ key: id, value: fc.string() }, { noNullPrototype: true }), { maxLength: 4 }),
        actionDescription: id,
      },
      { requiredKeys: ['actionId', 'actionType', 'blockingType', 'actionParameters'], noNullPrototype: true },
    );
    // Plain-prototype records, as JSON.parse and our decoder produce (toStrictEqual checks it).
    const plain = { noNullPrototype: true } as const;
    const job = fc.record(
      {
        header: fc.record(
          {
            headerId: fc.nat({ max: 0xffffffff }),
            timestamp: fc.constant('2025-06-30T23:59:59.999Z'),
            version: fc.constant(WCS_VERSION),
            site: fc.string(),
            deviceId: id,
          },
          plain,
        ),
        jobId: id,
        jobUpdateId: fc.nat({ max: 0xffffffff }),
        actions: fc.array(action, { maxLength: 5 }),
      },
      plain,
    );
    fc.assert(
      fc.property(job, (m) => {
        expect(decodeWcs('job', encodeWcs('job', m))).toStrictEqual(m);
      }),
      { numRuns: 300 },
    );
  });
});

describe('wcs/v1 rejects', () => {
  const action = { actionId: 'a', actionType: 't', blockingType: 1, actionParameters: [] };

  it('truncated and garbage bytes', () => {
    const bin = golden('job').bin;
    expect(problemOf('job', bin.subarray(0, bin.length - 3)).message).toMatch(/undecodable/);
    expect(problemOf('job', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBeTruthy();
    expect(problemOf('jobState', new Uint8Array([0x0a, 0x80]))).toBeTruthy();
  });

  it('a missing header, also for empty input', () => {
    expect(problemOf('job', new Uint8Array(0)).path).toBe('/header');
    expect(problemOf('connection', raw('connection', { connectionState: 1 })).path).toBe('/header');
  });

  it('empty ids', () => {
    expect(problemOf('job', raw('job', { header, jobId: '', actions: [] })).path).toBe('/jobId');
    expect(problemOf('job', raw('job', { header: { ...header, deviceId: '' }, jobId: 'j' })).path).toBe(
      '/header/deviceId',
    );
    expect(
      problemOf('job', raw('job', { header, jobId: 'j', actions: [action, { ...action, actionId: '' }] })).path,
    ).toBe('/actions/1/actionId');
    expect(problemOf('jobState', raw('jobState', { header, actionStates: [{ actionStatus: 1 }] })).path).toBe(
      '/actionStates/0/actionId',
    );
  });

  it('UNSPECIFIED and unknown enum values', () => {
    const bad = problemOf('job', raw('job', { header, jobId: 'j', actions: [{ ...action, blockingType: 0 }] }));
    expect(bad).toEqual({ message: expect.stringMatching(/unspecified/) as unknown, path: '/actions/0/blockingType' });
    expect(problemOf('connection', raw('connection', { header })).path).toBe('/connectionState');
    expect(problemOf('connection', raw('connection', { header, connectionState: 99 })).message).toMatch(/unknown value 99/);
    expect(problemOf('factsheet', raw('factsheet', { header, deviceClass: 0 })).path).toBe('/deviceClass');
    expect(
      problemOf('jobState', raw('jobState', { header, errors: [{ errorType: 'x', errorLevel: 7 }] })).path,
    ).toBe('/errors/0/errorLevel');
  });

  it('non-finite and out-of-range numbers', () => {
    const t = { header, deviceState: 'IDLE' };
    expect(problemOf('telemetry', raw('telemetry', { ...t, metrics: { 'a/b': NaN } })).path).toBe('/metrics/a~1b');
    expect(
      problemOf('telemetry', raw('telemetry', { ...t, loads: [{ loadId: 'l', position: Infinity }] })).path,
    ).toBe('/loads/0/position');
    expect(problemOf('telemetry', raw('telemetry', { ...t, batteryCharge: 150 })).path).toBe('/batteryCharge');
    expect(problemOf('factsheet', raw('factsheet', { header, deviceClass: 1, capacities: { x: -Infinity } })).path).toBe(
      '/capacities/x',
    );
  });

  it('bad header timestamp or foreign major version', () => {
    expect(problemOf('connection', raw('connection', { header: { ...header, timestamp: 'yesterday' }, connectionState: 1 })).path).toBe(
      '/header/timestamp',
    );
    expect(problemOf('connection', raw('connection', { header: { ...header, version: '2.0.0' }, connectionState: 1 })).path).toBe(
      '/header/version',
    );
  });

  it('an unknown kind, on encode and decode', () => {
    expect(() => decodeWcs('order' as WcsTopicName, new Uint8Array())).toThrow(ProtocolError);
    expect(() => encodeWcs('toString' as WcsTopicName, WCS_V1_SAMPLES.job as never)).toThrow(ProtocolError);
  });

  it('an enum string outside the union on encode', () => {
    const job = { ...WCS_V1_SAMPLES.job, actions: [{ ...action, blockingType: 'MAYBE' }] };
    expect(() => encodeWcs('job', job as never)).toThrow(ProtocolError);
  });
});

describe('wcs/v1 decode fuzz', () => {
  const onlyProtocolErrors = (kind: WcsTopicName, bytes: Uint8Array) => {
    try {
      decodeWcs(kind, bytes);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
    }
  };

  it.each(WCS_TOPICS)('%s: random bytes only ever raise ProtocolError', (kind) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => onlyProtocolErrors(kind, bytes)),
      { numRuns: 2000 },
    );
  });

  it.each(WCS_TOPICS)('%s: mutated golden bytes only ever raise ProtocolError', (kind) => {
    const bin = golden(kind).bin;
    const mutation = fc.array(fc.record({ at: fc.nat({ max: bin.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(mutation, fc.nat({ max: bin.length }), (edits, cut) => {
        const bytes = bin.slice(0, Math.max(cut, 1));
        for (const { at, byte } of edits) if (at < bytes.length) bytes[at] = byte;
        onlyProtocolErrors(kind, bytes);
      }),
      { numRuns: 2000 },
    );
  });
});
