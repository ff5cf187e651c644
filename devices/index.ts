/** Device-side SDK: what a real controller or a simulator embeds to talk to the Pickwire core. */
export { connectMqttLink, type DeviceLink, type LastWill, type MqttDeviceLink, type MqttLinkOptions, type PublishOptions } from './link.js';
export { WcsDevice, type WcsDeviceClass, type WcsDeviceOptions, type WcsDeviceStats } from './wcs-device.js';
export { VdaVehicle, type VdaFactsheetBody, type VdaVehicleOptions, type VdaVehicleStats } from './vda-vehicle.js';
export { judgeOrder, orderProblem, type OrderVerdict, type VehicleView } from './vda-order-rules.js';
