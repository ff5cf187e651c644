/**
 * Correlation keys tie an outbox command to the device echo that confirms it: a VDA `state`
 * with the same orderId/orderUpdateId, a wcs `jobState` with the same jobId/jobUpdateId.
 */
export const correlationOf = {
  vda: (serialNumber: string, orderId: string, orderUpdateId: number): string => `vda:${serialNumber}:${orderId}:${orderUpdateId}`,
  wcs: (deviceId: string, jobId: string, jobUpdateId: number): string => `wcs:${deviceId}:${jobId}:${jobUpdateId}`,
};
