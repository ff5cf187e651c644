/**
 * The order-header machine of DESIGN §3. The header only stores intake and closure; everything
 * an operator reads as "allocated / picking / shipped" is derived from the lines (fulfilment.ts).
 */
import { assign, setup } from 'xstate';

export const ORDER_STATUSES = ['RECEIVED', 'VALIDATED', 'REJECTED', 'OPEN', 'CLOSED', 'CANCELED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderContext {
  orderId: string;
  reason: string | null;
}

export type OrderEvent =
  | { type: 'order.validate' }
  | { type: 'order.reject'; reason: string }
  | { type: 'order.open' }
  | { type: 'order.close' }
  | { type: 'order.cancel'; reason: string };

export const orderMachine = setup({
  types: {
    context: {} as OrderContext,
    events: {} as OrderEvent,
    input: {} as { orderId: string },
  },
  actions: {
    recordReason: assign(({ event }) =>
      event.type === 'order.reject' || event.type === 'order.cancel' ? { reason: event.reason } : {},
    ),
  },
}).createMachine({
  id: 'orderHeader',
  initial: 'RECEIVED',
  context: ({ input }) => ({ orderId: input.orderId, reason: null }),
  states: {
    RECEIVED: {
      on: {
        'order.validate': 'VALIDATED',
        'order.reject': { target: 'REJECTED', actions: 'recordReason' },
      },
    },
    VALIDATED: {
      on: {
        'order.open': 'OPEN',
        'order.cancel': { target: 'CANCELED', actions: 'recordReason' },
      },
    },
    OPEN: {
      on: {
        'order.close': 'CLOSED',
        'order.cancel': { target: 'CANCELED', actions: 'recordReason' },
      },
    },
    REJECTED: { type: 'final' },
    CLOSED: { type: 'final' },
    CANCELED: { type: 'final' },
  },
});
