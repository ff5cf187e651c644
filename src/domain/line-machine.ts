/**
 * The order-line machine of DESIGN §3. Pure: it only decides the next state and context; the
 * fulfilment use case persists the snapshot, journals the transition and performs the effects.
 * Run it with xstate's pure `transition()` (see machine-runner.ts), never as a live actor.
 */
import { assign, setup } from 'xstate';

export const LINE_STATES = [
  'CREATED',
  'SOURCED',
  'BACKORDERED',
  'UNROUTABLE',
  'RELEASED',
  'PICKING',
  'PICKED',
  'PACKED',
  'SHIPPED',
  'DELIVERED',
  'CANCELED',
] as const;
export type LineState = (typeof LINE_STATES)[number];

/** States after which a line can no longer be canceled. */
export const LINE_SHIPPED_OR_LATER: readonly LineState[] = ['SHIPPED', 'DELIVERED'];

export interface LineContext {
  lineId: string;
  orderId: string;
  sku: string;
  quantity: number;
  picked: number;
  /** How often execution failed and the line went back to sourcing. */
  attempts: number;
  site: string | null;
  location: string | null;
  promiseDate: number | null;
  reason: string | null;
}

export interface LineInput {
  lineId: string;
  orderId: string;
  sku: string;
  quantity: number;
}

export type LineEvent =
  | { type: 'line.source'; site: string; location: string; promiseDate?: number }
  | { type: 'line.backorder'; promiseDate: number }
  | { type: 'line.unroutable'; reason: string }
  | { type: 'line.release' }
  | { type: 'line.startPicking' }
  | { type: 'line.pick'; quantity: number }
  | { type: 'line.fail'; reason: string; maxAttempts: number }
  | { type: 'line.pack' }
  | { type: 'line.ship' }
  | { type: 'line.deliver' }
  | { type: 'line.cancel'; reason: string };

export const lineMachine = setup({
  types: {
    context: {} as LineContext,
    events: {} as LineEvent,
    input: {} as LineInput,
  },
  guards: {
    attemptsLeft: ({ context, event }) => event.type === 'line.fail' && context.attempts + 1 < event.maxAttempts,
    pickedAll: ({ context, event }) => event.type === 'line.pick' && context.picked + event.quantity >= context.quantity,
  },
  actions: {
    recordSource: assign(({ event }) =>
      event.type === 'line.source' ? { site: event.site, location: event.location, promiseDate: event.promiseDate ?? null } : {},
    ),
    recordBackorder: assign(({ event }) => (event.type === 'line.backorder' ? { promiseDate: event.promiseDate } : {})),
    recordReason: assign(({ event }) =>
      event.type === 'line.unroutable' || event.type === 'line.fail' || event.type === 'line.cancel' ? { reason: event.reason } : {},
    ),
    countPicked: assign(({ context, event }) => (event.type === 'line.pick' ? { picked: context.picked + event.quantity } : {})),
    countAttempt: assign(({ context }) => ({ attempts: context.attempts + 1 })),
    clearSource: assign({ site: null, location: null }),
  },
}).createMachine({
  id: 'orderLine',
  initial: 'CREATED',
  context: ({ input }) => ({
    lineId: input.lineId,
    orderId: input.orderId,
    sku: input.sku,
    quantity: input.quantity,
    picked: 0,
    attempts: 0,
    site: null,
    location: null,
    promiseDate: null,
    reason: null,
  }),
  on: {
    'line.cancel': { target: '.CANCELED', actions: 'recordReason' },
  },
  states: {
    CREATED: {
      on: {
        'line.source': { target: 'SOURCED', actions: 'recordSource' },
        'line.backorder': { target: 'BACKORDERED', actions: 'recordBackorder' },
        'line.unroutable': { target: 'UNROUTABLE', actions: 'recordReason' },
      },
    },
    BACKORDERED: {
      on: {
        'line.source': { target: 'SOURCED', actions: 'recordSource' },
        'line.unroutable': { target: 'UNROUTABLE', actions: 'recordReason' },
      },
    },
    UNROUTABLE: {
      on: { 'line.source': { target: 'SOURCED', actions: 'recordSource' } },
    },
    SOURCED: {
      on: {
        'line.release': 'RELEASED',
        'line.unroutable': { target: 'UNROUTABLE', actions: ['recordReason', 'clearSource'] },
      },
    },
    RELEASED: {
      on: {
        'line.startPicking': 'PICKING',
        'line.pick': [
          { guard: 'pickedAll', target: 'PICKED', actions: 'countPicked' },
          { target: 'PICKING', actions: 'countPicked' },
        ],
        'line.fail': [
          { guard: 'attemptsLeft', target: 'CREATED', actions: ['countAttempt', 'recordReason', 'clearSource'] },
          { target: 'UNROUTABLE', actions: ['countAttempt', 'recordReason', 'clearSource'] },
        ],
      },
    },
    PICKING: {
      on: {
        'line.pick': [{ guard: 'pickedAll', target: 'PICKED', actions: 'countPicked' }, { actions: 'countPicked' }],
        'line.fail': [
          { guard: 'attemptsLeft', target: 'CREATED', actions: ['countAttempt', 'recordReason', 'clearSource'] },
          { target: 'UNROUTABLE', actions: ['countAttempt', 'recordReason', 'clearSource'] },
        ],
      },
    },
    PICKED: { on: { 'line.pack': 'PACKED' } },
    PACKED: { on: { 'line.ship': 'SHIPPED' } },
    // Once shipped the goods are gone: a cancel is handled here and ignored, not run at the root.
    SHIPPED: { on: { 'line.deliver': 'DELIVERED', 'line.cancel': {} } },
    DELIVERED: { type: 'final' },
    CANCELED: { type: 'final' },
  },
});
