/** A VDA 5050 state for unit tests of the core's use cases: the sample state, made an idle vehicle's. */
import type { VdaState } from '../../../protocols/index.js';
import { VDA_SAMPLES } from '../../../protocols/testdata/vda5050-samples.js';

/** `vehicle` idle on its start node with no order and a full battery, then `over` on top. */
export function idleVehicleState(vehicle: { manufacturer?: string | undefined; serialNumber: string; startNode: string }, over: Partial<VdaState> = {}): VdaState {
  return {
    ...VDA_SAMPLES.state,
    manufacturer: vehicle.manufacturer ?? 'pickwire',
    serialNumber: vehicle.serialNumber,
    orderId: '',
    orderUpdateId: 0,
    lastNodeId: vehicle.startNode,
    driving: false,
    nodeStates: [],
    edgeStates: [],
    actionStates: [],
    loads: [],
    errors: [],
    information: [],
    batteryState: { batteryCharge: 90, charging: false },
    ...over,
  };
}
