import { describe, expect, it } from 'vitest';
import { validationDetails } from './error-handler.js';

describe('validationDetails', () => {
  it('reads Ajv-shaped errors as well as TypeBox ones', () => {
    expect(
      validationDetails([
        { instancePath: '/lines/0', keyword: 'required', params: { missingProperty: 'sku' }, message: "must have required property 'sku'" },
        { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'colour' } },
        { instancePath: '/priority', keyword: 'type', params: { type: 'integer' }, message: 'must be integer' },
      ]),
    ).toEqual([
      { path: '/lines/0/sku', problem: 'is required' },
      { path: '/colour', problem: 'is not allowed' },
      { path: '/priority', problem: 'must be integer' },
    ]);
  });

  it('reports every missing property of a TypeBox error at its own path, escaped as a JSON pointer', () => {
    expect(
      validationDetails([{ instancePath: '/shipTo', keyword: 'required', params: { requiredProperties: ['city', 'a/b'] } }]),
    ).toEqual([
      { path: '/shipTo/city', problem: 'is required' },
      { path: '/shipTo/a~1b', problem: 'is required' },
    ]);
  });

  it('folds TypeBox duplicate reports of an unknown property into one and names the root as /', () => {
    expect(
      validationDetails([
        { instancePath: '/extra', keyword: 'boolean', message: 'schema is false', params: {} },
        { instancePath: '', keyword: 'additionalProperties', params: { additionalProperties: ['extra'] } },
        { instancePath: '', keyword: 'type', message: 'must be object', params: {} },
      ]),
    ).toEqual([
      { path: '/extra', problem: 'is not allowed' },
      { path: '/', problem: 'must be object' },
    ]);
  });
});
