/** VDA orders for simulator tests: every node and edge released, actions placed on named nodes. */
import { VDA_VERSION, type VdaAction, type VdaOrder } from '../protocols/index.js';

export function testOrder(
  vehicle: { manufacturer: string; serialNumber: string },
  orderId: string,
  nodeIds: string[],
  actions: Record<string, VdaAction[]> = {},
): VdaOrder {
  return {
    headerId: 1,
    timestamp: new Date(0).toISOString(),
    version: VDA_VERSION,
    manufacturer: vehicle.manufacturer,
    serialNumber: vehicle.serialNumber,
    orderId,
    orderUpdateId: 0,
    nodes: nodeIds.map((nodeId, i) => ({ nodeId, sequenceId: 2 * i, released: true, actions: actions[nodeId] ?? [] })),
    edges: nodeIds.slice(1).map((to, i) => ({ edgeId: `e${i}`, sequenceId: 2 * i + 1, released: true, startNodeId: nodeIds[i] ?? '', endNodeId: to, actions: [] })),
  };
}
