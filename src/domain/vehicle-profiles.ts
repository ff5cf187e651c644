/**
 * Vehicle profiles (issue "Execution" item 3): what a vendor's vehicles expect, by manufacturer
 * and model, so a new fleet is integrated by configuration (the site layout's
 * `vehicleProfiles`), not by code: the action types and parameters for a pick and a drop, the
 * actions to assume when the factsheet is silent, a speed cap for route estimates, and the
 * watchdog period after which a silent vehicle counts as unreachable.
 */
import Type, { type Static } from 'typebox';
import type { TripAction } from './records.js';

/** Values a parameter template may name; anything else in braces is kept literally. */
export const PARAMETER_FIELDS = ['loadId', 'locationId', 'sku', 'quantity', 'nodeId', 'taskId'] as const;
export type ParameterField = (typeof PARAMETER_FIELDS)[number];

const ActionTemplateSchema = Type.Object({
  actionType: Type.String({ minLength: 1, maxLength: 64 }),
  /** `{ key, value }` with `{loadId}`, `{locationId}`, `{sku}`, `{quantity}`, `{nodeId}` or `{taskId}` substituted. */
  parameters: Type.Array(Type.Object({ key: Type.String({ minLength: 1, maxLength: 64 }), value: Type.String({ maxLength: 200 }) })),
});

export const VehicleProfileSchema = Type.Object({
  manufacturer: Type.String({ minLength: 1, maxLength: 64 }),
  /** Absent: every model of the manufacturer (a model-specific profile wins). */
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  pick: ActionTemplateSchema,
  drop: ActionTemplateSchema,
  /** Actions assumed when the factsheet lists none; absent: the VDA 5050 standard set. */
  assumedActions: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }))),
  /** m/s; route times use the lower of this and each edge's limit. */
  maxSpeed: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  /** Seconds of silence after which the vehicle counts as unreachable. */
  watchdogSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  /** Pick stops one trip of this vehicle may make (its tote's room); absent: the core's `tripBatchSize`. */
  maxPicksPerTrip: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
});
export type VehicleProfile = Static<typeof VehicleProfileSchema>;

/** The actions VDA 5050 2.0 defines (§6.8); a vehicle with a silent factsheet is assumed to know these only. */
export const VDA_STANDARD_ACTIONS = [
  'startPause',
  'stopPause',
  'startCharging',
  'stopCharging',
  'initPosition',
  'stateRequest',
  'logReport',
  'pick',
  'drop',
  'detectObject',
  'finePositioning',
  'waitForTrigger',
  'cancelOrder',
  'factsheetRequest',
] as const;

/** What Pickwire sends when no profile matches: the standard pick and drop with its own parameter names. */
export const STANDARD_PROFILE: VehicleProfile = {
  manufacturer: '*',
  pick: {
    actionType: 'pick',
    parameters: [
      { key: 'loadId', value: '{loadId}' },
      { key: 'locationId', value: '{locationId}' },
      { key: 'sku', value: '{sku}' },
      { key: 'quantity', value: '{quantity}' },
    ],
  },
  drop: { actionType: 'drop', parameters: [{ key: 'loadId', value: '{loadId}' }] },
};

/** The most specific profile: manufacturer and model, then manufacturer alone, then the standard one. */
export function profileFor(profiles: readonly VehicleProfile[], manufacturer: string | undefined, model: string | undefined): VehicleProfile {
  const ofMaker = profiles.filter((p) => p.manufacturer === manufacturer);
  return ofMaker.find((p) => p.model !== undefined && p.model === model) ?? ofMaker.find((p) => p.model === undefined) ?? STANDARD_PROFILE;
}

/** The actions a vehicle can be asked for: its factsheet's, or the profile's assumption when the factsheet is silent. */
export function supportedActions(profile: VehicleProfile, factsheetActions: readonly string[]): readonly string[] {
  if (factsheetActions.length > 0) return factsheetActions;
  return profile.assumedActions ?? VDA_STANDARD_ACTIONS;
}

/** Can the vehicle do a trip the way its profile says? Both actions must be among what it supports. */
export function canRunTrips(profile: VehicleProfile, factsheetActions: readonly string[]): boolean {
  const actions = supportedActions(profile, factsheetActions);
  return actions.includes(profile.pick.actionType) && actions.includes(profile.drop.actionType);
}

/** The action parameters of a template with the trip's values filled in (numbers stay numbers when the whole value is one field). */
export function renderParameters(
  template: VehicleProfile['pick'],
  values: Partial<Record<ParameterField, string | number>>,
): { key: string; value: string | number }[] {
  return template.parameters.map(({ key, value }) => {
    const whole = /^\{(\w+)\}$/.exec(value);
    if (whole && (PARAMETER_FIELDS as readonly string[]).includes(whole[1] ?? '')) {
      const v = values[whole[1] as ParameterField];
      return { key, value: v ?? '' };
    }
    return { key, value: value.replace(/\{(\w+)\}/g, (m, name: string) => ((PARAMETER_FIELDS as readonly string[]).includes(name) ? String(values[name as ParameterField] ?? '') : m)) };
  });
}

/** A pick or drop as the profile wants it, its parameters filled in: what goes on the order's node. */
export function renderAction(template: VehicleProfile['pick'], values: Partial<Record<ParameterField, string | number>>): TripAction {
  return { actionType: template.actionType, parameters: renderParameters(template, values) };
}
