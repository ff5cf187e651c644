import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.js';
import { VDA_SAMPLES } from '../testdata/vda5050-samples.js';
import { decodeVda, encodeVda, VDA_MAX_PAYLOAD_BYTES } from './codec.js';
import { VDA_TOPICS, type VdaTopicName } from './schemas.js';

function problemsOf(kind: VdaTopicName, payload: unknown): ProtocolError {
  try {
    decodeVda(kind, typeof payload === 'string' ? payload : JSON.stringify(payload));
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected decode to fail');
}

const paths = (e: ProtocolError) => e.problems.map((p) => p.path);

describe('VDA 5050 decode accepts', () => {
  it.each(VDA_TOPICS)('a valid %s, as string and as bytes', (kind) => {
    const text = encodeVda(kind, VDA_SAMPLES[kind]);
    expect(decodeVda(kind, text)).toStrictEqual(VDA_SAMPLES[kind]);
    expect(decodeVda(kind, new TextEncoder().encode(text))).toStrictEqual(VDA_SAMPLES[kind]);
  });

  it('vendor-specific extra fields', () => {
    const state = { ...VDA_SAMPLES.state, vendorTemperature: 41, batteryState: { ...VDA_SAMPLES.state.batteryState, cells: 12 } };
    expect(decodeVda('state', JSON.stringify(state))).toMatchObject({ vendorTemperature: 41 });
  });

  it('a factsheet with sparse nested sections', () => {
    const { localizationParameters: _drop, ...factsheet } = { ...VDA_SAMPLES.factsheet, localizationParameters: {} };
    const sparse = { ...factsheet, physicalParameters: {}, protocolLimits: { vendor: true } };
    expect(decodeVda('factsheet', JSON.stringify(sparse)).protocolFeatures.agvActions.map((a) => a.actionType)).toEqual([
      'pick',
      'drop',
      'pickItem',
    ]);
  });
});

describe('VDA 5050 decode rejects with a path', () => {
  it('a missing required field', () => {
    const { orderUpdateId: _omit, ...order } = VDA_SAMPLES.order;
    expect(paths(problemsOf('order', order))).toEqual(['/orderUpdateId']);
    const { safetyState: _s, ...state } = VDA_SAMPLES.state;
    expect(paths(problemsOf('state', state))).toEqual(['/safetyState']);
  });

  it('a nested missing field', () => {
    const order = structuredClone(VDA_SAMPLES.order) as unknown as { nodes: Record<string, unknown>[] };
    delete order.nodes[1]?.released;
    expect(paths(problemsOf('order', order))).toEqual(['/nodes/1/released']);
  });

  it('a wrong enum value', () => {
    const state = structuredClone(VDA_SAMPLES.state);
    (state.actionStates[0] as { actionStatus: string }).actionStatus = 'DONE';
    const err = problemsOf('state', state);
    expect(err.problems).toEqual([
      { path: '/actionStates/0/actionStatus', problem: 'must be one of WAITING, INITIALIZING, RUNNING, PAUSED, FINISHED, FAILED' },
    ]);
    expect(err.message).toContain('/actionStates/0/actionStatus');
    expect(paths(problemsOf('connection', { ...VDA_SAMPLES.connection, connectionState: 'GONE' }))).toEqual([
      '/connectionState',
    ]);
  });

  it('a wrong type', () => {
    expect(paths(problemsOf('order', { ...VDA_SAMPLES.order, orderUpdateId: '3' }))).toEqual(['/orderUpdateId']);
    expect(paths(problemsOf('order', { ...VDA_SAMPLES.order, headerId: 1.5 }))).toEqual(['/headerId']);
    expect(paths(problemsOf('state', { ...VDA_SAMPLES.state, driving: 'yes' }))).toEqual(['/driving']);
    expect(paths(problemsOf('visualization', { ...VDA_SAMPLES.visualization, agvPosition: { x: 1 } }))).toEqual([
      '/agvPosition/y',
      '/agvPosition/theta',
      '/agvPosition/mapId',
      '/agvPosition/positionInitialized',
    ]);
  });

  it('an action parameter value of no allowed type, once', () => {
    const order = structuredClone(VDA_SAMPLES.order);
    const action = order.nodes[1]?.actions[0];
    if (action?.actionParameters?.[0] === undefined) throw new Error('sample changed');
    (action.actionParameters[0] as { value: unknown }).value = null;
    expect(problemsOf('order', order).problems).toEqual([
      { path: '/nodes/1/actions/0/actionParameters/0/value', problem: 'has none of the allowed types' },
    ]);
  });

  it('a bad timestamp format and out-of-range numbers', () => {
    expect(paths(problemsOf('connection', { ...VDA_SAMPLES.connection, timestamp: 'yesterday' }))).toEqual(['/timestamp']);
    const vis = { ...VDA_SAMPLES.visualization, agvPosition: { ...VDA_SAMPLES.state.agvPosition, localizationScore: 2 } };
    expect(paths(problemsOf('visualization', vis))).toEqual(['/agvPosition/localizationScore']);
  });

  it('lists at most five problems', () => {
    expect(problemsOf('state', {}).problems.length).toBe(5);
  });

  it('non-objects, non-JSON, invalid UTF-8 and oversized payloads', () => {
    expect(paths(problemsOf('state', '[]'))).toEqual(['']);
    expect(problemsOf('state', '{"headerId":').message).toMatch(/not JSON/);
    expect(() => decodeVda('state', new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(/UTF-8/);
    const big = `{"pad":"${'x'.repeat(VDA_MAX_PAYLOAD_BYTES)}"}`;
    expect(() => decodeVda('state', big)).toThrow(/larger than/);
    expect(() => decodeVda('state', new TextEncoder().encode(big))).toThrow(/larger than/);
    // Multi-byte characters: under the limit in UTF-16 units, over it in UTF-8 bytes.
    expect(() => decodeVda('state', `"${'€'.repeat(VDA_MAX_PAYLOAD_BYTES / 2)}"`)).toThrow(/larger than/);
  });

  it('deeply nested JSON', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => decodeVda('order', deep)).toThrow(ProtocolError);
    // Parseable but deep where a string belongs: the validator rejects it without descending.
    const sample = JSON.stringify(VDA_SAMPLES.order);
    const deepField = `${sample.slice(0, -1)},"zoneSetId":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(paths(problemsOf('order', deepField))).toEqual(['/zoneSetId']);
  });

  it('an unknown kind', () => {
    expect(() => decodeVda('job' as VdaTopicName, '{}')).toThrow(ProtocolError);
    expect(() => encodeVda('__proto__' as VdaTopicName, VDA_SAMPLES.order as never)).toThrow(ProtocolError);
  });
});

describe('VDA 5050 decode fuzz', () => {
  const onlyProtocolErrors = (kind: VdaTopicName, payload: string | Uint8Array) => {
    try {
      decodeVda(kind, payload);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
    }
  };

  it.each(VDA_TOPICS)('%s: random strings, JSON and bytes only ever raise ProtocolError', (kind) => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary' }), fc.json(), fc.uint8Array({ maxLength: 256 })),
        (payload) => onlyProtocolErrors(kind, payload),
      ),
      { numRuns: 1000 },
    );
  });

  it.each(VDA_TOPICS)('%s: the sample with random values swapped in only ever raises ProtocolError', (kind) => {
    const sample = VDA_SAMPLES[kind] as unknown as Record<string, unknown>;
    const keys = Object.keys(sample);
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), (key, value) => {
        onlyProtocolErrors(kind, JSON.stringify({ ...sample, [key]: value }));
      }),
      { numRuns: 500 },
    );
  });
});
