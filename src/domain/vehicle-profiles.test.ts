import { describe, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { STANDARD_PROFILE, VDA_STANDARD_ACTIONS, VehicleProfileSchema, canRunTrips, profileFor, renderParameters, supportedActions, type VehicleProfile } from './vehicle-profiles.js';

const acme: VehicleProfile = {
  manufacturer: 'acme',
  pick: { actionType: 'liftTote', parameters: [{ key: 'lhd', value: 'LHD1' }, { key: 'toteId', value: '{loadId}' }, { key: 'slot', value: 'rack-{locationId}' }, { key: 'n', value: '{quantity}' }] },
  drop: { actionType: 'lowerTote', parameters: [{ key: 'toteId', value: '{loadId}' }] },
  assumedActions: ['liftTote', 'lowerTote', 'startPause', 'stopPause', 'cancelOrder'],
  maxSpeed: 1.2,
};
const acmeXl: VehicleProfile = { ...acme, model: 'XL', maxSpeed: 0.8 };

describe('vehicle profiles', () => {
  it('picks the most specific profile: model, then manufacturer, then the standard one', () => {
    expect(profileFor([acme, acmeXl], 'acme', 'XL')).toBe(acmeXl);
    expect(profileFor([acme, acmeXl], 'acme', 'S')).toBe(acme);
    expect(profileFor([acme, acmeXl], 'acme', undefined)).toBe(acme);
    expect(profileFor([acme, acmeXl], 'other', 'XL')).toBe(STANDARD_PROFILE);
  });

  it('assumes only the standard actions when the factsheet is silent, unless the profile says otherwise', () => {
    expect(supportedActions(STANDARD_PROFILE, [])).toEqual(VDA_STANDARD_ACTIONS);
    expect(canRunTrips(STANDARD_PROFILE, [])).toBe(true);
    expect(canRunTrips(acme, [])).toBe(true);
    // A factsheet that lists actions is believed over the profile.
    expect(canRunTrips(acme, ['pick', 'drop'])).toBe(false);
    expect(canRunTrips(STANDARD_PROFILE, ['pick', 'drop', 'startCharging'])).toBe(true);
  });

  it('fills parameter templates; a whole-field value keeps its type', () => {
    expect(renderParameters(acme.pick, { loadId: 'tote-7', locationId: 'A-01', quantity: 3 })).toEqual([
      { key: 'lhd', value: 'LHD1' },
      { key: 'toteId', value: 'tote-7' },
      { key: 'slot', value: 'rack-A-01' },
      { key: 'n', value: 3 },
    ]);
    expect(renderParameters({ actionType: 'x', parameters: [{ key: 'k', value: '{unknown}-{sku}' }] }, { sku: 'S1' })).toEqual([{ key: 'k', value: '{unknown}-S1' }]);
  });

  it('validates profiles from a layout', () => {
    expect(Value.Check(VehicleProfileSchema, acme)).toBe(true);
    expect(Value.Check(VehicleProfileSchema, { ...acme, pick: { actionType: '', parameters: [] } })).toBe(false);
  });
});
